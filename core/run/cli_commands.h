#pragma once
// The `synesthesia` command line: one CLI11 app whose subcommands call the same jobs the GUI runs.
namespace syn::run {

// Parses argv, runs the subcommand, prints errors as "error: <message>" and returns the exit code.
int cli_main(int argc, char** argv);

}  // namespace syn::run
