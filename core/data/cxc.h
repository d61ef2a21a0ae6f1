#pragma once
// Crisscrossed Captions (CxC) STS pairs: `caption1,caption2,agg_score,sampling_method`, one rated
// pair of MS-COCO captions per row, ids like `COCO_val2014:sentid:190268` (the number is the MS-COCO
// caption id, i.e. the `id` of an entry of `annotations` in captions_*.json).
//
// Errors versus warnings (the policy of every loader in core/data):
// - Thrown (syn::Error), after the whole file has been scanned so that one message lists every such
//   problem as "file:line: message" (the first 20 and a total): CSV syntax errors (thrown at once,
//   as the rest of the file cannot be trusted), a missing column, a row with the wrong number of
//   fields, a malformed caption id, a score that is not a finite number or lies outside 0..5, an empty
//   sampling_method. A file with any of them yields no data: a statistic over silently repaired data
//   would be a wrong number.
// - Collected (CxcStsFile::warnings, with counts), data still loads: an unknown sampling_method
//   (kept as written, counted per value), a pair listed twice as the same unordered pair (the first
//   occurrence is kept, later ones are dropped and their lines recorded), a caption paired with itself.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace syn::data {

// CxC's two sampling methods.
inline constexpr const char* kSameImageMethod = "c2c_cocaption";  // the two captions describe one image
inline constexpr const char* kDifferentImagesMethod = "c2c_isim";  // captions of two different images

// Score range of CxC's human ratings.
inline constexpr double kCxcMinScore = 0.0;
inline constexpr double kCxcMaxScore = 5.0;

// One problem found while loading, with its place. to_string() gives "file:line: message".
struct LoadIssue {
    std::string file;
    std::size_t line = 0;
    std::string message;
    std::string to_string() const;
};

struct CxcPair {
    std::int64_t caption_id1 = 0;
    std::int64_t caption_id2 = 0;
    double score = 0.0;           // agg_score, 0..5
    std::string sampling_method;  // as written
    std::size_t line = 0;         // 1-based line in the CSV file
};

struct CxcStsFile {
    std::string path;
    std::vector<CxcPair> pairs;                         // kept rows, in file order
    std::size_t rows_read = 0;                          // data rows in the file
    std::map<std::string, std::size_t> method_counts;   // kept rows per sampling_method
    std::size_t unknown_method_rows = 0;                // kept rows whose method is neither known one
    std::size_t duplicate_rows = 0;                     // dropped repeats of an unordered pair
    std::vector<std::size_t> duplicate_lines;           // their lines (all of them)
    std::size_t self_pairs = 0;                         // rows pairing a caption with itself (kept)
    std::vector<LoadIssue> warnings;                    // one per warned row, in file order
};

// Parses the number of a CxC caption id "<prefix>:sentid:<digits>" (e.g. COCO_val2014:sentid:190268).
// Returns false (and leaves `id` alone) when the text is not of that form.
bool parse_cxc_caption_id(std::string_view text, std::int64_t& id);

// Loads a CxC STS file; see the error/warning policy above.
CxcStsFile load_cxc_sts(const std::string& path);
// Same, from text already in memory; `source` names it in messages.
CxcStsFile parse_cxc_sts(std::string_view text, const std::string& source);

}  // namespace syn::data
