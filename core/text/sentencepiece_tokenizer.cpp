// SentencePiece tokenizer (T5, SigLIP) over the isolated shim libsyn_spm_shim.so.
//
// Two parts: (1) finding and loading the shim into its own link namespace, once per process;
// (2) the Hugging Face behaviour around sentencepiece: added/special tokens matched in the raw
// text, "</s>" appended, truncation that keeps it, pairs, and SigLIP's text canonicalisation.
#include "core/text/sentencepiece_tokenizer.h"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sys/stat.h>
#include <utility>

#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include "core/io/errors.h"
#include "core/io/file_checks.h"
#include "core/io/quote.h"
#include "core/text/spm_shim/spm_shim.h"

namespace syn::text {
namespace {

// ------------------------------------------------------------------------------------------------
// The shim library
// ------------------------------------------------------------------------------------------------

constexpr const char* kShimFileName = "libsyn_spm_shim.so";

// Function pointers resolved from the shim (only the declarations of spm_shim.h are used here;
// nothing links against it).
struct ShimApi {
    decltype(&syn_spm_abi_version) abi_version = nullptr;
    decltype(&syn_spm_load) load = nullptr;
    decltype(&syn_spm_free) free_model = nullptr;
    decltype(&syn_spm_piece_size) piece_size = nullptr;
    decltype(&syn_spm_unk_id) unk_id = nullptr;
    decltype(&syn_spm_id_to_piece) id_to_piece = nullptr;
    decltype(&syn_spm_piece_to_id) piece_to_id = nullptr;
    decltype(&syn_spm_piece_type) piece_type = nullptr;
    decltype(&syn_spm_encode) encode = nullptr;
    decltype(&syn_spm_result_size) result_size = nullptr;
    decltype(&syn_spm_result_ids) result_ids = nullptr;
    decltype(&syn_spm_result_piece) result_piece = nullptr;
    decltype(&syn_spm_result_free) result_free = nullptr;
    std::string path;
    std::string how;  // "dlmopen" or "dlopen"
};

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string executable_dir() {
    const std::string exe = own_executable_path();
    const auto slash = exe.rfind('/');
    return slash == std::string::npos ? std::string() : exe.substr(0, slash);
}

// Where to look, in order. An explicit $SYN_SPM_SHIM is the only candidate when set.
std::vector<std::string> shim_candidates() {
    if (const char* env = std::getenv("SYN_SPM_SHIM"); env != nullptr && *env != '\0') return {env};
    std::vector<std::string> candidates;
    if (auto dir = executable_dir(); !dir.empty()) {
        candidates.push_back(dir + "/" + kShimFileName);
#ifdef SYN_SPM_SHIM_RELATIVE_DIR
        // An installed tree: <prefix>/bin/synesthesia finds <prefix>/lib/libsyn_spm_shim.so.
        candidates.push_back(dir + "/" SYN_SPM_SHIM_RELATIVE_DIR "/" + kShimFileName);
#endif
    }
#ifdef SYN_SPM_SHIM_BUILD_PATH
    candidates.push_back(SYN_SPM_SHIM_BUILD_PATH);
#endif
#ifdef SYN_SPM_SHIM_INSTALL_PATH
    candidates.push_back(SYN_SPM_SHIM_INSTALL_PATH);
#endif
    return candidates;
}

// True when a libprotobuf (typically libtorch's) is already mapped: loading libsentencepiece
// into the default namespace would then crash, so the plain-dlopen fallback is refused.
bool protobuf_in_process() {
    bool found = false;
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) -> int {
            const char* name = info->dlpi_name;
            if (name != nullptr && (std::strstr(name, "libprotobuf") != nullptr ||
                                    std::strstr(name, "libtorch") != nullptr)) {
                *static_cast<bool*>(data) = true;
                return 1;
            }
            return 0;
        },
        &found);
    return found;
}

std::string last_dl_error() {
    const char* e = dlerror();
    return e ? e : "unknown dynamic loader error";
}

