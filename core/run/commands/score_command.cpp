// `synesthesia score`: the command line of the text-to-image probe's scoring (Table 3).
#include "core/run/commands/score_command.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/io/errors.h"
#include "core/io/output_folder.h"
#include "core/run/progress.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/jobs/score_job.h"
#include "core/run/reports/score_report.h"

namespace syn::run {

void add_score_command(CLI::App& app) {
    struct State {
        ScoreJobOptions options;
        std::vector<std::string> groups;
        std::string out;
        std::string shard;
        bool no_cache = false;
    };
    auto st = std::make_shared<State>();
    auto* cmd = app.add_subcommand("score", "CLIP-S and Inception Score of generated faces (the study's Table 3)");
    cmd->add_option("folders", st->options.generation_dirs, "Generation folders (each with images.jsonl)");
    cmd->add_option("--clip", st->options.clip_model, "CLIP model for CLIP-S: catalog / hub id or folder")
        ->capture_default_str();
    cmd->add_option("--kind", st->options.kind, "cos100 (100 x cos, the study's) or hessel (2.5 x max(cos, 0))")
        ->check(CLI::IsMember({"cos100", "hessel"}))
        ->capture_default_str();
    cmd->add_option("--inception-weights", st->options.inception_weights,
                    "Inception v3 weights file for IS (absent: IS is reported as not computed)");
    cmd->add_option("--splits", st->options.is_splits, "IS splits")->capture_default_str();
    cmd->add_option("--data", st->options.data_dir, "Multi-Modal CelebA-HQ folder: adds the ground-truth pairs row");
    cmd->add_option("--split", st->options.split, "Split of --data for the ground-truth row")->capture_default_str();
    cmd->add_option("--max-gt-images", st->options.max_gt_images, "Ground truth: the first N images (0 = all)");
    // One MODEL=GROUP per --group, so that folders may follow it on the command line.
    cmd->add_option("--group", st->groups, "MODEL=GROUP: put an encoder in a group (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--out", st->out, "Output folder")->required();
    cmd->add_option("--device", st->options.device, "auto, cpu, cuda, cuda:N")->capture_default_str();
    cmd->add_option("--batch,--batch-size", st->options.batch, "Images per forward pass")->capture_default_str();
    cmd->add_flag("--no-cache", st->no_cache, "Do not use the embedding cache for the prompts");
    cmd->add_option("--shard", st->shard,
                    "i/n: score shard i of n (every n-th batch of --batch images of the unsharded run; shard 0 also "
                    "the --data ground truth); --out gets a shard folder, and `synesthesia merge` joins the n "
                    "folders into the unsharded run's outputs");
    cmd->callback([st] {
        for (const auto& g : st->groups) {
            const auto eq = g.rfind('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == g.size())
                throw Error("--group '" + g + "': expected MODEL=GROUP");
            st->options.group_overrides[g.substr(0, eq)] = g.substr(eq + 1);
        }
        st->options.use_cache = !st->no_cache;
        st->options.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
        if (!st->shard.empty()) std::tie(st->options.shard_index, st->options.shard_count) = parse_shard(st->shard);
        check_output_folder(st->out);  // before any work
        TerminalProgress bar;
        CancelToken cancel;
        if (!st->shard.empty()) {
            install_interrupt_handler(&cancel);
            const ScoreShard shard = run_score_shard(st->options, bar.sink(), &cancel);
            install_interrupt_handler(nullptr);
            for (const auto& path : write_score_shard(shard, st->options, st->out))
                std::fprintf(stderr, "wrote %s\n", path.c_str());
            std::fprintf(stderr, "shard %s: %zu of %zu images in %.1f s\n", st->shard.c_str(), shard.positions.size(),
                         shard.run.images.size(), shard.run.seconds);
            return;
        }
        install_interrupt_handler(&cancel);
        const ScoreJobResult result = run_score(st->options, bar.sink(), &cancel);
        install_interrupt_handler(nullptr);
        for (const auto& path : write_score_outputs(result, st->options, st->out))
            std::fprintf(stderr, "wrote %s\n", path.c_str());
        std::printf("%s", score_table_markdown(result).c_str());
    });
}

}  // namespace syn::run
