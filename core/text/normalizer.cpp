#include "core/text/normalizer.h"

#include "core/text/unicode_utils.h"

namespace syn::text {
namespace {

namespace u = syn::text::unicode;

// ASCII-only text: every BertNormalizer step reduces to byte operations (no CJK, NFD is the
// identity, no Mn), which is the common case for captions and worth a single pass.
void bert_normalize_ascii(std::string_view in, const NormalizerStep& o, std::string& out) {
    out.clear();
    out.reserve(in.size());
    for (unsigned char c : in) {
        if (o.clean_text) {
            if (c == 0 || c == 127 || (c < 32 && c != '\t' && c != '\n' && c != '\r')) continue;
            if (c == '\t' || c == '\n' || c == '\r') c = ' ';
        }
        if (o.lowercase && c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c + 32);
        out.push_back(static_cast<char>(c));
    }
}

void strip_nonspacing_marks(std::string_view in, std::string& out) {
    out.clear();
    out.reserve(in.size());
    size_t pos = 0;
    while (pos < in.size()) {
        size_t start = pos;
        char32_t cp = u::next_codepoint(in, pos);
        if (!u::is_nonspacing_mark(cp)) out.append(in.data() + start, pos - start);
    }
}

void lowercase_into(std::string_view in, std::string& out) {
    out.clear();
    out.reserve(in.size());
    size_t pos = 0;
    while (pos < in.size()) u::append_lowercase(out, u::next_codepoint(in, pos));
}

void replace_literal(std::string_view in, const std::string& pattern, const std::string& content,
                     std::string& out) {
    out.clear();
    if (pattern.empty()) {
        out.assign(in);
        return;
    }
    size_t pos = 0;
    while (true) {
        size_t hit = in.find(pattern, pos);
        if (hit == std::string_view::npos) break;
        out.append(in.data() + pos, hit - pos);
        out += content;
        pos = hit + pattern.size();
    }
    out.append(in.data() + pos, in.size() - pos);
}

void replace_regex(std::string_view in, const SplitRegex& re, const std::string& content, std::string& out) {
    out.clear();
    out.reserve(in.size());
    size_t pos = 0;
    re.find_all(in, [&](size_t b, size_t e) {
        out.append(in.data() + pos, b - pos);
        out += content;
        pos = e;
    });
    out.append(in.data() + pos, in.size() - pos);
}

void strip_whitespace(std::string_view in, bool left, bool right, std::string& out) {
    size_t b = 0, e = in.size();
    if (left) {
        while (b < e) {
            size_t p = b;
            if (!u::is_whitespace(u::next_codepoint(in, p))) break;
            b = p;
        }
    }
    if (right) {
        while (e > b) {
            size_t start = e - 1;
            while (start > b && (static_cast<unsigned char>(in[start]) & 0xC0) == 0x80) --start;
            size_t p = start;
            if (!u::is_whitespace(u::next_codepoint(in, p))) break;
            e = start;
        }
    }
    out.assign(in.substr(b, e - b));
}

}  // namespace

void bert_normalize(std::string_view in, const NormalizerStep& o, std::string& out) {
    if (u::is_ascii(in)) {
        bert_normalize_ascii(in, o, out);
        return;
    }
    std::string a;
    a.reserve(in.size() + 8);
    size_t pos = 0;
    while (pos < in.size()) {
        size_t start = pos;
        char32_t cp = u::next_codepoint(in, pos);
        if (o.clean_text) {
            if (cp == 0 || cp == 0xFFFD || u::is_control_bert(cp)) continue;
            if (u::is_whitespace(cp)) {
                a.push_back(' ');
                continue;
            }
        }
        if (o.handle_chinese_chars && u::is_chinese_char(cp)) {
            a.push_back(' ');
            a.append(in.data() + start, pos - start);
            a.push_back(' ');
            continue;
        }
        a.append(in.data() + start, pos - start);
    }
    if (o.strip_accents) {
        std::string decomposed = u::nfd(a);
        strip_nonspacing_marks(decomposed, a);
    }
    if (o.lowercase) {
        lowercase_into(a, out);
    } else {
        out.swap(a);
    }
}

void Normalizer::normalize(std::string_view in, std::string& out) const {
    out.assign(in);
    std::string tmp;
    for (const NormalizerStep& s : steps_) {
        switch (s.kind) {
            case NormalizerStep::Kind::Bert: bert_normalize(out, s, tmp); break;
            case NormalizerStep::Kind::NFC: tmp = u::nfc(out); break;
            case NormalizerStep::Kind::NFD: tmp = u::nfd(out); break;
            case NormalizerStep::Kind::NFKC: tmp = u::nfkc(out); break;
            case NormalizerStep::Kind::NFKD: tmp = u::nfkd(out); break;
            case NormalizerStep::Kind::Lowercase: lowercase_into(out, tmp); break;
            case NormalizerStep::Kind::StripAccents: strip_nonspacing_marks(out, tmp); break;
            case NormalizerStep::Kind::Replace:
                if (s.regex) replace_regex(out, *s.regex, s.content, tmp);
                else replace_literal(out, s.pattern, s.content, tmp);
                break;
            case NormalizerStep::Kind::Strip: strip_whitespace(out, s.strip_left, s.strip_right, tmp); break;
            case NormalizerStep::Kind::Prepend:
                tmp.clear();
                if (!out.empty()) tmp = s.content;
                tmp += out;
                break;
        }
        out.swap(tmp);
    }
}

}  // namespace syn::text