// dlmopen into a new link namespace: the shim brings its own libsentencepiece, libprotobuf-lite
// copy and C++ runtime, invisible to (and unaffected by) libtorch's libprotobuf.
void* open_shim(const std::string& path, std::string& how, std::string& error) {
    dlerror();
    if (void* handle = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
        how = "dlmopen";
        return handle;
    }
    error = "dlmopen: " + last_dl_error();
    // A process without protobuf (e.g. a sanitizer build where dlmopen is unavailable) can host
    // sentencepiece in the default namespace safely.
    if (!protobuf_in_process()) {
        if (void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL)) {
            how = "dlopen";
            return handle;
        }
        error += "; dlopen: " + last_dl_error();
    } else {
        error += " (plain dlopen refused: libprotobuf/libtorch is loaded in this process)";
    }
    return nullptr;
}

template <typename F>
void resolve(void* handle, const std::string& path, const char* name, F& target) {
    void* symbol = dlsym(handle, name);
    if (symbol == nullptr)
        throw file_error(path, std::string("SentencePiece shim lacks symbol ") + name);
    target = reinterpret_cast<F>(symbol);
}

std::unique_ptr<ShimApi> load_shim() {
    const auto candidates = shim_candidates();
    std::string tried;
    for (const auto& path : candidates) {
        if (!file_exists(path)) {
            tried += "\n  " + path + " (not found)";
            continue;
        }
        auto api = std::make_unique<ShimApi>();
        std::string error;
        void* handle = open_shim(path, api->how, error);
        if (handle == nullptr) throw file_error(path, "cannot load SentencePiece shim: " + error);
        // The handle is never closed: the models and the namespace live until the process ends.
        api->path = path;
        resolve(handle, path, "syn_spm_abi_version", api->abi_version);
        if (api->abi_version() != SYN_SPM_ABI_VERSION)
            throw file_error(path, "SentencePiece shim ABI version " +
                                       std::to_string(api->abi_version()) + ", expected " +
                                       std::to_string(SYN_SPM_ABI_VERSION) + " (stale build?)");
        resolve(handle, path, "syn_spm_load", api->load);
        resolve(handle, path, "syn_spm_free", api->free_model);
        resolve(handle, path, "syn_spm_piece_size", api->piece_size);
        resolve(handle, path, "syn_spm_unk_id", api->unk_id);
        resolve(handle, path, "syn_spm_id_to_piece", api->id_to_piece);
        resolve(handle, path, "syn_spm_piece_to_id", api->piece_to_id);
        resolve(handle, path, "syn_spm_piece_type", api->piece_type);
        resolve(handle, path, "syn_spm_encode", api->encode);
        resolve(handle, path, "syn_spm_result_size", api->result_size);
        resolve(handle, path, "syn_spm_result_ids", api->result_ids);
        resolve(handle, path, "syn_spm_result_piece", api->result_piece);
        resolve(handle, path, "syn_spm_result_free", api->result_free);
        return api;
    }
    throw Error(std::string(kShimFileName) +
                ": SentencePiece shim not found (set SYN_SPM_SHIM to its path); tried:" + tried);
}

// The one shim of the process; a failed load is retried on the next call.
const ShimApi& shim() {
    static std::mutex mutex;
    static std::unique_ptr<ShimApi> api;
    std::lock_guard<std::mutex> lock(mutex);
    if (!api) api = load_shim();
    return *api;
}

// ------------------------------------------------------------------------------------------------
// UTF-8 helpers (SigLIP canonicalisation)
// ------------------------------------------------------------------------------------------------

// Python's str.isspace(), which is what re's \s matches on str patterns.
bool is_python_space(utf8proc_int32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

// Calls f(codepoint, begin, length) for each character; an invalid byte is passed as
// codepoint -1 with length 1, so nothing is lost or read out of bounds.
template <typename F>
void for_each_char(const std::string& s, F&& f) {
    size_t i = 0;
    while (i < s.size()) {
        utf8proc_int32_t c = -1;
        auto n = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i),
                                  static_cast<utf8proc_ssize_t>(s.size() - i), &c);
        if (n <= 0) {
            c = -1;
            n = 1;
        }
        f(c, i, static_cast<size_t>(n));
        i += static_cast<size_t>(n);
    }
}

