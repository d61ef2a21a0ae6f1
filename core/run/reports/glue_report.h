#pragma once
// The GLUE job's outputs: the study's Table 1 layout (Markdown + LaTeX, the paper's numbers beside
// ours) and a JSON manifest.
#include <string>
#include <vector>

#include "core/run/jobs/glue_job.h"
#include "core/run/reports/paper_tables.h"  // paper_glue_rows, paper_glue_row (the study's Table 1)

namespace syn::run {

// The eight tasks of Table 1 (WNLI excluded, as in the study), in its column order.
const std::vector<data::GlueTask>& glue_table_tasks();

struct GlueModelResults {
    std::string model;  // as given on the command line
    std::vector<GlueTaskResult> tasks;
};

// Table 1 in Markdown / LaTeX: one row per model (mean, "± sd" with several seeds), followed by the
// paper's row where known. Cells x100; Avg only when all eight Table-1 tasks were run.
std::string glue_table_markdown(const std::vector<GlueModelResults>& results);
std::string glue_table_latex(const std::vector<GlueModelResults>& results);
// glue_table.md, glue_table.tex, glue_manifest.json under `out_dir`; returns the paths written.
std::vector<std::string> write_glue_outputs(const std::vector<GlueModelResults>& results, const GlueJobOptions& options,
                                            const std::string& out_dir);

}  // namespace syn::run
