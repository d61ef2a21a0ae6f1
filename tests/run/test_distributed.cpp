// Data-parallel training over c10d (core/run/distributed.h): the environment is read with named
// errors; a peer that never comes is a timeout error, not a hang; 2 (and 3) processes on this
// machine give the same per-step losses as one process with the same global batch, for the GLUE
// fine-tuner and the prefix-mapping trainer, and clearly different ones without the gradient
// all-reduce (so the equality can fail); `synesthesia launch --nproc 2 -- glue ...` matches a
// single-process `synesthesia glue`, and a failing rank fails the launcher, named.
// The ranks are dist_train_helper processes (or the CLI), spawned with posix_spawn on free ports.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/io/errors.h"
#include "core/run/commands/launch_command.h"
#include "core/run/distributed.h"
#include "tests/data/temp_dir.h"
#include "tests/support/shared_paths.h"
#include "tests/support/synthetic_sst2.h"

extern char** environ;

using namespace syn::run;
namespace fs = std::filesystem;

namespace {

std::function<const char*(const char*)> env_of(std::map<std::string, std::string> vars) {
    auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
    return [shared](const char* name) -> const char* {
        auto it = shared->find(name);
        return it == shared->end() ? nullptr : it->second.c_str();
    };
}

std::string error_of(const std::map<std::string, std::string>& vars) {
    try {
        read_dist_env(env_of(vars));
    } catch (const syn::Error& e) {
        return e.what();
    }
    return "(no error)";
}

// Starts `argv` with the current environment plus `extra` (NAME=value), stderr to `err_file`.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra, const std::string& err_file) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        const std::string kv = *e;
        bool overridden = false;
        for (const auto& x : extra) overridden = overridden || kv.substr(0, kv.find('=') + 1) == x.substr(0, x.find('=') + 1);
        if (!overridden) env.push_back(kv);
    }
    env.insert(env.end(), extra.begin(), extra.end());
    std::vector<char*> a, e;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    for (const auto& s : env) e.push_back(const_cast<char*>(s.c_str()));
    e.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 1, (err_file + ".stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, a[0], &fa, nullptr, a.data(), e.data());
    posix_spawn_file_actions_destroy(&fa);
    EXPECT_EQ(rc, 0) << "cannot start " << argv[0];
    return rc == 0 ? pid : -1;
}

int wait_exit(pid_t pid) {
    int status = 0;
    if (pid <= 0 || waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct RankOutput {
    std::vector<double> losses, metrics;
};

RankOutput read_result(const std::string& path) {
    RankOutput out;
    std::ifstream in(path);
    std::string kind;
    double v;
    while (in >> kind >> v) (kind == "loss" ? out.losses : out.metrics).push_back(v);
    return out;
}

// Runs the helper as `world` ranks (world 1: no distributed environment at all) and returns each
// rank's output; expects every rank to exit 0.
std::vector<RankOutput> run_ranks(int world, std::vector<std::string> args, const std::string& result,
                                  const std::string& tag) {
    const int port = free_local_port();
    std::vector<pid_t> pids;
    for (int r = 0; r < world; ++r) {
        std::vector<std::string> env = {"SYN_DIST_TIMEOUT=60", "OMP_NUM_THREADS=1"};
        if (world > 1) {
            env.push_back("WORLD_SIZE=" + std::to_string(world));
            env.push_back("RANK=" + std::to_string(r));
            env.push_back("LOCAL_RANK=" + std::to_string(r));
            env.push_back("MASTER_ADDR=127.0.0.1");
            env.push_back("MASTER_PORT=" + std::to_string(port));
        }
        std::vector<std::string> argv = {SYN_DIST_HELPER};
        argv.insert(argv.end(), args.begin(), args.end());
        pids.push_back(spawn(argv, env, result + "." + tag + ".err" + std::to_string(r)));
    }
    std::vector<RankOutput> out;
    for (int r = 0; r < world; ++r) {
        const int code = wait_exit(pids[r]);
        EXPECT_EQ(code, 0) << tag << " rank " << r << ": " << slurp(result + "." + tag + ".err" + std::to_string(r));
        out.push_back(read_result(result + ".rank" + std::to_string(r)));
        fs::remove(result + ".rank" + std::to_string(r));
    }
    return out;
}

double max_relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
    EXPECT_EQ(a.size(), b.size());
    double worst = 0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        worst = std::max(worst, std::abs(a[i] - b[i]) / std::max(1e-12, std::abs(b[i])));
    return worst;
}

using syn::test::synthetic_sst2;

// GLUE data and a copy of the tiny fixture BERT with every dropout 0 (so that the ranks' different
// dropout masks do not enter the comparison), in a scratch folder.
struct GlueSetup {
    syn::test::TempDir dir;
    std::string root, glue, model;
    GlueSetup() {
        root = dir.path().string();
        glue = root + "/glue";
        fs::create_directories(glue + "/SST-2");
        dir.write("glue/SST-2/train.tsv", synthetic_sst2(96, 1));
        dir.write("glue/SST-2/dev.tsv", synthetic_sst2(48, 2));
        dir.write("glue/SST-2/test.tsv", "index\tsentence\n0\tthe movie was good\n");
        model = root + "/tiny-bert-no-dropout";
        fs::create_directories(model);
        const std::string src = syn::test::fixtures_dir() + "/models/tiny-bert";
        for (const char* f : {"model.safetensors", "tokenizer.json", "tokenizer_config.json"})
            fs::copy_file(src + "/" + f, model + "/" + f);
        auto config = nlohmann::json::parse(slurp(src + "/config.json"));
        config["hidden_dropout_prob"] = 0.0;
        config["attention_probs_dropout_prob"] = 0.0;
        std::ofstream(model + "/config.json") << config.dump(2);
    }
};

}  // namespace

