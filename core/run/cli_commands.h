#pragma once
// The `synesthesia` command line: one CLI11 app whose subcommands call the same jobs the GUI runs.
#include "core/run/sts_job.h"

namespace syn::run {

// Parses argv, runs the subcommand, prints errors as "error: <message>" and returns the exit code.
// `figures` renders the STS plots; the Qt build passes ui's writer, the engine-only build none
// (the CLI then says that figures were not written and why).
int cli_main(int argc, char** argv, const FigureWriter& figures = {});

}  // namespace syn::run
