// libFuzzer target: arbitrary bytes through encode / encode_pair / decode of the BERT-uncased,
// RoBERTa and CLIP tokenizers loaded from the fixture folders ($SYNESTHESIA_FIXTURES, default
// /work/shared/fixtures). The first byte picks the tokenizer and the options; the rest is the text
// (split in two at the first 0x1F byte for a pair). Any exception other than syn::Error, any
// crash, sanitizer report or hang is a finding; ids must stay in the vocabulary.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/io/errors.h"
#include "core/text/tokenizer.h"

namespace {

std::vector<std::unique_ptr<syn::text::Tokenizer>>& tokenizers() {
    static std::vector<std::unique_ptr<syn::text::Tokenizer>> all = [] {
        const char* env = std::getenv("SYNESTHESIA_FIXTURES");
        std::string dir = std::string(env && *env ? env : "/work/shared/fixtures") + "/tokenizers/";
        std::vector<std::unique_ptr<syn::text::Tokenizer>> v;
        for (const char* name : {"bert-base-uncased", "roberta", "clip"}) {
            try {
                v.push_back(syn::text::load_tokenizer(dir + name));
            } catch (const std::exception& e) {
                std::fprintf(stderr, "fuzz_tokenizer: cannot load %s%s: %s\n", dir.c_str(), name, e.what());
                std::abort();
            }
        }
        return v;
    }();
    return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    auto& all = tokenizers();
    const uint8_t control = data[0];
    const auto& tok = *all[control % all.size()];
    std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
    syn::text::EncodeOptions options;
    options.add_special_tokens = (control & 0x04) == 0;
    options.max_length = (control & 0x08) ? 4 + (control >> 4) : 0;
    try {
        syn::text::Encoding e;
        size_t split = text.find('\x1F');
        if ((control & 0x80) && split != std::string::npos)
            e = tok.encode_pair(text.substr(0, split), text.substr(split + 1), options);
        else
            e = tok.encode(text, options);
        if (e.ids.size() != e.type_ids.size() || e.ids.size() != e.attention_mask.size() ||
            e.ids.size() != e.tokens.size())
            std::abort();
        if (options.max_length > 0 && e.ids.size() > static_cast<size_t>(options.max_length)) std::abort();
        for (int32_t id : e.ids)
            if (!tok.id_to_token(id)) std::abort();
        (void)tok.decode(e.ids, (control & 0x02) != 0);
    } catch (const syn::Error&) {
        // A documented refusal (e.g. max_length below the special tokens) is fine.
    }
    return 0;
}
