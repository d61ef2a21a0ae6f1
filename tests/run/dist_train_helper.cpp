// One rank of a data-parallel test run (test_distributed spawns 1, 2 or 3 of these with WORLD_SIZE,
// RANK, MASTER_ADDR, MASTER_PORT set): trains the GLUE fine-tuner or the prefix-mapping trainer on a
// tiny problem and writes its per-step losses (and GLUE's per-epoch dev accuracy) to
// <result>.rank<r>, one "loss <v>" / "metric <v>" line each.
//   dist_train_helper glue <glue dir> <model dir> <out dir> <result> [noallreduce] [batch=N]
//   dist_train_helper mapping <captions|random> <result> [noallreduce] [batch=N]
// The GLUE job writes its checkpoints under <out dir>/rank<r> (only rank 0 may write any).
#include <ATen/ATen.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include "core/io/errors.h"
#include "core/run/distributed.h"
#include "core/run/jobs/glue_job.h"
#include "core/run/jobs/train_mapping.h"
#include "models/mingpt.h"
#include "models/prefix_mapping.h"

using namespace syn::run;

int main(int argc, char** argv) {
    try {
        torch::set_num_threads(1);
        std::vector<std::string> args(argv + 1, argv + argc);
        if (args.size() < 3) throw syn::Error("usage: dist_train_helper glue|mapping ...");
        bool no_allreduce = false;
        int64_t batch = 0;
        for (const auto& a : args) {
            if (a == "noallreduce") no_allreduce = true;
            if (a.rfind("batch=", 0) == 0) batch = std::stoll(a.substr(6));
        }
        const std::shared_ptr<DataParallel> dist = data_parallel_from_env("cpu");
        if (dist) dist->skip_gradient_allreduce_for_tests = no_allreduce;
        const int rank = dist ? dist->rank() : 0;
        std::vector<double> losses, metrics;
        std::string result;
        if (args[0] == "glue") {
            if (args.size() < 5) throw syn::Error("usage: dist_train_helper glue <glue> <model> <out> <result>");
            GlueJobOptions o;
            o.task = syn::data::GlueTask::sst2;
            o.glue_dir = args[1];
            o.model = args[2];
            o.out_dir = args[3] + "/rank" + std::to_string(rank);
            result = args[4];
            o.learning_rate = 1e-2;
            o.batch_size = batch > 0 ? int(batch) : 8;
            o.epochs = 2;
            o.warmup_ratio = 0.1;
            o.max_train_examples = 60;  // 7 full batches of 8 and one of 4
            o.device = "cpu";
            o.dist = dist;
            const GlueTaskResult r = run_glue_task(o);
            losses = r.runs.at(0).step_losses;
            for (const auto& e : r.runs.at(0).epochs) metrics.push_back(e.metrics.at("accuracy"));
        } else if (args[0] == "mapping") {
            result = args[2];
            using namespace syn::models;
            GPTConfig c;
            c.vocab_size = 16, c.block_size = 9, c.n_layer = 1, c.n_head = 2, c.n_embd = 8;
            torch::manual_seed(5);
            MinGPT gpt(c);
            auto codes = at::randint(0, 16, {12, 9}, at::kLong);
            MappingData data{codes};
            if (args[1] == "random") {
                data.random_dim = 4;
            } else {
                data.text = at::randn({30, 4});
                data.caption_image = at::arange(30, at::kLong).remainder(12);
            }
            MappingTrainOptions o;
            o.batch_size = batch > 0 ? batch : 5;  // 12 samples: batches of 5, 5 and 2
            o.epochs = 3;
            o.seed = 9;
            o.learning_rate = 5e-2;
            torch::manual_seed(1);
            PrefixMapping mapping(4, 8, /*dropout=*/0.0);
            MappingTrainState state;
            MappingTrainHooks hooks;
            hooks.dist = dist.get();
            losses = train_mapping(mapping, gpt, data, o, state, {}, hooks).step_losses;
        } else {
            throw syn::Error("dist_train_helper: unknown mode " + args[0]);
        }
        std::ofstream out(result + ".rank" + std::to_string(rank));
        char line[64];
        for (double l : losses) std::snprintf(line, sizeof line, "loss %.17g\n", l), out << line;
        for (double m : metrics) std::snprintf(line, sizeof line, "metric %.17g\n", m), out << line;
        if (!out) throw syn::Error(result + ": cannot write");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
