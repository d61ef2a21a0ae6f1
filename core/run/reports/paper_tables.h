#pragma once
// The study's printed numbers (docs: PAPER.md), in one place: Table 1 (GLUE) and Table 3 (the
// text-to-image probe). The CLI's tables, the manifests and the GUI's Table 1 panel all read them
// here; nothing else holds a copy.
#include <string>
#include <vector>

namespace syn::run {

// --- Table 1 (PAPER.md section 1), in the paper's order ---
struct PaperGlueRow {
    const char* id;      // Hugging Face id
    const char* label;   // "BERT-base", "CLIP ViT-B/32", ...
    const char* params;  // "110M", ...
    std::vector<double> values;  // CoLA SST-2 MRPC STS-B QQP MNLI QNLI RTE Avg
};
const std::vector<PaperGlueRow>& paper_glue_rows();

// The paper's Table 1 row for a Hugging Face id (bert-base-cased, openai/clip-vit-base-patch32, ...);
// empty when the study did not report the model. Order: CoLA SST-2 MRPC STS-B QQP MNLI QNLI RTE Avg.
std::vector<double> paper_glue_row(const std::string& model, std::string* label = nullptr, std::string* params = nullptr);

// --- Table 3 (PAPER.md section 3) as printed ---
struct PaperT2iRow {
    const char* id;     // hub id, "random", or "" for the ground-truth row
    const char* label;  // "BERT-base", ...
    const char* group;
    double is;          // NaN where the paper prints none
    double clip_s;
};
const std::vector<PaperT2iRow>& paper_t2i_rows();
struct PaperT2iGroup {
    const char* group;
    double mean, sd;
};
const std::vector<PaperT2iGroup>& paper_t2i_groups();
// p of the paper's pooled t-tests for a pair of groups (either order); NaN when not printed.
double paper_t2i_p(const std::string& group_a, const std::string& group_b);

}  // namespace syn::run
