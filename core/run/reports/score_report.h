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
// table3.md, table3.tex, table3.csv, score_manifest.json and score_timing.json (the wall time, the only
// number that differs between runs) under `out_dir` (atomically); the paths.
std::vector<std::string> write_score_outputs(const ScoreJobResult& result, const ScoreJobOptions& options,
                                             const std::string& out_dir);

// `score --shard i/n` (issue 15): `out_dir` (staged) gets score_shard.json (the shard i/n, the run's
// settings, the number and a SHA-256 of the run's image list, this shard's image records with why a
// file was skipped, the ground truth on shard 0) and score_values.safetensors ("positions" I64 [k],
// "clip_s" F64 [k], "inception_logits" F32 [k, C] when IS is computed). The paths.
std::vector<std::string> write_score_shard(const ScoreShard& shard, const ScoreJobOptions& options,
                                           const std::string& out_dir);

// Whether `dir` holds score_shard.json (what `synesthesia merge` dispatches on).
bool is_score_shard_folder(const std::string& dir);

// Joins the n folders of `score --shard i/n` into what `score --out` writes for the whole run: the
// per-image values are placed by position and handed to finish_score, the unsharded job's own
// aggregation, so every number (and score_manifest.json, table3.*) is the unsharded run's byte for
// byte on the same machine. Refused by name: a folder without score_shard.json, a shard missing or
// given twice, shards of other settings or another image list, a file holding fewer or more values
// than it claims (sizes are checked against what the files hold before anything is allocated).
// Returns the number of images of the run.
std::size_t merge_score_shards(const std::vector<std::string>& shard_dirs, const std::string& out_dir);

}  // namespace syn::run
