#pragma once
// The report of `synesthesia score` (core/run/jobs/score_job.h): Table 3 in Markdown / LaTeX / CSV, ours
// beside the paper's printed numbers (core/run/reports/paper_tables.h), and the JSON manifest with every
// per-image score. No torch types here.
#include <string>
#include <vector>

#include "core/run/jobs/score_job.h"

namespace syn::run {

std::string score_table_markdown(const ScoreJobResult& result);
std::string score_table_latex(const ScoreJobResult& result);
std::string score_table_csv(const ScoreJobResult& result);
// table3.md, table3.tex, table3.csv, score_manifest.json under `out_dir` (atomically); the paths.
std::vector<std::string> write_score_outputs(const ScoreJobResult& result, const ScoreJobOptions& options,
                                             const std::string& out_dir);

}  // namespace syn::run
