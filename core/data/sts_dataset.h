#pragma once
// The STS-L / STS-V evaluation set: CxC STS pairs joined with MS-COCO caption texts and image ids.
// STS-L = CxC's human score (0..5); STS-V = 1 if the two captions describe the same COCO image, else 0.
// Rows whose caption ids do not resolve are dropped, counted and listed (first few); never silently.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/data/coco_captions.h"
#include "core/data/cxc.h"

namespace syn::data {

struct StsPair {
    std::int64_t caption_id1 = 0, caption_id2 = 0;
    std::int64_t image_id1 = 0, image_id2 = 0;
    std::string text1, text2;
    double sts_l = 0.0;           // CxC agg_score
    double sts_v = 0.0;           // 1.0 same image, 0.0 different images
    std::string sampling_method;  // as written in the CSV
    std::size_t csv_line = 0;
};

struct StsDataset {
    std::string pairs_source;     // CxC csv
    std::string captions_source;  // captions json
    std::vector<StsPair> pairs;

    // Carried over from the CxC file (see CxcStsFile).
    std::size_t csv_rows = 0;
    std::size_t duplicate_rows = 0;
    std::size_t unknown_method_rows = 0;
    std::vector<LoadIssue> csv_warnings;

    // Join problems.
    std::size_t dropped_unresolved = 0;             // rows dropped: a caption id is not in the captions file
    std::vector<LoadIssue> unresolved_examples;     // the first kMaxExamples of them, with the missing id(s)
    std::size_t method_image_conflicts = 0;         // c2c_cocaption with two images / c2c_isim with one image
    std::vector<LoadIssue> conflict_examples;       // the first kMaxExamples of them (rows are kept)

    static constexpr std::size_t kMaxExamples = 10;

    // One-paragraph account of what was loaded, dropped and warned about (for logs and reports).
    std::string summary() const;
    // Column views for the statistics.
    std::vector<double> sts_l_values() const;
    std::vector<double> sts_v_values() const;
    std::vector<std::string> sampling_methods() const;
};

// Joins the pairs with the captions. Throws syn::Error when `captions` uses Karpathy sentids (CxC
// uses MS-COCO caption ids; the two number ranges overlap, so a join would pair wrong captions).
StsDataset join_sts(const CxcStsFile& pairs, const CaptionIndex& captions);
// load_cxc_sts + load_coco_captions + join_sts.
StsDataset load_sts_dataset(const std::string& cxc_csv_path, const std::string& captions_json_path);

// N evenly spaced pairs (all of them when n is 0 or not smaller): CxC files are grouped by sampling
// method, so the first N pairs would hold one method only (and STS-V would be constant). The STS
// job and the workbench's data loading take the same subset through this.
std::vector<StsPair> evenly_spaced_pairs(const std::vector<StsPair>& pairs, std::size_t n);

// The distinct caption texts of a data set (exact byte equality), each embedded once, and for every
// pair the positions of its two texts in `texts`.
struct UniqueTexts {
    std::vector<std::string> texts;     // in order of first appearance
    std::vector<std::uint32_t> index1;  // per pair: texts[index1[i]] == pairs[i].text1
    std::vector<std::uint32_t> index2;
};
UniqueTexts unique_texts(const StsDataset& dataset);

}  // namespace syn::data
