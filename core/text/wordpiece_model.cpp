#include "core/text/model.h"

#include "core/io/errors.h"
#include "core/text/unicode_utils.h"

namespace syn::text {

WordPieceModel::WordPieceModel(std::string unk_token, std::string prefix, int max_input_chars_per_word)
    : unk_token_(std::move(unk_token)), prefix_(std::move(prefix)), max_chars_(max_input_chars_per_word) {}

void WordPieceModel::finalize(const std::string& origin) {
    unk_id_ = vocab_.find(unk_token_);
    if (unk_id_ < 0) throw Error(origin + ": WordPiece unk_token '" + unk_token_ + "' is not in the vocabulary");
}

void WordPieceModel::tokenize(std::string_view word, std::vector<int32_t>& ids) const {
    if (word.empty()) return;
    if (unicode::count_codepoints(word) > static_cast<size_t>(max_chars_)) {
        ids.push_back(unk_id_);
        return;
    }
    // Greedy longest match from the left, continuations spelled with the prefix ("##").
    thread_local std::string candidate;
    const size_t mark = ids.size();
    size_t start = 0;
    while (start < word.size()) {
        size_t end = word.size();
        int32_t found = -1;
        while (end > start) {
            std::string_view piece = word.substr(start, end - start);
            if (start > 0) {
                candidate.assign(prefix_);
                candidate.append(piece.data(), piece.size());
                found = vocab_.find(candidate);
            } else {
                found = vocab_.find(piece);
            }
            if (found >= 0) break;
            // Step back one whole code point.
            --end;
            while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) --end;
        }
        if (found < 0) {
            ids.resize(mark);
            ids.push_back(unk_id_);
            return;
        }
        ids.push_back(found);
        start = end;
    }
}

}  // namespace syn::text
