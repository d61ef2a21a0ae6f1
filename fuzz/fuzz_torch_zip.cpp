// libFuzzer target for the torch.save reader (.bin / .ckpt / .pt: zip container + restricted
// unpickler, and the legacy pickle stream): the bytes are written to an in-memory file read by
// load_torch_checkpoint exactly as a user's file is. Must either give tensors that lie inside
// their storages or throw syn::Error; never crash, hang, leak, read out of bounds, or inflate an
// entry past an honest size (ASan's allocation limit, -rss_limit_mb, catches a bomb).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/io/errors.h"
#include "fuzz/fuzz_input_file.h"
#include "core/io/torch_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string& path = syn::fuzz::write_input_file(data, size);
    try {
        const syn::TorchCheckpoint ckpt = syn::load_torch_checkpoint(path);
        if (ckpt.names.size() != ckpt.tensors.size()) std::abort();
        for (const auto& [name, t] : ckpt.tensors) {
            if (static_cast<size_t>(t.numel()) * syn::dtype_size(t.dtype) != t.nbytes) std::abort();
            if (t.nbytes == 0) continue;
            volatile uint8_t first = t.data[0];
            volatile uint8_t last = t.data[t.nbytes - 1];
            (void)first;
            (void)last;
        }
    } catch (const syn::Error& e) {
        const std::string what = e.what();
        if (what.size() > 8192 || what.find('\0') != std::string::npos) std::abort();
    }
    return 0;
}
