#pragma once
// On-disk embedding cache keyed by model fingerprint + pooling + dtype + text. Each (model,
// pooling, dtype) has a folder of shards; a shard is a safetensors file written atomically with
//   "embeddings"  F32 [N, D]
//   "text_sha256" U8  [N, 32]   (SHA-256 of each text's UTF-8 bytes)
// Jobs store one shard per finished chunk, so a cancelled or killed job leaves complete shards
// only: the cache stays consistent and the next run resumes from what was stored.
//
// Several processes (and several EmbeddingCache objects in one process) may use one folder at once
// (issue 15). The folder's files:
//   key.json                                       the key, written once
//   shard-<ns>-<pid>-<n>-<random>.safetensors      finished shards, never modified (older ones:
//                                                  shard-<ns>-<n>.safetensors)
//   shard-....safetensors.tmp.writing              a shard being written: created and flock'ed by
//                                                  its writer, renamed to its final name when whole
//   lock                                           flock'ed (exclusive) around each change of
//                                                  the folder's metadata, see below
//   corrupt/                                       shards set aside
// There is no index or manifest file: the folder listing is the index, and a shard appears in it
// only by an atomic rename, so readers never see half a shard and never need the lock. The lock
// serialises the few metadata steps that must not interleave: creating (and locking) a temporary
// shard file, writing key.json, removing temporary files of dead writers (a temporary file whose
// own flock nobody holds), and moving a shard to corrupt/ (re-checked under the lock: only files
// with the final shard naming, still the very file that was read). A killed process's flocks are
// released by the kernel, so a killed writer never wedges the cache.
#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace syn::run {

struct EmbeddingCacheKey {
    std::string model_fingerprint;  // model_fingerprint(folder)
    std::string pooling;            // "mean", "projected+l2", ...
    std::string dtype;              // "float32", "bfloat16", ...
};

// $SYN_CACHE_DIR, else $XDG_CACHE_HOME/synesthesia, else ~/.cache/synesthesia.
std::string default_cache_root();

// SHA-256 over config.json and the weight files of a model folder (names and contents). Memoised
// per process by (path, size, mtime).
std::string model_fingerprint(const std::string& folder);

class EmbeddingCache {
public:
    // Opens (creating) <root>/embeddings/<hash of key>/ and indexes every shard in it. A shard that
    // cannot be read (truncated, not safetensors, wrong tensor names / dtypes / shapes, or a width
    // other than the one most cached rows have) is not an error: it is moved aside to
    // <folder>/corrupt/<name> for a human to inspect, reported on stderr in one line, recorded in
    // set_aside(), and its rows are simply missing (recomputed and stored as a new shard by the
    // caller). Only files named shard-*.safetensors are shards. Temporary files of other processes'
    // writes in progress are ignored; those of dead writers ("<name>.tmp.writing" that no process
    // holds locked) are removed; those of older versions' atomic writes ("<name>.tmp.XXXXXX") are
    // ignored and left alone.
    // Throws syn::Error only when the folder itself cannot be created or listed.
    EmbeddingCache(const std::string& root, const EmbeddingCacheKey& key);

    // Indexes shards that appeared in the folder since (written by another process or another
    // EmbeddingCache object); shards already read are not read again. Removes temporary files of
    // dead writers. The resident session calls it before handing the cache out.
    void refresh();

    // One line per shard set aside by the constructor: "<shard>: <why>; moved to <where>".
    const std::vector<std::string>& set_aside() const { return set_aside_; }

    // Row of a text's embedding, or nullopt.
    std::optional<std::vector<float>> find(const std::string& text) const;
    size_t size() const { return index_.size(); }
    int64_t dim() const { return dim_; }
    const std::string& folder() const { return folder_; }

    // Stores rows (texts.size() x dim, row-major) as a new shard; texts already cached are skipped.
    // The shard is written to "<name>.tmp.writing" (flock'ed by this process while it exists),
    // fsynced and renamed into place; safe while other processes store into the same folder.
    void store(const std::vector<std::string>& texts, const std::vector<float>& rows, int64_t dim);

private:
    using Digest = std::array<uint8_t, 32>;
    struct DigestHash {
        size_t operator()(const Digest& d) const;
    };
    static Digest digest_of(const std::string& text);

    std::string folder_;
    int64_t dim_ = 0;
    std::unordered_map<Digest, std::vector<float>, DigestHash> index_;
    std::vector<std::string> set_aside_;
    std::set<std::string> indexed_;  // shard file names read (kept or set aside)

    // `id`: (st_dev, st_ino) of the file as read; it is moved only if the path still names it.
    void set_aside_shard(const std::string& path, const std::string& why, std::pair<uint64_t, uint64_t> id);
    void remove_dead_writers_temp_files(const std::vector<std::string>& names);
};

}  // namespace syn::run
