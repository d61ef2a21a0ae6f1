// Hub downloads, dataset fetchers and archive extraction against a real local HTTP server
// (tests/io/hub_test_server.py) laid out like the Hugging Face hub: the API listing, resolve URLs
// with ETag / X-Repo-Commit, LFS files behind a redirect, dropped connections, slow transfers.
#include <gtest/gtest.h>
#include <zip.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/io/dataset_fetch.h"
#include "core/io/errors.h"
#include "core/io/hub_download.h"
#include "core/io/model_store.h"
#include "core/io/sha256.h"
#include "core/run/commands/fetch_command.h"
#include "core/run/progress.h"
#include "tests/support/hub_server.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* const kCommit = "0123456789abcdef0123456789abcdef01234567";

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "syn_hub_XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string random_bytes(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xff);
    return s;
}

void write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
}

std::string slurp(const fs::path& p) { return syn::read_file(p.string()); }

using syn::test::HubServer;

// A free loopback port with nothing listening: "the hub cannot be reached".
int closed_port() {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    int port = ntohs(a.sin_port);
    ::close(s);
    return port;
}

class HubDownload : public ::testing::Test {
protected:
    TempDir tmp;
    fs::path cache() const { return tmp.path / "hub"; }
    fs::path repo_dir(const std::string& repo) const { return cache() / syn::hf_cache_repo_folder_name(repo); }

    // A file of the served repo; `extra` adds behaviours (lfs, drop_after, slow_bps, wrong_sha).
    json file(const std::string& name, const std::string& content, json extra = json::object()) {
        fs::path p = tmp.path / "served" / std::to_string(served_++) / name;
        write(p, content);
        extra["path"] = p.string();
        return extra;
    }

    syn::hub::HubOptions options(const HubServer& server) const {
        syn::hub::HubOptions o;
        o.endpoint = server.endpoint();
        o.cache_dir = cache().string();
        o.transfer.retry_base_delay_ms = 10;
        o.transfer.connect_timeout_s = 5;
        return o;
    }

    // config.json, tokenizer files, LFS safetensors, plus files that must not be fetched.
    json tiny_repo(const std::string& weights) {
        json files;
        files["config.json"] = file("config.json", R"({"model_type": "bert"})");
        files["tokenizer.json"] = file("tokenizer.json", R"({"model": {}})");
        files["vocab.txt"] = file("vocab.txt", "[PAD]\n[UNK]\nhello\n");
        files["model.safetensors"] = file("model.safetensors", weights, {{"lfs", true}});
        files["pytorch_model.bin"] = file("pytorch_model.bin", "not wanted", {{"lfs", true}});
        files["README.md"] = file("README.md", "# tiny");
        return files;
    }

    int served_ = 0;
};

