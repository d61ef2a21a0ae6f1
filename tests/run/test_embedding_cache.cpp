#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/io/errors.h"
#include "core/run/embedding_cache.h"

namespace fs = std::filesystem;
using namespace syn::run;

namespace {
fs::path fresh(const std::string& name) {
    fs::path d = fs::temp_directory_path() / ("syn_cache_test_" + name);
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}
}  // namespace

TEST(EmbeddingCache, StoresAndReloadsAcrossInstances) {
    fs::path root = fresh("reload");
    EmbeddingCacheKey key{"abc123", "mean", "float32"};
    {
        EmbeddingCache cache(root.string(), key);
        EXPECT_EQ(cache.size(), 0u);
        cache.store({"a dog", "a cat"}, {1, 2, 3, 4, 5, 6}, 3);
        cache.store({"a cat", "a bird"}, {4, 5, 6, 7, 8, 9}, 3);  // "a cat" already there: skipped
    }
    EmbeddingCache again(root.string(), key);
    EXPECT_EQ(again.size(), 3u);
    EXPECT_EQ(again.dim(), 3);
    EXPECT_EQ(*again.find("a bird"), (std::vector<float>{7, 8, 9}));
    EXPECT_EQ(*again.find("a dog"), (std::vector<float>{1, 2, 3}));
    EXPECT_FALSE(again.find("a horse").has_value());
}

TEST(EmbeddingCache, KeysSeparatePoolingDtypeAndModel) {
    fs::path root = fresh("keys");
    EmbeddingCache mean(root.string(), {"m1", "mean", "float32"});
    mean.store({"x"}, {1, 2}, 2);
    EXPECT_EQ(EmbeddingCache(root.string(), {"m1", "cls", "float32"}).size(), 0u);
    EXPECT_EQ(EmbeddingCache(root.string(), {"m1", "mean", "bfloat16"}).size(), 0u);
    EXPECT_EQ(EmbeddingCache(root.string(), {"m2", "mean", "float32"}).size(), 0u);
    EXPECT_EQ(EmbeddingCache(root.string(), {"m1", "mean", "float32"}).size(), 1u);
}

TEST(EmbeddingCache, RejectsWidthChangesAndForeignFiles) {
    fs::path root = fresh("bad");
    EmbeddingCache cache(root.string(), {"m", "mean", "float32"});
    cache.store({"x"}, {1, 2}, 2);
    EXPECT_THROW(cache.store({"y"}, {1, 2, 3}, 3), syn::Error);
    EXPECT_THROW(cache.store({"y", "z"}, {1, 2}, 2), syn::Error);  // row count does not match
    std::ofstream(fs::path(cache.folder()) / "junk.safetensors") << "not a safetensors file";
    try {
        EmbeddingCache broken(root.string(), {"m", "mean", "float32"});
        FAIL() << "a foreign shard must be reported";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("junk.safetensors"), std::string::npos) << e.what();
    }
}

TEST(EmbeddingCache, FingerprintChangesWithContent) {
    fs::path d = fresh("fp");
    std::ofstream(d / "config.json") << "{}";
    std::ofstream(d / "model.safetensors") << "weights-1";
    std::string a = model_fingerprint(d.string());
    std::ofstream(d / "model.safetensors") << "weights-2-longer";
    std::string b = model_fingerprint(d.string());
    EXPECT_EQ(a.size(), 64u);
    EXPECT_NE(a, b);
    EXPECT_THROW(model_fingerprint(fresh("empty").string()), syn::Error);
}
