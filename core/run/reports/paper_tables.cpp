#include "core/run/reports/paper_tables.h"

#include <limits>

namespace syn::run {

// --- Table 1 --------------------------------------------------------------------------------------

const std::vector<PaperGlueRow>& paper_glue_rows() {
    static const std::vector<PaperGlueRow> rows = {
        {"bert-base-cased", "BERT-base", "110M", {57.78, 92.20, 88.50, 88.79, 87.62, 84.13, 90.50, 65.34, 81.86}},
        {"bert-large-cased", "BERT-large", "340M", {65.04, 93.12, 90.94, 89.12, 88.53, 86.61, 92.28, 67.87, 84.19}},
        {"roberta-base", "RoBERTa-base", "125M", {58.29, 94.50, 91.89, 89.96, 88.37, 88.00, 92.88, 68.23, 84.02}},
        {"roberta-large", "RoBERTa-large", "355M", {65.54, 95.87, 92.01, 92.03, 89.08, 89.87, 94.31, 78.70, 87.18}},
        {"openai/clip-vit-base-patch32", "CLIP ViT-B/32", "63M", {30.37, 90.48, 72.79, 80.52, 84.79, 76.28, 81.51, 51.99, 71.09}},
        {"openai/clip-vit-base-patch16", "CLIP ViT-B/16", "63M", {27.72, 89.45, 76.51, 83.80, 85.51, 76.90, 83.01, 52.71, 71.95}},
        {"openai/clip-vit-large-patch14", "CLIP ViT-L/14", "123M", {30.64, 91.51, 82.83, 82.26, 85.67, 78.38, 82.90, 52.71, 73.36}},
        {"openai/clip-vit-large-patch14-336", "CLIP ViT-L/14@336px", "123M",
         {33.85, 91.28, 82.57, 82.19, 85.42, 77.66, 82.92, 53.07, 73.62}},
    };
    return rows;
}

std::vector<double> paper_glue_row(const std::string& model, std::string* label, std::string* params) {
    std::string key = model;
    while (!key.empty() && key.back() == '/') key.pop_back();
    for (const auto& row : paper_glue_rows()) {
        const std::string id = row.id;
        const std::string tail = id.substr(id.find('/') == std::string::npos ? 0 : id.find('/') + 1);
        // A hub id, or a folder named like the model (…/bert-base-cased, models--openai--clip-…)
        const bool match = key == id || (key.size() >= tail.size() && key.compare(key.size() - tail.size(), tail.size(), tail) == 0 &&
                                          (key.size() == tail.size() || key[key.size() - tail.size() - 1] == '/' ||
                                           key[key.size() - tail.size() - 1] == '-'));
        if (match) {
            if (label) *label = row.label;
            if (params) *params = row.params;
            return row.values;
        }
    }
    return {};
}

// --- Table 3 --------------------------------------------------------------------------------------

const std::vector<PaperT2iRow>& paper_t2i_rows() {
    static const std::vector<PaperT2iRow> rows = {
        {"bert-base-cased", "BERT-base", "BERT-style", 1.01, 22.46},
        {"bert-large-cased", "BERT-large", "BERT-style", 1.01, 22.43},
        {"roberta-base", "RoBERTa-base", "BERT-style", 1.01, 22.37},
        {"roberta-large", "RoBERTa-large", "BERT-style", 1.01, 22.41},
        {"openai/clip-vit-base-patch32", "CLIP ViT-B/32", "CLIP-style", 1.01, 22.57},
        {"openai/clip-vit-base-patch16", "CLIP ViT-B/16", "CLIP-style", 1.01, 22.59},
        {"openai/clip-vit-large-patch14", "CLIP ViT-L/14", "CLIP-style", 1.01, 22.70},
        {"openai/clip-vit-large-patch14-336", "CLIP ViT-L/14@336px", "CLIP-style", 1.01, 22.67},
        {"random", "Random", "Random", 1.01, 22.13},
        {"", "Ground-truth pairs", "", std::numeric_limits<double>::quiet_NaN(), 25.21},
    };
    return rows;
}

const std::vector<PaperT2iGroup>& paper_t2i_groups() {
    static const std::vector<PaperT2iGroup> groups = {
        {"BERT-style", 22.414, 0.041}, {"CLIP-style", 22.631, 0.066}, {"Random", 22.130, 0.029}};
    return groups;
}

double paper_t2i_p(const std::string& a, const std::string& b) {
    auto is = [&](const char* x, const char* y) { return (a == x && b == y) || (a == y && b == x); };
    if (is("BERT-style", "CLIP-style")) return 2.25e-9;
    if (is("BERT-style", "Random")) return 5.18e-8;
    if (is("CLIP-style", "Random")) return 1.18e-8;
    return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace syn::run