TEST_F(HubDownload, FetchesSelectedFilesIntoTheHfCacheLayoutThroughTheLfsRedirect) {
    const std::string weights = random_bytes(300000, 1);
    json config = {{"repos", {{"org/tiny", {{"commit", kCommit}, {"files", tiny_repo(weights)}}}}}};
    HubServer server(config, tmp.path);

    auto r = syn::hub::download_model("org/tiny", "main", options(server));
    EXPECT_EQ(r.commit, kCommit);
    EXPECT_EQ(r.folder, (repo_dir("org/tiny") / "snapshots" / kCommit).string());
    EXPECT_EQ(r.downloaded, 4);
    std::vector<std::string> want = {"config.json", "tokenizer.json", "vocab.txt", "model.safetensors"};
    EXPECT_EQ(r.files, want);

    // snapshots/<commit>/<file> are relative symlinks into blobs/, the LFS blob named by its sha256.
    const fs::path snap = r.folder;
    const fs::path weights_link = snap / "model.safetensors";
    ASSERT_TRUE(fs::is_symlink(weights_link));
    EXPECT_EQ(fs::read_symlink(weights_link).string(), "../../blobs/" + syn::sha256_hex(weights));
    EXPECT_EQ(slurp(weights_link), weights);
    EXPECT_EQ(slurp(snap / "config.json"), R"({"model_type": "bert"})");
    EXPECT_TRUE(fs::is_symlink(snap / "config.json"));
    EXPECT_FALSE(fs::exists(snap / "pytorch_model.bin"));  // safetensors preferred
    EXPECT_FALSE(fs::exists(snap / "README.md"));
    EXPECT_EQ(slurp(repo_dir("org/tiny") / "refs" / "main"), kCommit);
    for (const auto& e : fs::directory_iterator(repo_dir("org/tiny") / "blobs"))
        EXPECT_EQ(e.path().extension(), "") << "left over: " << e.path();

    // The redirect was followed to the storage URL; the unwanted files were never requested.
    EXPECT_GE(server.count_requests("GET /lfs-cdn/"), 1u);
    EXPECT_EQ(server.count_requests("pytorch_model.bin"), 0u);

    // The model store finds what was downloaded (the layout Python shares).
    auto resolved = syn::resolve_model("org/tiny", "main", cache().string());
    ASSERT_TRUE(resolved.has_value());
    EXPECT_EQ(resolved->folder, r.folder);

    // A second run downloads nothing.
    const size_t cdn_gets = server.count_requests("GET /lfs-cdn/");
    auto again = syn::hub::download_model("org/tiny", "main", options(server));
    EXPECT_EQ(again.downloaded, 0);
    EXPECT_EQ(again.cached, 4);
    EXPECT_EQ(server.count_requests("GET /lfs-cdn/"), cdn_gets);
}

TEST_F(HubDownload, ShardedSafetensorsAreTakenFromTheIndex) {
    json files;
    files["config.json"] = file("config.json", "{}");
    const std::string a = random_bytes(5000, 2), b = random_bytes(7000, 3);
    files["model-00001-of-00002.safetensors"] = file("s1", a, {{"lfs", true}});
    files["model-00002-of-00002.safetensors"] = file("s2", b, {{"lfs", true}});
    files["model.safetensors.index.json"] = file(
        "index.json",
        R"({"metadata": {}, "weight_map": {"x": "model-00001-of-00002.safetensors", "y": "model-00002-of-00002.safetensors", "z": "model-00001-of-00002.safetensors"}})");
    files["pytorch_model.bin"] = file("bin", "unused", {{"lfs", true}});
    json config = {{"repos", {{"org/sharded", {{"commit", kCommit}, {"files", files}}}}}};
    HubServer server(config, tmp.path);

    auto r = syn::hub::download_model("org/sharded", "main", options(server));
    EXPECT_EQ(slurp(fs::path(r.folder) / "model-00001-of-00002.safetensors"), a);
    EXPECT_EQ(slurp(fs::path(r.folder) / "model-00002-of-00002.safetensors"), b);
    EXPECT_EQ(r.files.size(), 4u);
    EXPECT_EQ(server.count_requests("pytorch_model.bin"), 0u);
    EXPECT_TRUE(syn::hub::cached_model("org/sharded", "main", cache().string()).has_value());
}

TEST(HubFileSelection, PrefersSafetensorsAndFallsBackToPytorchBin) {
    using syn::hub::select_model_files;
    EXPECT_EQ(select_model_files("r", {"config.json", "pytorch_model.bin", "model.safetensors", "tf_model.h5"}),
              (std::vector<std::string>{"config.json", "model.safetensors"}));
    EXPECT_EQ(select_model_files("r", {"pytorch_model.bin", "config.json", "merges.txt", "vocab.json", "onnx/model.onnx"}),
              (std::vector<std::string>{"config.json", "vocab.json", "merges.txt", "pytorch_model.bin"}));
    EXPECT_EQ(select_model_files("r", {"config.json", "spiece.model", "model.safetensors.index.json", "pytorch_model.bin"}),
              (std::vector<std::string>{"config.json", "spiece.model", "model.safetensors.index.json"}));
    try {
        select_model_files("org/empty", {"config.json", "tf_model.h5"});
        FAIL() << "expected an error";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("org/empty"), std::string::npos) << e.what();
    }
}

