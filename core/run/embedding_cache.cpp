#include "core/run/embedding_cache.h"

#include <openssl/sha.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/safetensors.h"
#include "core/io/sha256.h"

namespace fs = std::filesystem;

namespace syn::run {

std::string default_cache_root() {
    if (const char* v = std::getenv("SYN_CACHE_DIR"); v && *v) return v;
    if (const char* v = std::getenv("XDG_CACHE_HOME"); v && *v) return (fs::path(v) / "synesthesia").string();
    const char* home = std::getenv("HOME");
    return (fs::path(home && *home ? home : "/tmp") / ".cache" / "synesthesia").string();
}

std::string model_fingerprint(const std::string& folder) {
    static std::mutex mutex;
    static std::map<std::string, std::string> memo;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(folder)) {
        if (!e.is_regular_file()) continue;
        const std::string name = e.path().filename().string();
        const std::string ext = e.path().extension().string();
        if (name == "config.json" || ext == ".safetensors" || ext == ".bin" || ext == ".ckpt" || ext == ".pt" ||
            ext == ".pth" || name == "model.safetensors.index.json")
            files.push_back(e.path());
    }
    if (files.empty()) throw file_error(folder, "no config.json or weights to fingerprint");
    std::sort(files.begin(), files.end());
    std::string summary;
    for (const auto& f : files) {
        struct stat st {};
        ::stat(f.c_str(), &st);
        summary += f.string() + "|" + std::to_string(st.st_size) + "|" + std::to_string(st.st_mtim.tv_sec) + "." +
                   std::to_string(st.st_mtim.tv_nsec) + "\n";
    }
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (auto it = memo.find(summary); it != memo.end()) return it->second;
    }
    std::string manifest;
    for (const auto& f : files) manifest += f.filename().string() + " " + sha256_file(f.string()) + "\n";
    std::string fp = sha256_hex(manifest);
    std::lock_guard<std::mutex> lock(mutex);
    memo[summary] = fp;
    return fp;
}

size_t EmbeddingCache::DigestHash::operator()(const Digest& d) const {
    size_t h;
    std::memcpy(&h, d.data(), sizeof h);
    return h;
}

EmbeddingCache::Digest EmbeddingCache::digest_of(const std::string& text) {
    Digest d;
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d.data());
    return d;
}

EmbeddingCache::EmbeddingCache(const std::string& root, const EmbeddingCacheKey& key) {
    nlohmann::json key_json = {{"model_fingerprint", key.model_fingerprint},
                               {"pooling", key.pooling},
                               {"dtype", key.dtype},
                               {"format", 1}};
    const std::string key_text = key_json.dump();
    folder_ = (fs::path(root) / "embeddings" / sha256_hex(key_text).substr(0, 24)).string();
    std::error_code ec;
    fs::create_directories(folder_, ec);
    if (ec) throw file_error(folder_, "cannot create the embedding cache folder: " + ec.message());
    const std::string key_path = (fs::path(folder_) / "key.json").string();
    if (!fs::exists(key_path)) write_file_atomically(key_path, key_json.dump(2));

    refresh();
}

