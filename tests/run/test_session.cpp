// The resident model session (core/run/session.h) with the tiny fixture models: what is loaded
// when, checked by the session's own counts and by results equal to a session-free run.
//  - the embedding cache is consulted before anything is loaded;
//  - a second embedding with the same encoder loads nothing; another device/dtype or a replaced
//    checkpoint loads afresh;
//  - the budget evicts the least recently used model;
//  - a face generation's generator and CLIP-S's towers are loaded once across calls.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/io/errors.h"
#include "core/run/jobs/clip_score.h"
#include "core/run/device_choice.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/embedding_cache.h"
#include "core/run/jobs/prompt_search.h"
#include "core/run/session.h"
#include "core/run/jobs/t2i_job.h"
#include "models/taming_config.h"
#include "tests/data/temp_dir.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using namespace syn::run;

namespace {

std::string model(const std::string& name) { return syn::test::fixtures_dir() + "/models/" + name; }

const std::vector<std::string> kCaptions = {"A man is flying a kite in a field", "A woman flying a kite in a blue sky.",
                                            "Two dogs play in the snow near a red fence", "a plate of food",
                                            "A giraffe standing next to a tree"};

EmbedOptions options(const std::string& folder, const fs::path& cache, ModelSession* session) {
    EmbedOptions o;
    o.model = folder;
    o.dtype = "float32";
    o.device = "cpu";
    o.cache_root = cache.string();
    o.session = session;
    return o;
}

// A copy of a fixture folder, so that a test may replace its files.
fs::path copy_model(const std::string& name, const fs::path& where) {
    fs::create_directories(where);
    for (const auto& e : fs::directory_iterator(model(name))) fs::copy_file(e.path(), where / e.path().filename());
    return where;
}

}  // namespace

TEST(ModelSession, CachedTextsLoadNoEncoder) {
    SYN_REQUIRE_SHARED();
    syn::test::TempDir dir;
    ModelSession first;
    const EmbedResult computed = embed_texts(kCaptions, options(model("tiny-bert"), dir.path(), &first));
    EXPECT_EQ(computed.computed, kCaptions.size());
    EXPECT_EQ(first.stats().loads, 1u);

    // A fresh session (a new process): every text cached, so the encoder is never loaded.
    ModelSession second;
    const EmbedResult cached = embed_texts(kCaptions, options(model("tiny-bert"), dir.path(), &second));
    EXPECT_EQ(cached.from_cache, kCaptions.size());
    EXPECT_EQ(cached.computed, 0u);
    EXPECT_EQ(second.stats().loads, 0u) << "the encoder was loaded although every text was cached";
    EXPECT_EQ(second.stats().cache_indexes, 1u);
    EXPECT_EQ(cached.family, computed.family);
    EXPECT_EQ(cached.fingerprint, computed.fingerprint);
    EXPECT_EQ(cached.rows, computed.rows);

    // Without a session too: nothing loaded, the same rows (a folder without weights would fail to load).
    const EmbedResult plain = embed_texts(kCaptions, options(model("tiny-bert"), dir.path(), nullptr));
    EXPECT_EQ(plain.rows, computed.rows);
}

TEST(ModelSession, SecondSearchEmbedsOnlyThePromptWithTheResidentEncoder) {
    SYN_REQUIRE_SHARED();
    syn::test::TempDir dir;
    ModelSession session;
    std::vector<PromptModel> models = {{model("tiny-bert"), "bert", "mean", "float32", "cpu"},
                                       {model("tiny-clip"), "clip", "projected", "float32", "cpu"}};
    setenv("SYN_CACHE_DIR", dir.path().c_str(), 1);
    const PromptResult a = nearest_captions("a kite in the sky", kCaptions, models, 3, {}, nullptr, &session);
    const SessionStats after_first = session.stats();
    EXPECT_EQ(after_first.loads, 2u);
    const PromptResult b = nearest_captions("a dog in the snow", kCaptions, models, 3, {}, nullptr, &session);
    const SessionStats after_second = session.stats();
    EXPECT_EQ(after_second.loads, 2u) << "the second search reloaded an encoder";
    EXPECT_EQ(after_second.cache_indexes, 2u) << "the second search indexed a cache folder again";
    EXPECT_GE(after_second.hits, after_first.hits + 2);
    // The captions' unit-length embeddings were made once per encoder and reused.
    EXPECT_EQ(after_first.derived_made, 2u);
    EXPECT_EQ(after_second.derived_made, 2u);
    EXPECT_EQ(after_second.derived_hits, 2u);

    // The same neighbours as a search without a session.
    const PromptResult reference = nearest_captions("a dog in the snow", kCaptions, models, 3, {}, nullptr, nullptr);
    unsetenv("SYN_CACHE_DIR");
    ASSERT_EQ(b.encoders.size(), reference.encoders.size());
    for (std::size_t e = 0; e < b.encoders.size(); ++e) {
        EXPECT_EQ(b.encoders[e].error, "");
        ASSERT_EQ(b.encoders[e].neighbours.size(), reference.encoders[e].neighbours.size());
        for (std::size_t k = 0; k < b.encoders[e].neighbours.size(); ++k) {
            EXPECT_EQ(b.encoders[e].neighbours[k].text, reference.encoders[e].neighbours[k].text);
            EXPECT_NEAR(b.encoders[e].neighbours[k].score, reference.encoders[e].neighbours[k].score, 1e-6);
        }
    }
    EXPECT_EQ(a.encoders.size(), 2u);
}

