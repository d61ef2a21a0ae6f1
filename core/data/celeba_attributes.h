#pragma once
// Captions in the style of Multi-Modal CelebA-HQ ("The woman has arched eyebrows, wavy hair and
// wears heavy makeup. She is smiling.") generated from CelebA's 40 binary attributes, for users who
// have the attribute annotations but not the MM-CelebA-HQ text.
//
// Input: CelebA's list_attr_celeba.txt or CelebAMask-HQ's CelebAMask-HQ-attribute-anno.txt:
//   line 1: the number of images
//   line 2: attribute names separated by spaces (the 40 CelebA attributes, or a subset)
//   then:   "<file> v1 ... vK" with values 1 / -1 (0 = unknown is accepted), any run of spaces/tabs.
// Parsing is strict: every malformed line is a syn::Error naming the file and line. Blank lines are
// ignored; CRLF and a UTF-8 BOM are accepted.
//
// Generation is deterministic: image i's captions come from std::mt19937_64(seed + i), with draws
// reduced by modulo and a hand-written shuffle (std::shuffle and std::uniform_int_distribution
// differ between standard libraries). Only attributes with value 1 are mentioned; Male gives the
// gender (1 man, -1 woman; 'person' when absent or 0); No_Beard is left out for women (implied).
// Torch-free.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace syn::data {

// The 40 CelebA attribute names in the order of list_attr_celeba.txt.
const std::vector<std::string>& celeba_attribute_names();

struct AttributeTable {
    std::string source;
    std::vector<std::string> names;   // header order
    std::vector<std::string> files;   // one per row ("0.jpg", "000001.jpg")
    std::vector<std::int8_t> values;  // rows x names, row-major: 1, -1 or 0

    std::size_t rows() const { return files.size(); }
    // -1 when `name` is not in the header.
    int column(const std::string& name) const;
    int value(std::size_t row, std::size_t col) const { return values[row * names.size() + col]; }
};

// Parses the text of an attribute file; `source` names it in errors ("<source>:<line>: ...").
// Throws for: a missing or non-numeric image count, an empty header, an unknown or repeated
// attribute name (named), a row with the wrong number of values, a value other than 1/-1/0, a
// file name that is not a plain file name or repeats one (by name without extension), and a row
// count that differs from line 1.
AttributeTable parse_celeba_attributes(std::string_view text, const std::string& source);
AttributeTable load_celeba_attributes(const std::string& path);

// "0.jpg" -> "0": the caption file's stem for a row's file name.
std::string attribute_caption_id(const std::string& file);

// `count` captions for row `row` (distinct when the attributes allow it), deterministic in
// (seed + row).
std::vector<std::string> captions_from_attributes(const AttributeTable& table, std::size_t row, std::size_t count,
                                                  std::uint64_t seed);

// Reads `attr_file` and writes <out_root>/text/<n>.txt (one caption per line, `captions_per_image`
// lines), each file atomically. Returns the number of files written. `captions_per_image` must be
// at least 1.
std::size_t write_attribute_captions(const std::string& attr_file, const std::string& out_root,
                                     std::size_t captions_per_image, std::uint64_t seed);

}  // namespace syn::data
