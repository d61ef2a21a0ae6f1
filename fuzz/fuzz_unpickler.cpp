// libFuzzer target for the restricted unpickler: any byte string must either parse or throw
// syn::Error — never crash, hang, leak or read out of bounds. A parsed tree also goes through what
// the checkpoint reader does with it (state-dict selection, opaque search, strided copies against a
// synthetic storage of the declared size).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/io/errors.h"
#include "core/io/pickle.h"
#include "core/io/torch_checkpoint.h"

namespace {

void exercise(const syn::pickle::Document& doc) {
    (void)syn::pickle::describe(doc.root(), 6);
    try {
        (void)syn::pickle::find_opaque(doc.root());
    } catch (const syn::Error&) {
    }
    std::vector<syn::StateDictEntry> entries;
    try {
        entries = syn::select_state_dict(doc, "fuzz");
    } catch (const syn::Error&) {
        return;
    }
    for (const syn::StateDictEntry& e : entries) {
        const syn::pickle::StorageRef& s = e.tensor->storage;
        const size_t esize = syn::dtype_size(s.dtype);
        if (s.numel > 4096) continue;  // keep the synthetic storage small: inputs must run fast
        auto storage = std::make_shared<const std::vector<uint8_t>>(static_cast<size_t>(s.numel) * esize, 0x5a);
        try {
            syn::RawTensor t = syn::materialize_tensor(*e.tensor, storage, e.name);
            (void)t;
        } catch (const syn::Error&) {
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    for (bool lenient : {false, true}) {
        syn::pickle::Options options;
        options.allow_unknown_globals = lenient;
        // Smaller limits than the defaults keep each input fast; the logic is the same.
        options.max_values = size_t{1} << 20;
        try {
            syn::pickle::Document doc = syn::pickle::unpickle(data, size, "fuzz.pkl", options);
            exercise(doc);
        } catch (const syn::Error&) {
        }
    }
    return 0;
}
