#pragma once
// `synesthesia score` on the command line: options -> ScoreJobOptions, run_score (score_job.h),
// the report (score_report.h) written to --out and Table 3 printed.
namespace CLI {
class App;
}

namespace syn::run {

void add_score_command(CLI::App& app);

}  // namespace syn::run
