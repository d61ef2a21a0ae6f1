#include "core/text/added_tokens.h"

#include "core/text/unicode_utils.h"

namespace syn::text {
namespace {

namespace u = syn::text::unicode;

bool is_word_char(char32_t cp) {
    // regex's \w, as HF's single_word check uses it: alphanumeric, marks, connector punctuation.
    return cp == '_' || u::is_alphanumeric(cp) || (cp >= 0x80 && u::is_nonspacing_mark(cp));
}

char32_t last_codepoint(std::string_view text) {
    size_t start = text.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    return u::next_codepoint(text, start);
}

}  // namespace

void AddedTokenMatcher::add(const AddedToken* token) {
    if (token->content.empty()) return;
    tokens_.push_back(token);
    first_byte_[static_cast<unsigned char>(token->content[0])] = true;
}

void AddedTokenMatcher::split(std::string_view text, std::vector<TextSpan>& out) const {
    size_t done = 0;  // end of the last emitted span
    size_t pos = 0;
    while (pos < text.size()) {
        if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
            ++pos;
            continue;
        }
        const AddedToken* best = nullptr;
        for (const AddedToken* t : tokens_)
            if (text.compare(pos, t->content.size(), t->content) == 0 &&
                (!best || t->content.size() > best->content.size()))
                best = t;
        if (!best) {
            ++pos;
            continue;
        }
        size_t start = pos, stop = pos + best->content.size();
        pos = stop;  // a rejected match is not searched again, as with aho-corasick's find_iter
        if (best->single_word) {
            bool start_ok = start == 0 || !is_word_char(last_codepoint(text.substr(0, start)));
            size_t p = stop;
            bool stop_ok = stop == text.size() || !is_word_char(u::next_codepoint(text, p));
            if (!start_ok || !stop_ok) continue;
        }
        if (best->lstrip) {
            size_t s = start;
            while (s > done) {
                size_t cs = s - 1;
                while (cs > done && (static_cast<unsigned char>(text[cs]) & 0xC0) == 0x80) --cs;
                size_t q = cs;
                if (!u::is_whitespace(u::next_codepoint(text, q))) break;
                s = cs;
            }
            start = s;
        }
        if (best->rstrip) {
            while (stop < text.size()) {
                size_t q = stop;
                if (!u::is_whitespace(u::next_codepoint(text, q))) break;
                stop = q;
            }
            pos = stop;
        }
        if (start > done) out.push_back(TextSpan{done, start, -1});
        out.push_back(TextSpan{start, stop, best->id});
        done = stop;
    }
    if (done < text.size()) out.push_back(TextSpan{done, text.size(), -1});
}

}  // namespace syn::text
