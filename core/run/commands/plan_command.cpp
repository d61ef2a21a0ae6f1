// `synesthesia plan --slurm --study table1|table2|table3 --out DIR [-- extra arguments]`.
#include "core/run/commands/plan_command.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>

#include "core/io/dataset_fetch.h"
#include "core/io/errors.h"
#include "core/io/file_checks.h"
#include "core/io/quote.h"
#include "core/run/cluster_plan.h"
#include "core/run/embedding_cache.h"

namespace syn::run {

namespace fs = std::filesystem;

namespace {

std::string absolute(const std::string& path) { return path.empty() ? path : fs::absolute(path).lexically_normal().string(); }

// This program's own path (what the scripts run), from /proc/self/exe.
std::string own_executable() {
    const std::string exe = own_executable_path();
    if (exe.empty()) throw Error("plan: cannot tell this program's path (/proc/self/exe); give --exe");
    return exe;
}

}  // namespace

void add_plan_command(CLI::App& app) {
    struct State {
        bool slurm = false;
        StudyPlanOptions study;
        SlurmOptions slurm_options;
        std::string out, exe, cache_dir;
        std::vector<std::string> env, step_args;
    };
    auto st = std::make_shared<State>();
    auto* cmd = app.add_subcommand(
        "plan", "Write the study's runs as Slurm job-array scripts (sharded steps, merges, dependencies; submit.sh)");
    cmd->add_flag("--slurm", st->slurm, "Slurm sbatch scripts (the only scheduler so far)")->required();
    cmd->add_option("--study", st->study.study, "table2 (STS), table1 (GLUE sweep) or table3 (text-to-image)")
        ->check(CLI::IsMember({"table1", "table2", "table3"}))
        ->required();
    cmd->add_option("--out", st->out, "Folder for the scripts (NN-<step>.sbatch, submit.sh, plan.json, logs/)")->required();
    cmd->add_option("--results", st->study.results, "Folder the jobs write their results to (default: <out>/results)");
    cmd->add_option("--models,--model", st->study.models, "Encoders (default: the study's)")->delimiter(',');
    cmd->add_option("--tasks,--task", st->study.tasks, "table1: GLUE tasks (default: the eight of Table 1)")->delimiter(',');
    cmd->add_option("--seeds", st->study.seeds, "table1 / table3: seeds (default 42 / 0,1,2)")->delimiter(',');
    cmd->add_option("--shards", st->study.shards, "table2 / table3: shards of the embedding / generation")
        ->capture_default_str();
    cmd->add_option("--train-processes", st->study.train_processes,
                    "table1 / table3: distributed processes per training run (srun; one GPU each with --gpus 1)")
        ->capture_default_str();
    cmd->add_option("--device", st->study.device, "--device of every job")->capture_default_str();
    cmd->add_option("--max-images", st->study.max_images, "table3: test faces to generate for (0 = all)")
        ->capture_default_str();
    cmd->add_option("--data-dir", st->study.data_dir, "Where `synesthesia fetch` put the data (default: $SYNESTHESIA_DATA)");
    cmd->add_option("--cxc", st->study.cxc, "table2: CxC sts_test.csv (default: under --data-dir)");
    cmd->add_option("--captions", st->study.captions, "table2: COCO captions_val2014.json (default: under --data-dir)");
    cmd->add_option("--glue-data", st->study.glue_data, "table1: GLUE folder (default: <data-dir>/glue)");
    cmd->add_option("--generator", st->study.generator, "table3: taming folder (default: under --data-dir)");
    cmd->add_option("--faces", st->study.faces, "table3: Multi-Modal CelebA-HQ folder (default: under --data-dir)");
    cmd->add_option("--inception-weights", st->study.inception_weights, "table3: InceptionV3 weights (default: under --data-dir)");
    cmd->add_option("--clip", st->study.clip, "table3: the CLIP-S scorer")->capture_default_str();
    cmd->add_flag("!--no-inception-score", st->study.inception_score,
                  "table3: no Inception Score column (without the InceptionV3 weights)");
    cmd->add_option("--exe", st->exe, "`synesthesia` as the nodes see it (default: this program)");
    cmd->add_option("--cache-dir", st->cache_dir,
                    "Embedding cache every job shares (default: $SYN_CACHE_DIR or ~/.cache/synesthesia); "
                    "must be on a file system all nodes see");
    cmd->add_option("--partition", st->slurm_options.partition, "#SBATCH --partition");
    cmd->add_option("--account", st->slurm_options.account, "#SBATCH --account");
    cmd->add_option("--qos", st->slurm_options.qos, "#SBATCH --qos");
    cmd->add_option("--time", st->slurm_options.time, "#SBATCH --time (e.g. 04:00:00)");
    cmd->add_option("--mem", st->slurm_options.mem, "#SBATCH --mem (e.g. 32G)");
    cmd->add_option("--cpus", st->slurm_options.cpus_per_task, "#SBATCH --cpus-per-task")
        ->check(CLI::Range(0, 1000000));
    cmd->add_option("--gpus", st->slurm_options.gpus_per_task, "#SBATCH --gpus-per-task (not for the merge steps)")
        ->check(CLI::Range(0, 1000000));
    cmd->add_option("--max-parallel", st->slurm_options.max_parallel, "At most K array tasks at once (--array=...%K)")
        ->check(CLI::Range(0, 1000000));
    cmd->add_option("--sbatch", st->slurm_options.sbatch_options, "Another #SBATCH option, as \"--constraint=a100\" (repeat)")
        ->allow_extra_args(false);
    cmd->add_option("--setup", st->slurm_options.setup, "A shell line each job runs first, as \"module load cuda\" (repeat)")
        ->allow_extra_args(false);
    cmd->add_option("--step-args", st->step_args,
                    "STEP=\"ARGS\": more arguments for every task of one step, split at spaces, as "
                    "generate=\"--batch 4 --top-k 100\" (repeat)")
        ->allow_extra_args(false);
    cmd->add_option("--env", st->env, "KEY=VALUE exported in every job (repeat)")->allow_extra_args(false);
    cmd->add_option("extra", st->study.extra,
                    "After --: more arguments of the study's main command (sts / glue / train-mapping)");
    cmd->callback([st] {
        StudyPlanOptions o = st->study;
        const std::string out = absolute(st->out);
        o.results = absolute(o.results.empty() ? out + "/results" : o.results);
        o.data_dir = absolute(o.data_dir.empty() ? datasets::default_data_dir() : o.data_dir);
        for (auto* p : {&o.cxc, &o.captions, &o.glue_data, &o.generator, &o.faces, &o.inception_weights}) *p = absolute(*p);
        for (const auto& sa : st->step_args) {
            const auto eq = sa.find('=');
            if (eq == std::string::npos || eq == 0)
                throw Error("plan: --step-args " + quote_excerpt(sa) + " is not STEP=ARGS");
            std::vector<std::string> args;
            std::istringstream words(sa.substr(eq + 1));
            for (std::string w; words >> w;) args.push_back(w);
            o.step_extra.emplace_back(sa.substr(0, eq), args);
        }
        const ClusterPlan plan = plan_study(o);

        SlurmOptions so = st->slurm_options;
        so.executable = absolute(st->exe.empty() ? own_executable() : st->exe);
        so.plan_dir = out;
        // Every job of a plan shares one embedding cache, whatever environment it is submitted from.
        so.environment.emplace_back("SYN_CACHE_DIR", absolute(st->cache_dir.empty() ? default_cache_root() : st->cache_dir));
        for (const auto& kv : st->env) {
            const auto eq = kv.find('=');
            if (eq == std::string::npos) throw Error("plan: --env " + quote_excerpt(kv) + " is not KEY=VALUE");
            so.environment.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
        }
        write_slurm_plan(plan, so, out);
        for (const auto& input : plan.inputs)
            if (!fs::exists(input))
                std::fprintf(stderr, "warning: %s does not exist here (the jobs read it; fine if the nodes see it)\n",
                             input.c_str());
        std::size_t tasks = 0;
        for (const auto& step : plan.steps) tasks += step.tasks.size();
        std::fprintf(stderr, "%s: %zu steps, %zu tasks -> %s (submit with %s/submit.sh)\n", plan.study.c_str(),
                     plan.steps.size(), tasks, out.c_str(), shell_word(out).c_str());
        if (::access(so.executable.c_str(), X_OK) != 0)
            std::fprintf(stderr, "warning: %s is not an executable here\n", so.executable.c_str());
    });
}

}  // namespace syn::run
