#pragma once
// A small RFC 4180 CSV reader: quoted fields may hold commas, doubled quotes ("") and line breaks;
// records end with LF or CRLF. Every problem is reported as "file:line: message", where line is the
// 1-based physical line of the file on which the problem is (a record that spans lines reports the
// line it starts on).
//
// Errors: the CSV layer throws syn::Error for every syntax error (a quote inside an unquoted field,
// text after a closing quote, a quoted field never closed) and for a missing header. A record with the
// wrong number of fields is NOT thrown here: CsvTable keeps it (with its field count) so that a
// loader can report all of them at once; see CsvTable::check_field_counts().
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace syn::data {

struct CsvRecord {
    std::vector<std::string> fields;
    std::size_t line = 0;  // 1-based physical line where the record starts
};

// Splits CSV text into records. `source` names the file in messages. A final line break is
// optional; empty lines (a record with one empty field and nothing else) are skipped, because a
// trailing blank line is common and carries no data. A UTF-8 byte order mark at the start is skipped.
std::vector<CsvRecord> parse_csv_records(std::string_view text, const std::string& source);

// "file:line: message" — the one way to name a place in a text file.
std::string at_line(const std::string& source, std::size_t line, const std::string& message);

// A CSV file with a header row.
struct CsvTable {
    std::string source;               // file name used in messages
    std::vector<std::string> header;  // column names, as written
    std::size_t header_line = 0;
    std::vector<CsvRecord> rows;      // data records, in file order

    // Index of the column named `name`; throws syn::Error "file: missing column 'X' (columns: a, b)".
    std::size_t column(const std::string& name) const;
    std::optional<std::size_t> find_column(const std::string& name) const;
    // One "file:line: expected N fields, found M" message per record whose field count differs from
    // the header's (empty when all agree).
    std::vector<std::string> check_field_counts() const;
};

// Parses text whose first record is the header. Throws on syntax errors, an empty file, an empty
// or duplicated column name.
CsvTable parse_csv_table(std::string_view text, const std::string& source);
// Reads `path` (throws "path: cannot open ...") and parses it as above.
CsvTable read_csv_file(const std::string& path);

}  // namespace syn::data
