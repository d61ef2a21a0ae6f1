// libFuzzer target for the MS-COCO captions reader (official and Karpathy layouts): any byte
// string must either give an index whose captions all carry their image, or throw syn::Error;
// never crash, hang, leak or read out of bounds; messages short and without NUL bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/data/coco_captions.h"
#include "core/io/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto index = syn::data::parse_coco_captions(text, "fuzz.json");
        for (const auto& [id, caption] : index.captions)
            if (index.find(id) != &caption) std::abort();
    } catch (const syn::Error& e) {
        const std::string what = e.what();
        if (what.size() > 4096 || what.find('\0') != std::string::npos) std::abort();
    }
    return 0;
}