TEST_F(HubDownload, DroppedConnectionIsResumedWithRange) {
    const std::string weights = random_bytes(400000, 4);
    json files = tiny_repo(weights);
    files["model.safetensors"]["drop_after"] = 150000;
    json config = {{"repos", {{"org/flaky", {{"commit", kCommit}, {"files", files}}}}}};
    HubServer server(config, tmp.path);

    auto r = syn::hub::download_model("org/flaky", "main", options(server));
    EXPECT_EQ(slurp(fs::path(r.folder) / "model.safetensors"), weights);
    // The second GET asked only for the rest.
    EXPECT_EQ(server.count_requests("bytes=150000-"), 1u);
    EXPECT_FALSE(fs::exists(repo_dir("org/flaky") / "blobs" / (syn::sha256_hex(weights) + ".incomplete")));
}

TEST_F(HubDownload, WrongChecksumIsRejectedAndNothingIsKept) {
    json files = tiny_repo(random_bytes(50000, 5));
    files["model.safetensors"]["wrong_sha"] = true;
    json config = {{"repos", {{"org/corrupt", {{"commit", kCommit}, {"files", files}}}}}};
    HubServer server(config, tmp.path);

    try {
        syn::hub::download_model("org/corrupt", "main", options(server));
        FAIL() << "expected a checksum error";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("checksum mismatch"), std::string::npos) << e.what();
    }
    const fs::path snap = repo_dir("org/corrupt") / "snapshots" / kCommit;
    EXPECT_FALSE(fs::exists(snap / "model.safetensors"));
    for (const auto& e : fs::directory_iterator(repo_dir("org/corrupt") / "blobs")) {
        // only the small verified files; neither the bad blob nor its .incomplete
        EXPECT_NE(e.path().extension(), ".incomplete") << e.path();
        EXPECT_LT(fs::file_size(e.path()), 1000u) << e.path();
    }
    EXPECT_FALSE(syn::hub::cached_model("org/corrupt", "main", cache().string()).has_value());
}

TEST_F(HubDownload, NotFoundNamesRepoFileAndRevision) {
    json config = {{"repos", {{"org/tiny", {{"commit", kCommit}, {"files", tiny_repo("w")}}}}}};
    HubServer server(config, tmp.path);
    auto expect_message = [](auto fn, const std::vector<std::string>& parts) {
        try {
            fn();
            FAIL() << "expected an error";
        } catch (const syn::net::HttpStatusError& e) {
            EXPECT_EQ(e.status(), 404);
            for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
        }
    };
    auto o = options(server);
    expect_message([&] { syn::hub::download_model("org/missing", "main", o); }, {"org/missing", "not found"});
    expect_message([&] { syn::hub::download_model("org/tiny", "v9", o); }, {"revision v9", "org/tiny"});
    expect_message([&] { syn::hub::download_file("org/tiny", "nope.json", "main", o); },
                   {"nope.json", "org/tiny", "revision main", "not found"});
}

