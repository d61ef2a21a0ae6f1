#pragma once
// MS-COCO captions: caption id -> (text, image id). Two formats are read, detected from the keys:
// - official `captions_*.json` (also ../shared/data/coco/captions_karpathy_test.json):
//   {"images": [{"id", ...}], "annotations": [{"id", "image_id", "caption"}]}.
//   Ids are MS-COCO caption (annotation) ids: the numbers used by CxC.
// - Karpathy's `dataset_coco.json`:
//   {"images": [{"cocoid", "split", "sentences": [{"sentid", "raw", ...}], ...}], "dataset": "coco"}.
//   Ids are Karpathy's own `sentid` (0..616766 in file order), NOT MS-COCO caption ids, although the
//   two ranges overlap; image ids are the MS-COCO image ids (`cocoid`). The id kind is recorded so
//   that a join with CxC can refuse Karpathy ids instead of matching the wrong captions silently.
// Every shape problem throws syn::Error naming the file and the JSON key ("annotations[12].caption").
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace syn::data {

enum class CaptionIdKind {
    kCocoCaptionId,   // MS-COCO annotation id (official captions_*.json)
    kKarpathySentId,  // Karpathy dataset_coco.json sentid
};
const char* to_string(CaptionIdKind kind);

struct Caption {
    std::string text;
    std::int64_t image_id = 0;  // MS-COCO image id
};

struct CaptionIndex {
    std::string source;
    CaptionIdKind id_kind = CaptionIdKind::kCocoCaptionId;
    std::unordered_map<std::int64_t, Caption> captions;  // caption id -> caption
    std::size_t image_count = 0;

    // nullptr when the id is absent.
    const Caption* find(std::int64_t caption_id) const;
};

struct CocoCaptionsOptions {
    // Karpathy format only: keep images whose "split" equals this ("test", "val", "train",
    // "restval"); empty keeps all. Ignored (and required to be empty) for the official format.
    std::string karpathy_split;
};

// Reads a captions file of either format (see above).
CaptionIndex load_coco_captions(const std::string& path, const CocoCaptionsOptions& options = {});
// Same, from JSON text in memory; `source` names it in messages.
CaptionIndex parse_coco_captions(std::string_view json_text, const std::string& source,
                                 const CocoCaptionsOptions& options = {});

}  // namespace syn::data