void append_utf8(std::string& out, utf8proc_int32_t c) {
    utf8proc_uint8_t buffer[4];
    const auto n = utf8proc_encode_char(c, buffer);
    out.append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

std::string lowercase(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for_each_char(s, [&](utf8proc_int32_t c, size_t begin, size_t n) {
        if (c < 0)
            out.append(s, begin, n);
        else
            append_utf8(out, utf8proc_tolower(c));
    });
    return out;
}

// HF SiglipTokenizer.canonicalize_text: drop string.punctuation (ASCII only), collapse every
// whitespace run to one space, strip.
std::string canonicalize_siglip(const std::string& s) {
    static const std::string punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    std::string kept;
    kept.reserve(s.size());
    for (char ch : s)  // ASCII bytes never occur inside a multi-byte UTF-8 sequence
        if (punctuation.find(ch) == std::string::npos) kept.push_back(ch);
    std::string out;
    out.reserve(kept.size());
    bool in_space = false;
    for_each_char(kept, [&](utf8proc_int32_t c, size_t begin, size_t n) {
        if (c >= 0 && is_python_space(c)) {
            in_space = true;
            return;
        }
        if (in_space && !out.empty()) out.push_back(' ');
        in_space = false;
        out.append(kept, begin, n);
    });
    return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
        s.replace(pos, from.size(), to);
    return s;
}

const std::string kSpieceUnderline = "\xE2\x96\x81";  // U+2581 "▁"

// ------------------------------------------------------------------------------------------------
// Settings from tokenizer_config.json / special_tokens_map.json
// ------------------------------------------------------------------------------------------------

struct AddedToken {
    std::string content;
    int32_t id = -1;
    bool special = true;
    bool lstrip = false;  // swallow whitespace before / after the token (SigLIP's specials)
    bool rstrip = false;
};

struct Settings {
    bool siglip = false;
    bool lower_case = false;
    int extra_ids = 100;
    int model_max_length = 0;  // tokenizer_config.json; 0 when absent or "no limit" (HF's 1e30)
    std::string eos = "</s>";
    std::string pad = "<pad>";
    std::string unk = "<unk>";
    std::vector<std::string> additional_special;
    std::vector<AddedToken> declared;  // added_tokens_decoder
};

nlohmann::json read_json_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw file_error(path, "cannot open");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw file_error(path, std::string("invalid JSON: ") + message_excerpt(e.what()));
    }
}

// A special token is a string or an AddedToken object {"content": ...}.
std::optional<std::string> token_text(const nlohmann::json& config, const char* key,
                                      const std::string& path) {
    if (!config.contains(key) || config[key].is_null()) return std::nullopt;
    const auto& v = config[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_object() && v.contains("content") && v["content"].is_string())
        return v["content"].get<std::string>();
    throw file_error(path, std::string("key '") + key + "' is neither a string nor {\"content\": ...}");
}

void apply_special_tokens(const nlohmann::json& config, const std::string& path, Settings& s) {
    if (auto t = token_text(config, "eos_token", path)) s.eos = *t;
    if (auto t = token_text(config, "pad_token", path)) s.pad = *t;
    if (auto t = token_text(config, "unk_token", path)) s.unk = *t;
    if (config.contains("additional_special_tokens")) {
        const auto& list = config["additional_special_tokens"];
        if (!list.is_array())
            throw file_error(path, "key 'additional_special_tokens' is not an array");
        s.additional_special.clear();
        for (const auto& item : list) {
            if (item.is_string())
                s.additional_special.push_back(item.get<std::string>());
            else if (item.is_object() && item.contains("content") && item["content"].is_string())
                s.additional_special.push_back(item["content"].get<std::string>());
            else
                throw file_error(path, "key 'additional_special_tokens' holds a non-token entry");
        }
    }
}