TEST(DistEnv, ReadsTorchrunAndSlurmVariables) {
    const DistEnv one = read_dist_env(env_of({}));
    EXPECT_FALSE(one.distributed());
    EXPECT_EQ(one.world_size, 1);
    const DistEnv t = read_dist_env(env_of(
        {{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29511"}}));
    EXPECT_TRUE(t.distributed());
    EXPECT_EQ(t.world_size, 4);
    EXPECT_EQ(t.rank, 3);
    EXPECT_EQ(t.local_rank, 1);
    EXPECT_EQ(t.master_addr, "node7");
    EXPECT_EQ(t.master_port, 29511);
    EXPECT_EQ(t.source, "torchrun");
    const DistEnv s = read_dist_env(
        env_of({{"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_PROCID", "1"}, {"SLURM_LOCALID", "0"}, {"MASTER_ADDR", "10.0.0.1"}}));
    EXPECT_EQ(s.source, "slurm");
    EXPECT_EQ(s.world_size, 2);
    EXPECT_EQ(s.rank, 1);
    EXPECT_EQ(s.master_port, 29500);
    // One Slurm task is a single process and needs no MASTER_ADDR; so is the batch script of a
    // --ntasks=2 job (SLURM_NTASKS=2, SLURM_PROCID=0, no step of srun's): it is not a rank.
    EXPECT_FALSE(read_dist_env(env_of({{"SLURM_STEP_NUM_TASKS", "1"}, {"SLURM_PROCID", "0"}})).distributed());
    EXPECT_FALSE(read_dist_env(env_of({{"SLURM_NTASKS", "2"}, {"SLURM_PROCID", "0"}})).distributed());
}

TEST(DistEnv, BadValuesAreErrorsNamingTheVariable) {
    const std::map<std::string, std::string> ok = {
        {"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
    auto with = [&](const std::string& k, const std::string& v) {
        auto m = ok;
        if (v.empty()) m.erase(k);
        else m[k] = v;
        return error_of(m);
    };
    EXPECT_EQ(error_of(ok), "(no error)");
    EXPECT_NE(with("RANK", "2").find("RANK=2 is not below WORLD_SIZE=2"), std::string::npos) << with("RANK", "2");
    EXPECT_NE(with("RANK", "one").find("RANK='one' is not a whole number"), std::string::npos);
    EXPECT_NE(with("RANK", "1\n2").find("RANK='1\\x0a2' is not a whole number"), std::string::npos) << with("RANK", "1\n2");
    EXPECT_NE(with("RANK", "-1").find("RANK=-1 is outside"), std::string::npos);
    EXPECT_NE(with("WORLD_SIZE", "2x").find("WORLD_SIZE='2x'"), std::string::npos);
    EXPECT_NE(with("WORLD_SIZE", "0").find("WORLD_SIZE=0 is outside"), std::string::npos);
    EXPECT_NE(with("MASTER_ADDR", "").find("MASTER_ADDR is not set"), std::string::npos);
    EXPECT_NE(with("MASTER_PORT", "70000").find("MASTER_PORT=70000 is outside 1..65535"), std::string::npos);
    EXPECT_NE(with("RANK", "").find("RANK is not set"), std::string::npos);
    EXPECT_NE(error_of({{"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_PROCID", "2"}, {"MASTER_ADDR", "a"}})
                  .find("SLURM_PROCID=2 is not below SLURM_STEP_NUM_TASKS=2"),
              std::string::npos);
    EXPECT_NE(error_of({{"SLURM_STEP_NUM_TASKS", "2"}, {"SLURM_PROCID", "0"}}).find("MASTER_ADDR is not set"),
              std::string::npos);
    try {
        dist_timeout_from_env(env_of({{"SYN_DIST_TIMEOUT", "soon"}}));
        ADD_FAILURE() << "no error";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("SYN_DIST_TIMEOUT"), std::string::npos);
    }
    EXPECT_EQ(dist_timeout_from_env(env_of({{"SYN_DIST_TIMEOUT", "3"}})).count(), 3000);
}

TEST(DistEnv, RankSlicesCoverTheBatchContiguously) {
    for (int world : {1, 2, 3, 4})
        for (int64_t n : {0, 1, 2, 5, 8, 13}) {
            int64_t next = 0;
            for (int r = 0; r < world; ++r) {
                const auto [lo, hi] = rank_slice(n, r, world);
                EXPECT_EQ(lo, next);
                EXPECT_LE(hi - lo, n / world + 1);
                EXPECT_GE(hi - lo, n / world);
                next = hi;
            }
            EXPECT_EQ(next, n);
        }
}

TEST(Distributed, ThisBuildHasABackendOrRefusesClearly) {
    const auto backends = dist_backends();
    DistEnv env;
    env.world_size = 2;
    env.rank = 1;
    env.master_addr = "127.0.0.1";
    env.master_port = free_local_port();
    if (backends.empty()) {
        try {
            DataParallel::connect(env, c10::Device(c10::kCPU), std::chrono::milliseconds(1000));
            ADD_FAILURE() << "no error";
        } catch (const syn::Error& e) {
            EXPECT_NE(std::string(e.what()).find("no c10d backend"), std::string::npos) << e.what();
        }
        GTEST_SKIP() << "this build has no c10d backend (Gloo / NCCL)";
    }
    std::printf("c10d backends: %s%s\n", backends[0].c_str(), backends.size() > 1 ? " nccl" : "");
}

// A peer that never comes: both the serving rank 0 and a connecting rank 1 give up after the timeout
// with a message naming MASTER_ADDR:MASTER_PORT, instead of waiting forever.
TEST(Distributed, MissingPeerIsATimeoutErrorNotAHang) {
    if (dist_backends().empty()) GTEST_SKIP() << "no c10d backend in this build";
    for (int rank : {0, 1}) {
        DistEnv env;
        env.world_size = 2;
        env.rank = rank;
        env.master_addr = "127.0.0.1";
        env.master_port = free_local_port();
        const auto start = std::chrono::steady_clock::now();
        std::string message;
        try {
            DataParallel::connect(env, c10::Device(c10::kCPU), std::chrono::milliseconds(2000));
        } catch (const syn::Error& e) {
            message = e.what();
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const std::string where = "127.0.0.1:" + std::to_string(env.master_port);
        EXPECT_NE(message.find(where), std::string::npos) << "rank " << rank << ": " << message;
        EXPECT_NE(message.find("rank " + std::to_string(rank) + " of 2"), std::string::npos) << message;
        EXPECT_NE(message.find("SYN_DIST_TIMEOUT"), std::string::npos) << message;
        EXPECT_LT(seconds, 30.0) << "rank " << rank;
        std::printf("rank %d alone: gave up after %.1f s: %s\n", rank, seconds, message.c_str());
    }
}

TEST(Distributed, GlueTwoProcessesGiveTheSingleProcessLosses) {
    SYN_REQUIRE_SHARED();
    if (dist_backends().empty()) GTEST_SKIP() << "no c10d backend in this build";
    GlueSetup s;
    const std::string result = s.root + "/losses";
    auto t0 = std::chrono::steady_clock::now();
    const auto one = run_ranks(1, {"glue", s.glue, s.model, s.root + "/out-one", result}, result, "one");
    auto t1 = std::chrono::steady_clock::now();
    const auto two = run_ranks(2, {"glue", s.glue, s.model, s.root + "/out", result}, result, "two");
    auto t2 = std::chrono::steady_clock::now();
    ASSERT_EQ(one[0].losses.size(), 16u);  // 60 examples, batch 8: 8 steps x 2 epochs
    for (int r = 0; r < 2; ++r) {
        const double d = max_relative_difference(two[r].losses, one[0].losses);
        EXPECT_LT(d, 1e-5) << "rank " << r;
        EXPECT_EQ(two[r].metrics, one[0].metrics) << "rank " << r << ": dev accuracy per epoch";
        std::printf("GLUE rank %d of 2 vs 1 process: max relative loss difference %.3g over %zu steps\n", r, d,
                    one[0].losses.size());
    }
    std::printf("GLUE wall time: 1 process %.2f s, 2 processes %.2f s\n",
                std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count());
    // Only rank 0 wrote: its checkpoints and state are there, rank 1 made no folder at all.
    EXPECT_TRUE(fs::exists(s.root + "/out/rank0/sst2/seed42/state.json"));
    EXPECT_TRUE(fs::exists(s.root + "/out/rank0/sst2/seed42/best.safetensors"));
    EXPECT_FALSE(fs::exists(s.root + "/out/rank1"));
    const auto state = nlohmann::json::parse(slurp(s.root + "/out/rank0/sst2/seed42/state.json"));
    EXPECT_LT(max_relative_difference(state["step_losses"].get<std::vector<double>>(), one[0].losses), 1e-5);

    // Without the gradient all-reduce each rank trains on its half alone: the losses part ways.
    const auto apart = run_ranks(2, {"glue", s.glue, s.model, s.root + "/out-apart", result, "noallreduce"}, result, "apart");
    const double d = max_relative_difference(apart[0].losses, one[0].losses);
    EXPECT_GT(d, 1e-3) << "the equality above would hold without the all-reduce too";
    std::printf("GLUE without the gradient all-reduce: max relative loss difference %.3g\n", d);
}

TEST(Distributed, GlueBatchSmallerThanTheWorldIsAnError) {
    SYN_REQUIRE_SHARED();
    if (dist_backends().empty()) GTEST_SKIP() << "no c10d backend in this build";
    GlueSetup s;
    const std::string result = s.root + "/losses";
    const int port = free_local_port();
    std::vector<pid_t> pids;
    for (int r = 0; r < 2; ++r)
        pids.push_back(spawn({SYN_DIST_HELPER, "glue", s.glue, s.model, s.root + "/out", result, "batch=1"},
                             {"WORLD_SIZE=2", "RANK=" + std::to_string(r), "MASTER_ADDR=127.0.0.1",
                              "MASTER_PORT=" + std::to_string(port), "SYN_DIST_TIMEOUT=30"},
                             result + ".err" + std::to_string(r)));
    for (int r = 0; r < 2; ++r) {
        EXPECT_EQ(wait_exit(pids[r]), 1);
        EXPECT_NE(slurp(result + ".err" + std::to_string(r)).find("batch size 1 is smaller than the world size 2"),
                  std::string::npos)
            << slurp(result + ".err" + std::to_string(r));
    }
}

TEST(Distributed, MappingTrainerTwoAndThreeProcessesGiveTheSingleProcessLosses) {
    if (dist_backends().empty()) GTEST_SKIP() << "no c10d backend in this build";
    syn::test::TempDir dir;
    const std::string result = (dir.path() / "losses").string();
    // captions: one caption drawn per image per epoch; random: the baseline's N(0, 1) vectors drawn for
    // the whole global batch. Batches of 5, 5, 2: with 3 ranks one rank has no rows in the last batch.
    for (const std::string mode : {"captions", "random"}) {
        const auto one = run_ranks(1, {"mapping", mode, result}, result, mode + "1");
        ASSERT_EQ(one[0].losses.size(), 9u);
        for (int world : {2, 3}) {
            const auto many = run_ranks(world, {"mapping", mode, result}, result, mode + std::to_string(world));
            for (int r = 0; r < world; ++r) {
                const double d = max_relative_difference(many[r].losses, one[0].losses);
                EXPECT_LT(d, 1e-5) << mode << " rank " << r << " of " << world;
                std::printf("mapping (%s) rank %d of %d vs 1 process: max relative loss difference %.3g\n", mode.c_str(),
                            r, world, d);
            }
        }
        const auto apart = run_ranks(2, {"mapping", mode, result, "noallreduce"}, result, mode + "apart");
        const double d = max_relative_difference(apart[0].losses, one[0].losses);
        EXPECT_GT(d, 1e-3) << mode << ": the equality would hold without the all-reduce too";
        std::printf("mapping (%s) without the gradient all-reduce: max relative loss difference %.3g\n", mode.c_str(), d);
    }
}

// The CLI: `synesthesia launch --nproc 2 -- glue ...` (WORLD_SIZE etc. set by the launcher) logs the
// single-process run's losses into the one state.json rank 0 writes; the tables appear once.
TEST(Launch, GlueCliTwoProcessesMatchOne) {
    SYN_REQUIRE_SHARED();
    if (dist_backends().empty()) GTEST_SKIP() << "no c10d backend in this build";
    GlueSetup s;
    auto glue_args = [&](const std::string& out) {
        return std::vector<std::string>{"glue", "--task", "sst2", "--data", s.glue, "--model", s.model, "--out", out,
                                        "--device", "cpu", "--epochs", "2", "--batch-size", "8", "--lr", "1e-2",
                                        "--max-length", "32", "--seeds", "42", "--max-train", "60"};
    };
    std::vector<std::string> single = {SYN_CLI};
    for (auto& a : glue_args(s.root + "/one")) single.push_back(a);
    ASSERT_EQ(wait_exit(spawn(single, {"OMP_NUM_THREADS=1"}, s.root + "/one.err")), 0) << slurp(s.root + "/one.err");
    std::vector<std::string> launched = {SYN_CLI, "launch", "--nproc", "2", "--"};
    for (auto& a : glue_args(s.root + "/two")) launched.push_back(a);
    ASSERT_EQ(wait_exit(spawn(launched, {"SYN_DIST_TIMEOUT=60"}, s.root + "/two.err")), 0) << slurp(s.root + "/two.err");
    auto find_state = [&](const std::string& out) {
        for (const auto& e : fs::recursive_directory_iterator(out))
            if (e.path().filename() == "state.json") return e.path().string();
        return std::string();
    };
    const std::string a = find_state(s.root + "/one"), b = find_state(s.root + "/two");
    ASSERT_FALSE(a.empty());
    ASSERT_FALSE(b.empty());
    const auto la = nlohmann::json::parse(slurp(a))["step_losses"].get<std::vector<double>>();
    const auto lb = nlohmann::json::parse(slurp(b))["step_losses"].get<std::vector<double>>();
    EXPECT_EQ(la.size(), 16u);
    const double d = max_relative_difference(lb, la);
    EXPECT_LT(d, 1e-5);
    std::printf("CLI glue, launch --nproc 2 vs one process: max relative loss difference %.3g\n", d);
    for (const char* f : {"glue_table.md", "glue_table.tex", "glue_manifest.json"})
        EXPECT_TRUE(fs::exists(s.root + "/two/" + f)) << f;
    // The table is printed once (by rank 0).
    const std::string out = slurp(s.root + "/two.err.stdout");
    EXPECT_EQ(out.find("| Model |"), out.rfind("| Model |")) << out;
    EXPECT_NE(out.find("| Model |"), std::string::npos) << out;

    // The srun form: two plain `synesthesia glue` processes with Slurm's variables and MASTER_ADDR.
    const int port = free_local_port();
    std::vector<pid_t> pids;
    for (int r = 0; r < 2; ++r) {
        std::vector<std::string> argv = {SYN_CLI};
        for (auto& a : glue_args(s.root + "/slurm")) argv.push_back(a);
        pids.push_back(spawn(argv,
                             {"SLURM_STEP_NUM_TASKS=2", "SLURM_PROCID=" + std::to_string(r), "SLURM_LOCALID=" + std::to_string(r),
                              "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port), "SYN_DIST_TIMEOUT=60",
                              "OMP_NUM_THREADS=1"},
                             s.root + "/slurm.err" + std::to_string(r)));
    }
    for (int r = 0; r < 2; ++r)
        EXPECT_EQ(wait_exit(pids[r]), 0) << "rank " << r << ": " << slurp(s.root + "/slurm.err" + std::to_string(r));
    const std::string c = find_state(s.root + "/slurm");
    ASSERT_FALSE(c.empty());
    const auto lc = nlohmann::json::parse(slurp(c))["step_losses"].get<std::vector<double>>();
    EXPECT_LT(max_relative_difference(lc, la), 1e-5);
    EXPECT_TRUE(slurp(s.root + "/slurm.err1.stdout").empty()) << "rank 1 printed: " << slurp(s.root + "/slurm.err1.stdout");
}

// Ctrl-C reaches the launcher only (the ranks have their own process group); it passes it on, every
// rank stops at the same step, and the launcher exits 130 with no rank left behind.
TEST(Launch, SigintIsForwardedToEveryRank) {
    SYN_REQUIRE_SHARED();
    if (dist_backends().empty()) GTEST_SKIP() << "no c10d backend in this build";
    GlueSetup s;
    std::vector<std::string> argv = {SYN_CLI, "launch", "--nproc", "2", "--", "glue", "--task", "sst2", "--data", s.glue,
                                     "--model", s.model, "--out", s.root + "/out", "--device", "cpu", "--epochs", "400",
                                     "--batch-size", "8", "--lr", "1e-3", "--max-length", "32", "--max-train", "16"};
    const pid_t launcher = spawn(argv, {"SYN_DIST_TIMEOUT=60"}, s.root + "/launch.err");
    // Wait for rank 0's first epoch (its state.json), then interrupt.
    const auto start = std::chrono::steady_clock::now();
    std::string state;
    while (state.empty() && std::chrono::steady_clock::now() - start < std::chrono::seconds(60)) {
        if (fs::exists(s.root + "/out/runs"))
            for (const auto& e : fs::recursive_directory_iterator(s.root + "/out/runs"))
                if (e.path().filename() == "state.json") state = e.path().string();
        usleep(100000);
    }
    ASSERT_FALSE(state.empty()) << slurp(s.root + "/launch.err");
    ASSERT_EQ(kill(launcher, SIGINT), 0);
    const auto stopped = std::chrono::steady_clock::now();
    EXPECT_EQ(wait_exit(launcher), 130) << slurp(s.root + "/launch.err");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
    EXPECT_LT(seconds, 20.0);
    const std::string err = slurp(s.root + "/launch.err");
    EXPECT_NE(err.find("launch: SIGINT received, passing it to the 2 running ranks"), std::string::npos) << err;
    EXPECT_EQ(err.find("launch: failed"), std::string::npos) << err;
    // The saved state is a finished epoch's, readable.
    const auto saved = nlohmann::json::parse(slurp(state));
    EXPECT_GE(saved["epochs"].size(), 1u);
    EXPECT_EQ(saved["step_losses"].size(), saved["epochs"].size() * 2);
}

// A failing rank fails the launcher, which names it and stops the others; a bad environment given to
// a command directly is the named error.
TEST(Launch, FailingRankAndBadEnvironmentAreNamed) {
    syn::test::TempDir dir;
    const std::string err = (dir.path() / "launch.err").string();
    // Both ranks fail (no such data): the launcher exits non-zero naming a rank.
    const int code = wait_exit(spawn({SYN_CLI, "launch", "--nproc", "2", "--", "glue", "--task", "sst2", "--data",
                                      (dir.path() / "nowhere").string(), "--model", (dir.path() / "nomodel").string(),
                                      "--out", (dir.path() / "out").string(), "--device", "cpu"},
                                     {"SYN_DIST_TIMEOUT=20"}, err));
    EXPECT_NE(code, 0);
    EXPECT_NE(slurp(err).find("launch: failed: rank "), std::string::npos) << slurp(err);
    const std::string bad = (dir.path() / "bad.err").string();
    EXPECT_EQ(wait_exit(spawn({SYN_CLI, "glue", "--task", "sst2", "--data", "x", "--model", "y", "--out",
                               (dir.path() / "out2").string()},
                              {"WORLD_SIZE=2", "RANK=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=29500"}, bad)),
              1);
    EXPECT_NE(slurp(bad).find("RANK=2 is not below WORLD_SIZE=2"), std::string::npos) << slurp(bad);
    EXPECT_FALSE(fs::exists(dir.path() / "out2"));
}
