// `synesthesia plan --slurm` (core/run/cluster_plan.h): the study's steps, and scripts whose
// commands reach the program argument for argument. The scripts are run here with stand-ins for
// `synesthesia`, `sbatch` and `srun` that record what they were given; a real one-node Slurm runs
// them in tests/run/slurm_end_to_end.sh.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/errors.h"
#include "core/run/cluster_plan.h"

namespace fs = std::filesystem;
using syn::run::ClusterPlan;
using syn::run::plan_study;
using syn::run::PlanStep;
using syn::run::SlurmOptions;
using syn::run::StudyPlanOptions;

namespace {

struct TempDir {
    fs::path path;
    explicit TempDir(const std::string& name) {
        path = fs::temp_directory_path() / ("syn_cluster_plan_" + name + "_" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_executable(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
    fs::permissions(p, fs::perms::owner_all);
}

// Runs a shell command, returns its exit status.
int run(const std::string& command) {
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The lines of a file that a stand-in wrote with printf '%s\n' "$@" (arguments without line breaks).
std::vector<std::string> lines_of(const fs::path& p) {
    std::vector<std::string> lines;
    std::istringstream in(read_file(p));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

StudyPlanOptions options(const std::string& study) {
    StudyPlanOptions o;
    o.study = study;
    o.results = "/shared/results";
    o.data_dir = "/shared/data";
    return o;
}

const PlanStep& step(const ClusterPlan& plan, const std::string& name) {
    for (const auto& s : plan.steps)
        if (s.name == name) return s;
    throw std::runtime_error("no step " + name);
}

// The value after `flag` in a task's arguments ("" when absent).
std::string value_of(const std::vector<std::string>& args, const std::string& flag) {
    for (std::size_t i = 0; i + 1 < args.size(); ++i)
        if (args[i] == flag) return args[i + 1];
    return "";
}

}  // namespace

TEST(ClusterPlan, Table2EmbedsInShardsThenWritesTheTablesAfterAnyEnd) {
    auto o = options("table2");
    o.shards = 3;
    o.models = {"lexical/tfidf", "bert-base-cased"};
    o.extra = {"--pooling", "mean", "--dtype", "float32"};
    const ClusterPlan plan = plan_study(o);
    ASSERT_EQ(plan.steps.size(), 2u);
    const auto& embed = step(plan, "embed");
    ASSERT_EQ(embed.tasks.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        const auto& t = embed.tasks[i];
        EXPECT_EQ(t.front(), "sts");
        EXPECT_EQ(value_of(t, "--shard"), std::to_string(i) + "/3");
        EXPECT_EQ(value_of(t, "--cxc"), "/shared/data/cxc/sts_test.csv");
        EXPECT_EQ(value_of(t, "--pooling"), "mean");
        EXPECT_EQ(value_of(t, "--out"), "");
    }
    const auto& tables = step(plan, "tables");
    ASSERT_EQ(tables.tasks.size(), 1u);
    EXPECT_EQ(value_of(tables.tasks[0], "--out"), "/shared/results");
    EXPECT_EQ(value_of(tables.tasks[0], "--shard"), "");
    EXPECT_EQ(tables.after_any, std::vector<std::string>{"embed"});
    // The tables step runs the shards' very command (same models, data, extra arguments) without --shard.
    std::vector<std::string> shard0 = embed.tasks[0];
    shard0.resize(shard0.size() - 2);
    std::vector<std::string> final_args = tables.tasks[0];
    final_args.resize(final_args.size() - 2);
    EXPECT_EQ(shard0, final_args);
}

TEST(ClusterPlan, DefaultsAreTheStudys) {
    const ClusterPlan t2 = plan_study(options("table2"));
    const auto& args = step(t2, "tables").tasks[0];
    for (const char* m : {"lexical/jaccard", "lexical/tfidf", "bert-base-cased", "roberta-large",
                          "openai/clip-vit-large-patch14-336"})
        EXPECT_NE(std::find(args.begin(), args.end(), m), args.end()) << m;
    EXPECT_EQ(step(t2, "embed").tasks.size(), 4u);
    const ClusterPlan t1 = plan_study(options("table1"));
    EXPECT_EQ(step(t1, "train").tasks.size(), 8u * 8u * 1u);  // 8 encoders x 8 tasks x seed 42
    const ClusterPlan t3 = plan_study(options("table3"));
    EXPECT_EQ(step(t3, "train").tasks.size(), 9u * 3u);  // 8 encoders + random x seeds 0, 1, 2
    EXPECT_EQ(step(t3, "generate").tasks.size(), 9u * 3u * 4u);
    EXPECT_EQ(step(t3, "score").tasks.size(), 4u);
}

TEST(ClusterPlan, Table1IsOneArrayTaskPerRunAndATableStepOverAll) {
    auto o = options("table1");
    o.models = {"bert-base-cased", "openai/clip-vit-base-patch32"};
    o.tasks = {"rte", "mrpc"};
    o.seeds = {"42", "43"};
    o.train_processes = 2;
    const ClusterPlan plan = plan_study(o);
    const auto& train = step(plan, "train");
    EXPECT_EQ(train.ntasks, 2);
    ASSERT_EQ(train.tasks.size(), 8u);
    std::set<std::string> runs;
    for (const auto& t : train.tasks) {
        EXPECT_EQ(value_of(t, "--out"), "/shared/results");
        EXPECT_NE(std::find(t.begin(), t.end(), "--no-tables"), t.end());  // the table step alone writes tables
        runs.insert(value_of(t, "--model") + "|" + value_of(t, "--task") + "|" + value_of(t, "--seeds"));
    }
    EXPECT_EQ(runs.size(), 8u);
    const auto& table = step(plan, "table");
    EXPECT_EQ(table.after_ok, std::vector<std::string>{"train"});
    EXPECT_EQ(value_of(table.tasks[0], "--task"), "rte,mrpc");
    EXPECT_EQ(value_of(table.tasks[0], "--seeds"), "42,43");
    EXPECT_EQ(table.ntasks, 1);
}

TEST(ClusterPlan, Table3MergesExactlyTheShardsItGenerated) {
    auto o = options("table3");
    o.models = {"bert-base-cased", "random"};
    o.seeds = {"0", "1"};
    o.shards = 3;
    o.max_images = 50;
    const ClusterPlan plan = plan_study(o);
    const auto& generate = step(plan, "generate");
    const auto& merge = step(plan, "merge");
    const auto& score = step(plan, "score");
    const auto& table = step(plan, "table");
    ASSERT_EQ(generate.tasks.size(), 2u * 2u * 3u);
    ASSERT_EQ(merge.tasks.size(), 4u);
    EXPECT_FALSE(merge.needs_accelerator);
    std::set<std::string> generated, merged_inputs, merged_outputs;
    for (const auto& t : generate.tasks) {
        generated.insert(value_of(t, "--out"));
        EXPECT_EQ(value_of(t, "--max-images"), "50");
        // each generation reads the mapping its run's train task writes
        const std::string run = fs::path(value_of(t, "--out")).parent_path().parent_path().string();
        EXPECT_EQ(value_of(t, "--mapping"), run + "/mapping/mapping.safetensors");
    }
    for (const auto& t : merge.tasks) {
        ASSERT_EQ(t.size(), 1u + 3u + 2u);
        merged_inputs.insert(t.begin() + 1, t.begin() + 4);
        merged_outputs.insert(value_of(t, "--out"));
    }
    EXPECT_EQ(generated, merged_inputs);
    // Every score shard scores all merged folders; the table step merges exactly the score shards.
    ASSERT_EQ(score.tasks.size(), 3u);
    std::set<std::string> score_outputs;
    for (std::size_t k = 0; k < score.tasks.size(); ++k) {
        std::set<std::string> scored;
        for (const auto& a : score.tasks[k])
            if (a.rfind("/shared/results/runs/", 0) == 0) scored.insert(a);
        EXPECT_EQ(scored, merged_outputs);
        EXPECT_EQ(value_of(score.tasks[k], "--shard"), std::to_string(k) + "/3");
        EXPECT_EQ(value_of(score.tasks[k], "--inception-weights"),
                  "/shared/data/inception/weights-inception-2015-12-05-6726825d.pth");
        score_outputs.insert(value_of(score.tasks[k], "--out"));
    }
    ASSERT_EQ(table.tasks.size(), 1u);
    EXPECT_EQ(table.tasks[0].front(), "merge");
    EXPECT_EQ(std::set<std::string>(table.tasks[0].begin() + 1, table.tasks[0].end() - 2), score_outputs);
    EXPECT_EQ(value_of(table.tasks[0], "--out"), "/shared/results/table3");
    EXPECT_EQ(table.after_ok, std::vector<std::string>{"score"});
    EXPECT_EQ(generate.groups, 4u);  // one chain per encoder x seed
    EXPECT_EQ(merge.groups, 4u);
    EXPECT_EQ(score.groups, 0u);
    // Without the InceptionV3 weights: no IS, and the plan does not name the weights.
    o.inception_score = false;
    const ClusterPlan without = plan_study(o);
    EXPECT_EQ(value_of(step(without, "score").tasks[0], "--inception-weights"), "");
}

TEST(ClusterPlan, RefusesWhatThePlanSetsItselfAndBadCounts) {
    auto o = options("table2");
    o.extra = {"--out", "x"};
    EXPECT_THROW(plan_study(o), syn::Error);
    o.extra = {"--shard=1/2"};
    EXPECT_THROW(plan_study(o), syn::Error);
    o.extra = {};
    o.shards = 0;
    EXPECT_THROW(plan_study(o), syn::Error);
    o.shards = 2;
    o.study = "table4";
    try {
        plan_study(o);
        FAIL();
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("table4"), std::string::npos) << e.what();
    }
    o.study = "table2";
    o.results = "relative/results";
    EXPECT_THROW(plan_study(o), syn::Error);
}

TEST(ClusterPlan, StepArgumentsReachOnlyTheirStep) {
    auto o = options("table3");
    o.models = {"random"};
    o.seeds = {"0"};
    o.shards = 2;
    o.step_extra = {{"generate", {"--batch", "4", "--top-k", "100"}}, {"score", {"--batch", "8"}}};
    const ClusterPlan plan = plan_study(o);
    for (const auto& t : step(plan, "generate").tasks) {
        EXPECT_EQ(value_of(t, "--batch"), "4");
        EXPECT_EQ(value_of(t, "--top-k"), "100");
    }
    for (const auto& t : step(plan, "score").tasks) EXPECT_EQ(value_of(t, "--batch"), "8");
    for (const auto& t : step(plan, "train").tasks) EXPECT_EQ(value_of(t, "--batch"), "");
    o.step_extra = {{"generate", {"--shard", "0/2"}}};  // the plan sets it
    EXPECT_THROW(plan_study(o), syn::Error);
    o.step_extra = {{"sample", {"--batch", "4"}}};
    try {
        plan_study(o);
        FAIL();
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("train, generate, merge, score, table"), std::string::npos) << e.what();
    }
}

// The scripts run the planned argv exactly (spaces, quotes, $ and backslashes in paths), task by task.
TEST(ClusterPlan, ScriptsRunEachTasksArgumentsExactly) {
    TempDir dir("args");
    const fs::path fake = dir.path / "fake synesthesia";
    write_executable(fake, "#!/bin/bash\nprintf '%s\\n' \"$@\" > \"$OUT_FILE\"\n");
    ClusterPlan plan;
    plan.study = "table2";
    PlanStep s{"embed", "test"};
    const std::string hostile = "/data/it's a \"test\" $HOME `x` \\ file.csv";
    s.tasks = {{"sts", "--cxc", hostile, "--shard", "0/2"}, {"sts", "--cxc", hostile, "--shard", "1/2", "--empty", ""}};
    plan.steps = {s};
    SlurmOptions so;
    so.executable = fake.string();
    so.plan_dir = (dir.path / "plan").string();
    so.environment = {{"SYN_CACHE_DIR", "/cache dir/it's"}};
    so.setup = {"export SETUP_RAN=yes"};
    syn::run::write_slurm_plan(plan, so, so.plan_dir);
    EXPECT_TRUE(fs::is_directory(dir.path / "plan" / "logs"));
    const fs::path script = dir.path / "plan" / "01-embed.sbatch";
    const std::string text = read_file(script);
    EXPECT_NE(text.find("#SBATCH --array=0-1\n"), std::string::npos) << text;
    for (int task = 0; task < 2; ++task) {
        const fs::path out = dir.path / ("out" + std::to_string(task));
        ASSERT_EQ(run("OUT_FILE='" + out.string() + "' SLURM_ARRAY_TASK_ID=" + std::to_string(task) + " bash '" +
                      script.string() + "'"),
                  0);
        EXPECT_EQ(lines_of(out), s.tasks[task]);
    }
    // A task the plan does not have is an error naming the script, not a silent success.
    EXPECT_EQ(run("OUT_FILE=/dev/null SLURM_ARRAY_TASK_ID=7 bash '" + script.string() + "' 2>/dev/null"), 2);
    // The environment and setup lines reach the command.
    write_executable(fake, "#!/bin/bash\necho \"$SYN_CACHE_DIR|$SETUP_RAN\" > \"$OUT_FILE\"\n");
    const fs::path env_out = dir.path / "env";
    ASSERT_EQ(run("OUT_FILE='" + env_out.string() + "' SLURM_ARRAY_TASK_ID=0 bash '" + script.string() + "'"), 0);
    EXPECT_EQ(read_file(env_out), "/cache dir/it's|yes\n");
}

// Distributed training steps run under srun with torch.distributed's rendezvous set.
TEST(ClusterPlan, DistributedStepsRunUnderSrunWithARendezvous) {
    TempDir dir("srun");
    write_executable(dir.path / "srun", "#!/bin/bash\nwhile [[ $1 == --* ]]; do shift; done\n"
                                        "echo \"srun $MASTER_ADDR:$MASTER_PORT\" > \"$OUT_FILE\"\nexec \"$@\"\n");
    write_executable(dir.path / "scontrol", "#!/bin/bash\necho node-a; echo node-b\n");
    write_executable(dir.path / "syn", "#!/bin/bash\nprintf '%s\\n' \"$@\" >> \"$OUT_FILE\"\n");
    auto o = options("table1");
    o.models = {"bert-base-cased"};
    o.tasks = {"rte"};
    o.train_processes = 2;
    const ClusterPlan plan = plan_study(o);
    SlurmOptions so;
    so.executable = (dir.path / "syn").string();
    so.plan_dir = (dir.path / "plan").string();
    so.gpus_per_task = 1;
    syn::run::write_slurm_plan(plan, so, so.plan_dir);
    const std::string train = read_file(dir.path / "plan" / "01-train.sbatch");
    EXPECT_NE(train.find("#SBATCH --ntasks=2\n"), std::string::npos);
    EXPECT_NE(train.find("#SBATCH --gpus-per-task=1\n"), std::string::npos);
    EXPECT_EQ(train.find("#SBATCH --array"), std::string::npos);  // one run: no array
    const fs::path out = dir.path / "out";
    ASSERT_EQ(run("PATH='" + dir.path.string() + "':$PATH OUT_FILE='" + out.string() +
                  "' SLURM_JOB_ID=123 SLURM_JOB_NODELIST=node-[a-b] bash '" + (dir.path / "plan" / "01-train.sbatch").string() +
                  "'"),
              0);
    const auto lines = lines_of(out);
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0], "srun node-a:20123");
    EXPECT_EQ(std::vector<std::string>(lines.begin() + 1, lines.end()), step(plan, "train").tasks[0]);
}

// submit.sh submits each step after the ones it depends on, with the ids sbatch gave.
TEST(ClusterPlan, SubmitChainsTheStepsByTheirJobIds) {
    TempDir dir("submit");
    write_executable(dir.path / "sbatch", "#!/bin/bash\nn=$(( $(wc -l < \"$LOG\") + 100 ))\n"
                                          "echo \"$n $*\" >> \"$LOG\"\necho \"$n;cluster\"\n");
    auto o = options("table3");
    o.models = {"random", "bert-base-cased"};
    o.seeds = {"0"};
    o.shards = 2;
    const ClusterPlan plan = plan_study(o);
    SlurmOptions so;
    so.executable = "/opt/syn/bin/synesthesia";
    so.plan_dir = (dir.path / "plan").string();
    syn::run::write_slurm_plan(plan, so, so.plan_dir);
    const fs::path log = dir.path / "sbatch.log";
    std::ofstream(log).close();
    ASSERT_EQ(run("PATH='" + dir.path.string() + "':$PATH LOG='" + log.string() + "' '" +
                  (dir.path / "plan" / "submit.sh").string() + "' > /dev/null"),
              0);
    const auto calls = lines_of(log);
    // One chain per encoder x seed: each run's generation waits for its own training task only, its
    // merge for its own generation; scoring waits for every merge.
    ASSERT_EQ(calls.size(), 7u);
    const std::string s = "--parsable --kill-on-invalid-dep=yes ";
    EXPECT_EQ(calls[0], "100 " + s + "01-train.sbatch");
    EXPECT_EQ(calls[1], "101 " + s + "--export=ALL,SYN_PLAN_GROUP=0 --dependency=afterok:100_0 02-generate.sbatch");
    EXPECT_EQ(calls[2], "102 " + s + "--export=ALL,SYN_PLAN_GROUP=1 --dependency=afterok:100_1 02-generate.sbatch");
    EXPECT_EQ(calls[3], "103 " + s + "--export=ALL,SYN_PLAN_GROUP=0 --dependency=afterok:101 03-merge.sbatch");
    EXPECT_EQ(calls[4], "104 " + s + "--export=ALL,SYN_PLAN_GROUP=1 --dependency=afterok:102 03-merge.sbatch");
    EXPECT_EQ(calls[5], "105 " + s + "--dependency=afterok:103:104 04-score.sbatch");
    EXPECT_EQ(calls[6], "106 " + s + "--dependency=afterok:105 05-table.sbatch");
    EXPECT_EQ(read_file(dir.path / "plan" / "jobs.txt"),
              "train 100\ngenerate 101\ngenerate 102\nmerge 103\nmerge 104\nscore 105\ntable 106\n");
    // A group's job runs its own tasks: generation group 1, array task 1 = the second run's shard 1.
    const std::string generate_script = read_file(dir.path / "plan" / "02-generate.sbatch");
    EXPECT_NE(generate_script.find("#SBATCH --array=0-1\n"), std::string::npos) << generate_script;
    write_executable(dir.path / "syn", "#!/bin/bash\nprintf '%s\\n' \"$@\" > \"$OUT_FILE\"\n");
    so.executable = (dir.path / "syn").string();
    syn::run::write_slurm_plan(plan, so, so.plan_dir);
    const fs::path out = dir.path / "task";
    ASSERT_EQ(run("OUT_FILE='" + out.string() + "' SYN_PLAN_GROUP=1 SLURM_ARRAY_TASK_ID=1 bash '" +
                  (dir.path / "plan" / "02-generate.sbatch").string() + "'"),
              0);
    EXPECT_EQ(lines_of(out), step(plan, "generate").tasks[3]);
    EXPECT_EQ(value_of(lines_of(out), "--shard"), "1/2");
    EXPECT_NE(value_of(lines_of(out), "--out").find("bert-base-cased-seed0"), std::string::npos);
    const auto j = nlohmann::json::parse(read_file(dir.path / "plan" / "plan.json"));
    EXPECT_EQ(j["steps"].size(), 5u);
    EXPECT_EQ(j["steps"][1]["tasks"].size(), 4u);
    EXPECT_EQ(j["steps"][1]["groups"], 2);
}

TEST(ClusterPlan, HostileSlurmOptionsAreRefusedByName) {
    TempDir dir("hostile");
    const ClusterPlan plan = plan_study(options("table2"));
    SlurmOptions so;
    so.executable = "/opt/synesthesia";
    so.plan_dir = (dir.path / "plan").string();
    auto refused = [&](SlurmOptions bad, const std::string& needle) {
        try {
            syn::run::render_slurm_plan(plan, bad);
            ADD_FAILURE() << "accepted, expected an error with " << needle;
        } catch (const syn::Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    auto bad = so;
    bad.partition = "gpu\n#SBATCH --account=other";
    refused(bad, "line break");
    bad = so;
    bad.time = "1:00:00; rm -rf ~";
    refused(bad, "shell character");
    bad = so;
    bad.sbatch_options = {"constraint=a100"};
    refused(bad, "not an sbatch option");
    bad = so;
    bad.environment = {{"1BAD", "x"}};
    refused(bad, "environment variable name");
    bad = so;
    bad.executable = "synesthesia";
    refused(bad, "absolute");
    bad = so;
    bad.plan_dir = "/home/me/my plans";  // an #SBATCH --output line cannot quote it
    refused(bad, "#SBATCH --output");
    // A folder of the user's is never replaced by a plan.
    fs::create_directories(dir.path / "mine");
    std::ofstream(dir.path / "mine" / "notes.txt") << "keep";
    EXPECT_THROW(syn::run::write_slurm_plan(plan, so, (dir.path / "mine").string()), syn::Error);
    EXPECT_EQ(read_file(dir.path / "mine" / "notes.txt"), "keep");
}