Settings read_settings(const std::string& folder) {
    Settings s;
    if (folder.empty()) return s;
    const std::string config_path = folder + "/tokenizer_config.json";
    if (file_exists(config_path)) {
        const auto config = read_json_file(config_path);
        if (!config.is_object()) throw file_error(config_path, "not a JSON object");
        const std::string cls = config.value("tokenizer_class", std::string());
        s.siglip = cls.rfind("Siglip", 0) == 0;
        if (s.siglip) {  // SiglipTokenizer's defaults
            s.pad = "</s>";
            s.extra_ids = 0;
            s.lower_case = true;
        }
        if (config.contains("extra_ids")) {
            if (!config["extra_ids"].is_number_integer() || config["extra_ids"].get<int>() < 0)
                throw file_error(config_path, "key 'extra_ids' is not a non-negative integer");
            s.extra_ids = config["extra_ids"].get<int>();
        }
        if (config.contains("model_max_length") && !config["model_max_length"].is_null()) {
            if (!config["model_max_length"].is_number())
                throw file_error(config_path, "key 'model_max_length' is not a number");
            const double v = config["model_max_length"].get<double>();
            if (v > 0 && v < 1e9) s.model_max_length = static_cast<int>(v);  // HF writes 1e30 for "no limit"
        }
        if (config.contains("do_lower_case")) {
            if (!config["do_lower_case"].is_boolean())
                throw file_error(config_path, "key 'do_lower_case' is not a boolean");
            s.lower_case = config["do_lower_case"].get<bool>();
        }
        apply_special_tokens(config, config_path, s);
        if (config.contains("added_tokens_decoder")) {
            const auto& decoder = config["added_tokens_decoder"];
            if (!decoder.is_object())
                throw file_error(config_path, "key 'added_tokens_decoder' is not an object");
            for (const auto& [key, value] : decoder.items()) {
                AddedToken t;
                try {
                    t.id = std::stoi(key);
                } catch (const std::exception&) {
                    throw file_error(config_path, "added_tokens_decoder key " + quote_excerpt(key) + " is not an id");
                }
                if (!value.is_object() || !value.contains("content") || !value["content"].is_string())
                    throw file_error(config_path, "added_tokens_decoder[" + quote_excerpt(key) + "] has no content");
                t.content = value["content"].get<std::string>();
                t.special = value.value("special", true);
                t.lstrip = value.value("lstrip", false);
                t.rstrip = value.value("rstrip", false);
                s.declared.push_back(t);
            }
        }
    }
    const std::string map_path = folder + "/special_tokens_map.json";
    if (file_exists(map_path)) {
        const auto map = read_json_file(map_path);
        if (!map.is_object()) throw file_error(map_path, "not a JSON object");
        apply_special_tokens(map, map_path, s);
    }
    return s;
}

// ------------------------------------------------------------------------------------------------
// The tokenizer
// ------------------------------------------------------------------------------------------------

struct Pieces {
    std::vector<int32_t> ids;
    std::vector<std::string> tokens;
};

class SentencePieceTokenizer final : public Tokenizer {
public:
    SentencePieceTokenizer(const ShimApi& api, const std::string& model_path, Settings settings)
        : api_(api), model_path_(model_path), settings_(std::move(settings)) {
        char err[1024] = {0};
        // SigLIP encodes "<unk>" + text with the dummy prefix off (HF SiglipTokenizer).
        syn_spm_model* raw = api_.load(model_path.c_str(), settings_.siglip ? 0 : -1, err, sizeof err);
        if (raw == nullptr) throw file_error(model_path, std::string("cannot load SentencePiece model: ") + err);
        model_ = std::shared_ptr<syn_spm_model>(raw, api_.free_model);
        piece_size_ = api_.piece_size(raw);
        unk_id_ = api_.unk_id(raw);
        build_added_tokens();
        eos_id_ = required_id(settings_.eos, "eos_token");
        pad_id_ = required_id(settings_.pad, "pad_token");
        if (settings_.siglip) unk_prefix_length_ = sp_encode(settings_.unk).ids.size();
    }

    Encoding encode(const std::string& text, const EncodeOptions& options) const override {
        Pieces content = tokenize(text);
        Encoding e;
        if (options.max_length > 0) {
            const int budget = std::max(0, options.max_length - (options.add_special_tokens ? 1 : 0));
            e.truncated = truncate_to(content, static_cast<size_t>(budget));
        }
        append(e, content);
        if (options.add_special_tokens) append_eos(e);
        finish(e);
        return e;
    }

    Encoding encode_pair(const std::string& first, const std::string& second,
                         const EncodeOptions& options) const override {
        Pieces a = tokenize(first);
        Pieces b = tokenize(second);
        Encoding e;
        if (options.max_length > 0) {
            const int budget = std::max(0, options.max_length - (options.add_special_tokens ? 2 : 0));
            e.truncated = truncate_longest_first(a, b, static_cast<size_t>(budget));
        }
        append(e, a);
        if (options.add_special_tokens) append_eos(e);
        append(e, b);
        if (options.add_special_tokens) append_eos(e);
        finish(e);  // T5 has no segment embeddings: HF gives type id 0 throughout
        return e;
    }

