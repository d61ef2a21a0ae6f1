#include "core/text/split_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/io/errors.h"

namespace syn::text {
namespace {

constexpr const char* kWhiteSpaceClassBody = "\\t-\\r\\x{85}\\p{Z}";

// Per-thread PCRE2 scratch: match data big enough for any of our patterns' groups, and a JIT
// stack that may grow to 8 MiB for long inputs (the default 32 KiB fails on a 1 MB word).
struct ThreadScratch {
    pcre2_match_data* data = nullptr;
    pcre2_match_context* context = nullptr;
    pcre2_jit_stack* stack = nullptr;
    ThreadScratch() {
        data = pcre2_match_data_create(32, nullptr);
        context = pcre2_match_context_create(nullptr);
        stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
        if (context && stack) pcre2_jit_stack_assign(context, nullptr, stack);
    }
    ~ThreadScratch() {
        pcre2_match_data_free(data);
        pcre2_match_context_free(context);
        pcre2_jit_stack_free(stack);
    }
};

ThreadScratch& scratch() {
    thread_local ThreadScratch s;
    return s;
}

}  // namespace

std::string SplitRegex::rewrite_for_pcre2(const std::string& pattern) {
    std::string out;
    out.reserve(pattern.size() + 32);
    bool in_class = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            char n = pattern[i + 1];
            ++i;
            if (n == 's') {
                out += in_class ? std::string(kWhiteSpaceClassBody) : "[" + std::string(kWhiteSpaceClassBody) + "]";
            } else if (n == 'S' && !in_class) {
                out += "[^" + std::string(kWhiteSpaceClassBody) + "]";
            } else {
                out += c;
                out += n;
            }
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = true;
            out += c;
            // A ']' right after '[' or '[^' is a literal.
            if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
            if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
            continue;
        }
        if (c == ']' && in_class) in_class = false;
        out += c;
    }
    return out;
}

SplitRegex::SplitRegex(const std::string& pattern, const std::string& origin)
    : pattern_(pattern), origin_(origin) {
    std::string rewritten = rewrite_for_pcre2(pattern);
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &error, &offset, nullptr);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(error, msg, sizeof msg);
        throw Error(origin + ": cannot compile regex '" + pattern + "' at offset " + std::to_string(offset) +
                    ": " + reinterpret_cast<const char*>(msg));
    }
    // JIT is an optimisation only: when unavailable PCRE2 interprets the same pattern.
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    code_ = code;
}

SplitRegex::~SplitRegex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool SplitRegex::next_match(std::string_view text, size_t start, size_t& b, size_t& e) const {
    ThreadScratch& s = scratch();
    if (!s.data || !s.context) throw Error(origin_ + ": out of memory for regex match data");
    int rc = pcre2_match(static_cast<const pcre2_code*>(code_), reinterpret_cast<PCRE2_SPTR>(text.data()),
                         text.size(), start, PCRE2_NO_UTF_CHECK, s.data, s.context);
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        throw Error(origin_ + ": regex match failed on a text of " + std::to_string(text.size()) +
                    " bytes: " + reinterpret_cast<const char*>(msg));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.data);
    b = ov[0];
    e = ov[1];
    return true;
}

size_t SplitRegex::advance_one(std::string_view text, size_t pos) {
    ++pos;
    while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
    return pos;
}

}  // namespace syn::text
