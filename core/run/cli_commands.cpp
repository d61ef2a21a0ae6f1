#include "core/run/cli_commands.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "core/io/errors.h"
#include "core/io/torch/torch_runtime.h"

namespace syn::run {

int cli_main(int argc, char** argv) {
    CLI::App app{"synesthesia: compare BERT-style and CLIP-style text encoders (headless workbench)"};
    app.require_subcommand(1);

    auto* device = app.add_subcommand("device", "Print the compute device and torch threads");
    device->callback([] {
        DeviceInfo info = describe_compute_device();
        std::printf("%s (libtorch %s)\n", info.summary().c_str(), info.torch_version.c_str());
    });

    try {
        init_torch_runtime();
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}

}  // namespace syn::run
