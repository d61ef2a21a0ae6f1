// The embedding job with the tiny fixture models: the same code path real checkpoints take.
// Batched = one at a time, sorted = unsorted, cached = fresh (within 1e-5), and the cache resumes.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <thread>

#include <unistd.h>

#include "core/io/errors.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/jobs/sts_job.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using namespace syn::run;

namespace {

const std::vector<std::string>& texts() {
    static const std::vector<std::string> t = {
        "A man is flying a kite in a field",
        "A woman flying a kite in a blue sky.",
        "a",
        "A computer desk holding a monitor and keyboard in front of blinds, next to a window with a view of the city",
        "A man is flying a kite in a field",  // a duplicate: embedded once
        "Two dogs play in the snow near a red fence, while a child watches from the porch of an old house"};
    return t;
}

fs::path fresh_cache(const std::string& name) {
    fs::path d = fs::temp_directory_path() / ("syn_embed_cache_" + name);
    fs::remove_all(d);
    return d;
}

void expect_rows_near(const EmbedResult& a, const EmbedResult& b, double tol) {
    ASSERT_EQ(a.dim, b.dim);
    ASSERT_EQ(a.rows.size(), b.rows.size());
    for (size_t i = 0; i < a.rows.size(); ++i) ASSERT_NEAR(a.rows[i], b.rows[i], tol) << "value " << i;
}

struct Case {
    const char* model;
    const char* pooling;
};

}  // namespace

class EmbedJob : public ::testing::TestWithParam<Case> {};

TEST_P(EmbedJob, BatchedEqualsOneAtATimeAndCachedEqualsFresh) {
    SYN_REQUIRE_SHARED();
    const std::string folder = syn::test::fixtures_dir() + "/models/" + GetParam().model;
    EmbedOptions o;
    o.model = folder;
    o.pooling = GetParam().pooling;
    o.dtype = "float32";  // batching must not change a float32 result beyond rounding (bf16: below)
    o.use_cache = false;
    EmbedResult batched = embed_texts(texts(), o);
    EXPECT_EQ(batched.unique_texts, 5u);
    EXPECT_EQ(batched.computed, 5u);
    ASSERT_GT(batched.dim, 0);
    // Duplicates get identical rows.
    for (int64_t k = 0; k < batched.dim; ++k) EXPECT_EQ(batched.rows[k], batched.rows[4 * batched.dim + k]);

    EmbedOptions single = o;
    single.max_batch = 1;  // one text per forward pass, no padding at all
    expect_rows_near(batched, embed_texts(texts(), single), 1e-5);

    std::vector<std::string> reversed(texts().rbegin(), texts().rend());
    EmbedResult rev = embed_texts(reversed, o);
    for (size_t i = 0; i < texts().size(); ++i)
        for (int64_t k = 0; k < batched.dim; ++k)
            ASSERT_NEAR(batched.rows[i * batched.dim + k], rev.rows[(texts().size() - 1 - i) * batched.dim + k], 1e-5);

    EmbedOptions cached = o;
    cached.use_cache = true;
    // One folder per case and process: cases run in parallel under ctest -j.
    cached.cache_root = fresh_cache(std::string(GetParam().model) + "_" + GetParam().pooling + "_" +
                                    std::to_string(::getpid())).string();
    cached.chunk_texts = 2;  // several shards
    EmbedResult first = embed_texts(texts(), cached);
    EXPECT_EQ(first.from_cache, 0u);
    EmbedResult second = embed_texts(texts(), cached);
    EXPECT_EQ(second.from_cache, 5u);
    EXPECT_EQ(second.computed, 0u);
    expect_rows_near(batched, second, 1e-5);
    EXPECT_EQ(second.fingerprint.size(), 64u);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, EmbedJob,
                         ::testing::Values(Case{"tiny-bert", "mean"}, Case{"tiny-bert", "pooler+l2"},
                                           Case{"tiny-roberta", "cls"}, Case{"tiny-clip", "projected"},
                                           Case{"tiny-t5-encoder", "mean"}, Case{"tiny-siglip", "mean"}),
                         [](const auto& info) {
                             std::string n = std::string(info.param.model) + "_" + info.param.pooling;
                             for (char& c : n)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return n;
                         });