void EmbeddingCache::refresh() {
    std::error_code ec;
    // The shards, in name order (shard-<time>-...: oldest first), without the temporary files of
    // interrupted atomic writes (write_file_atomically: "<path>.tmp.XXXXXX", removed on failure
    // but left behind by a kill) or anything else.
    std::vector<fs::path> paths;
    for (fs::directory_iterator it(folder_, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        const std::string name = p.filename().string();
        if (name.find(".tmp.") != std::string::npos || p.extension() != ".safetensors") continue;
        std::error_code type_ec;
        if (!it->is_regular_file(type_ec) || indexed_.count(name)) continue;
        paths.push_back(p);
    }
    if (ec) throw file_error(folder_, "cannot list the embedding cache folder: " + ec.message());
    std::sort(paths.begin(), paths.end());

    struct Shard {
        std::string path;
        SafetensorsFile file;
        const RawTensor* embeddings;
        const RawTensor* hashes;
    };
    std::vector<Shard> shards;
    for (const fs::path& p : paths) {
        const std::string path = p.string();
        indexed_.insert(p.filename().string());  // read once, whether kept or set aside
        SafetensorsFile file;
        try {
            file = read_safetensors(path);
        } catch (const std::exception& e) {
            // read_safetensors names the file first: keep only the reason.
            std::string why = e.what();
            if (why.compare(0, path.size() + 2, path + ": ") == 0) why = why.substr(path.size() + 2);
            set_aside_shard(path, why);
            continue;
        }
        auto emb = file.tensors.find("embeddings");
        auto hashes = file.tensors.find("text_sha256");
        if (emb == file.tensors.end() || hashes == file.tensors.end() || emb->second.dtype != DType::F32 ||
            hashes->second.dtype != DType::U8 || emb->second.shape.size() != 2 || hashes->second.shape.size() != 2 ||
            hashes->second.shape[1] != 32 || hashes->second.shape[0] != emb->second.shape[0] ||
            emb->second.shape[1] <= 0) {
            set_aside_shard(path, "not an embedding-cache shard (expected embeddings F32 [N, D] and "
                                  "text_sha256 U8 [N, 32])");
            continue;
        }
        const RawTensor* e = &emb->second;
        const RawTensor* h = &hashes->second;
        shards.push_back({path, std::move(file), e, h});
    }

    // The width most cached rows have (ties: the oldest shard's); shards of another width are set aside.
    // Rows indexed before keep their width.
    std::map<int64_t, int64_t> rows_by_width;
    if (dim_ != 0) rows_by_width[dim_] += static_cast<int64_t>(index_.size()) + (int64_t(1) << 62);
    for (const Shard& s : shards) rows_by_width[s.embeddings->shape[1]] += s.embeddings->shape[0];
    for (const Shard& s : shards) {
        const int64_t d = s.embeddings->shape[1];
        if (dim_ == 0 || rows_by_width[d] > rows_by_width[dim_]) dim_ = d;
    }
    for (const Shard& s : shards) {
        const int64_t n = s.embeddings->shape[0], d = s.embeddings->shape[1];
        if (d != dim_) {
            set_aside_shard(s.path, "embedding width " + std::to_string(d) + " differs from " + std::to_string(dim_) +
                                        " in the other shards");
            continue;
        }
        const float* rows = reinterpret_cast<const float*>(s.embeddings->data);
        for (int64_t i = 0; i < n; ++i) {
            Digest dg;
            std::memcpy(dg.data(), s.hashes->data + 32 * i, 32);
            index_.emplace(dg, std::vector<float>(rows + i * d, rows + (i + 1) * d));
        }
    }
}

void EmbeddingCache::set_aside_shard(const std::string& path, const std::string& why) {
    const fs::path aside_dir = fs::path(folder_) / "corrupt";
    const std::string name = fs::path(path).filename().string();
    std::error_code ec;
    fs::create_directories(aside_dir, ec);
    fs::path dest = aside_dir / name;
    for (int k = 1; !ec && fs::exists(dest, ec) && k < 1000; ++k) dest = aside_dir / (name + "." + std::to_string(k));
    if (!ec) fs::rename(path, dest, ec);
    // Moved: no longer a shard. Not movable (read-only cache): skipped this run, reported again next run.
    const std::string where = ec ? "could not be moved aside (" + ec.message() + "), skipped" : "moved to " + dest.string();
    std::string line = path + ": " + why + "; " + where;
    std::fprintf(stderr, "embedding cache: %s; its rows will be recomputed\n", line.c_str());
    set_aside_.push_back(std::move(line));
}

std::optional<std::vector<float>> EmbeddingCache::find(const std::string& text) const {
    auto it = index_.find(digest_of(text));
    if (it == index_.end()) return std::nullopt;
    return it->second;
}

void EmbeddingCache::store(const std::vector<std::string>& texts, const std::vector<float>& rows, int64_t dim) {
    if (rows.size() != texts.size() * static_cast<size_t>(dim))
        throw Error("embedding cache: " + std::to_string(texts.size()) + " texts but " + std::to_string(rows.size()) +
                    " values for width " + std::to_string(dim));
    if (dim_ != 0 && dim != dim_)
        throw file_error(folder_, "embedding width " + std::to_string(dim) + " differs from the cached " +
                                      std::to_string(dim_));
    std::vector<uint8_t> emb_bytes, hash_bytes;
    std::vector<std::pair<Digest, size_t>> fresh;
    for (size_t i = 0; i < texts.size(); ++i) {
        Digest dg = digest_of(texts[i]);
        if (index_.count(dg)) continue;
        fresh.emplace_back(dg, i);
    }
    if (fresh.empty()) return;
    emb_bytes.resize(fresh.size() * dim * sizeof(float));
    hash_bytes.resize(fresh.size() * 32);
    for (size_t k = 0; k < fresh.size(); ++k) {
        std::memcpy(emb_bytes.data() + k * dim * sizeof(float), rows.data() + fresh[k].second * dim,
                    dim * sizeof(float));
        std::memcpy(hash_bytes.data() + 32 * k, fresh[k].first.data(), 32);
    }
    TensorMap shard;
    shard["embeddings"] = make_owned_tensor(DType::F32, {static_cast<int64_t>(fresh.size()), dim}, std::move(emb_bytes));
    shard["text_sha256"] = make_owned_tensor(DType::U8, {static_cast<int64_t>(fresh.size()), 32}, std::move(hash_bytes));
    const auto stamp = std::chrono::system_clock::now().time_since_epoch().count();
    const std::string name = "shard-" + std::to_string(stamp) + "-" + std::to_string(index_.size()) + ".safetensors";
    write_safetensors((fs::path(folder_) / name).string(), shard, {{"format", "synesthesia-embedding-cache-1"}},
                      {"embeddings", "text_sha256"});
    indexed_.insert(name);
    dim_ = dim;
    for (const auto& [dg, i] : fresh)
        index_.emplace(dg, std::vector<float>(rows.begin() + i * dim, rows.begin() + (i + 1) * dim));
}

}  // namespace syn::run