    std::optional<int32_t> token_to_id(const std::string& token) const override {
        if (auto it = added_by_content_.find(token); it != added_by_content_.end())
            return added_[it->second].id;
        const int32_t id = api_.piece_to_id(model_.get(), token.data(), token.size());
        if (id < 0 || (id == unk_id_ && !piece_is(id, token))) return std::nullopt;
        return id;
    }

    std::optional<std::string> id_to_token(int32_t id) const override {
        if (auto it = added_by_id_.find(id); it != added_by_id_.end()) return added_[it->second].content;
        size_t len = 0;
        const char* piece = api_.id_to_piece(model_.get(), id, &len);
        if (piece == nullptr) return std::nullopt;
        return std::string(piece, len);
    }

    // As HF's fast decoder (Metaspace): tokens joined, "▁" read as a space, the first token's
    // leading space dropped; special tokens skipped on request.
    std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override {
        std::string out;
        bool first = true;
        for (int32_t id : ids) {
            if (skip_special_tokens && is_special(id)) continue;
            auto token = id_to_token(id);
            if (!token)
                throw Error(model_path_ + ": decode: id " + std::to_string(id) + " is not in the vocabulary (size " +
                            std::to_string(vocab_size()) + ")");
            std::string text = added_by_id_.count(id) ? *token : piece_text(id, *token);
            if (first && text.rfind(' ', 0) == 0) text.erase(0, 1);
            first = false;
            out += text;
        }
        return out;
    }

    int32_t vocab_size() const override { return vocab_size_; }
    int32_t pad_id() const override { return pad_id_; }
    std::string family() const override { return "sentencepiece"; }
    int model_max_length() const override { return settings_.model_max_length; }
    std::string pad_token() const override { return settings_.pad; }

private:
    // The special tokens of the model and the added ones (sentinels, declared tokens), matched in
    // the raw text before sentencepiece sees it, as HF does.
    void build_added_tokens() {
        const bool strip_around = settings_.siglip;  // SiglipTokenizer: lstrip = rstrip = True
        auto add = [&](const std::string& content, int32_t id, bool special, bool lstrip, bool rstrip) {
            if (content.empty() || added_by_content_.count(content)) return;
            added_by_content_[content] = added_.size();
            if (!added_by_id_.count(id)) added_by_id_[id] = added_.size();
            added_.push_back({content, id, special, lstrip, rstrip});
        };
        for (const auto& t : settings_.declared) add(t.content, t.id, t.special, t.lstrip, t.rstrip);
        for (int n = 0; n < settings_.extra_ids; ++n)
            add("<extra_id_" + std::to_string(n) + ">", piece_size_ + settings_.extra_ids - 1 - n, true,
                false, false);
        int32_t next_id = piece_size_ + settings_.extra_ids;
        for (const auto& t : added_) next_id = std::max(next_id, t.id + 1);
        auto add_special = [&](const std::string& content) {
            if (content.empty() || added_by_content_.count(content)) return;
            int32_t id = api_.piece_to_id(model_.get(), content.data(), content.size());
            if (id < 0 || (id == unk_id_ && !piece_is(id, content))) id = next_id++;  // new token, as HF adds it
            add(content, id, true, strip_around, strip_around);
        };
        add_special(settings_.eos);
        add_special(settings_.unk);
        add_special(settings_.pad);
        for (const auto& t : settings_.additional_special) add_special(t);
        vocab_size_ = piece_size_ + settings_.extra_ids;
        for (const auto& t : added_) vocab_size_ = std::max(vocab_size_, t.id + 1);
        for (const auto& t : added_) {
            first_bytes_.insert(static_cast<unsigned char>(t.content[0]));
            if (t.special) special_ids_.insert(t.id);
        }
        // Longest first, so that the leftmost match is also the longest.
        by_length_.resize(added_.size());
        for (size_t i = 0; i < added_.size(); ++i) by_length_[i] = i;
        std::sort(by_length_.begin(), by_length_.end(),
                  [&](size_t a, size_t b) { return added_[a].content.size() > added_[b].content.size(); });
    }

