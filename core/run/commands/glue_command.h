#pragma once
// `synesthesia glue`: fine-tunes (or linearly probes) models on GLUE tasks and writes the study's
// Table 1 layout (reports/glue_report.h: Markdown + LaTeX, the paper's numbers beside ours) and a
// JSON manifest.
#include <string>
#include <vector>

#include "core/run/jobs/glue_job.h"
#include "core/run/reports/glue_report.h"

namespace CLI {
class App;
}

namespace syn::run {

void add_glue_command(CLI::App& app);

}  // namespace syn::run
