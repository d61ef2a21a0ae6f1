#pragma once
// The `synesthesia` command line: one CLI11 app whose subcommands call the same jobs the GUI runs.
#include "core/run/jobs/sts_job.h"
#include "core/run/reports/sts_report.h"

namespace syn::run {

// Exit status of a run that completed and wrote its outputs while some models failed (each named
// in the tables, in results.json and on stderr): a batch script notices, the results stay usable.
constexpr int kExitSomeModelsFailed = 3;
constexpr int kExitUsage = 2;  // a command line that does not parse (unknown option, missing value)

// Parses argv, runs the subcommand, prints errors as "error: <message>" and returns the exit code
// (0 done, 1 error, 2 usage error, 3 done with failed models, 130 SIGINT, 143 SIGTERM).
// `figures` renders the STS plots; the Qt build passes ui's writer, the engine-only build none
// (the CLI then says that figures were not written and why).
int cli_main(int argc, char** argv, const FigureWriter& figures = {});

}  // namespace syn::run
