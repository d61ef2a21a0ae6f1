#pragma once
// The STS job's outputs: Table 2 (Markdown / LaTeX), results.json, pairs.csv, the MTEB and
// sentence-transformers result files, and the staged, all-or-nothing output folder.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/run/jobs/sts_job.h"

namespace syn::run {

// Table 2 layout, x100, with CIs.
std::string sts_table_markdown(const StsResult& result);
std::string sts_table_latex(const StsResult& result);
nlohmann::json sts_results_json(const StsResult& result);
std::string sts_pairs_csv(const StsResult& result);

// Writes table.md, table.tex, results.json, pairs.csv and, when `figures` is given, the plots into
// a staged folder that then replaces out_dir in one rename (core/io/output_folder.h: all or
// nothing; an out_dir that is not an output folder is refused); returns the final paths.
// With `interop_files`, also sts_interop_files() in their sub-folders.
using FigureWriter = std::function<std::vector<std::string>(const StsResult&, const std::string& out_dir)>;
std::vector<std::string> write_sts_outputs(const StsResult& result, const std::string& out_dir,
                                           const FigureWriter& figures = {}, bool interop_files = false);

// The results in the shapes other tools read (relative path -> content), one set per encoder:
//   mteb/<model>/no_revision_available/{model_meta.json, CxC-STS-L.json, CxC-STS-V.json}
//     (MTEB's result layout and TaskResult fields; main_score = cosine Spearman; values in [-1, 1]);
//   sentence-transformers/<model>/similarity_evaluation_cxc-sts-{l,v}_results.csv
//     (EmbeddingSimilarityEvaluator's CSV: epoch, steps, cosine_pearson, cosine_spearman).
// <model> is the hub id with '/' as "__" (a folder: its name).
std::vector<std::pair<std::string, std::string>> sts_interop_files(const StsResult& result);

}  // namespace syn::run
