// libFuzzer target for config.json (and tokenizer_config / preprocessor_config, the same reader):
// the bytes are written to a file read by HfConfig::load, then every typed getter is asked for the
// keys the model builders read. Must either work or throw syn::Error; messages printable.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/io/errors.h"
#include "core/io/hf_config.h"

namespace {

// One in-memory file per process, rewritten for each input (read through /proc/self/fd).
const std::string& input_path() {
    static const std::string path = [] {
        const int fd = memfd_create("fuzz_config.json", 0);
        if (fd < 0) std::abort();
        return "/proc/self/fd/" + std::to_string(fd);
    }();
    return path;
}

void write_input(const uint8_t* data, size_t size) {
    const int fd = std::stoi(input_path().substr(14));
    if (ftruncate(fd, 0) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
        const ssize_t n = pwrite(fd, data + done, size - done, static_cast<off_t>(done));
        if (n <= 0) std::abort();
        done += static_cast<size_t>(n);
    }
}

void check_message(const std::exception& e) {
    const std::string what = e.what();
    if (what.size() > 4096) std::abort();
    for (unsigned char c : what)
        if (c == 0 || c >= 0x80) std::abort();  // no raw input bytes in a message
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    write_input(data, size);
    syn::HfConfig config;
    try {
        config = syn::HfConfig::load(input_path());
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
