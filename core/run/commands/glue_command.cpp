#include "core/run/commands/glue_command.h"
#include "core/run/reports/text_formats.h"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <iomanip>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/strings.h"
#include "core/run/distributed.h"

namespace syn::run {

void add_glue_command(CLI::App& app) {
    struct State {
        GlueJobOptions options;
        std::vector<std::string> tasks = {"all"};
        std::vector<std::string> models;
        std::string data, out;
        bool no_mixed = false, no_resume = false, no_tables = false;
    };
    auto st = std::make_shared<State>();
    auto* glue = app.add_subcommand("glue", "GLUE fine-tuning / linear probing (the study's Table 1)");
    glue->add_option("--task", st->tasks, "all (the 8 of Table 1), or cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli")
        ->delimiter(',')
        ->capture_default_str();
    glue->add_option("--data", st->data, "GLUE folder (CoLA/, SST-2/, ... as the official download)")->required();
    glue->add_option("--models,--model", st->models,
                     "Model folders, hub ids or catalog ids (space- or comma-separated, or repeated)")
        ->delimiter(',')
        ->required();
    glue->add_option("--out", st->out, "Output folder")->required();
    glue->add_option("--lr", st->options.learning_rate, "Learning rate")->capture_default_str();
    glue->add_option("--batch-size,--batch", st->options.batch_size,
                     "Batch size (under launch / torchrun / srun: the global batch the processes share)")
        ->capture_default_str();
    glue->add_option("--max-length", st->options.max_length, "Max tokens (capped by the model: 77 for CLIP)")
        ->capture_default_str();
    glue->add_option("--epochs", st->options.epochs, "Epochs (0: 3, MRPC and WNLI 5)")->capture_default_str();
    glue->add_option("--warmup-ratio", st->options.warmup_ratio, "Linear warm-up fraction")->capture_default_str();
    glue->add_option("--weight-decay", st->options.weight_decay, "AdamW weight decay")->capture_default_str();
    glue->add_option("--max-grad-norm", st->options.max_grad_norm, "Gradient clipping (0: off)")->capture_default_str();
    glue->add_option("--seeds", st->options.seeds, "Seeds, comma-separated")->delimiter(',')->capture_default_str();
    glue->add_flag("--linear-probe", st->options.linear_probe, "Freeze the encoder, train the head only");
    glue->add_option("--device", st->options.device, "auto, cpu, cuda, cuda:N")->capture_default_str();
    glue->add_flag("--no-mixed-precision", st->no_mixed, "float32 on CUDA too");
    glue->add_flag("--no-resume", st->no_resume, "Ignore saved state and start afresh");
    glue->add_flag("--no-tables", st->no_tables,
                   "Train and checkpoint the runs only (one task of a sweep); a later glue over all runs resumes "
                   "them and writes the tables");
    glue->add_option("--max-train", st->options.max_train_examples, "Use the first N training examples (0 = all)");
    glue->add_option("--max-eval", st->options.max_eval_examples, "Use the first N dev examples (0 = all)");
    glue->callback([st] {
        st->options.glue_dir = st->data;
        // Data-parallel when the environment names more than one process (torchrun, `synesthesia
        // launch`, srun): every rank trains its share of each batch; rank 0 alone writes.
        const std::shared_ptr<DataParallel> dist = data_parallel_from_env(st->options.device);
        const bool writer = !dist || dist->is_main();
        if (dist) st->options.device = dist_device_spec(st->options.device, dist->env());
        if (dist && writer) std::fprintf(stderr, "%s\n", dist->describe().c_str());
        st->options.dist = dist;
        // The out folder holds resumable runs, so it is not staged; it must be writable before training.
        std::error_code ec;
        if (writer) std::filesystem::create_directories(st->out, ec);
        if (writer && (ec || ::access(st->out.c_str(), W_OK) != 0))
            throw file_error(st->out, "cannot write to the output folder" + (ec ? ": " + ec.message() : std::string()));
        CancelToken cancel;
        install_interrupt_handler(&cancel);
        std::vector<data::GlueTask> tasks;
        for (const auto& t : st->tasks) {
            if (t == "all") tasks.insert(tasks.end(), glue_table_tasks().begin(), glue_table_tasks().end());
            else tasks.push_back(data::parse_glue_task(t));
        }
        std::vector<GlueModelResults> results;
        for (const auto& model : st->models) {
            GlueModelResults mr;
            mr.model = model;
            for (data::GlueTask task : tasks) {
                GlueJobOptions o = st->options;
                o.task = task;
                o.model = model;
                o.glue_dir = st->data;
                o.out_dir = (std::filesystem::path(st->out) / "runs" / path_safe_name(model)).string();
                o.mixed_precision = !st->no_mixed;
                o.resume = !st->no_resume;
                if (writer) o.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
                o.cancel = &cancel;
                mr.tasks.push_back(run_glue_task(o));
            }
            results.push_back(std::move(mr));
        }
        install_interrupt_handler(nullptr);
        if (!writer || st->no_tables) return;  // the other ranks write nothing
        for (const auto& path : write_glue_outputs(results, st->options, st->out))
            std::fprintf(stderr, "wrote %s\n", path.c_str());
        std::printf("%s", glue_table_markdown(results).c_str());
    });
}

}  // namespace syn::run
