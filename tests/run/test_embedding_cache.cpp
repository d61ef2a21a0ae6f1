#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <thread>

#include "core/io/errors.h"
#include "core/run/embedding_cache.h"
#include "tests/run/cache_writer_rows.h"

extern char** environ;

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

namespace {
// tests/run/cache_writer_main.cpp as a child process (posix_spawn, not fork: this binary links
// libtorch and may have started threads).
pid_t spawn_writer(const fs::path& root, const std::string& tag, int shards, int rows, int dim) {
    std::vector<std::string> args = {SYN_CACHE_WRITER, root.string(), tag, std::to_string(shards),
                                     std::to_string(rows), std::to_string(dim)};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, SYN_CACHE_WRITER, nullptr, nullptr, argv.data(), environ);
    return rc == 0 ? pid : -1;
}

// The writer's exit status, or -1 when it did not end within `limit` (then it is killed).
int wait_writer(pid_t pid, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0) return -2;
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

std::vector<std::string> temp_files(const fs::path& folder) {
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().filename().string().find(".tmp.") != std::string::npos)
            out.push_back(it->path().filename().string());
    return out;
}
}  // namespace

// Issue 15: several processes (and several EmbeddingCache objects in each) store into one cache
// folder at once, and one is SIGKILLed in the middle of writing a shard. Every finished writer's
// rows are found exactly, nothing is mistaken for a corrupt shard, the killed writer's temporary
// file (and a planted one of a writer that died earlier) is cleaned up, and a writer started after
// the kill neither hangs on a lock the dead one held nor fails.
TEST(EmbeddingCache, ConcurrentWritersShareOneCache) {
    const fs::path root = fresh("concurrent");
    const EmbeddingCacheKey key{syn::test::kCacheWriterModel, "mean", "float32"};
    const int kWriters = 4, kShards = 24, kRows = 16, kDim = 32;
    const fs::path folder = EmbeddingCache(root.string(), key).folder();
    // The temporary file of a store() whose process died long ago: nobody holds its lock.
    const std::string stale = "shard-1000000000000000000-1-1-0000abcd.safetensors.tmp.writing";
    std::ofstream(folder / stale, std::ios::binary) << std::string(100, 'x');

    std::vector<pid_t> writers;
    for (int w = 0; w < kWriters; ++w) {
        writers.push_back(spawn_writer(root, "w" + std::to_string(w), kShards, kRows, kDim));
        ASSERT_GT(writers.back(), 0) << "cannot start " << SYN_CACHE_WRITER;
    }
    // Stores big shards until killed.
    const pid_t doomed = spawn_writer(root, "killed", 0, 20000, kDim);
    ASSERT_GT(doomed, 0);
    for (int w = 0; w < kWriters; ++w) EXPECT_EQ(wait_writer(writers[w], std::chrono::seconds(120)), 0) << "writer " << w;

    // Only the doomed writer writes now: kill it as soon as one of its shards is being written.
    bool killed_mid_write = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!killed_mid_write && std::chrono::steady_clock::now() < deadline) {
        for (const std::string& t : temp_files(folder))
            if (t != stale) killed_mid_write = true;
        if (killed_mid_write) ::kill(doomed, SIGKILL);
    }
    if (!killed_mid_write) ::kill(doomed, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(doomed, &status, 0), doomed);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    EXPECT_TRUE(killed_mid_write) << "the writer never had a shard in progress";
    const std::vector<std::string> left = temp_files(folder);
    const bool planted_left = std::count(left.begin(), left.end(), stale) > 0;
    std::printf("[          ] after the kill: the killed writer's temporary file %s; the planted one %s\n",
                left.size() > (planted_left ? 1u : 0u) ? "remains" : "is gone (killed just after a rename)",
                planted_left ? "remains" : "was removed by a live writer");

    // A writer started after the kill: no lock is left held, and it finishes.
    EXPECT_EQ(wait_writer(spawn_writer(root, "after", 4, kRows, kDim), std::chrono::seconds(60)), 0)
        << "the writer started after the kill hung or failed";

    testing::internal::CaptureStderr();
    EmbeddingCache cache(root.string(), key);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "");
    EXPECT_TRUE(cache.set_aside().empty());
    EXPECT_EQ(cache.dim(), kDim);
    size_t wrong = 0, missing = 0;
    auto check = [&](const std::string& text) {
        const auto row = cache.find(text);
        if (!row) ++missing;
        else if (*row != syn::test::cache_writer_row(text, kDim)) ++wrong;
    };
    for (int w = 0; w < kWriters; ++w)
        for (int s = 0; s < kShards; ++s)
            for (int r = 0; r < kRows; ++r) check(syn::test::cache_writer_text("w" + std::to_string(w), s, r));
    for (int s = 0; s < 4; ++s)
        for (int r = 0; r < kRows; ++r) check(syn::test::cache_writer_text("after", s, r));
    EXPECT_EQ(missing, 0u);
    EXPECT_EQ(wrong, 0u);
    // The killed writer's finished shards are whole too.
    for (int s = 0; cache.find(syn::test::cache_writer_text("killed", s, 0)); ++s)
        for (int r = 0; r < 20000; ++r) check(syn::test::cache_writer_text("killed", s, r));
    EXPECT_EQ(missing, 0u);
    EXPECT_EQ(wrong, 0u);
    // Nothing else: the finished rows plus whole shards of the killed writer.
    const size_t finished = size_t(kWriters * kShards * kRows + 4 * kRows);
    ASSERT_GE(cache.size(), finished);
    EXPECT_EQ((cache.size() - finished) % 20000, 0u);

    std::error_code ec;
    EXPECT_TRUE(!fs::exists(folder / "corrupt") || fs::is_empty(folder / "corrupt", ec)) << "a shard was set aside";
    // No temporary files: the finished writers' were renamed, the dead ones' were cleaned up.
    EXPECT_EQ(temp_files(folder), std::vector<std::string>{});
}