TEST(ModelSession, KeyedByDeviceDtypeAndTheFilesOnDisk) {
    SYN_REQUIRE_SHARED();
    syn::test::TempDir dir;
    const fs::path folder = copy_model("tiny-bert", dir.path() / "bert");
    ModelSession session;
    const DeviceChoice f32 = choose_device("cpu", "float32");
    const DeviceChoice bf16 = choose_device("cpu", "bfloat16");
    auto a = session.text_model(folder.string(), f32);
    auto b = session.text_model(folder.string(), f32);
    EXPECT_EQ(a.get(), b.get());
    EXPECT_EQ(session.stats().loads, 1u);
    auto c = session.text_model(folder.string(), bf16);
    EXPECT_NE(a.get(), c.get());
    EXPECT_EQ(session.stats().loads, 2u);

    // The checkpoint replaced on disk (same bytes, new time): loaded afresh, not the stale model.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    fs::copy_file(model("tiny-bert") + "/model.safetensors", folder / "model.safetensors",
                  fs::copy_options::overwrite_existing);
    auto d = session.text_model(folder.string(), f32);
    EXPECT_NE(a.get(), d.get());
    EXPECT_EQ(session.stats().loads, 3u);
    EXPECT_GT(session.stats().resident_bytes, 0u);
}

TEST(ModelSession, BudgetEvictsTheLeastRecentlyUsed) {
    SYN_REQUIRE_SHARED();
    const DeviceChoice cpu = choose_device("cpu", "float32");
    // The size of one tiny BERT, measured: a budget that holds it and the tiny RoBERTa but not a third model.
    std::size_t bert_bytes = 0, roberta_bytes = 0;
    {
        ModelSession probe;
        probe.text_model(model("tiny-bert"), cpu);
        bert_bytes = probe.stats().resident_bytes;
        probe.text_model(model("tiny-roberta"), cpu);
        roberta_bytes = probe.stats().resident_bytes - bert_bytes;
    }
    ASSERT_GT(bert_bytes, 0u);
    ModelSession session(bert_bytes + roberta_bytes + 1);
    session.text_model(model("tiny-bert"), cpu);
    session.text_model(model("tiny-roberta"), cpu);
    session.text_model(model("tiny-bert"), cpu);  // bert is now the most recently used
    EXPECT_EQ(session.stats().evictions, 0u);
    session.text_model(model("tiny-clip"), cpu);  // evicts roberta (least recently used), maybe bert too
    const SessionStats s = session.stats();
    EXPECT_GE(s.evictions, 1u);
    EXPECT_LE(s.resident_bytes, s.budget_bytes);
    const std::size_t loads = s.loads;
    session.text_model(model("tiny-clip"), cpu);
    EXPECT_EQ(session.stats().loads, loads) << "the newest model was evicted";
    session.text_model(model("tiny-roberta"), cpu);
    EXPECT_EQ(session.stats().loads, loads + 1) << "roberta should have been evicted first";

    // A model larger than the whole budget is handed out but not kept.
    ModelSession tiny(1);
    auto m = tiny.text_model(model("tiny-bert"), cpu);
    EXPECT_TRUE(m && m->encoder);
    EXPECT_EQ(tiny.stats().resident_bytes, 0u);
}

