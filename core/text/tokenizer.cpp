#include "core/text/tokenizer.h"

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/io/errors.h"
#include "core/text/sentencepiece_tokenizer.h"

namespace syn::text {
namespace {

bool exists(const std::string& path) {
    std::ifstream in(path);
    return static_cast<bool>(in);
}

// tokenizer_config.json's boolean `key`, or `fallback` when the file or the key is absent.
bool config_flag(const std::string& folder, const char* key, bool fallback) {
    const std::string path = folder + "/tokenizer_config.json";
    std::ifstream in(path);
    if (!in) return fallback;
    nlohmann::json cfg = nlohmann::json::parse(in, nullptr, false);
    if (cfg.is_discarded() || !cfg.is_object()) throw file_error(path, "not a JSON object");
    if (cfg.contains(key) && cfg.at(key).is_boolean()) return cfg.at(key).get<bool>();
    return fallback;
}

}  // namespace

void pad_batch(std::vector<Encoding>& batch, const PaddingOptions& options, int32_t pad_id,
               const std::string& pad_token) {
    if (options.mode == PaddingMode::None) return;
    size_t target = 0;
    if (options.mode == PaddingMode::Fixed) {
        if (options.length <= 0) throw Error("pad_batch: fixed padding needs a positive length");
        target = static_cast<size_t>(options.length);
        for (size_t i = 0; i < batch.size(); ++i)
            if (batch[i].ids.size() > target)
                throw Error("pad_batch: encoding " + std::to_string(i) + " has " + std::to_string(batch[i].ids.size()) +
                            " tokens, more than the fixed length " + std::to_string(target) +
                            " (truncate with EncodeOptions::max_length)");
    } else {
        for (const Encoding& e : batch) target = std::max(target, e.ids.size());
    }
    for (Encoding& e : batch) {
        const size_t n = e.ids.size();
        if (n >= target) continue;
        e.ids.resize(target, pad_id);
        e.type_ids.resize(n, 0);  // encodings built by hand may lack them
        e.type_ids.resize(target, 0);
        e.attention_mask.resize(n, 1);
        e.attention_mask.resize(target, 0);
        if (!e.tokens.empty()) e.tokens.resize(target, pad_token);
    }
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& folder) {
    const std::string base = folder.empty() ? "." : folder;
    if (exists(base + "/tokenizer.json")) return load_tokenizer_json(base + "/tokenizer.json");
    if (exists(base + "/vocab.txt"))
        return load_wordpiece_vocab(base + "/vocab.txt", config_flag(base, "do_lower_case", true));
    if (exists(base + "/vocab.json") && exists(base + "/merges.txt"))
        return load_bpe_vocab_merges(base + "/vocab.json", base + "/merges.txt",
                                     config_flag(base, "add_prefix_space", false));
    if (exists(base + "/bpe_simple_vocab_16e6.txt.gz")) return load_clip_bpe_gz(base + "/bpe_simple_vocab_16e6.txt.gz");
    if (exists(base + "/spiece.model")) return load_sentencepiece_tokenizer(base + "/spiece.model", base);
    throw file_error(base, "no tokenizer files (tokenizer.json, vocab.txt, vocab.json + merges.txt, "
                           "bpe_simple_vocab_16e6.txt.gz or spiece.model)");
}

}  // namespace syn::text