TEST_F(HubDownload, UnauthorizedMentionsHfTokenAndTheTokenIsSent) {
    json config = {{"repos", {{"org/gated", {{"commit", kCommit}, {"token", "hf_secret"}, {"files", tiny_repo("w8")}}}}}};
    HubServer server(config, tmp.path);
    auto o = options(server);
    try {
        syn::hub::download_model("org/gated", "main", o);
        FAIL() << "expected 401";
    } catch (const syn::net::HttpStatusError& e) {
        EXPECT_EQ(e.status(), 401);
        std::string m = e.what();
        EXPECT_NE(m.find("HF_TOKEN"), std::string::npos) << m;
        EXPECT_NE(m.find("gated"), std::string::npos) << m;
    }
    o.token = "wrong";
    try {
        syn::hub::download_model("org/gated", "main", o);
        FAIL() << "expected 401";
    } catch (const syn::net::HttpStatusError& e) {
        EXPECT_NE(std::string(e.what()).find("HF_TOKEN is set but was refused"), std::string::npos) << e.what();
    }
    o.token = "hf_secret";
    auto r = syn::hub::download_model("org/gated", "main", o);
    EXPECT_EQ(slurp(fs::path(r.folder) / "model.safetensors"), "w8");
    // The token went to the hub, not to the storage the LFS file was redirected to.
    for (const auto& line : server.requests())
        if (line.find("/lfs-cdn/") != std::string::npos) EXPECT_EQ(line.substr(line.size() - 2), " -") << line;
    EXPECT_GE(server.count_requests(" auth"), 1u);
}

