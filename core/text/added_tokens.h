#pragma once
// Added tokens ([CLS], <mask>, <|endoftext|>, ...) found in the input text the way HF's
// AddedVocabulary finds them: leftmost-longest match, `single_word` (only between non-word
// characters), `lstrip` / `rstrip` (swallow the whitespace on that side), and `normalized`
// (matched on the normalised text instead of the raw text).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace syn::text {

struct AddedToken {
    std::string content;
    int32_t id = -1;
    bool single_word = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = false;
    bool special = true;
};

// One span of a text: either an added token (`id` >= 0) or plain text to tokenize (`id` == -1).
struct TextSpan {
    size_t begin = 0;
    size_t end = 0;
    int32_t id = -1;
};

class AddedTokenMatcher {
public:
    void add(const AddedToken* token);
    bool empty() const { return tokens_.empty(); }
    // Cuts `text` into spans (appended to `out`), in order, covering it except for stripped spaces.
    void split(std::string_view text, std::vector<TextSpan>& out) const;

private:
    std::vector<const AddedToken*> tokens_;
    bool first_byte_[256] = {};
};

}  // namespace syn::text
