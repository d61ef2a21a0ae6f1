#pragma once
// The pre-tokenizers of tokenizer.json that we support: BertPreTokenizer, ByteLevel (GPT-2 split
// pattern, add_prefix_space), Split (regex or literal, every SplitDelimiterBehavior, invert),
// Whitespace, WhitespaceSplit, and Sequence of those. Pieces are views into the normalised text
// (or into the scratch arena, for prefix spaces), so splitting allocates nothing per piece.
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/text/split_regex.h"

namespace syn::text {

// The GPT-2 / RoBERTa pattern of HF's ByteLevel pre-tokenizer.
extern const char* const kGpt2SplitPattern;

struct PreTokenizerStep {
    enum class Kind { Bert, ByteLevel, Split, WhitespaceSplit };
    enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
    Kind kind = Kind::Bert;
    std::shared_ptr<SplitRegex> regex;  // ByteLevel (when use_regex) and Split
    Behavior behavior = Behavior::Isolated;
    bool invert = false;
    bool add_prefix_space = false;  // ByteLevel
};

struct PreTokenizeScratch {
    std::vector<std::string_view> pieces, next;
    std::deque<std::string> arena;
};

class PreTokenizer {
public:
    void add(PreTokenizerStep step) { steps_.push_back(std::move(step)); }
    bool empty() const { return steps_.empty(); }
    bool has_byte_level() const;
    // Splits `text` into scratch.pieces (cleared first).
    void split(std::string_view text, PreTokenizeScratch& scratch) const;

private:
    std::vector<PreTokenizerStep> steps_;
};

}  // namespace syn::text