TEST_F(HubDownload, SlowServerReportsProgressAndCancelStopsQuickly) {
    const std::string weights = random_bytes(3000000, 6);  // ~150 s at the rate below
    json files = tiny_repo(weights);
    files["model.safetensors"]["slow_bps"] = 20000;
    json config = {{"repos", {{"org/slow", {{"commit", kCommit}, {"files", files}}}}}};
    HubServer server(config, tmp.path);

    syn::run::CancelToken token;
    std::atomic<int> reports{0};
    std::atomic<long long> last_done{0}, total_seen{0};
    auto o = options(server);
    o.transfer.cancelled = [&] { return token.cancelled(); };
    o.progress = [&](const std::string& stage, long long done, long long total) {
        if (stage != "org/slow/model.safetensors") return;
        EXPECT_GE(done, last_done.load());
        last_done = done;
        total_seen = total;
        ++reports;
    };
    std::atomic<bool> cancelled{false};
    std::thread worker([&] {
        try {
            syn::hub::download_model("org/slow", "main", o);
        } catch (const syn::net::TransferCancelled&) {
            cancelled = true;
        }
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (reports < 5 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto cancel_at = std::chrono::steady_clock::now();
    token.cancel();
    worker.join();
    const double stop_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - cancel_at).count();

    EXPECT_GE(reports.load(), 5);
    EXPECT_EQ(total_seen.load(), static_cast<long long>(weights.size()));
    EXPECT_TRUE(cancelled.load());
    EXPECT_LT(stop_s, 5.0) << "the full transfer would take minutes";
    // The partial bytes wait in .incomplete; nothing looks complete.
    const fs::path blobs = repo_dir("org/slow") / "blobs";
    const std::string sha = syn::sha256_hex(weights);
    EXPECT_FALSE(fs::exists(blobs / sha));
    EXPECT_TRUE(fs::exists(blobs / (sha + ".incomplete")));
    EXPECT_LT(fs::file_size(blobs / (sha + ".incomplete")), weights.size());
    EXPECT_FALSE(fs::exists(repo_dir("org/slow") / "snapshots" / kCommit / "model.safetensors"));
}

TEST_F(HubDownload, OfflineWarmCacheMakesNoRequest) {
    json config = {{"repos", {{"org/tiny", {{"commit", kCommit}, {"files", tiny_repo(random_bytes(1000, 7))}}}}}};
    HubServer server(config, tmp.path);
    auto online = syn::hub::download_model("org/tiny", "main", options(server));
    const size_t before = server.requests().size();
    ASSERT_GT(before, 0u);

    // HF_HUB_OFFLINE through the environment, as users set it.
    ::setenv("HF_HUB_OFFLINE", "1", 1);
    ::setenv("HF_ENDPOINT", server.endpoint().c_str(), 1);
    ::setenv("HF_HUB_CACHE", cache().string().c_str(), 1);
    auto o = syn::hub::HubOptions::from_environment();
    ::unsetenv("HF_HUB_OFFLINE");
    ::unsetenv("HF_ENDPOINT");
    ::unsetenv("HF_HUB_CACHE");
    EXPECT_TRUE(o.offline);
    EXPECT_EQ(o.endpoint, server.endpoint());
    EXPECT_EQ(o.cache_dir, cache().string());

    auto offline = syn::hub::download_model("org/tiny", "main", o);
    EXPECT_EQ(offline.folder, online.folder);
    EXPECT_EQ(syn::hub::download_file("org/tiny", "config.json", "main", o), online.folder + "/config.json");
    EXPECT_EQ(server.requests().size(), before) << "offline mode must not touch the network";
}

TEST_F(HubDownload, OfflineColdCacheSaysWhatIsMissingAndHow) {
    json config = {{"repos", {{"org/tiny", {{"commit", kCommit}, {"files", tiny_repo("w")}}}}}};
    HubServer server(config, tmp.path);
    auto o = options(server);
    o.offline = true;
    try {
        syn::hub::download_model("org/tiny", "main", o);
        FAIL() << "expected an error";
    } catch (const syn::Error& e) {
        std::string m = e.what();
        for (const char* part : {"HF_HUB_OFFLINE", "config.json", "model.safetensors", "models--org--tiny",
                                 "refs/main", "synesthesia fetch org/tiny"})
            EXPECT_NE(m.find(part), std::string::npos) << part << " missing from: " << m;
        EXPECT_NE(m.find(cache().string()), std::string::npos) << m;
    }
    EXPECT_EQ(server.requests().size(), 0u);
}

TEST_F(HubDownload, UnreachableHubFailsFastWithManualInstructions) {
    syn::hub::HubOptions o;
    o.endpoint = "http://127.0.0.1:" + std::to_string(closed_port());
    o.cache_dir = cache().string();
    try {
        syn::hub::download_model("bert-base-uncased", "main", o);
        FAIL() << "expected a network error";
    } catch (const syn::net::NetworkError& e) {
        std::string m = e.what();
        EXPECT_FALSE(e.transient());
        EXPECT_NE(m.find("models--bert-base-uncased"), std::string::npos) << m;
        EXPECT_NE(m.find("config.json"), std::string::npos) << m;
    }
    // The hand-made layout that message describes is what the loaders find.
    const fs::path repo = repo_dir("bert-base-uncased");
    write(repo / "snapshots" / "manual" / "config.json", "{}");
    write(repo / "snapshots" / "manual" / "model.safetensors", "w");
    write(repo / "refs" / "main", "manual");
    auto r = syn::hub::download_model("bert-base-uncased", "main", o);  // unreachable: falls back to the cache
    EXPECT_EQ(r.folder, (repo / "snapshots" / "manual").string());
    auto resolved = syn::resolve_model("bert-base-uncased", "main", cache().string());
    ASSERT_TRUE(resolved.has_value());
    EXPECT_EQ(resolved->folder, r.folder);
}

// --- archives ------------------------------------------------------------------------------------

void make_zip(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& entries) {
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    ASSERT_NE(z, nullptr);
    for (const auto& [name, content] : entries) {
        if (!name.empty() && name.back() == '/') {
            ASSERT_GE(zip_dir_add(z, name.c_str(), ZIP_FL_ENC_UTF_8), 0) << zip_strerror(z);
            continue;
        }
        char* copy = static_cast<char*>(std::malloc(content.size() + 1));
        std::memcpy(copy, content.data(), content.size());
        zip_source_t* src = zip_source_buffer(z, copy, content.size(), 1);
        ASSERT_GE(zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE), 0) << zip_strerror(z);
    }
    ASSERT_EQ(zip_close(z), 0);
}

size_t count_files(const fs::path& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it) ++n;
    return n;
}

