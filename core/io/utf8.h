#pragma once
// The one UTF-8 validator of the engine (tokenizers, data readers): well-formed as the Unicode
// standard defines it (Table 3-7): no overlongs, no surrogates (CESU-8's ED A0 80), nothing above
// U+10FFFF, no stray continuation bytes, no truncated sequences.
#include <cstddef>
#include <string_view>

namespace syn {

// The length of the well-formed sequence at s[i] (1 for ASCII), or 0 when it is ill-formed; then
// `bad` is the length of the maximal ill-formed subpart there (what one U+FFFD replaces).
inline std::size_t utf8_sequence_length(const unsigned char* s, std::size_t n, std::size_t i, std::size_t& bad) {
    const unsigned char c = s[i];
    bad = 1;
    if (c < 0x80) return 1;
    std::size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) { need = 2; lo = 0xA0; }
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) need = 2;
    else if (c == 0xED) { need = 2; hi = 0x9F; }  // excludes the surrogates D800-DFFF
    else if (c == 0xF0) { need = 3; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) { need = 3; hi = 0x8F; }
    else return 0;  // C0, C1, F5..FF, stray continuation bytes
    for (std::size_t k = 1; k <= need; ++k) {
        if (i + k >= n) return 0;
        const unsigned char t = s[i + k];
        const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (t < l || t > h) return 0;
        bad = k + 1;
    }
    return need + 1;
}

// True when `text` is well-formed UTF-8; otherwise `bad_offset` (if given) receives the offset of
// the first ill-formed sequence.
inline bool is_valid_utf8(std::string_view text, std::size_t* bad_offset = nullptr) {
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0, bad = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            ++i;
            continue;
        }
        const std::size_t len = utf8_sequence_length(s, n, i, bad);
        if (len == 0) {
            if (bad_offset) *bad_offset = i;
            return false;
        }
        i += len;
    }
    return true;
}

}  // namespace syn
