#include "core/run/commands/celeba_captions_command.h"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "core/data/celeba_attributes.h"

namespace syn::run {
namespace {

struct CaptionsOptions {
    std::string attributes;
    std::string out;
    std::size_t per_image = 10;  // as in MM-CelebA-HQ
    std::uint64_t seed = 0;
};

}  // namespace

void add_celeba_captions_command(CLI::App& app) {
    // The options live as long as the app's callback that uses them.
    auto opts = std::make_shared<CaptionsOptions>();
    auto* cmd = app.add_subcommand(
        "captions-from-attributes",
        "Write MM-CelebA-HQ-style captions (<out>/text/<n>.txt) from CelebA attribute annotations");
    cmd->add_option("--attributes", opts->attributes, "list_attr_celeba.txt or CelebAMask-HQ-attribute-anno.txt")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--out", opts->out, "Dataset folder; captions go to <out>/text/")->required();
    cmd->add_option("--per-image", opts->per_image, "Captions per image")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1000}))
        ->capture_default_str();
    cmd->add_option("--seed", opts->seed, "Seed (image i uses seed + i): the same seed gives the same files")
        ->capture_default_str();
    cmd->callback([opts] {
        const std::size_t n =
            data::write_attribute_captions(opts->attributes, opts->out, opts->per_image, opts->seed);
        std::printf("wrote %zu caption files (%zu captions each) to %s\n", n, opts->per_image,
                    (std::filesystem::path(opts->out) / "text").string().c_str());
    });
}

}  // namespace syn::run
