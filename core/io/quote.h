#pragma once
// Input text in messages: never the raw bytes. A field, line or token that goes into an error
// message is passed through quote_excerpt(): at most ~60 characters, printable ASCII kept, every
// other byte (control characters, NUL, invalid or valid non-ASCII UTF-8) written as \xNN, and "..."
// when cut, all between single quotes. So a 1 MB CSV field, a NUL in merges.txt or invalid UTF-8
// cannot flood, truncate or corrupt a message (or the terminal that shows it).
// A library's own message that may quote input (nlohmann::json's "last read: '...'", yaml-cpp)
// goes through message_excerpt(): the same escaping, no quotes, a longer cap.
#include <cstddef>
#include <string>
#include <string_view>

namespace syn {

namespace detail {
// Appends the escaped text of `bytes` within `max_chars` output characters; true when cut.
inline bool append_escaped(std::string& out, std::string_view bytes, size_t max_chars, bool escape_quotes) {
    static const char hex[] = "0123456789abcdef";
    size_t written = 0;
    size_t i = 0;
    for (; i < bytes.size(); ++i) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        const bool quoted = escape_quotes && (c == '\\' || c == '\'');
        const bool plain = c >= 0x20 && c < 0x7f && !quoted;
        const size_t width = plain ? 1 : quoted ? 2 : 4;
        if (written + width > max_chars) break;
        if (plain) {
            out.push_back(static_cast<char>(c));
        } else if (quoted) {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else {
            out += "\\x";
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
        written += width;
    }
    return i < bytes.size();
}
}  // namespace detail

// The escaped text of `bytes` within `max_chars` output characters; "..." appended when cut.
// `escape_quotes`: also write '\'' and '\\' as \' and \\ (inside quotes).
inline std::string escape_excerpt(std::string_view bytes, size_t max_chars = 60, bool escape_quotes = false) {
    std::string out;
    if (detail::append_escaped(out, bytes, max_chars, escape_quotes)) out += "...";
    return out;
}

// 'excerpt' in single quotes (the messages' style for keys and values), e.g. 'caption\x00id'...
// for input text inside a message.
inline std::string quote_excerpt(std::string_view bytes, size_t max_chars = 60) {
    std::string out = "'";
    const bool cut = detail::append_escaped(out, bytes, max_chars, true);
    out += cut ? "'..." : "'";
    return out;
}

// A library exception's text (which may quote raw input) made safe for a message.
inline std::string message_excerpt(std::string_view what, size_t max_chars = 300) {
    return escape_excerpt(what, max_chars, false);
}

// `s` as one POSIX shell word: unchanged when it holds only characters no shell treats specially,
// else in single quotes (a quote inside written '\''). Used for the commands we print or write
// into scripts, so a path with spaces or quotes survives.
inline std::string shell_word(const std::string& s) {
    if (!s.empty() &&
        s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:@%,") ==
            std::string::npos)
        return s;
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

}  // namespace syn