TEST(ZipExtraction, ExtractsFilesAndFolders) {
    TempDir tmp;
    make_zip(tmp.path / "ok.zip", {{"CoLA/", ""}, {"CoLA/dev.tsv", "a\tb\n"}, {"CoLA/original/raw.tsv", "x"}});
    syn::datasets::extract_zip((tmp.path / "ok.zip").string(), (tmp.path / "out").string());
    EXPECT_EQ(slurp(tmp.path / "out" / "CoLA" / "dev.tsv"), "a\tb\n");
    EXPECT_EQ(slurp(tmp.path / "out" / "CoLA" / "original" / "raw.tsv"), "x");
}

TEST(ZipExtraction, RefusesParentAndAbsolutePathsAndWritesNothing) {
    TempDir tmp;
    for (const std::string bad : {"../evil", "/abs", "ok/../../evil2"}) {
        SCOPED_TRACE(bad);
        const fs::path zip = tmp.path / "bad.zip";
        make_zip(zip, {{"good.txt", "fine"}, {bad, "pwned"}});
        const fs::path out = tmp.path / "target" / "inner";
        try {
            syn::datasets::extract_zip(zip.string(), out.string());
            FAIL() << "expected a refusal";
        } catch (const syn::Error& e) {
            EXPECT_NE(std::string(e.what()).find("'" + bad + "'"), std::string::npos) << e.what();
        }
        EXPECT_EQ(count_files(tmp.path / "target"), 0u);
        EXPECT_FALSE(fs::exists(tmp.path / "target" / "evil"));
        EXPECT_FALSE(fs::exists("/abs"));
    }
}

TEST(ZipExtraction, NotAZipIsAnErrorNamingTheFile) {
    TempDir tmp;
    write(tmp.path / "x.zip", "plain text");
    try {
        syn::datasets::extract_zip((tmp.path / "x.zip").string(), (tmp.path / "o").string());
        FAIL();
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("x.zip"), std::string::npos) << e.what();
    }
}

// --- dataset fetchers ----------------------------------------------------------------------------

TEST_F(HubDownload, DatasetFetchDownloadsVerifiesAndExtracts) {
    const std::string csv = "caption1,caption2,agg_score,sampling_method\n";
    make_zip(tmp.path / "glue.zip", {{"RTE/dev.tsv", "index\tsentence1\n"}});
    json files;
    files["sts_val.csv"] = file("sts_val.csv", csv);
    files["RTE.zip"] = file("RTE.zip", slurp(tmp.path / "glue.zip"), {{"lfs", true}});
    json config = {{"repos", {{"data/host", {{"commit", kCommit}, {"files", files}}}}}};
    HubServer server(config, tmp.path);
    const std::string base = server.endpoint() + "/data/host/resolve/main/";
    const std::string data = (tmp.path / "data").string();

    syn::datasets::DatasetEntry e;
    e.id = "test";
    e.files.push_back({base + "sts_val.csv", "cxc/sts_val.csv", syn::sha256_hex(csv)});
    e.files.push_back({base + "RTE.zip", "glue/RTE.zip", "", "", true, "glue/RTE/dev.tsv"});
    syn::net::TransferOptions t;
    t.retry_base_delay_ms = 10;
    auto report = syn::datasets::fetch_dataset(e, data, t);
    EXPECT_EQ(report.downloaded, 2);
    EXPECT_EQ(slurp(fs::path(data) / "cxc" / "sts_val.csv"), csv);
    EXPECT_EQ(slurp(fs::path(data) / "glue" / "RTE" / "dev.tsv"), "index\tsentence1\n");
    EXPECT_FALSE(fs::exists(fs::path(data) / "glue" / "RTE.zip"));  // removed after extraction
    EXPECT_EQ(syn::datasets::fetch_dataset(e, data, t).present, 2);

    // A known checksum that does not match: rejected, nothing kept.
    syn::datasets::DatasetEntry bad;
    bad.id = "bad";
    bad.files.push_back({base + "sts_val.csv", "other/sts_val.csv", "", "deadbeef"});
    EXPECT_THROW(syn::datasets::fetch_dataset(bad, data, t), syn::Error);
    EXPECT_FALSE(fs::exists(fs::path(data) / "other" / "sts_val.csv"));
    EXPECT_FALSE(fs::exists(fs::path(data) / "other" / "sts_val.csv.incomplete"));

    // 404 from a dataset host names the URL.
    syn::datasets::DatasetEntry missing;
    missing.id = "missing";
    missing.files.push_back({base + "nope.csv", "x/nope.csv"});
    try {
        syn::datasets::fetch_dataset(missing, data, t);
        FAIL();
    } catch (const syn::net::HttpStatusError& err) {
        EXPECT_EQ(err.status(), 404);
        EXPECT_NE(std::string(err.what()).find("nope.csv"), std::string::npos) << err.what();
    }
}

