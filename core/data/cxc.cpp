#include "core/data/cxc.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "core/data/csv.h"
#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/quote.h"

namespace syn::data {

std::string LoadIssue::to_string() const { return at_line(file, line, message); }

namespace {

constexpr std::size_t kMaxListedErrors = 20;

// Collects row errors so that the exception names all of them, not only the first.
class ErrorList {
public:
    explicit ErrorList(std::string source) : source_(std::move(source)) {}
    void add(std::string message) {
        ++count_;
        if (messages_.size() < kMaxListedErrors) messages_.push_back(std::move(message));
    }
    void throw_if_any() const {
        if (count_ == 0) return;
        std::string text = source_ + ": " + std::to_string(count_) + " invalid row(s) in CxC STS file:";
        for (const auto& m : messages_) text += "\n  " + m;
        if (count_ > messages_.size())
            text += "\n  ... and " + std::to_string(count_ - messages_.size()) + " more";
        throw Error(text);
    }

private:
    std::string source_;
    std::vector<std::string> messages_;
    std::size_t count_ = 0;
};

// strtod accepts leading spaces, hex, "inf" and "nan"; CxC scores are plain decimals, so anything
// else is reported instead of being read as something unexpected.
bool parse_score(const std::string& text, double& value) {
    if (text.empty()) return false;
    for (char c : text)
        if (!((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) return false;
    errno = 0;
    char* end = nullptr;
    value = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size() && errno == 0 && std::isfinite(value);
}

}  // namespace

bool parse_cxc_caption_id(std::string_view text, std::int64_t& id) {
    static constexpr std::string_view kMarker = ":sentid:";
    const std::size_t at = text.rfind(kMarker);
    if (at == std::string_view::npos || at == 0) return false;
    const std::string_view digits = text.substr(at + kMarker.size());
    if (digits.empty() || digits.size() > 18) return false;
    std::int64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    id = value;
    return true;
}

CxcStsFile parse_cxc_sts(std::string_view text, const std::string& source) {
    const CsvTable table = parse_csv_table(text, source);
    const std::size_t col1 = table.column("caption1");
    const std::size_t col2 = table.column("caption2");
    const std::size_t col_score = table.column("agg_score");
    const std::size_t col_method = table.column("sampling_method");

    CxcStsFile file;
    file.path = source;
    file.rows_read = table.rows.size();
    ErrorList errors(source);
    std::set<std::pair<std::int64_t, std::int64_t>> seen;  // unordered pair as (min, max)

    for (const CsvRecord& row : table.rows) {
        auto error = [&](const std::string& message) { errors.add(at_line(source, row.line, message)); };
        if (row.fields.size() != table.header.size()) {
            error("expected " + std::to_string(table.header.size()) + " fields, found " +
                  std::to_string(row.fields.size()));
            continue;
        }
        CxcPair pair;
        pair.line = row.line;
        bool ok = true;
        if (!parse_cxc_caption_id(row.fields[col1], pair.caption_id1)) {
            error("caption1 " + quote_excerpt(row.fields[col1]) + " is not a caption id of the form <prefix>:sentid:<number>");
            ok = false;
        }
        if (!parse_cxc_caption_id(row.fields[col2], pair.caption_id2)) {
            error("caption2 " + quote_excerpt(row.fields[col2]) + " is not a caption id of the form <prefix>:sentid:<number>");
            ok = false;
        }
        if (!parse_score(row.fields[col_score], pair.score)) {
            error("agg_score " + quote_excerpt(row.fields[col_score]) + " is not a number");
            ok = false;
        } else if (pair.score < kCxcMinScore || pair.score > kCxcMaxScore) {
            error("agg_score " + quote_excerpt(row.fields[col_score]) + " is outside the CxC range 0..5");
            ok = false;
        }
        pair.sampling_method = row.fields[col_method];
        if (pair.sampling_method.empty()) {
            error("empty sampling_method");
            ok = false;
        }
        if (!ok) continue;

        const std::pair<std::int64_t, std::int64_t> key{std::min(pair.caption_id1, pair.caption_id2),
                                                  std::max(pair.caption_id1, pair.caption_id2)};
        if (!seen.insert(key).second) {
            ++file.duplicate_rows;
            file.duplicate_lines.push_back(row.line);
            file.warnings.push_back({source, row.line,
                                     "duplicate pair " + std::to_string(key.first) + "," +
                                         std::to_string(key.second) + " (first occurrence kept, this row dropped)"});
            continue;
        }
        if (pair.caption_id1 == pair.caption_id2) {
            ++file.self_pairs;
            file.warnings.push_back({source, row.line, "caption " + std::to_string(pair.caption_id1) +
                                                           " is paired with itself (kept)"});
        }
        if (pair.sampling_method != kSameImageMethod && pair.sampling_method != kDifferentImagesMethod) {
            ++file.unknown_method_rows;
            file.warnings.push_back({source, row.line, "unknown sampling_method " + quote_excerpt(pair.sampling_method) +
                                                           " (kept; known: c2c_cocaption, c2c_isim)"});
        }
        ++file.method_counts[pair.sampling_method];
        file.pairs.push_back(std::move(pair));
    }
    errors.throw_if_any();
    return file;
}

CxcStsFile load_cxc_sts(const std::string& path) {
    // read_file: "<path>: cannot open: ...", or "<path>: is a directory, not a file".
    return parse_cxc_sts(read_file(path), path);
}

}  // namespace syn::data
