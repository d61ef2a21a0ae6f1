#pragma once
// `synesthesia glue`: fine-tunes (or linearly probes) models on GLUE tasks and writes the study's
// Table 1 layout (Markdown + LaTeX, the paper's numbers beside ours) and a JSON manifest.
#include <string>
#include <vector>

#include "core/run/glue_job.h"

namespace CLI {
class App;
}

namespace syn::run {

struct GlueModelResults {
    std::string model;  // as given on the command line
    std::vector<GlueTaskResult> tasks;
};

// The study's Table 1 as printed (docs: PAPER.md section 1), in the paper's order; the one copy the
// CLI's tables and the GUI's Table 1 panel both use.
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

// Table 1 in Markdown / LaTeX: one row per model (mean, "± sd" with several seeds), followed by the
// paper's row where known. Cells x100; Avg only when all eight Table-1 tasks were run.
std::string glue_table_markdown(const std::vector<GlueModelResults>& results);
std::string glue_table_latex(const std::vector<GlueModelResults>& results);
// glue_table.md, glue_table.tex, glue_manifest.json under `out_dir`; returns the paths written.
std::vector<std::string> write_glue_outputs(const std::vector<GlueModelResults>& results, const GlueJobOptions& options,
                                            const std::string& out_dir);

void add_glue_command(CLI::App& app);

}  // namespace syn::run
