#include "core/run/embedding_cache.h"

#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/file_checks.h"
#include "core/io/safetensors.h"
#include "core/io/sha256.h"

namespace fs = std::filesystem;

namespace syn::run {

namespace {

constexpr const char* kTempSuffix = ".tmp.writing";
constexpr const char* kShardSuffix = ".safetensors";

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The final naming of a shard: the only files ever indexed or set aside.
bool is_shard_name(const std::string& name) {
    return name.rfind("shard-", 0) == 0 && ends_with(name, kShardSuffix) && name.find(".tmp.") == std::string::npos;
}

// A shard being written by store() (of this version): "<shard name>.tmp.writing".
bool is_temp_shard_name(const std::string& name) {
    return ends_with(name, std::string(kShardSuffix) + kTempSuffix) &&
           is_shard_name(name.substr(0, name.size() - std::string(kTempSuffix).size()));
}

// shard-<ns since the epoch>-<pid>-<n>-<random>.safetensors: name order is (about) age order, and
// names never collide between processes, objects or hosts sharing the folder.
std::string unique_shard_name() {
    static std::atomic<uint64_t> counter{0};
    const auto stamp = std::chrono::system_clock::now().time_since_epoch().count();
    std::random_device rd;
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%08x", static_cast<unsigned>(rd()));
    return "shard-" + std::to_string(stamp) + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
           "-" + suffix + kShardSuffix;
}

using FileId = std::pair<uint64_t, uint64_t>;  // (st_dev, st_ino)

std::optional<FileId> file_id(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
    return FileId(st.st_dev, st.st_ino);
}

// An exclusive flock on <folder>/lock for the lifetime of the object. flock blocks without a
// timeout: acceptable because every holder holds it only for a metadata step (create and lock one
// temporary file, write key.json, unlink dead writers' temporary files, rename a bad shard into
// corrupt/), never while writing or reading shard data, and the kernel releases it when the holder
// dies, however it dies. A cache folder where the lock file cannot be created (read-only) is used
// without it: nothing can be written there anyway. Each object opens its own file description, so
// two EmbeddingCache objects in one process exclude each other too; never nest two.
class FolderLock {
public:
    explicit FolderLock(const std::string& folder) {
        fd_ = ::open((fs::path(folder) / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) return;
        while (::flock(fd_, LOCK_EX) != 0) {
            if (errno != EINTR) {
                ::close(fd_);
                fd_ = -1;
                return;
            }
        }
    }
    ~FolderLock() {
        if (fd_ >= 0) ::close(fd_);  // releases the lock
    }
    FolderLock(const FolderLock&) = delete;
    FolderLock& operator=(const FolderLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace

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
    if (!fs::exists(key_path)) {
        FolderLock lock(folder_);
        if (!fs::exists(key_path)) write_file_atomically(key_path, key_json.dump(2));
    }

    refresh();
}

void EmbeddingCache::refresh() {
    std::error_code ec;
    // The shards, in name order (shard-<time>-...: oldest first), without temporary files (writes
    // in progress in other processes, or left behind by a kill) or anything else.
    std::vector<fs::path> paths;
    std::vector<std::string> temps;
    for (fs::directory_iterator it(folder_, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& p = it->path();
        const std::string name = p.filename().string();
        if (is_temp_shard_name(name)) temps.push_back(name);
        if (!is_shard_name(name)) continue;
        std::error_code type_ec;
        if (!it->is_regular_file(type_ec) || indexed_.count(name)) continue;
        paths.push_back(p);
    }
    if (ec) throw file_error(folder_, "cannot list the embedding cache folder: " + ec.message());
    std::sort(paths.begin(), paths.end());
    if (!temps.empty()) remove_dead_writers_temp_files(temps);

    struct Shard {
        std::string path;
        FileId id;
        SafetensorsFile file;
        const RawTensor* embeddings;
        const RawTensor* hashes;
    };
    std::vector<Shard> shards;
    for (const fs::path& p : paths) {
        const std::string path = p.string();
        // Gone since the listing: another process set it aside. Not ours to index or report.
        const std::optional<FileId> id = file_id(path);
        if (!id) continue;
        indexed_.insert(p.filename().string());  // read once, whether kept or set aside
        SafetensorsFile file;
        try {
            file = read_safetensors(path);
        } catch (const std::exception& e) {
            // read_safetensors names the file first: keep only the reason.
            std::string why = e.what();
            if (why.compare(0, path.size() + 2, path + ": ") == 0) why = why.substr(path.size() + 2);
            set_aside_shard(path, why, *id);
            continue;
        }
        auto emb = file.tensors.find("embeddings");
        auto hashes = file.tensors.find("text_sha256");
        if (emb == file.tensors.end() || hashes == file.tensors.end() || emb->second.dtype != DType::F32 ||
            hashes->second.dtype != DType::U8 || emb->second.shape.size() != 2 || hashes->second.shape.size() != 2 ||
            hashes->second.shape[1] != 32 || hashes->second.shape[0] != emb->second.shape[0] ||
            emb->second.shape[1] <= 0) {
            set_aside_shard(path,
                            "not an embedding-cache shard (expected embeddings F32 [N, D] and "
                            "text_sha256 U8 [N, 32])",
                            *id);
            continue;
        }
        const RawTensor* e = &emb->second;
        const RawTensor* h = &hashes->second;
        shards.push_back({path, *id, std::move(file), e, h});
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
                                        " in the other shards",
                            s.id);
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

void EmbeddingCache::remove_dead_writers_temp_files(const std::vector<std::string>& names) {
    // A writer creates and flocks its temporary file under the folder lock and keeps that flock
    // until after the rename, so under the folder lock a temporary file whose flock can be taken
    // belongs to a dead writer (or has just been renamed into place: then the path is gone, or
    // names another file, and is left alone).
    FolderLock lock(folder_);
    for (const std::string& name : names) {
        const std::string path = (fs::path(folder_) / name).string();
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0) continue;
        struct stat st {};
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::fstat(fd, &st) == 0 &&
            file_id(path) == std::optional<FileId>(FileId(st.st_dev, st.st_ino)))
            ::unlink(path.c_str());
        ::close(fd);
    }
}

void EmbeddingCache::set_aside_shard(const std::string& path, const std::string& why, std::pair<uint64_t, uint64_t> id) {
    const fs::path aside_dir = fs::path(folder_) / "corrupt";
    const std::string name = fs::path(path).filename().string();
    // Only a file with the final shard naming (never another process's temporary file), and only
    // if the path, re-checked under the lock, still names the very file read: finished shards are
    // never modified (they appear by rename only), so that file is bad, not half written. Gone or
    // replaced: another process already set it aside; read again on the next refresh if it comes back.
    FolderLock lock(folder_);
    if (!is_shard_name(name) || file_id(path) != std::optional<FileId>(id)) {
        indexed_.erase(name);
        return;
    }
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
    std::vector<std::pair<Digest, size_t>> fresh;
    for (size_t i = 0; i < texts.size(); ++i) {
        Digest dg = digest_of(texts[i]);
        if (index_.count(dg)) continue;
        fresh.emplace_back(dg, i);
    }
    if (fresh.empty()) return;
    const int64_t n = static_cast<int64_t>(fresh.size());
    const uint64_t emb_size = static_cast<uint64_t>(n) * dim * sizeof(float), hash_size = static_cast<uint64_t>(n) * 32;

    // The safetensors layout write_safetensors produces (metadata first, tensors in this order,
    // header padded with spaces to a multiple of 8), written here so that the temporary file is
    // this process's own, locked, and renamed by it.
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    header["__metadata__"] = {{"format", "synesthesia-embedding-cache-1"}};
    header["embeddings"] = {{"dtype", "F32"}, {"shape", {n, dim}}, {"data_offsets", {uint64_t(0), emb_size}}};
    header["text_sha256"] = {{"dtype", "U8"}, {"shape", {n, 32}}, {"data_offsets", {emb_size, emb_size + hash_size}}};
    std::string head = header.dump();
    head.append((8 - head.size() % 8) % 8, ' ');
    std::string bytes(8 + head.size() + emb_size + hash_size, '\0');
    for (int b = 0; b < 8; ++b) bytes[b] = static_cast<char>((static_cast<uint64_t>(head.size()) >> (8 * b)) & 0xff);
    std::memcpy(bytes.data() + 8, head.data(), head.size());
    char* emb = bytes.data() + 8 + head.size();
    char* hashes = emb + emb_size;
    for (size_t k = 0; k < fresh.size(); ++k) {
        std::memcpy(emb + k * dim * sizeof(float), rows.data() + fresh[k].second * dim, dim * sizeof(float));
        std::memcpy(hashes + 32 * k, fresh[k].first.data(), 32);
    }

    // Create the temporary file and take its flock under the folder lock, so that no other
    // process's cleanup ever sees it unlocked while this one lives; then write without the lock.
    std::string name, tmp;
    int fd = -1;
    {
        FolderLock lock(folder_);
        for (int attempt = 0; fd < 0; ++attempt) {
            name = unique_shard_name();
            tmp = (fs::path(folder_) / (name + kTempSuffix)).string();
            fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd < 0 && (errno != EEXIST || attempt >= 10))
                throw file_error(tmp, std::string("cannot create a cache shard: ") + std::strerror(errno));
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            throw file_error(tmp, std::string("cannot lock a new cache shard: ") + std::strerror(err));
        }
    }
    const std::string path = (fs::path(folder_) / name).string();
    try {
        write_all(fd, bytes.data(), bytes.size(), tmp);
        if (::fsync(fd) != 0) throw file_error(tmp, std::string("fsync failed: ") + std::strerror(errno));
        // Renamed while still locked: a cleanup that takes the flock finds the path gone.
        if (::rename(tmp.c_str(), path.c_str()) != 0)
            throw file_error(path, std::string("rename failed: ") + std::strerror(errno));
        fsync_parent_directory(path);
    } catch (...) {
        ::unlink(tmp.c_str());
        ::close(fd);
        throw;
    }
    ::close(fd);
    indexed_.insert(name);
    dim_ = dim;
    for (const auto& [dg, i] : fresh)
        index_.emplace(dg, std::vector<float>(rows.begin() + i * dim, rows.begin() + (i + 1) * dim));
}

}  // namespace syn::run
