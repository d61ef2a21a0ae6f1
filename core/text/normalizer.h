#pragma once
// The normalizers of tokenizer.json that the workbench's tokenizers use: BertNormalizer, NFC/NFD/
// NFKC/NFKD, Lowercase, StripAccents, Replace, Strip, Prepend, and Sequence of those.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/text/split_regex.h"

namespace syn::text {

struct NormalizerStep {
    enum class Kind { Bert, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Replace, Strip, Prepend };
    Kind kind = Kind::NFC;
    // Bert
    bool clean_text = true;
    bool handle_chinese_chars = true;
    bool strip_accents = false;  // already resolved: HF's null means "same as lowercase"
    bool lowercase = true;
    // Replace: regex (when set) or literal `pattern`, replaced by `content`. Prepend: `content`.
    std::shared_ptr<SplitRegex> regex;
    std::string pattern;
    std::string content;
    // Strip
    bool strip_left = false;
    bool strip_right = false;
};

class Normalizer {
public:
    void add(NormalizerStep step) { steps_.push_back(std::move(step)); }
    bool empty() const { return steps_.empty(); }
    // Normalises valid UTF-8 `in` into `out` (cleared first).
    void normalize(std::string_view in, std::string& out) const;

private:
    std::vector<NormalizerStep> steps_;
};

// BertNormalizer alone (exposed for tests): clean text, pad CJK characters, NFD + drop Mn,
// lowercase, in HF's order.
void bert_normalize(std::string_view in, const NormalizerStep& options, std::string& out);

}  // namespace syn::text
