#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

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

TEST(EmbeddingCache, RejectsWidthChangesOnStore) {
    fs::path root = fresh("bad");
    EmbeddingCache cache(root.string(), {"m", "mean", "float32"});
    cache.store({"x"}, {1, 2}, 2);
    EXPECT_THROW(cache.store({"y"}, {1, 2, 3}, 3), syn::Error);
    EXPECT_THROW(cache.store({"y", "z"}, {1, 2}, 2), syn::Error);  // row count does not match
}

// Issue 19 item 5: one unreadable shard used to make every run of the model fail until the cache
// was deleted by hand. It is now moved aside to corrupt/, reported, and its rows recomputed.
TEST(EmbeddingCache, SetsAsideUnreadableShardsAndGoesOn) {
    fs::path root = fresh("corrupt");
    const EmbeddingCacheKey key{"m", "mean", "float32"};
    fs::path folder;
    {
        EmbeddingCache cache(root.string(), key);
        cache.store({"a dog", "a cat"}, {1, 2, 3, 4, 5, 6}, 3);
        folder = cache.folder();
    }
    fs::path good;
    for (const auto& e : fs::directory_iterator(folder))
        if (e.path().extension() == ".safetensors") good = e.path();
    ASSERT_FALSE(good.empty());
    {
        std::ifstream in(good, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::ofstream(folder / "shard-9-truncated.safetensors", std::ios::binary) << bytes.substr(0, bytes.size() - 7);
        // The temporary file of an interrupted write_file_atomically: ignored, left alone.
        std::ofstream(folder / (good.filename().string() + ".tmp.Ab12Cd"), std::ios::binary) << bytes.substr(0, 20);
    }
    std::ofstream(folder / "shard-9-garbage.safetensors") << "not a safetensors file";
    {
        // Readable safetensors, wrong tensors / another width (a cache of another key, copied in).
        EmbeddingCache other(root.string(), {"other", "mean", "float32"});
        other.store({"a horse"}, {1, 2}, 2);
        for (const auto& e : fs::directory_iterator(other.folder()))
            if (e.path().extension() == ".safetensors") fs::copy_file(e.path(), folder / "shard-9-width2.safetensors");
        const std::string header = R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
        std::string bytes(8, '\0');
        bytes[0] = static_cast<char>(header.size());
        std::ofstream(folder / "shard-9-names.safetensors", std::ios::binary) << bytes << header << std::string(4, '\0');
    }

    testing::internal::CaptureStderr();
    std::unique_ptr<EmbeddingCache> cache;
    ASSERT_NO_THROW(cache = std::make_unique<EmbeddingCache>(root.string(), key));
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(cache->size(), 2u);
    EXPECT_EQ(cache->dim(), 3);
    EXPECT_EQ(*cache->find("a dog"), (std::vector<float>{1, 2, 3}));
    EXPECT_FALSE(cache->find("a horse").has_value());
    const std::vector<std::string> bad = {"shard-9-garbage.safetensors", "shard-9-names.safetensors",
                                          "shard-9-truncated.safetensors", "shard-9-width2.safetensors"};
    ASSERT_EQ(cache->set_aside().size(), bad.size()) << err;
    for (size_t i = 0; i < bad.size(); ++i) {
        EXPECT_NE(cache->set_aside()[i].find(bad[i]), std::string::npos) << cache->set_aside()[i];
        EXPECT_NE(err.find((folder / bad[i]).string()), std::string::npos) << err;
        EXPECT_TRUE(fs::is_regular_file(folder / "corrupt" / bad[i])) << bad[i];  // kept for a human
        EXPECT_FALSE(fs::exists(folder / bad[i])) << bad[i];                       // no longer a shard
    }
    EXPECT_NE(cache->set_aside()[3].find("width 2 differs from 3"), std::string::npos) << cache->set_aside()[3];
    EXPECT_TRUE(fs::exists(folder / (good.filename().string() + ".tmp.Ab12Cd")));
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 4) << err;  // one line each, nothing on the temp file

    // The run goes on: missing rows are stored as a new shard; the next construction is quiet.
    cache->store({"a dog", "a bird"}, {1, 2, 3, 7, 8, 9}, 3);
    cache.reset();
    testing::internal::CaptureStderr();
    EmbeddingCache again(root.string(), key);
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
    EXPECT_TRUE(again.set_aside().empty());
    EXPECT_EQ(again.size(), 3u);
    EXPECT_EQ(*again.find("a bird"), (std::vector<float>{7, 8, 9}));
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
