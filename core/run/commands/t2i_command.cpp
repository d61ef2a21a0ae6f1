#include "core/run/commands/t2i_command.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <tuple>

#include "core/data/mm_celeba_hq.h"
#include "core/io/errors.h"
#include "core/io/output_folder.h"
#include "core/run/distributed.h"
#include "core/run/jobs/embed_job.h"  // parse_shard
#include "core/run/progress.h"
#include "core/run/jobs/t2i_job.h"
#include "core/run/reports/text_formats.h"

namespace syn::run {
namespace {

void add_train_mapping(CLI::App& app) {
    struct State {
        TrainMappingJobOptions o;
        bool no_mixed = false, no_resume = false;
        CancelToken cancel;
        TerminalProgress bar;
    };
    auto st = std::make_shared<State>();
    auto& o = st->o;
    auto* cmd = app.add_subcommand("train-mapping",
                                   "Train the linear text -> GPT prefix map on Multi-Modal CelebA-HQ (Table 3)");
    cmd->add_option("--generator", o.generator, "taming folder (config + last.ckpt or model.safetensors)")->required();
    cmd->add_option("--data", o.data_dir, "Multi-Modal CelebA-HQ folder (images/, text/, train/filenames.pickle)")
        ->required();
    cmd->add_option("--split", o.split, "train, test, all, or another split file's name")->capture_default_str();
    cmd->add_option("--encoder", o.encoder, "Text encoder: folder, hub id, catalog id, or 'random' (the baseline)")
        ->required();
    cmd->add_option("--pooling", o.pooling, "Pooling (default: the catalog's text-to-image pooling, else mean)");
    cmd->add_option("--random-dim", o.random_dim, "Width of the random baseline's vectors")->capture_default_str();
    cmd->add_flag("--all-captions", o.all_captions, "Every (image, caption) pair each epoch (default: one random caption per image)");
    cmd->add_option("--out", o.out_dir, "Output folder (mapping.safetensors, state.json, losses.csv)")->required();
    cmd->add_option("--lr", o.train.learning_rate, "AdamW learning rate")->capture_default_str();
    cmd->add_option("--batch-size,--batch", o.train.batch_size,
                    "Batch size (under launch / torchrun / srun: the global batch the processes share)")
        ->capture_default_str();
    cmd->add_option("--epochs", o.train.epochs, "Epochs")->capture_default_str();
    cmd->add_option("--max-steps", o.train.max_steps, "Stop after N steps (0 = no limit)")->capture_default_str();
    cmd->add_option("--seed", o.train.seed, "Seed (init, order, captions, dropout)")->capture_default_str();
    cmd->add_option("--max-images", o.max_images, "Use the first N usable faces (0 = all)")->capture_default_str();
    cmd->add_option("--device", o.device, "auto, cpu, cuda, cuda:N")->capture_default_str();
    cmd->add_flag("--no-mixed-precision", st->no_mixed, "float32 on CUDA too");
    cmd->add_flag("--no-resume", st->no_resume, "Ignore a saved state in --out and start afresh");
    cmd->callback([st] {
        st->o.mixed_precision = !st->no_mixed;
        st->o.resume = !st->no_resume;
        // Data-parallel when the environment names more than one process (torchrun, `synesthesia
        // launch`, srun): every rank trains its share of each batch; rank 0 alone writes and reports.
        st->o.dist = data_parallel_from_env(st->o.device);
        const bool writer = !st->o.dist || st->o.dist->is_main();
        if (st->o.dist) st->o.device = dist_device_spec(st->o.device, st->o.dist->env());
        if (st->o.dist && writer) std::fprintf(stderr, "%s\n", st->o.dist->describe().c_str());
        if (writer) st->o.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
        install_interrupt_handler(&st->cancel);
        auto r = run_train_mapping(st->o, writer ? st->bar.sink() : ProgressSink(), &st->cancel);
        install_interrupt_handler(nullptr);
        if (!writer) return;  // the other ranks write nothing
        std::fprintf(stderr, "%zu images, %zu captions (%zu unreadable images and %zu empty caption lines skipped), %s, %s\n",
                     r.images, r.captions, r.skipped_images, r.empty_caption_lines, r.device.c_str(), r.precision.c_str());
        if (!r.report.step_losses.empty())
            std::fprintf(stderr, "loss %.4f (first step) -> %.4f (last step) over %lld steps%s\n",
                         r.report.step_losses.front(), r.report.step_losses.back(), static_cast<long long>(r.report.steps),
                         r.resumed ? " (resumed)" : "");
        std::printf("%s\n", r.checkpoint.c_str());
    });
}

void add_generate(CLI::App& app) {
    struct State {
        GenerateJobOptions o;
        std::vector<std::string> prompts;
        std::string prompt_file;
        std::string shard;  // "i/n"
        std::string data, split = "test";
        std::size_t max_images = 0;
        std::size_t caption_index = 0;
        CancelToken cancel;
        TerminalProgress bar;
    };
    auto st = std::make_shared<State>();
    auto& o = st->o;
    o.sampling.top_k = 250;  // the study's sampling
    o.sampling.num_tokens = 0;
    auto* cmd = app.add_subcommand("generate", "Generate faces from prompts through a trained mapping");
    cmd->add_option("--generator", o.generator, "taming folder the mapping was trained against")->required();
    cmd->add_option("--mapping", o.mapping, "A train-mapping checkpoint (mapping.safetensors)")->required();
    cmd->add_option("--encoder", o.encoder, "Override the encoder the checkpoint names (same model elsewhere)");
    cmd->add_option("--prompt", st->prompts, "A prompt (repeatable)");
    cmd->add_option("--prompts", st->prompt_file, "A text file, one prompt per line (blank lines ignored)");
    cmd->add_option("--data", st->data,
                    "Multi-Modal CelebA-HQ folder: prompt with one caption of each face of --split")
        ->excludes("--prompts");
    cmd->add_option("--split", st->split, "The split of --data")->capture_default_str();
    cmd->add_option("--max-images", st->max_images, "With --data: the first N faces (0 = all)")->capture_default_str();
    cmd->add_option("--caption-index", st->caption_index,
                    "With --data: which caption of each face (0 = the first; faces with fewer use their last)")
        ->capture_default_str();
    cmd->add_option("--seeds", o.seeds, "Seeds, comma-separated: every prompt once per seed")
        ->delimiter(',')
        ->capture_default_str();
    cmd->add_option("--top-k", o.sampling.top_k, "Top-k (0 = off)")->capture_default_str();
    cmd->add_option("--top-p", o.sampling.top_p, "Top-p (1 = off)")->capture_default_str();
    cmd->add_option("--temperature", o.sampling.temperature, "Temperature (0 = greedy)")->capture_default_str();
    cmd->add_option("--batch,--batch-size", o.batch, "Images sampled together")->capture_default_str();
    cmd->add_option("--device", o.device, "auto, cpu, cuda, cuda:N")->capture_default_str();
    cmd->add_option("--dtype", o.dtype, "GPT dtype: auto (bfloat16 on CUDA and on CPUs with AMX-BF16/AVX512-BF16, else float32), float32, bfloat16, float16 (CUDA)")->capture_default_str();
    cmd->add_option("--out", o.out_dir, "Output folder (PNGs + images.jsonl)")->required();
    cmd->add_option("--shard", st->shard,
                    "i/n: every n-th sampling batch only (with shard.json); `synesthesia merge` joins the n folders");
    cmd->callback([st] {
        if (!st->shard.empty()) std::tie(st->o.shard_index, st->o.shard_count) = parse_shard(st->shard);
        st->o.prompts = st->prompts;
        if (!st->prompt_file.empty())
            for (auto& p : read_text_lines(st->prompt_file, /*skip_blank=*/true)) st->o.prompts.push_back(std::move(p));
        if (!st->data.empty()) {
            auto faces = data::load_mm_celeba_hq(st->data, st->split, st->max_images);
            for (const auto& face : faces.samples)
                st->o.prompts.push_back(face.captions[std::min(st->caption_index, face.captions.size() - 1)]);
            std::fprintf(stderr, "%zu prompts from %s (%s)\n", faces.samples.size(), st->data.c_str(), st->split.c_str());
        }
        if (st->o.prompts.empty()) throw Error("generate: give --prompt TEXT, --prompts FILE or --data DIR");
        check_output_folder(st->o.out_dir);  // before any work
        install_interrupt_handler(&st->cancel);
        auto r = run_generate(st->o, st->bar.sink(), &st->cancel);
        install_interrupt_handler(nullptr);
        for (const auto& w : r.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
        std::fprintf(stderr, "%zu images (%s, %s, %s) in %.1f s -> %s\n", r.faces.size(), r.encoder.c_str(),
                     r.device.c_str(), r.dtype.c_str(), r.seconds, r.manifest.c_str());
    });
}

}  // namespace

void add_t2i_commands(CLI::App& app) {
    add_train_mapping(app);
    add_generate(app);
}

}  // namespace syn::run
