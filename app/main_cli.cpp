// `synesthesia`: the headless command line on the same core as the workbench.
#include "core/run/cli_commands.h"

int main(int argc, char** argv) { return syn::run::cli_main(argc, argv); }
