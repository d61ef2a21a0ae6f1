#pragma once
// The nine GLUE tasks read from the official GLUE TSV files (as download_glue_data.py lays them out:
// <glue>/CoLA/train.tsv, .../MNLI/dev_matched.tsv, ...). Column indices follow Hugging Face's
// transformers/data/processors/glue.py; files are split on tabs with quoting disabled
// (csv.QUOTE_NONE there), so quote characters inside sentences are plain text.
//
// Quirks handled: CoLA's train/dev have no header (source, label, original mark, sentence) while its
// test.tsv has one ("index\tsentence"); MRPC's header starts with a UTF-8 BOM; QQP's train holds a
// few malformed lines, which are skipped and reported by line number (HF skips them too); MNLI's
// dev comes as matched and mismatched; test splits carry no labels: they load (for prediction)
// but are refused for training and evaluation with a message. Torch-free.
#include <cstddef>
#include <string>
#include <vector>

namespace syn::data {

enum class GlueTask { cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli };

struct GlueTaskInfo {
    GlueTask task;
    std::string name;                 // "cola", "sst2", ... (CLI spelling)
    std::string display;              // "CoLA", "SST-2", ... (table header)
    std::string folder;               // folder in the GLUE download: "CoLA", "SST-2", "STS-B", ...
    std::vector<std::string> labels;  // label strings in HF's order (index = class id); empty for STS-B
    bool pair = false;                // sentence pairs (token type ids 0 / 1)
    bool regression() const { return labels.empty(); }
    int num_outputs() const { return regression() ? 1 : static_cast<int>(labels.size()); }
};

const GlueTaskInfo& glue_task_info(GlueTask task);
// All nine, in GLUE's order (CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE, WNLI).
const std::vector<GlueTask>& all_glue_tasks();
// "cola", "CoLA", "sst2", "sst-2", "SST-2", "sts-b", "mnli", ... (case-insensitive); anything else ->
// syn::Error listing the names.
GlueTask parse_glue_task(const std::string& name);

struct GlueExample {
    std::string text_a;
    std::string text_b;  // empty for single-sentence tasks
    int label = -1;      // class id; -1 for unlabeled and for STS-B
    double score = 0.0;  // STS-B similarity 0..5
    std::size_t line = 0;  // 1-based line in the file
};

struct GlueSplit {
    GlueTask task = GlueTask::cola;
    std::string path;
    bool labeled = true;  // false for the test splits (no label column)
    std::vector<GlueExample> examples;
    // Malformed lines that were skipped (QQP only; elsewhere they are errors), 1-based.
    std::vector<std::size_t> skipped_lines;
};

struct GlueReadOptions {
    // Skip lines with too few columns instead of failing. Default: only for QQP, as HF does.
    enum class Malformed { task_default, skip, fail };
    Malformed malformed = Malformed::task_default;
};

// Reads one GLUE TSV of `task`. Errors name file and line: too few columns (where not skipped),
// "label 'x' is not one of 0, 1", an STS-B score that is not a number in [0, 5], a header that is
// not the task's, an empty file.
GlueSplit read_glue_tsv(GlueTask task, const std::string& path, const GlueReadOptions& options = {});
// The same on text already in memory; `source` names it in messages.
GlueSplit parse_glue_tsv(GlueTask task, const std::string& text, const std::string& source,
                         const GlueReadOptions& options = {});

// The file of a split under a GLUE folder: split is "train", "dev" (MNLI: dev_matched), "dev_matched",
// "dev_mismatched", "test" (MNLI: test_matched). Throws syn::Error when the file does not exist,
// naming the path it expected.
std::string glue_split_path(const std::string& glue_dir, GlueTask task, const std::string& split);

// Throws syn::Error "<file>: is an unlabeled test split ... cannot be used for <purpose>" unless the
// split has labels. `purpose`: "training", "evaluation".
void require_labeled(const GlueSplit& split, const std::string& purpose);

}  // namespace syn::data