TEST(EmbedJobErrors, CancelLeavesACompleteCache) {
    SYN_REQUIRE_SHARED();
    EmbedOptions o;
    o.model = syn::test::fixtures_dir() + "/models/tiny-bert";
    o.pooling = "mean";
    o.dtype = "float32";  // the resumed run's batches differ from a fresh run's (bf16: see below)
    o.cache_root = fresh_cache("cancel").string();
    o.max_batch = 1;
    o.chunk_texts = 1;
    CancelToken cancel;
    long long reports = 0;
    auto progress = [&](const Progress& p) {
        if (p.stage == Stage::embedding && ++reports == 2 && p.done > 0) cancel.cancel();
    };
    EXPECT_THROW(embed_texts(texts(), o, progress, &cancel), Cancelled);
    // What was stored is whole and reused; the rest is computed.
    EmbedResult resumed = embed_texts(texts(), o);
    EXPECT_EQ(resumed.from_cache + resumed.computed, 5u);
    EXPECT_GE(resumed.from_cache, 1u);
    EXPECT_LT(resumed.from_cache, 5u);
    o.use_cache = false;
    expect_rows_near(embed_texts(texts(), o), resumed, 1e-5);
}

TEST(EmbedJobErrors, ClearMessages) {
    SYN_REQUIRE_SHARED();
    EmbedOptions o;
    o.use_cache = false;
    o.model = "some-org/not-downloaded-model";
    try {
        embed_texts(texts(), o);
        FAIL();
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("not in the local Hugging Face cache"), std::string::npos) << e.what();
    }
    o.model = syn::test::fixtures_dir() + "/models/tiny-roberta";
    o.pooling = "projected";  // RoBERTa has no projection: refused, naming the family
    EXPECT_THROW(embed_texts(texts(), o), syn::Error);
    o.pooling = "median";
    EXPECT_THROW(embed_texts(texts(), o), syn::Error);
    o.pooling = "mean";
    o.dtype = "float16";
    o.device = "cpu";
    EXPECT_THROW(embed_texts(texts(), o), syn::Error);  // float16: CUDA only
}

// bfloat16 against float32 on real CxC captions with the tiny fixtures: the per-row direction of
// the embeddings and the STS-L / STS-V correlations computed from them barely move (goals of the
// CPU-bf16 issue: mean row cosine >= 0.995, correlations within 0.005). Printed for the record.
// tiny-roberta's [CLS] vectors are nearly the same for every caption (pair cosines spread by ~1e-4),
// so bf16 rounding is as large as the signal there: its correlations are printed, not held to 0.005
// (the per-row cosine still is); `spread` shows why.
TEST(EmbedBfloat16, AgreesWithFloat32OnCxcPairs) {
    SYN_REQUIRE_SHARED();
    struct Case {
        std::string model, pooling;
        bool hold_correlations;
    };
    for (const auto& [model, pooling, hold] : std::vector<Case>{{"tiny-bert", "mean", true},
                                                               {"tiny-roberta", "mean", true},
                                                               {"tiny-roberta", "cls", false},
                                                               {"tiny-clip", "projected", true},
                                                               {"tiny-t5-encoder", "mean", true}}) {
        SCOPED_TRACE(model);
        StsJobOptions o;
        o.cxc_csv = syn::test::shared_dir() + "/data/cxc/sts_test.csv";
        o.captions_json = syn::test::shared_dir() + "/data/coco/captions_karpathy_test.json";
        o.models = {syn::test::fixtures_dir() + "/models/" + model};
        o.pooling = pooling;
        o.max_pairs = 1500;
        o.bootstrap = 10;
        o.device = "cpu";
        o.use_cache = false;
        o.dtype = "float32";
        const StsResult f32 = run_sts(o);
        o.dtype = "bfloat16";
        const StsResult bf16 = run_sts(o);
        ASSERT_EQ(bf16.encoders.size(), 1u);
        EXPECT_EQ(bf16.encoders[0].dtype, "bfloat16");
        const auto& a = f32.encoders[0].all;
        const auto& b = bf16.encoders[0].all;
        const double d_l = std::abs(a.sts_l_spearman.point.value - b.sts_l_spearman.point.value);
        const double d_v = std::abs(a.sts_v_spearman.point.value - b.sts_v_spearman.point.value);
        const double d_lp = std::abs(a.sts_l_pearson.point.value - b.sts_l_pearson.point.value);
        const double d_vp = std::abs(a.sts_v_pearson.point.value - b.sts_v_pearson.point.value);
        if (hold) EXPECT_LE(std::max({d_l, d_v, d_lp, d_vp}), 0.005);
        // How far bf16 moves a pair's score, against how far scores spread between pairs.
        const auto& sa = f32.encoders[0].scores;
        const auto& sb = bf16.encoders[0].scores;
        double mean_score = 0, moved = 0;
        for (size_t i = 0; i < sa.size(); ++i) {
            mean_score += sa[i] / sa.size();
            moved += std::abs(sa[i] - sb[i]) / sa.size();
        }
        double var = 0;
        for (double v : sa) var += (v - mean_score) * (v - mean_score) / sa.size();

        // Row cosines between the two dtypes' embeddings of the same captions.
        EmbedOptions e;
        e.model = o.models[0];
        e.pooling = pooling;
        e.device = "cpu";
        e.use_cache = false;
        std::vector<std::string> captions;
        for (size_t i = 0; i < f32.dataset.pairs.size() && captions.size() < 600; i += 3)
            captions.push_back(f32.dataset.pairs[i].text1);
        e.dtype = "float32";
        const EmbedResult x = embed_texts(captions, e);
        e.dtype = "bfloat16";
        const EmbedResult y = embed_texts(captions, e);
        double sum = 0, lowest = 1;
        for (size_t i = 0; i < captions.size(); ++i) {
            const double dot = [&] {
                double d = 0, nx = 0, ny = 0;
                for (int64_t k = 0; k < x.dim; ++k) {
                    d += double(x.rows[i * x.dim + k]) * y.rows[i * y.dim + k];
                    nx += double(x.rows[i * x.dim + k]) * x.rows[i * x.dim + k];
                    ny += double(y.rows[i * y.dim + k]) * y.rows[i * y.dim + k];
                }
                return d / std::sqrt(nx * ny);
            }();
            sum += dot;
            lowest = std::min(lowest, dot);
        }
        const double mean = sum / captions.size();
        EXPECT_GE(mean, 0.995);
        std::printf("  %-16s %-9s row cosine bf16 vs fp32: mean %.5f, min %.5f; |delta r| STS-L sp %.4f p %.4f, "
                    "STS-V sp %.4f p %.4f; pair score moved %.2e vs spread (sd) %.2e\n",
                    model.c_str(), pooling.c_str(), mean, lowest, d_l, d_lp, d_v, d_vp, moved, std::sqrt(var));
    }
}

