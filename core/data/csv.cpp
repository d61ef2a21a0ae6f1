#include "core/data/csv.h"

#include <fstream>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/quote.h"

namespace syn::data {

std::string at_line(const std::string& source, std::size_t line, const std::string& message) {
    return source + ":" + std::to_string(line) + ": " + message;
}

namespace {

// State machine over the bytes of the text; `line` counts physical lines so that records spanning
// several lines (quoted line breaks) still report where each problem is.
class CsvParser {
public:
    CsvParser(std::string_view text, const std::string& source) : text_(text), source_(source) {
        if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    }

    std::vector<CsvRecord> parse() {
        std::vector<CsvRecord> records;
        while (pos_ < text_.size()) {
            CsvRecord record = parse_record();
            const bool blank = record.fields.size() == 1 && record.fields[0].empty();
            if (!blank) records.push_back(std::move(record));
        }
        return records;
    }

private:
    [[noreturn]] void fail(std::size_t line, const std::string& message) const {
        throw Error(at_line(source_, line, message));
    }

    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return text_[pos_]; }

    // Consumes LF or CRLF if present; returns true when a record ended here.
    bool consume_line_break() {
        if (at_end()) return true;
        if (peek() == '\n') {
            ++pos_;
            ++line_;
            return true;
        }
        if (peek() == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
            pos_ += 2;
            ++line_;
            return true;
        }
        return false;
    }

    CsvRecord parse_record() {
        CsvRecord record;
        record.line = line_;
        for (;;) {
            record.fields.push_back(peek_is_quote() ? parse_quoted() : parse_plain());
            if (consume_line_break()) return record;
            if (peek() == ',') {
                ++pos_;
                if (at_end()) {  // "a,b," at the very end: the last field is empty
                    record.fields.emplace_back();
                    return record;
                }
                continue;
            }
            // parse_* stop only at ',', a line break or the end, so this is a lone CR.
            fail(line_, "stray carriage return outside quotes");
        }
    }

    bool peek_is_quote() const { return !at_end() && peek() == '"'; }

    std::string parse_plain() {
        std::string field;
        while (!at_end()) {
            const char c = peek();
            if (c == ',' || c == '\n') break;
            if (c == '\r') {
                if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') break;
                fail(line_, "stray carriage return outside quotes");
            }
            if (c == '"')
                fail(line_, "quote character inside an unquoted field (quote the whole field and double the quote)");
            field.push_back(c);
            ++pos_;
        }
        return field;
    }

    std::string parse_quoted() {
        const std::size_t start_line = line_;
        ++pos_;  // opening quote
        std::string field;
        for (;;) {
            if (at_end()) fail(start_line, "quoted field is never closed (missing closing quote)");
            const char c = peek();
            ++pos_;
            if (c == '"') {
                if (!at_end() && peek() == '"') {  // doubled quote = one literal quote
                    field.push_back('"');
                    ++pos_;
                    continue;
                }
                break;
            }
            if (c == '\n') ++line_;
            field.push_back(c);
        }
        if (!at_end() && peek() != ',' && peek() != '\n' && peek() != '\r')
            fail(line_, "unexpected text after a closing quote");
        return field;
    }

    std::string_view text_;
    const std::string& source_;
    std::size_t pos_ = 0;
    std::size_t line_ = 1;
};

}  // namespace

std::vector<CsvRecord> parse_csv_records(std::string_view text, const std::string& source) {
    return CsvParser(text, source).parse();
}

std::optional<std::size_t> CsvTable::find_column(const std::string& name) const {
    for (std::size_t i = 0; i < header.size(); ++i)
        if (header[i] == name) return i;
    return std::nullopt;
}

std::size_t CsvTable::column(const std::string& name) const {
    if (auto index = find_column(name)) return *index;
    std::string columns;
    for (std::size_t i = 0; i < header.size() && i < 20; ++i) columns += (columns.empty() ? "" : ", ") + escape_excerpt(header[i], 40);
    if (header.size() > 20) columns += ", ... (" + std::to_string(header.size()) + " columns)";
    throw Error(at_line(source, header_line, "missing column " + quote_excerpt(name) + " (columns: " + columns + ")"));
}

std::vector<std::string> CsvTable::check_field_counts() const {
    std::vector<std::string> problems;
    for (const auto& row : rows)
        if (row.fields.size() != header.size())
            problems.push_back(at_line(source, row.line,
                                       "expected " + std::to_string(header.size()) + " fields, found " +
                                           std::to_string(row.fields.size())));
    return problems;
}

CsvTable parse_csv_table(std::string_view text, const std::string& source) {
    std::vector<CsvRecord> records = parse_csv_records(text, source);
    if (records.empty()) throw file_error(source, "empty CSV file (no header row)");
    CsvTable table;
    table.source = source;
    table.header = std::move(records.front().fields);
    table.header_line = records.front().line;
    for (std::size_t i = 0; i < table.header.size(); ++i) {
        if (table.header[i].empty())
            throw Error(at_line(source, table.header_line, "empty column name in header (column " +
                                                              std::to_string(i + 1) + ")"));
        for (std::size_t j = 0; j < i; ++j)
            if (table.header[j] == table.header[i])
                throw Error(at_line(source, table.header_line, "duplicated column " + quote_excerpt(table.header[i])));
    }
    table.rows.assign(std::make_move_iterator(records.begin() + 1), std::make_move_iterator(records.end()));
    return table;
}

CsvTable read_csv_file(const std::string& path) {
    // read_file: "<path>: cannot open: ...", or "<path>: is a directory, not a file".
    return parse_csv_table(read_file(path), path);
}

}  // namespace syn::data
