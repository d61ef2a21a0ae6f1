// libFuzzer target for the safetensors header parser: any byte string must either parse into
// tensors that lie inside the buffer or throw syn::Error; never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/io/errors.h"
#include "core/io/safetensors.h"

namespace {

void parse_and_check(const uint8_t* data, size_t size) {
    try {
        syn::SafetensorsFile file = syn::parse_safetensors(data, size, "fuzz-input", nullptr);
        // Touch every tensor's first and last byte, so ASan sees any range outside the input, and
        // check the invariants a consumer relies on.
        for (const auto& [name, t] : file.tensors) {
            if (static_cast<size_t>(t.numel()) * syn::dtype_size(t.dtype) != t.nbytes) std::abort();
            if (t.nbytes == 0) continue;
            if (t.data < data || t.data + t.nbytes > data + size) std::abort();
            volatile uint8_t first = t.data[0];
            volatile uint8_t last = t.data[t.nbytes - 1];
            (void)first;
            (void)last;
        }
        if (file.names.size() != file.tensors.size()) std::abort();
    } catch (const syn::Error&) {
        // Rejected input: the expected outcome for almost all of them.
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // 1. The bytes as a file.
    parse_and_check(data, size);

    // 2. The bytes as "<header JSON> NUL <data>", with a correct length prefix added, so that
    //    mutations of the JSON reach the entry and layout checks instead of stopping at a header
    //    length that no longer matches (JSON text never contains a raw NUL).
    const void* nul = std::memchr(data, 0, size);
    if (nul != nullptr) {
        const size_t header = static_cast<size_t>(static_cast<const uint8_t*>(nul) - data);
        std::vector<uint8_t> file(8 + size - 1);
        for (int i = 0; i < 8; ++i) file[i] = static_cast<uint8_t>(static_cast<uint64_t>(header) >> (8 * i));
        std::memcpy(file.data() + 8, data, header);
        std::memcpy(file.data() + 8 + header, data + header + 1, size - header - 1);
        parse_and_check(file.data(), file.size());
    }
    return 0;
}