// Several devices in one process (issue 15): CPU replicas ("cpu,cpu") run the CUDA replicas' code
// path without a GPU. The rows are one device's to the bit, for plain runs, sharded runs and runs
// that store into the cache; progress counts every replica's texts; a cancel stops them all; a
// failing replica fails the job with its device named.
namespace {

std::vector<std::string> many_texts() {
    std::vector<std::string> t = texts();
    for (int i = 0; i < 40; ++i)
        t.push_back("caption number " + std::to_string(i) + std::string(static_cast<std::size_t>(i % 7), '!') +
                    " of a dog " + std::to_string(i * 13 % 17));
    return t;
}

}  // namespace

TEST(EmbedReplicas, CpuReplicasGiveOneDevicesBitsAndProgress) {
    SYN_REQUIRE_SHARED();
    for (const char* model : {"tiny-bert", "tiny-clip", "tiny-t5-encoder"}) {
        EmbedOptions o;
        o.model = syn::test::fixtures_dir() + "/models/" + model;
        o.device = "cpu";
        o.dtype = "float32";
        o.use_cache = false;
        o.token_budget = 48;  // many batches of a few texts
        const EmbedResult one = embed_texts(many_texts(), o);
        EXPECT_TRUE(one.replicas.size() == 1u) << model;
        for (const char* devices : {"cpu,cpu", "cpu,cpu,cpu"}) {
            EmbedOptions r = o;
            r.devices = devices;
            long long last_done = -1, last_total = -1;
            bool monotonic = true;
            const EmbedResult many = embed_texts(many_texts(), r, [&](const Progress& p) {
                if (p.stage != Stage::embedding) return;
                monotonic = monotonic && p.done >= last_done;
                last_done = p.done;
                last_total = p.total;
            });
            EXPECT_EQ(many.device, "cpu");  // one kind of device: the output's metadata is one device's
            EXPECT_EQ(many.replicas.size(), std::string(devices) == "cpu,cpu" ? 2u : 3u);
            EXPECT_EQ(many.computed, one.computed);
            ASSERT_EQ(many.rows.size(), one.rows.size()) << model << " " << devices;
            EXPECT_EQ(std::memcmp(many.rows.data(), one.rows.data(), one.rows.size() * sizeof(float)), 0)
                << model << " " << devices << ": the replicas' rows differ from one device's";
            EXPECT_TRUE(monotonic);
            EXPECT_EQ(last_done, static_cast<long long>(one.unique_texts));
            EXPECT_EQ(last_total, last_done);
        }
        // A shard on two replicas is the shard on one device.
        EmbedOptions s = o;
        s.shard_index = 1;
        s.shard_count = 3;
        const EmbedResult shard_one = embed_texts(many_texts(), s);
        s.devices = "cpu,cpu";
        const EmbedResult shard_two = embed_texts(many_texts(), s);
        EXPECT_EQ(shard_two.positions, shard_one.positions);
        ASSERT_EQ(shard_two.rows.size(), shard_one.rows.size());
        EXPECT_EQ(std::memcmp(shard_two.rows.data(), shard_one.rows.data(), shard_one.rows.size() * sizeof(float)), 0);
    }
}

