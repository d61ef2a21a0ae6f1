#include "core/text/unicode_utils.h"

#include <cstdlib>
#include <memory>

#include <utf8proc.h>

#include "core/io/errors.h"
#include "core/io/utf8.h"

namespace syn::text::unicode {
namespace {

// Length of the well-formed sequence starting at s[i], or 0 with `bad` = length of the maximal
// ill-formed subpart (Unicode 3.9, Table 3-7 of well-formed byte sequences).
// The one validator's sequence rule (core/io/utf8.h).
size_t well_formed_length(const unsigned char* s, size_t n, size_t i, size_t& bad) {
    return syn::utf8_sequence_length(s, n, i, bad);
}

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

std::string utf8proc_transform(std::string_view text, int options, const char* what) {
    if (text.empty()) return {};
    utf8proc_uint8_t* out = nullptr;
    utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                                      static_cast<utf8proc_ssize_t>(text.size()), &out,
                                      static_cast<utf8proc_option_t>(options));
    std::unique_ptr<utf8proc_uint8_t, FreeDeleter> guard(out);
    if (n < 0)
        throw Error(std::string("tokenizer: ") + what + " normalisation failed: " + utf8proc_errmsg(n));
    return std::string(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
}

}  // namespace

bool is_valid_utf8(std::string_view text) { return syn::is_valid_utf8(text); }

bool sanitize_utf8(std::string_view text, std::string& out) {
    if (is_valid_utf8(text)) return true;
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    size_t n = text.size(), i = 0, bad = 0;
    out.clear();
    out.reserve(n + 16);
    while (i < n) {
        size_t len = well_formed_length(s, n, i, bad);
        if (len == 0) {
            out += "\xEF\xBF\xBD";
            i += bad;
        } else {
            out.append(text.data() + i, len);
            i += len;
        }
    }
    return false;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
        return;
    }
    utf8proc_uint8_t buf[4];
    utf8proc_ssize_t n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(cp), buf);
    out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

size_t count_codepoints(std::string_view text) {
    size_t n = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

bool is_whitespace(char32_t cp) {
    if (cp < 0x80) return cp == ' ' || (cp >= 9 && cp <= 13);
    if (cp == 0x85) return true;
    auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

bool is_control_bert(char32_t cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') return false;
    if (cp < 0x80) return cp < 32 || cp == 127;
    switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
        case UTF8PROC_CATEGORY_CC:
        case UTF8PROC_CATEGORY_CF:
        case UTF8PROC_CATEGORY_CS:
        case UTF8PROC_CATEGORY_CO:
        case UTF8PROC_CATEGORY_CN: return true;
        default: return false;
    }
}

bool is_punctuation_bert(char32_t cp) {
    if (cp < 0x80)
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
               (cp >= 123 && cp <= 126);
    auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    return cat >= UTF8PROC_CATEGORY_PC && cat <= UTF8PROC_CATEGORY_PO;
}

bool is_chinese_char(char32_t cp) {
    // The CJK Unified Ideographs blocks, exactly as BERT (and HF's BertNormalizer) list them.
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool is_nonspacing_mark(char32_t cp) {
    return cp >= 0x80 && utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_MN;
}

bool is_alphanumeric(char32_t cp) {
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
    auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
           (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

void append_lowercase(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
        return;
    }
    if (cp == 0x130) {  // SpecialCasing: LATIN CAPITAL LETTER I WITH DOT ABOVE
        out += "i\xCC\x87";
        return;
    }
    append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
}

std::string lowercase(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t pos = 0;
    while (pos < text.size()) append_lowercase(out, next_codepoint(text, pos));
    return out;
}

std::string nfc(std::string_view text) {
    if (is_ascii(text)) return std::string(text);
    return utf8proc_transform(text, UTF8PROC_STABLE | UTF8PROC_COMPOSE, "NFC");
}
std::string nfd(std::string_view text) {
    if (is_ascii(text)) return std::string(text);
    return utf8proc_transform(text, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE, "NFD");
}
std::string nfkc(std::string_view text) {
    if (is_ascii(text)) return std::string(text);
    return utf8proc_transform(text, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT, "NFKC");
}
std::string nfkd(std::string_view text) {
    if (is_ascii(text)) return std::string(text);
    return utf8proc_transform(text, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, "NFKD");
}

}  // namespace syn::text::unicode
