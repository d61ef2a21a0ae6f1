#pragma once
// Unicode helpers for the tokenizers, thin wrappers over utf8proc (normalisation, general
// categories, case) so that no tokenizer carries its own Unicode tables. ASCII takes fast paths
// whose answers equal utf8proc's.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace syn::text::unicode {

// Replaces every ill-formed UTF-8 subsequence with U+FFFD, one replacement per maximal subpart
// (the Unicode / WHATWG policy, which is also what Python's `bytes.decode("utf-8", "replace")`
// does). Surrogates written as CESU-8 (ED A0 80) are ill-formed and become U+FFFD per byte.
// Returns true and leaves `out` untouched when `text` is already valid (the common case).
bool sanitize_utf8(std::string_view text, std::string& out);
bool is_valid_utf8(std::string_view text);

// Decodes the code point at text[pos] (text must be valid UTF-8) and advances pos.
inline char32_t next_codepoint(std::string_view text, size_t& pos) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    unsigned char c = s[pos];
    if (c < 0x80) { ++pos; return c; }
    if (c < 0xE0) { char32_t cp = ((c & 0x1Fu) << 6) | (s[pos + 1] & 0x3Fu); pos += 2; return cp; }
    if (c < 0xF0) {
        char32_t cp = ((c & 0x0Fu) << 12) | ((s[pos + 1] & 0x3Fu) << 6) | (s[pos + 2] & 0x3Fu);
        pos += 3;
        return cp;
    }
    char32_t cp = ((c & 0x07u) << 18) | ((s[pos + 1] & 0x3Fu) << 12) | ((s[pos + 2] & 0x3Fu) << 6) |
                  (s[pos + 3] & 0x3Fu);
    pos += 4;
    return cp;
}
void append_utf8(std::string& out, char32_t cp);
size_t count_codepoints(std::string_view text);
inline bool is_ascii(std::string_view text) {
    for (unsigned char c : text)
        if (c >= 0x80) return false;
    return true;
}

// Character classes with the definitions the Rust `tokenizers` crate uses.
bool is_whitespace(char32_t cp);        // Rust char::is_whitespace (White_Space: Zs/Zl/Zp, 9-13, U+0085)
bool is_control_bert(char32_t cp);      // BertNormalizer: Cc/Cf/Cs/Co/Cn, except \t \n \r
bool is_punctuation_bert(char32_t cp);  // ASCII punctuation or any P* category
bool is_chinese_char(char32_t cp);      // the CJK blocks BERT pads with spaces
bool is_nonspacing_mark(char32_t cp);   // Mn
bool is_alphanumeric(char32_t cp);      // Rust char::is_alphanumeric (L*, N*)

// Rust char::to_lowercase: utf8proc's simple lower-case mapping plus the one unconditional
// multi-character mapping of SpecialCasing (U+0130 -> "i" U+0307).
void append_lowercase(std::string& out, char32_t cp);
std::string lowercase(std::string_view text);

// Normalisation forms through utf8proc (text must be valid UTF-8; NUL bytes are kept).
std::string nfc(std::string_view text);
std::string nfd(std::string_view text);
std::string nfkc(std::string_view text);
std::string nfkd(std::string_view text);

}  // namespace syn::text::unicode