TEST(DatasetTable, CoversTheStudyWithOfficialAddresses) {
    using syn::datasets::find_dataset;
    for (const char* id : {"cxc", "coco-captions", "glue", "taming-celebahq", "inception"})
        ASSERT_NE(find_dataset(id), nullptr) << id;
    EXPECT_EQ(find_dataset("cxc")->files.size(), 2u);
    EXPECT_NE(find_dataset("cxc")->files[0].url.find("google-research-datasets/Crisscrossed-Captions"), std::string::npos);
    EXPECT_EQ(find_dataset("coco-captions")->files[0].url,
              "http://images.cocodataset.org/annotations/annotations_trainval2014.zip");
    EXPECT_EQ(find_dataset("inception")->files[0].sha256_prefix, "6726825d");
    for (const auto& e : syn::datasets::study_datasets())
        for (const auto& f : e.files) {
            EXPECT_TRUE(f.url.rfind("https://", 0) == 0 || f.url.rfind("http://images.cocodataset.org/", 0) == 0)
                << f.url;
            EXPECT_FALSE(f.relpath.empty());
            EXPECT_TRUE(!f.extract || !f.marker.empty()) << f.url;
        }
    std::string steps = syn::datasets::mm_celeba_hq_instructions("/data");
    EXPECT_NE(steps.find("/data/mm-celeba-hq/text"), std::string::npos);
    EXPECT_NE(steps.find("IIGROUP/MM-CelebA-HQ-Dataset"), std::string::npos);
}

TEST(DatasetTable, FormatsMrpcLikeTheGlueScript) {
    TempDir tmp;
    const fs::path d = tmp.path / "MRPC";
    write(d / "msr_paraphrase_train.txt",
          "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n1\t10\t11\tA\tB\r\n0\t20\t21\tC\tD\r\n");
    write(d / "msr_paraphrase_test.txt", "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t30\t31\tE\tF\n");
    write(d / "dev_ids.tsv", "20\t21\n");
    syn::datasets::format_mrpc(d.string());
    EXPECT_EQ(slurp(d / "dev.tsv"), "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t20\t21\tC\tD\n");
    EXPECT_EQ(slurp(d / "train.tsv"), "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t10\t11\tA\tB\n");
    EXPECT_EQ(slurp(d / "test.tsv"), "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t30\t31\tE\tF\n");
}

// --- the `fetch` command's logic -------------------------------------------------------------------

TEST(FetchCommand, StudyPlanListsCatalogModelsDataAndManualSteps) {
    syn::run::FetchOptions o;
    o.study = true;
    o.data_dir = "/nowhere/data";
    auto plan = syn::run::plan_fetch(o);
    for (const char* m : {"bert-base-cased", "roberta-large", "openai/clip-vit-base-patch16", "openai/clip-vit-large-patch14-336"})
        EXPECT_NE(std::find(plan.models.begin(), plan.models.end(), m), plan.models.end()) << m;
    for (const auto& m : plan.models) EXPECT_EQ(m.rfind("lexical/", 0), std::string::npos) << m;
    EXPECT_EQ(plan.data.size(), syn::datasets::study_datasets().size());
    syn::hub::HubOptions hub;
    hub.endpoint = "https://huggingface.co";
    hub.cache_dir = "/nowhere/hub";
    std::string text = syn::run::describe_plan(plan, hub);
    for (const char* part : {"/nowhere/hub", "models--bert-base-cased", "/nowhere/data/cxc/sts_val.csv",
                             "annotations_trainval2014.zip", "mm-celeba-hq"})
        EXPECT_NE(text.find(part), std::string::npos) << part;

    syn::run::FetchOptions bad;
    bad.datasets = {"imagenet"};
    EXPECT_THROW(syn::run::plan_fetch(bad), syn::Error);
    EXPECT_THROW(syn::run::plan_fetch(syn::run::FetchOptions{}), syn::Error);
}

