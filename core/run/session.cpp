#include "core/run/session.h"

#include <torch/torch.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/quote.h"
#include "core/run/device_choice.h"
#include "core/run/embedding_cache.h"
#include "core/text/tokenizer.h"
#include "models/clip.h"
#include "models/inception_v3.h"
#include "models/registry.h"
#include "models/taming_config.h"

namespace fs = std::filesystem;

namespace syn::run {
namespace {

std::size_t module_bytes(const torch::nn::Module& module) {
    std::size_t bytes = 0;
    for (const auto& p : module.parameters()) bytes += p.numel() * p.element_size();
    for (const auto& b : module.buffers()) bytes += b.numel() * b.element_size();
    return bytes;
}

std::string device_key(const DeviceChoice& d) { return d.device.str() + "|" + d.dtype_name; }

}  // namespace

std::size_t default_session_budget() {
    if (const char* v = std::getenv("SYN_SESSION_MEMORY"); v && *v) {
        char* end = nullptr;
        errno = 0;
        const double number = std::strtod(v, &end);
        double scale = 1;
        const std::string unit = end ? std::string(end) : "";
        if (unit == "K" || unit == "k") scale = 1024.0;
        else if (unit == "M" || unit == "m") scale = 1024.0 * 1024;
        else if (unit == "G" || unit == "g") scale = 1024.0 * 1024 * 1024;
        else if (!unit.empty()) scale = -1;
        if (end == v || errno != 0 || scale < 0 || !(number >= 0) || number * scale > 1e18)
            throw Error("SYN_SESSION_MEMORY=" + quote_excerpt(v) +
                        ": expected a size such as 6G, 512M or a number of bytes");
        return static_cast<std::size_t>(number * scale);
    }
    const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0) return std::size_t(4) << 30;
    return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) / 2;
}

std::string folder_state(const std::string& path) {
    std::error_code ec;
    const fs::path p = fs::absolute(path, ec);
    std::vector<fs::path> files;
    if (fs::is_directory(p, ec)) {
        for (const auto& e : fs::directory_iterator(p, ec))
            if (e.is_regular_file(ec)) files.push_back(e.path());
        if (ec) throw file_error(path, "cannot list the folder: " + ec.message());
        std::sort(files.begin(), files.end());
    } else if (fs::exists(p, ec)) {
        files.push_back(p);
    } else {
        throw file_error(path, "does not exist");
    }
    std::string state = p.string() + "\n";
    for (const auto& f : files) {
        struct stat st {};
        if (::stat(f.c_str(), &st) != 0) continue;  // vanished between listing and stat: not part of the state
        state += f.filename().string() + "|" + std::to_string(st.st_size) + "|" + std::to_string(st.st_mtim.tv_sec) +
                 "." + std::to_string(st.st_mtim.tv_nsec) + "\n";
    }
    return state;
}

std::shared_ptr<ResidentTextModel> load_text_model(const std::string& folder, const DeviceChoice& device) {
    auto model = std::make_shared<ResidentTextModel>();
    model->encoder = models::load_text_encoder(folder, device.device, device.dtype);
    model->tokenizer = text::load_tokenizer(folder);
    return model;
}

ModelSession::ModelSession(std::size_t budget_bytes) : budget_(budget_bytes) { stats_.budget_bytes = budget_bytes; }

ModelSession::~ModelSession() = default;

std::shared_ptr<const void> ModelSession::derived(const std::string& key, const std::function<Derived()>& make) {
    return get_or_load("derived\n" + key, [&] {
        Derived made = make();
        return Entry{std::const_pointer_cast<void>(made.first), made.second};
    }, Kind::derived);
}

SessionStats ModelSession::stats() const {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    SessionStats s = stats_;
    s.entries = entries_.size();
    return s;
}

void ModelSession::clear() {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    entries_.clear();
    recency_.clear();
    stats_.resident_bytes = 0;
}

void ModelSession::evict_to_fit(std::size_t incoming) {
    while (!recency_.empty() && stats_.resident_bytes + incoming > budget_) {
        const std::string victim = recency_.back();
        recency_.pop_back();
        auto it = entries_.find(victim);
        stats_.resident_bytes -= it->second.first.bytes;
        entries_.erase(it);
        ++stats_.evictions;
    }
}

std::shared_ptr<void> ModelSession::get_or_load(const std::string& key, const std::function<Entry()>& load,
                                                Kind kind) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    if (auto it = entries_.find(key); it != entries_.end()) {
        recency_.splice(recency_.begin(), recency_, it->second.second);
        if (kind == Kind::model) ++stats_.hits;
        if (kind == Kind::derived) ++stats_.derived_hits;
        return it->second.first.value;
    }
    Entry entry = load();  // throws: nothing is recorded
    ++(kind == Kind::model ? stats_.loads : kind == Kind::cache_index ? stats_.cache_indexes : stats_.derived_made);
    // Over budget on its own: handed out, not kept (the next job loads it again, as without a session).
    if (entry.bytes > budget_) return entry.value;
    evict_to_fit(entry.bytes);
    recency_.push_front(key);
    stats_.resident_bytes += entry.bytes;
    std::shared_ptr<void> value = entry.value;
    entries_.emplace(key, std::make_pair(std::move(entry), recency_.begin()));
    return value;
}

