#pragma once
// Multi-Modal CelebA-HQ (IIGROUP/MM-CelebA-HQ-Dataset) as it lies on disk after the by-hand download
// (see datasets::mm_celeba_hq_instructions). Accepted layout variants:
//   <root>/images/<n>.jpg    or <root>/image/ or <root>/CelebA-HQ-img/   (.jpg, .jpeg or .png)
//   <root>/text/<n>.txt      or <root>/celeba-caption/                  (one caption per line)
//   <root>/<split>/filenames.pickle   (a pickled list of str, "0" or "0.jpg"; read with the
//                                      restricted unpickler, which never executes anything)
//   or <root>/<split>.txt             (one name per line)
// The split "all" takes every <n>.txt that has an image, in numeric order.
//
// Bad data is skipped and counted rather than fatal, because the real set has a few empty caption
// lines and a user's copy may miss files: each skipped item is counted and the first problems are
// kept with the file (and line) they are about. Only a layout that cannot be read at all, a split
// file of the wrong shape, or a split with nothing usable throws syn::Error. Images are not decoded
// here (the run layer decodes them and skips corrupt ones). Torch-free.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/io/utf8.h"

namespace syn::data {

struct FaceSample {
    std::string id;          // "0" ... "29999": the file name without extension
    std::string image_path;  // <root>/images/<id>.jpg (exists when the dataset was loaded)
    std::vector<std::string> captions;  // non-empty, trimmed, valid UTF-8
};

struct FaceDataset {
    std::string root, split;
    std::string images_dir, text_dir;  // the layout variants found
    std::string split_file;            // the split list read ("" for "all")
    std::vector<FaceSample> samples;
    std::size_t listed = 0;                    // names examined (up to max_images usable ones)
    std::size_t empty_caption_lines = 0;       // blank / whitespace-only lines skipped (normal in the real set)
    std::size_t invalid_caption_lines = 0;     // lines skipped for invalid UTF-8
    std::size_t samples_without_captions = 0;  // caption file missing, unreadable or without a usable line
    std::size_t missing_images = 0;            // listed (or captioned, for "all") but no image file
    std::size_t duplicate_names = 0;           // repeated names in the split list (kept once)
    std::vector<std::string> problems;         // the first kMaxProblems, each "file[:line]: problem"
    std::size_t problem_count = 0;             // all problems, including those not kept
    static constexpr std::size_t kMaxProblems = 20;
};

// Loads `split` ("train", "test", any other split file name, or "all") under `root`.
// `max_images` > 0 stops after that many usable samples (in split order). Throws syn::Error naming
// the path when the root or the text / image folder is missing, when a named split has no split
// file (the message lists the paths looked for), when a split file is not a list of plain file
// names, and when no usable sample remains.
FaceDataset load_mm_celeba_hq(const std::string& root, const std::string& split, std::size_t max_images = 0);

// One caption file's content parsed as load_mm_celeba_hq does (exposed for tests and the fuzzer).
struct CaptionFile {
    std::vector<std::string> captions;
    std::size_t empty_lines = 0;
    std::size_t invalid_lines = 0;
    std::vector<std::string> problems;  // "<source>:<line>: invalid UTF-8 ...", one per invalid line
};
// Strips a UTF-8 BOM, splits on LF (a CR before it is dropped), trims ASCII whitespace, skips and
// counts blank lines, and skips lines that are not valid UTF-8 (problem named "<source>:<line>").
CaptionFile parse_caption_text(std::string_view text, const std::string& source);

// Split-list names to sample ids: "0.jpg" -> "0", "12" -> "12" (.jpg/.jpeg/.png/.txt stripped).
// Throws syn::Error (naming `where`) for an empty name or one that is not a plain file name
// ("/", "\\", "..", control characters), which could otherwise reach outside the dataset folder.
std::string face_id_from_name(const std::string& name, const std::string& where);

// The engine's one UTF-8 validator (core/io/utf8.h): true when `s` is well-formed UTF-8 (no
// overlongs, surrogates or code points above U+10FFFF); otherwise `bad_offset` (if given) receives
// the offset of the first bad byte.
using syn::is_valid_utf8;

}  // namespace syn::data