TEST(EmbedReplicas, CacheStoresFromTheJobThreadAndResumes) {
    SYN_REQUIRE_SHARED();
    EmbedOptions o;
    o.model = syn::test::fixtures_dir() + "/models/tiny-bert";
    o.device = "cpu";
    o.dtype = "float32";
    o.cache_root = fresh_cache("replicas").string();
    o.token_budget = 48;
    o.chunk_texts = 3;  // many cache shards while the replicas run
    o.devices = "cpu,cpu";
    const EmbedResult stored = embed_texts(many_texts(), o);
    EXPECT_EQ(stored.computed, stored.unique_texts);
    EmbedOptions again = o;
    again.devices = "";
    const EmbedResult cached = embed_texts(many_texts(), again);
    EXPECT_EQ(cached.from_cache, stored.unique_texts);
    EXPECT_EQ(cached.computed, 0u);
    ASSERT_EQ(cached.rows.size(), stored.rows.size());
    EXPECT_EQ(std::memcmp(cached.rows.data(), stored.rows.data(), stored.rows.size() * sizeof(float)), 0);
}

TEST(EmbedReplicas, CancelStopsEveryReplicaAndAFailureNamesItsDevice) {
    SYN_REQUIRE_SHARED();
    EmbedOptions o;
    o.model = syn::test::fixtures_dir() + "/models/tiny-bert";
    o.device = "cpu";
    o.dtype = "float32";
    o.cache_root = fresh_cache("replicas_cancel").string();
    o.max_batch = 1;
    o.chunk_texts = 1;
    o.devices = "cpu,cpu";
    // Each replica's batch waits a little, so that the cancel comes while they run.
    o.before_replica_batch = [](std::size_t) { std::this_thread::sleep_for(std::chrono::milliseconds(20)); };
    CancelToken cancel;
    std::atomic<int> batches{0};
    EmbedOptions counted = o;
    counted.before_replica_batch = [&](std::size_t) {
        ++batches;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    };
    auto progress = [&](const Progress& p) {
        if (p.stage == Stage::embedding && p.done >= 2) cancel.cancel();
    };
    EXPECT_THROW(embed_texts(many_texts(), counted, progress, &cancel), Cancelled);
    const std::vector<std::string> all = many_texts();
    const std::size_t unique = std::set<std::string>(all.begin(), all.end()).size();
    EXPECT_LT(batches.load(), static_cast<int>(unique) / 2) << "the replicas went on after the cancel";
    // What the replicas finished is in the cache, whole; the rest is computed.
    EmbedOptions resumed = o;
    resumed.before_replica_batch = nullptr;
    const EmbedResult r = embed_texts(many_texts(), resumed);
    EXPECT_GE(r.from_cache, 2u);
    EXPECT_LT(r.from_cache, unique);
    // A replica that fails fails the job, naming its device.
    EmbedOptions failing = o;
    failing.use_cache = false;
    failing.before_replica_batch = [](std::size_t replica) {
        if (replica == 1) throw std::runtime_error("injected failure");
    };
    try {
        embed_texts(many_texts(), failing);
        FAIL() << "a failing replica did not fail the job";
    } catch (const syn::Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("on cpu (replica 1)"), std::string::npos) << what;
        EXPECT_NE(what.find("injected failure"), std::string::npos) << what;
    }
    // A bad --devices is refused by name before anything is loaded.
    EmbedOptions bad = o;
    bad.devices = "cpu,,cpu";
    EXPECT_THROW(embed_texts(many_texts(), bad), syn::Error);
}