std::shared_ptr<const ResidentTextModel> ModelSession::text_model(const std::string& folder, const DeviceChoice& d) {
    const std::string key = "text\n" + device_key(d) + "\n" + folder_state(folder);
    return std::static_pointer_cast<const ResidentTextModel>(get_or_load(key, [&] {
        std::shared_ptr<ResidentTextModel> model = load_text_model(folder, d);
        ++stats_.checkpoint_reads;
        return Entry{model, module_bytes(model->encoder->module())};
    }));
}

std::shared_ptr<models::ClipVisionEncoder> ModelSession::clip_vision(const std::string& folder, const DeviceChoice& d) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    const std::string state = folder_state(folder);
    const std::string key = "clip-vision\n" + device_key(d) + "\n" + state;
    const std::string text_key = "text\n" + device_key(d) + "\n" + state;
    std::shared_ptr<ResidentTextModel> text;  // the text tower from the same read, when not resident yet
    auto vision = std::static_pointer_cast<models::ClipVisionEncoder>(get_or_load(key, [&] {
        if (entries_.count(text_key) || HfConfig::load(folder).model_type() != "clip") {
            std::shared_ptr<models::ClipVisionEncoder> v = models::load_clip_vision(folder, d.device, d.dtype);
            ++stats_.checkpoint_reads;
            return Entry{v, module_bytes(v->module())};
        }
        // CLIP-S asks for the image tower first and embeds its captions next: both towers come
        // from one read of the checkpoint.
        models::ClipTowers towers = models::load_clip_towers(folder, d.device, d.dtype);
        ++stats_.checkpoint_reads;
        text = std::make_shared<ResidentTextModel>();
        text->encoder = std::move(towers.text);
        text->tokenizer = text::load_tokenizer(folder);
        std::shared_ptr<models::ClipVisionEncoder> v = std::move(towers.vision);
        return Entry{v, module_bytes(v->module())};
    }));
    if (text) get_or_load(text_key, [&] { return Entry{text, module_bytes(text->encoder->module())}; });
    return vision;
}

std::shared_ptr<models::TamingModel> ModelSession::taming(const std::string& folder, const DeviceChoice& d) {
    const std::string key = "taming\n" + device_key(d) + "\n" + folder_state(folder);
    return std::static_pointer_cast<models::TamingModel>(get_or_load(key, [&] {
        auto model = std::make_shared<models::TamingModel>(models::load_taming(folder, d.device, c10::kFloat));
        ++stats_.checkpoint_reads;
        model->gpt->to(d.device, d.dtype);
        return Entry{model, module_bytes(model->gpt->module()) + module_bytes(model->vqgan->module())};
    }));
}

std::shared_ptr<models::InceptionV3> ModelSession::inception(const std::string& weights, const DeviceChoice& d) {
    const std::string key = "inception\n" + d.device.str() + "\n" + folder_state(weights);
    return std::static_pointer_cast<models::InceptionV3>(get_or_load(key, [&] {
        std::shared_ptr<models::InceptionV3> net = models::load_inception_v3(weights);
        ++stats_.checkpoint_reads;
        net->to(d.device, c10::kFloat);
        return Entry{net, module_bytes(net->module())};
    }));
}

std::shared_ptr<EmbeddingCache> ModelSession::embedding_cache(const std::string& root, const EmbeddingCacheKey& key) {
    const std::string id = "embeddings\n" + fs::absolute(root).string() + "\n" + key.model_fingerprint + "\n" +
                           key.pooling + "\n" + key.dtype;
    auto rows_bytes = [](const EmbeddingCache& c) {
        return c.size() * static_cast<std::size_t>(std::max<int64_t>(c.dim(), 0)) * sizeof(float);
    };
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    bool loaded = false;
    auto cache = std::static_pointer_cast<EmbeddingCache>(get_or_load(id, [&] {
        loaded = true;
        auto fresh = std::make_shared<EmbeddingCache>(root, key);
        return Entry{fresh, rows_bytes(*fresh)};
    }, Kind::cache_index));
    if (!loaded) {
        // Shards another process wrote since (two CLI runs, or the CLI beside the workbench).
        cache->refresh();
        // Rows stored through the cache since it was indexed count against the budget too.
        recount(id, rows_bytes(*cache));
    }
    return cache;
}

void ModelSession::recount(const std::string& key, std::size_t bytes) {
    std::lock_guard<std::recursive_mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    stats_.resident_bytes = stats_.resident_bytes - it->second.first.bytes + bytes;
    it->second.first.bytes = bytes;
    // Evict others (least recently used first) until it fits again; the entry itself was just
    // used, so it goes last, and when it alone exceeds the budget it is dropped (callers hold it).
    evict_to_fit(0);
}

}  // namespace syn::run