TEST(FetchCommand, WithoutNetworkEveryFailureSaysWhatToProvide) {
    TempDir tmp;
    syn::run::FetchOptions o;
    o.repos = {"bert-base-uncased"};
    o.data_dir = (tmp.path / "data").string();
    auto plan = syn::run::plan_fetch(o);
    const std::string unreachable = "http://127.0.0.1:" + std::to_string(closed_port());
    // A dataset whose host cannot be reached (the real table's hosts are never contacted by tests).
    syn::datasets::DatasetEntry cxc;
    cxc.id = "cxc";
    cxc.files.push_back({unreachable + "/sts_val.csv", "cxc/sts_val.csv"});
    plan.data.push_back(&cxc);
    syn::hub::HubOptions hub;
    hub.endpoint = unreachable;
    hub.cache_dir = (tmp.path / "hub").string();
    syn::run::CancelToken token;
    auto out = syn::run::run_fetch(plan, hub, {}, &token);
    ASSERT_EQ(out.failures.size(), 2u);
    EXPECT_TRUE(out.done.empty());
    EXPECT_NE(out.failures[0].find(hub.cache_dir), std::string::npos) << out.failures[0];
    EXPECT_NE(out.failures[1].find("save it as " + o.data_dir + "/cxc/sts_val.csv"), std::string::npos)
        << out.failures[1];
}

}  // namespace

// The token `huggingface-cli login` writes is used as the hub client uses it (issue 16).
TEST(HfToken, EnvironmentThenTheLoginTokenFile) {
    const fs::path home = fs::temp_directory_path() / ("syn_hf_token_" + std::to_string(::getpid()));
    fs::create_directories(home / "hf");
    for (const char* v : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH"}) ::unsetenv(v);
    ::setenv("HF_HOME", (home / "hf").c_str(), 1);
    EXPECT_EQ(syn::hub::hf_token_file(), (home / "hf" / "token").string());
    EXPECT_EQ(syn::hub::hf_token(), "");  // no file: anonymous
    std::ofstream(home / "hf" / "token") << "hf_fromTheLoginFile\n";
    EXPECT_EQ(syn::hub::hf_token(), "hf_fromTheLoginFile");
    ::setenv("HF_TOKEN", "hf_fromTheEnvironment", 1);
    EXPECT_EQ(syn::hub::hf_token(), "hf_fromTheEnvironment");
    ::unsetenv("HF_TOKEN");
    ::setenv("HF_TOKEN_PATH", (home / "elsewhere").c_str(), 1);
    std::ofstream(home / "elsewhere") << "  hf_padded \r\n";
    EXPECT_EQ(syn::hub::hf_token(), "hf_padded");
    std::ofstream(home / "elsewhere") << std::string("hf\x01binary", 9);
    EXPECT_EQ(syn::hub::hf_token(), "");  // not a token: never sent
    ::unsetenv("HF_TOKEN_PATH");
    ::unsetenv("HF_HOME");
    ::setenv("XDG_CACHE_HOME", (home / "xdg").c_str(), 1);
    EXPECT_EQ(syn::hub::hf_token_file(), (home / "xdg" / "huggingface" / "token").string());
    ::unsetenv("XDG_CACHE_HOME");
    fs::remove_all(home);
}
