#pragma once
// The one line splitter of the engine (data readers, GLUE, captions files, the fetcher's MRPC
// formatting): a text file's content, a UTF-8 BOM skipped, cut at LF (a CR before it stays in the
// line: callers trim), with 1-based line numbers for error messages. It lives in core/io, the ground
// floor, so that every layer can use it; core/data/text_lines.h names it data::LineReader.
#include <cstddef>
#include <string_view>

namespace syn {

class LineReader {
public:
    explicit LineReader(std::string_view text) : rest_(text) {
        if (rest_.substr(0, 3) == "\xEF\xBB\xBF") rest_.remove_prefix(3);
    }
    // The next line into `line`; false at the end of the text.
    bool next(std::string_view& line) {
        if (rest_.empty()) return false;
        ++number_;
        const std::size_t nl = rest_.find('\n');
        line = rest_.substr(0, nl);
        rest_ = nl == std::string_view::npos ? std::string_view() : rest_.substr(nl + 1);
        return true;
    }
    // The number of the line `next` returned last.
    std::size_t number() const { return number_; }

private:
    std::string_view rest_;
    std::size_t number_ = 0;
};

}  // namespace syn
