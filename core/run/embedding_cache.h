#pragma once
// On-disk embedding cache keyed by model fingerprint + pooling + dtype + text. Each (model,
// pooling, dtype) has a folder of shards; a shard is a safetensors file written atomically with
//   "embeddings"  F32 [N, D]
//   "text_sha256" U8  [N, 32]   (SHA-256 of each text's UTF-8 bytes)
// Jobs store one shard per finished chunk, so a cancelled or killed job leaves complete shards
// only: the cache stays consistent and the next run resumes from what was stored.
#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
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
    // caller). Temporary files of interrupted atomic writes ("<name>.tmp.XXXXXX") are ignored.
    // Throws syn::Error only when the folder itself cannot be created or listed.
    EmbeddingCache(const std::string& root, const EmbeddingCacheKey& key);

    // Indexes shards that appeared in the folder since (written by another process); shards already
    // read are not read again. The resident session calls it before handing the cache out.
    void refresh();

    // One line per shard set aside by the constructor: "<shard>: <why>; moved to <where>".
    const std::vector<std::string>& set_aside() const { return set_aside_; }

    // Row of a text's embedding, or nullopt.
    std::optional<std::vector<float>> find(const std::string& text) const;
    size_t size() const { return index_.size(); }
    int64_t dim() const { return dim_; }
    const std::string& folder() const { return folder_; }

    // Stores rows (texts.size() x dim, row-major) as a new shard; texts already cached are skipped.
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

    void set_aside_shard(const std::string& path, const std::string& why);
};

}  // namespace syn::run
