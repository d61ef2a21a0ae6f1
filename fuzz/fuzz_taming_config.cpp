// libFuzzer target for the taming project YAML (or the same tree as JSON): parse_taming_config
// must either return a config the modules can be built from, or throw syn::Error with a printable
// message. Any other exception (a yaml-cpp one escaping, std::bad_alloc, ...) or crash is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/io/errors.h"
#include "models/taming_config.h"

namespace {

void check_message(const std::exception& e) {
    const std::string what = e.what();
    if (what.empty() || what.size() > 4096) std::abort();
    for (unsigned char c : what)
        if (c == 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    syn::models::TamingConfig config;
    try {
        config = syn::models::parse_taming_config(text, "fuzz-project.yaml");
    } catch (const syn::Error& e) {
        check_message(e);
        return 0;
    }
    // What the reader promises the model builders.
    const auto& vq = config.first_stage;
    const auto& gpt = config.transformer;
    if (vq.embed_dim <= 0 || vq.n_embed <= 0 || vq.ch <= 0 || vq.resolution <= 0 || vq.ch_mult.empty()) std::abort();
    if (gpt.vocab_size <= 0 || gpt.block_size <= 0 || gpt.n_head <= 0 || gpt.n_embd % gpt.n_head != 0) std::abort();
    if (config.sos_token < 0 || config.sos_token >= gpt.vocab_size || vq.n_embed > gpt.vocab_size) std::abort();
    const int64_t side = vq.latent_size();
    if (side <= 0 || side * side > gpt.block_size) std::abort();
    if (config.source != "fuzz-project.yaml") std::abort();
    return 0;
}