TEST(ModelSession, GeneratorAndClipTowersLoadOnceAcrossCalls) {
    SYN_REQUIRE_SHARED();
    ModelSession session;
    const DeviceChoice cpu = choose_device("cpu", "float32");
    auto g1 = session.taming(model("tiny-taming"), cpu);
    auto g2 = session.taming(model("tiny-taming"), cpu);
    EXPECT_EQ(g1.get(), g2.get());
    EXPECT_EQ(session.stats().loads, 1u);

    // CLIP-S twice: the vision and text towers are built from one read of the checkpoint, once.
    std::vector<syn::models::RgbImage> images(1);
    images[0].width = images[0].height = 32;
    images[0].pixels.assign(32 * 32 * 3, 128);
    ClipScorer first(model("tiny-clip"), "cpu", &session);
    const auto s1 = first.score_pairs(images, {"a face"}, ClipScoreKind::cos100);
    const std::size_t loads = session.stats().loads;
    EXPECT_EQ(loads, 3u);  // generator, CLIP vision, CLIP text
    EXPECT_EQ(session.stats().checkpoint_reads, 2u);  // taming, CLIP (both towers)
    ClipScorer second(model("tiny-clip"), "cpu", &session);
    const auto s2 = second.score_pairs(images, {"a face"}, ClipScoreKind::cos100);
    EXPECT_EQ(session.stats().loads, loads);
    EXPECT_EQ(session.stats().checkpoint_reads, 2u);
    EXPECT_EQ(s1, s2);
    ClipScorer without(model("tiny-clip"), "cpu");
    EXPECT_EQ(without.score_pairs(images, {"a face"}, ClipScoreKind::cos100), s1);
}

TEST(ModelSession, EmbeddingCacheSeesShardsOfOtherProcesses) {
    SYN_REQUIRE_SHARED();
    syn::test::TempDir dir;
    ModelSession session;
    const EmbeddingCacheKey key{"fingerprint", "mean", "float32"};
    auto cache = session.embedding_cache(dir.path().string(), key);
    EXPECT_EQ(cache->size(), 0u);
    // "Another process": its own cache object on the same folder stores a shard.
    EmbeddingCache other(dir.path().string(), key);
    other.store({"x", "y"}, {1, 2, 3, 4}, 2);
    auto again = session.embedding_cache(dir.path().string(), key);
    EXPECT_EQ(again.get(), cache.get());
    EXPECT_EQ(again->size(), 2u);
    ASSERT_TRUE(again->find("y"));
    EXPECT_EQ(*again->find("y"), (std::vector<float>{3, 4}));
    // The rows it took since are counted against the budget.
    EXPECT_EQ(session.stats().resident_bytes, 2 * 2 * sizeof(float));
}

TEST(ModelSession, GrowingEmbeddingCachesStayWithinTheBudget) {
    SYN_REQUIRE_SHARED();
    syn::test::TempDir dir;
    const EmbeddingCacheKey a{"model-a", "mean", "float32"}, b{"model-b", "mean", "float32"};
    ModelSession session(64 * sizeof(float));  // 64 floats: room for one grown cache, not two
    auto cache_a = session.embedding_cache((dir.path() / "a").string(), a);
    auto cache_b = session.embedding_cache((dir.path() / "b").string(), b);
    EXPECT_EQ(session.stats().entries, 2u);
    std::vector<float> rows(20 * 2, 0.5f);
    std::vector<std::string> texts;
    for (int i = 0; i < 20; ++i) texts.push_back("caption " + std::to_string(i));
    cache_a->store(texts, rows, 2);  // 40 floats
    cache_b->store(texts, rows, 2);  // 40 more: 80 > 64
    session.embedding_cache((dir.path() / "a").string(), a);  // a is looked at again: recounted, b is older
    EXPECT_EQ(session.stats().resident_bytes, 40 * sizeof(float));
    EXPECT_EQ(session.stats().entries, 2u);  // b still counted at its indexed size (0 rows) until used
    session.embedding_cache((dir.path() / "b").string(), b);  // recounted: 80 floats, a is evicted
    const SessionStats s = session.stats();
    EXPECT_LE(s.resident_bytes, s.budget_bytes);
    EXPECT_EQ(s.resident_bytes, 40 * sizeof(float));
    EXPECT_EQ(s.entries, 1u);
    EXPECT_GE(s.evictions, 1u);
}

TEST(ModelSession, BudgetVariableIsParsedOrNamed) {
    setenv("SYN_SESSION_MEMORY", "512M", 1);
    EXPECT_EQ(default_session_budget(), std::size_t(512) << 20);
    setenv("SYN_SESSION_MEMORY", "2G", 1);
    EXPECT_EQ(default_session_budget(), std::size_t(2) << 30);
    setenv("SYN_SESSION_MEMORY", "lots", 1);
    try {
        default_session_budget();
        ADD_FAILURE() << "no error";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("SYN_SESSION_MEMORY"), std::string::npos);
    }
    unsetenv("SYN_SESSION_MEMORY");
    EXPECT_GT(default_session_budget(), 0u);
}