    int32_t required_id(const std::string& token, const char* key) const {
        auto id = token_to_id(token);
        if (!id) throw file_error(model_path_, std::string(key) + " " + quote_excerpt(token) + " is not in the vocabulary");
        return *id;
    }

    bool piece_is(int32_t id, const std::string& token) const {
        size_t len = 0;
        const char* piece = api_.id_to_piece(model_.get(), id, &len);
        return piece != nullptr && std::string(piece, len) == token;
    }

    bool is_special(int32_t id) const {
        return special_ids_.count(id) > 0 ||
               (id >= 0 && id < piece_size_ && api_.piece_type(model_.get(), id) == SYN_SPM_PIECE_CONTROL);
    }

    // A vocabulary piece as text: "▁" is a space; byte pieces "<0xAB>" are that byte.
    std::string piece_text(int32_t id, const std::string& piece) const {
        if (api_.piece_type(model_.get(), id) == SYN_SPM_PIECE_BYTE && piece.size() == 6)
            return std::string(1, static_cast<char>(std::strtol(piece.substr(3, 2).c_str(), nullptr, 16)));
        return replace_all(piece, kSpieceUnderline, " ");
    }

    Pieces sp_encode(const std::string& text) const {
        char err[1024] = {0};
        syn_spm_result* r = api_.encode(model_.get(), text.data(), text.size(), err, sizeof err);
        if (r == nullptr) throw file_error(model_path_, std::string("SentencePiece encode failed: ") + err);
        std::unique_ptr<syn_spm_result, decltype(api_.result_free)> guard(r, api_.result_free);
        Pieces p;
        const size_t n = api_.result_size(r);
        const int32_t* ids = api_.result_ids(r);
        p.ids.assign(ids, ids + n);
        p.tokens.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            size_t len = 0;
            const char* piece = api_.result_piece(r, i, &len);
            p.tokens.emplace_back(piece ? piece : "", piece ? len : 0);
        }
        return p;
    }

    // A piece of text between added tokens, or an added token (index into added_).
    struct Segment {
        std::string text;
        int added = -1;
    };

    std::vector<Segment> split_on_added(const std::string& text) const {
        std::vector<Segment> out;
        size_t start = 0, i = 0;
        while (i < text.size()) {
            int match = -1;
            if (first_bytes_.count(static_cast<unsigned char>(text[i]))) {
                for (size_t k : by_length_) {
                    const auto& c = added_[k].content;
                    if (text.compare(i, c.size(), c) == 0) {
                        match = static_cast<int>(k);
                        break;
                    }
                }
            }
            if (match < 0) {
                ++i;
                continue;
            }
            std::string before = text.substr(start, i - start);
            if (added_[match].lstrip)
                before.erase(before.find_last_not_of(" \t\n\r\f\v") + 1);
            out.push_back({std::move(before), -1});
            out.push_back({std::string(), match});
            i += added_[match].content.size();
            if (added_[match].rstrip)
                while (i < text.size() && std::strchr(" \t\n\r\f\v", text[i]) != nullptr && text[i] != '\0') ++i;
            start = i;
        }
        out.push_back({text.substr(start), -1});
        return out;
    }

    Pieces tokenize(const std::string& text) const {
        return settings_.siglip ? tokenize_siglip(text) : tokenize_t5(text);
    }

    void append_added(Pieces& p, int index) const {
        p.ids.push_back(added_[index].id);
        p.tokens.push_back(added_[index].content);
    }

    static void append_pieces(Pieces& p, Pieces&& more) {
        p.ids.insert(p.ids.end(), more.ids.begin(), more.ids.end());
        std::move(more.tokens.begin(), more.tokens.end(), std::back_inserter(p.tokens));
    }

    // T5: each stretch between added tokens goes through sentencepiece on its own (which adds the
    // "▁" prefix, normalises, and drops leading/trailing/repeated whitespace).
    Pieces tokenize_t5(const std::string& text) const {
        Pieces p;
        for (auto& seg : split_on_added(text)) {
            if (seg.added >= 0)
                append_added(p, seg.added);
            else if (!seg.text.empty())
                append_pieces(p, sp_encode(seg.text));
        }
        return p;
    }

    // HF SiglipTokenizer.tokenize / _tokenize: "▁" + text (with "▁" in the text read as a space),
    // lower-cased outside special tokens, split on them; each stretch canonicalised and encoded as
    // "<unk>" + stretch with the dummy prefix off, the "<unk>" pieces dropped; finally a lone "▁"
    // before a special token is removed.
    Pieces tokenize_siglip(const std::string& text) const {
        const std::string prefixed = kSpieceUnderline + replace_all(text, kSpieceUnderline, " ");
        Pieces p;
        for (auto& seg : split_on_added(prefixed)) {
            if (seg.added >= 0) {
                append_added(p, seg.added);
                continue;
            }
            if (seg.text.empty()) continue;
            std::string stretch = canonicalize_siglip(settings_.lower_case ? lowercase(seg.text) : seg.text);
            Pieces enc = sp_encode(settings_.unk + stretch);
            if (enc.ids.size() >= unk_prefix_length_) {
                enc.ids.erase(enc.ids.begin(), enc.ids.begin() + static_cast<std::ptrdiff_t>(unk_prefix_length_));
                enc.tokens.erase(enc.tokens.begin(), enc.tokens.begin() + static_cast<std::ptrdiff_t>(unk_prefix_length_));
            }
            append_pieces(p, std::move(enc));
        }
        if (p.tokens.size() > 1 && p.tokens[0] == kSpieceUnderline && special_ids_.count(p.ids[1])) {
            p.ids.erase(p.ids.begin());
            p.tokens.erase(p.tokens.begin());
        }
        return p;
    }

    static int truncate_to(Pieces& p, size_t keep) {
        if (p.ids.size() <= keep) return 0;
        const int cut = static_cast<int>(p.ids.size() - keep);
        p.ids.resize(keep);
        p.tokens.resize(keep);
        return cut;
    }

    // HF tokenizers' "longest_first" for pairs: the shorter keeps min(its length, budget / 2), the
    // longer (the first on a tie) gets the rest.
    static int truncate_longest_first(Pieces& a, Pieces& b, size_t budget) {
        const size_t na = a.ids.size(), nb = b.ids.size();
        if (na + nb <= budget) return 0;
        if (na >= nb) {
            const size_t keep_b = std::min(nb, budget / 2);
            return truncate_to(b, keep_b) + truncate_to(a, budget - keep_b);
        }
        const size_t keep_a = std::min(na, budget / 2);
        return truncate_to(a, keep_a) + truncate_to(b, budget - keep_a);
    }

    static void append(Encoding& e, Pieces& p) {
        e.ids.insert(e.ids.end(), p.ids.begin(), p.ids.end());
        std::move(p.tokens.begin(), p.tokens.end(), std::back_inserter(e.tokens));
    }

    void append_eos(Encoding& e) const {
        e.ids.push_back(eos_id_);
        e.tokens.push_back(settings_.eos);
    }

    static void finish(Encoding& e) {
        e.type_ids.assign(e.ids.size(), 0);
        e.attention_mask.assign(e.ids.size(), 1);
    }

    const ShimApi& api_;
    std::string model_path_;
    Settings settings_;
    std::shared_ptr<syn_spm_model> model_;
    int32_t piece_size_ = 0;
    int32_t unk_id_ = -1;
    int32_t eos_id_ = -1;
    int32_t pad_id_ = -1;
    int32_t vocab_size_ = 0;
    size_t unk_prefix_length_ = 0;
    std::vector<AddedToken> added_;
    std::map<std::string, size_t> added_by_content_;
    std::map<int32_t, size_t> added_by_id_;
    std::set<int32_t> special_ids_;
    std::set<unsigned char> first_bytes_;
    std::vector<size_t> by_length_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece_tokenizer(const std::string& spiece_model_path,
                                                        const std::string& folder) {
    // Checked here so that a missing model names the model, not the shim.
    require_not_directory(spiece_model_path);
    if (!file_exists(spiece_model_path)) throw file_error(spiece_model_path, "SentencePiece model not found");
    Settings settings = read_settings(folder);
    return std::make_unique<SentencePieceTokenizer>(shim(), spiece_model_path, std::move(settings));
}

std::string sentencepiece_shim_description() {
    const auto& api = shim();
    return api.path + " (" + api.how + ")";
}

}  // namespace syn::text
