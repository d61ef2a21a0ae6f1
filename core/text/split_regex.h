#pragma once
// PCRE2 (UTF + UCP + JIT) for the split patterns of tokenizer.json. Patterns are written for the
// Oniguruma engine HF uses; the one difference that matters is `\s`, which PCRE2 widens to
// U+180E, so `\s`/`\S` are rewritten to the White_Space set that Oniguruma (and Rust) use.
// A compiled regex is immutable and shared; per-thread match data and JIT stacks make find_all()
// safe to call from several threads at once.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace syn::text {

class SplitRegex {
public:
    // Throws syn::Error naming `origin` (e.g. "tokenizer.json pre_tokenizer Split") on a bad pattern.
    SplitRegex(const std::string& pattern, const std::string& origin);
    ~SplitRegex();
    SplitRegex(const SplitRegex&) = delete;
    SplitRegex& operator=(const SplitRegex&) = delete;

    // Calls on_match(begin, end) for each non-overlapping match, left to right. Empty matches are
    // skipped, as HF's splitter does. `text` must be valid UTF-8.
    template <class F>
    void find_all(std::string_view text, F&& on_match) const {
        size_t start = 0;
        size_t b = 0, e = 0;
        while (start < text.size() && next_match(text, start, b, e)) {
            if (e > b) on_match(b, e);
            start = e > b ? e : advance_one(text, b);
        }
    }
    const std::string& pattern() const { return pattern_; }

    // `\s` -> the White_Space class, inside and outside brackets.
    static std::string rewrite_for_pcre2(const std::string& pattern);

private:
    bool next_match(std::string_view text, size_t start, size_t& b, size_t& e) const;
    static size_t advance_one(std::string_view text, size_t pos);

    std::string pattern_;
    std::string origin_;
    void* code_ = nullptr;  // pcre2_code_8
};

}  // namespace syn::text
