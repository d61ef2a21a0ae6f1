// libFuzzer target for the CelebA attribute parser (and the caption generation that follows it),
// plus the MM-CelebA-HQ caption-file and split-name parsing: any byte string must either parse or
// throw syn::Error — never crash, hang, leak or read out of bounds. Generated captions must be
// valid UTF-8 on one line.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/data/celeba_attributes.h"
#include "core/data/mm_celeba_hq.h"
#include "core/io/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const syn::data::AttributeTable t = syn::data::parse_celeba_attributes(text, "fuzz.txt");
        if (t.values.size() != t.rows() * t.names.size()) std::abort();
        for (size_t r = 0; r < t.rows() && r < 4; ++r)
            for (const std::string& c : syn::data::captions_from_attributes(t, r, 3, size)) {
                if (c.empty() || c.find('\n') != std::string::npos || !syn::data::is_valid_utf8(c)) std::abort();
            }
    } catch (const syn::Error&) {
    }

    const syn::data::CaptionFile f = syn::data::parse_caption_text(text, "fuzz.txt");
    for (const std::string& c : f.captions)
        if (c.empty() || c.find('\n') != std::string::npos || !syn::data::is_valid_utf8(c)) std::abort();
    try {
        const std::string id = syn::data::face_id_from_name(std::string(text.substr(0, 64)), "fuzz");
        if (id.empty() || id.find('/') != std::string::npos || id == "..") std::abort();
    } catch (const syn::Error&) {
    }
    return 0;
}
