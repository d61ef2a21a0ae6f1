// libFuzzer target for config.json (and tokenizer_config / preprocessor_config, the same reader):
// the bytes are written to a file read by HfConfig::load, then every typed getter is asked for the
// keys the model builders read. Must either work or throw syn::Error; messages printable.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/io/errors.h"
#include "fuzz/fuzz_input_file.h"
#include "core/io/hf_config.h"

namespace {

void check_message(const std::exception& e) {
    const std::string what = e.what();
    if (what.size() > 4096) std::abort();
    for (unsigned char c : what)
        if (c == 0 || c >= 0x80) std::abort();  // no raw input bytes in a message
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = syn::fuzz::write_input_file(data, size);
    syn::HfConfig config;
    try {
        config = syn::HfConfig::load(path);
    } catch (const syn::Error& e) {
        check_message(e);
        return 0;
    }
    try { (void)config.model_type(); } catch (const syn::Error& e) { check_message(e); }
    for (const char* key : {"hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                            "vocab_size", "max_position_embeddings", "layer_norm_eps", "hidden_act",
                            "architectures", "text_config", "vision_config", "projection_dim"}) {
        try { (void)config.get_int(key); } catch (const syn::Error& e) { check_message(e); }
        try { (void)config.get_double(key); } catch (const syn::Error& e) { check_message(e); }
        try { (void)config.get_string(key); } catch (const syn::Error& e) { check_message(e); }
        try { (void)config.get_bool(key); } catch (const syn::Error& e) { check_message(e); }
        try {
            if (config.has(key)) (void)config.sub(key).get_int("hidden_size", 0);
        } catch (const syn::Error& e) {
            check_message(e);
        }
    }
    try { (void)config.architectures(); } catch (const syn::Error& e) { check_message(e); }
    return 0;
}
