#include "core/text/pre_tokenizer.h"

#include "core/text/unicode_utils.h"

namespace syn::text {

const char* const kGpt2SplitPattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

namespace {

namespace u = syn::text::unicode;

// BertPreTokenizer: whitespace separates and is dropped; each punctuation character is its own piece.
void split_bert(std::string_view piece, std::vector<std::string_view>& out) {
    size_t word_start = 0, pos = 0;
    while (pos < piece.size()) {
        size_t start = pos;
        unsigned char c = static_cast<unsigned char>(piece[pos]);
        bool space, punct;
        if (c < 0x80) {
            ++pos;
            space = c == ' ' || (c >= 9 && c <= 13);
            punct = !space && u::is_punctuation_bert(c);
        } else {
            char32_t cp = u::next_codepoint(piece, pos);
            space = u::is_whitespace(cp);
            punct = !space && u::is_punctuation_bert(cp);
        }
        if (space || punct) {
            if (start > word_start) out.push_back(piece.substr(word_start, start - word_start));
            if (punct) out.push_back(piece.substr(start, pos - start));
            word_start = pos;
        }
    }
    if (pos > word_start) out.push_back(piece.substr(word_start, pos - word_start));
}

void split_whitespace(std::string_view piece, std::vector<std::string_view>& out) {
    size_t word_start = 0, pos = 0;
    while (pos < piece.size()) {
        size_t start = pos;
        char32_t cp = u::next_codepoint(piece, pos);
        if (u::is_whitespace(cp)) {
            if (start > word_start) out.push_back(piece.substr(word_start, start - word_start));
            word_start = pos;
        }
    }
    if (pos > word_start) out.push_back(piece.substr(word_start, pos - word_start));
}

// HF's NormalizedString::split with a regex and a SplitDelimiterBehavior.
void split_regex(std::string_view piece, const PreTokenizerStep& s, std::vector<std::string_view>& out) {
    using B = PreTokenizerStep::Behavior;
    // Segments covering the piece: (begin, end, is_delimiter).
    size_t pos = 0;
    size_t pending_begin = std::string_view::npos;  // MergedWithNext: start of a delimiter to carry
    bool last_was_delim = false;
    const size_t base = out.size();  // merging never reaches into an earlier piece's output
    auto emit = [&](size_t b, size_t e, bool delim) {
        if (e <= b) return;
        switch (s.behavior) {
            case B::Removed:
                if (!delim) out.push_back(piece.substr(b, e - b));
                break;
            case B::Isolated: out.push_back(piece.substr(b, e - b)); break;
            case B::MergedWithPrevious:
                if (delim && out.size() > base && !last_was_delim)
                    out.back() = std::string_view(out.back().data(), out.back().size() + (e - b));
                else
                    out.push_back(piece.substr(b, e - b));
                break;
            case B::MergedWithNext:
                if (delim) {
                    if (pending_begin == std::string_view::npos) pending_begin = b;
                    else {  // two delimiters in a row: the first stands alone
                        out.push_back(piece.substr(pending_begin, b - pending_begin));
                        pending_begin = b;
                    }
                } else if (pending_begin != std::string_view::npos) {
                    out.push_back(piece.substr(pending_begin, e - pending_begin));
                    pending_begin = std::string_view::npos;
                } else {
                    out.push_back(piece.substr(b, e - b));
                }
                break;
            case B::Contiguous:
                if (delim && last_was_delim && out.size() > base)
                    out.back() = std::string_view(out.back().data(), out.back().size() + (e - b));
                else
                    out.push_back(piece.substr(b, e - b));
                break;
        }
        last_was_delim = delim;
    };
    s.regex->find_all(piece, [&](size_t b, size_t e) {
        emit(pos, b, s.invert);
        emit(b, e, !s.invert);
        pos = e;
    });
    emit(pos, piece.size(), s.invert);
    if (pending_begin != std::string_view::npos) out.push_back(piece.substr(pending_begin));
}

}  // namespace

bool PreTokenizer::has_byte_level() const {
    for (const auto& s : steps_)
        if (s.kind == PreTokenizerStep::Kind::ByteLevel) return true;
    return false;
}

void PreTokenizer::split(std::string_view text, PreTokenizeScratch& scratch) const {
    auto& pieces = scratch.pieces;
    pieces.clear();
    if (text.empty()) return;
    pieces.push_back(text);
    for (const PreTokenizerStep& s : steps_) {
        auto& next = scratch.next;
        next.clear();
        for (std::string_view piece : pieces) {
            switch (s.kind) {
                case PreTokenizerStep::Kind::Bert: split_bert(piece, next); break;
                case PreTokenizerStep::Kind::WhitespaceSplit: split_whitespace(piece, next); break;
                case PreTokenizerStep::Kind::Split: split_regex(piece, s, next); break;
                case PreTokenizerStep::Kind::ByteLevel: {
                    if (s.add_prefix_space && piece.front() != ' ') {
                        scratch.arena.push_back(" " + std::string(piece));
                        piece = scratch.arena.back();
                    }
                    if (s.regex) {
                        split_regex(piece, s, next);  // the loader sets Isolated, not inverted
                    } else {
                        next.push_back(piece);
                    }
                    break;
                }
            }
        }
        pieces.swap(next);
    }
}

}  // namespace syn::text
