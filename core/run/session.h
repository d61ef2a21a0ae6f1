#pragma once
// The resident model session: loaded models kept between jobs, so that a second prompt search,
// Generate click or CLIP-S answers without reading gigabytes of weights again.
//
// One ModelSession is owned by whoever runs the jobs one after another: the workbench's compute
// thread, or one CLI command. Entries are keyed by (what, folder state, device, dtype); the folder
// state is the list of its files with sizes and modification times, so a checkpoint replaced on
// disk is loaded afresh, without hashing gigabytes on every lookup. Resident bytes (parameters and
// buffers) are held under a budget; the least recently used entries go first. A job that still
// holds a model keeps it alive (shared_ptr) after eviction; the session just stops handing it out.
//
// Embedding caches are kept too (their in-memory index of every cached row), so captions cached
// on disk are read from disk once per session, not once per search.
//
// Not thread-safe by design: the compute thread is its only user (a mutex guards against misuse
// from a second thread all the same). No torch types in this header (the GUI includes it).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace syn::text {
class Tokenizer;
}
namespace syn::models {
class TextEncoder;
class ClipVisionEncoder;
class InceptionV3;
struct TamingModel;
}  // namespace syn::models

namespace syn::run {

class EmbeddingCache;
struct EmbeddingCacheKey;
struct DeviceChoice;

// An encoder with its tokenizer, loaded from one folder.
struct ResidentTextModel {
    std::shared_ptr<models::TextEncoder> encoder;
    std::shared_ptr<text::Tokenizer> tokenizer;
};

// Loads an encoder and its tokenizer from `folder` (what text_model keeps, without a session).
std::shared_ptr<ResidentTextModel> load_text_model(const std::string& folder, const DeviceChoice& device);

// What a session did, for the workbench's status line, the benchmark and the tests.
struct SessionStats {
    std::size_t loads = 0;      // models built from disk
    std::size_t checkpoint_reads = 0;  // weight files read for them (CLIP's two towers: one read)
    std::size_t hits = 0;       // models handed out from memory
    std::size_t cache_indexes = 0;  // embedding-cache folders indexed (read from disk)
    std::size_t derived_made = 0, derived_hits = 0;  // derived() values computed / reused
    std::size_t evictions = 0;  // entries dropped to stay under the budget
    std::size_t resident_bytes = 0;
    std::size_t budget_bytes = 0;
    std::size_t entries = 0;
};

// $SYN_SESSION_MEMORY ("6G", "512M", bytes) when set, else half of the machine's physical memory.
// Throws syn::Error naming the variable when it does not parse.
std::size_t default_session_budget();

// The files of `path` (a folder: its regular files; a file: itself) with sizes and modification
// times, as one string: equal strings mean nothing was replaced. Throws syn::Error when absent.
std::string folder_state(const std::string& path);

class ModelSession {
public:
    explicit ModelSession(std::size_t budget_bytes = default_session_budget());
    ~ModelSession();
    ModelSession(const ModelSession&) = delete;
    ModelSession& operator=(const ModelSession&) = delete;

    // A text encoder and its tokenizer from `folder` (config.json + weights + tokenizer files).
    std::shared_ptr<const ResidentTextModel> text_model(const std::string& folder, const DeviceChoice& device);
    // CLIP's vision tower from a CLIP folder.
    std::shared_ptr<models::ClipVisionEncoder> clip_vision(const std::string& folder, const DeviceChoice& device);
    // A taming folder (VQGAN + GPT): the VQGAN in float32, the GPT in device.dtype (as sampling runs).
    std::shared_ptr<models::TamingModel> taming(const std::string& folder, const DeviceChoice& device);
    // torchvision's Inception v3 for the Inception Score, float32.
    std::shared_ptr<models::InceptionV3> inception(const std::string& weights, const DeviceChoice& device);
    // The embedding cache of (root, key), indexed once and kept (rows stored through it stay in it).
    std::shared_ptr<EmbeddingCache> embedding_cache(const std::string& root, const EmbeddingCacheKey& key);

    // Anything else worth keeping between jobs (the prompt search's normalised caption matrix):
    // `make` runs on a miss and says how many bytes the value holds (counted against the budget).
    using Derived = std::pair<std::shared_ptr<const void>, std::size_t>;
    std::shared_ptr<const void> derived(const std::string& key, const std::function<Derived()>& make);

    SessionStats stats() const;
    // Drops every entry (the workbench's "Free memory"; tests).
    void clear();

private:
    struct Entry {
        std::shared_ptr<void> value;
        std::size_t bytes = 0;
    };
    enum class Kind { model, cache_index, derived };  // which counters a lookup moves
    std::shared_ptr<void> get_or_load(const std::string& key, const std::function<Entry()>& load,
                                      Kind kind = Kind::model);
    void evict_to_fit(std::size_t incoming);
    // An entry's size changed (an embedding cache took new rows): re-account it, evict to fit.
    void recount(const std::string& key, std::size_t bytes);

    mutable std::recursive_mutex mutex_;  // recursive: a derived value is made from models the session loads
    std::size_t budget_;
    SessionStats stats_;
    std::list<std::string> recency_;  // most recently used first
    std::map<std::string, std::pair<Entry, std::list<std::string>::iterator>> entries_;
};

}  // namespace syn::run
