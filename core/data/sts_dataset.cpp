#include "core/data/sts_dataset.h"

#include <unordered_map>

#include "core/io/errors.h"

namespace syn::data {

StsDataset join_sts(const CxcStsFile& file, const CaptionIndex& captions) {
    if (captions.id_kind != CaptionIdKind::kCocoCaptionId)
        throw file_error(captions.source,
                         std::string("caption ids are ") + to_string(captions.id_kind) +
                             "s, but CxC refers to MS-COCO caption ids; use the official captions_*.json format");
    StsDataset data;
    data.pairs_source = file.path;
    data.captions_source = captions.source;
    data.csv_rows = file.rows_read;
    data.duplicate_rows = file.duplicate_rows;
    data.unknown_method_rows = file.unknown_method_rows;
    data.csv_warnings = file.warnings;
    data.pairs.reserve(file.pairs.size());

    for (const CxcPair& row : file.pairs) {
        const Caption* c1 = captions.find(row.caption_id1);
        const Caption* c2 = captions.find(row.caption_id2);
        if (!c1 || !c2) {
            ++data.dropped_unresolved;
            if (data.unresolved_examples.size() < StsDataset::kMaxExamples) {
                std::string missing;
                if (!c1) missing += std::to_string(row.caption_id1);
                if (!c2) missing += (missing.empty() ? "" : " and ") + std::to_string(row.caption_id2);
                data.unresolved_examples.push_back(
                    {file.path, row.line, "caption id " + missing + " not found in " + captions.source + " (row dropped)"});
            }
            continue;
        }
        StsPair pair;
        pair.caption_id1 = row.caption_id1;
        pair.caption_id2 = row.caption_id2;
        pair.image_id1 = c1->image_id;
        pair.image_id2 = c2->image_id;
        pair.text1 = c1->text;
        pair.text2 = c2->text;
        pair.sts_l = row.score;
        pair.sts_v = c1->image_id == c2->image_id ? 1.0 : 0.0;
        pair.sampling_method = row.sampling_method;
        pair.csv_line = row.line;

        // The method says whether the captions share an image; the captions file says it too.
        const bool conflict = (row.sampling_method == kSameImageMethod && pair.sts_v != 1.0) ||
                              (row.sampling_method == kDifferentImagesMethod && pair.sts_v != 0.0);
        if (conflict) {
            ++data.method_image_conflicts;
            if (data.conflict_examples.size() < StsDataset::kMaxExamples)
                data.conflict_examples.push_back(
                    {file.path, row.line,
                     row.sampling_method + " but images " + std::to_string(pair.image_id1) + " and " +
                         std::to_string(pair.image_id2) + " (STS-V follows the image ids)"});
        }
        data.pairs.push_back(std::move(pair));
    }
    return data;
}

StsDataset load_sts_dataset(const std::string& cxc_csv_path, const std::string& captions_json_path) {
    const CxcStsFile file = load_cxc_sts(cxc_csv_path);
    const CaptionIndex captions = load_coco_captions(captions_json_path);
    StsDataset data = join_sts(file, captions);
    // Every row dropped: the captions file is of another split (or another data set). Say which id
    // is missing, rather than letting the job report "fewer than 3 usable pairs".
    if (data.pairs.empty() && !file.pairs.empty()) {
        const CxcPair& row = file.pairs.front();
        const std::int64_t missing = captions.find(row.caption_id1) ? row.caption_id2 : row.caption_id1;
        throw file_error(cxc_csv_path,
                         "none of its " + std::to_string(file.pairs.size()) + " pairs joins with " + captions_json_path +
                             ": caption id " + std::to_string(missing) + " (line " + std::to_string(row.line) +
                             ") is not in it, nor is any other pair's. The captions file must hold the captions of "
                             "the CxC split: sts_val.csv needs the val captions and sts_test.csv the test captions "
                             "(the official captions_val2014.json holds both)");
    }
    return data;
}

std::string StsDataset::summary() const {
    std::string s = pairs_source + ": " + std::to_string(pairs.size()) + " pairs joined with " + captions_source +
                    " (" + std::to_string(csv_rows) + " rows read; " + std::to_string(duplicate_rows) +
                    " duplicate pairs dropped; " + std::to_string(dropped_unresolved) +
                    " rows dropped with unresolved caption ids; " + std::to_string(unknown_method_rows) +
                    " rows with an unknown sampling_method; " + std::to_string(method_image_conflicts) +
                    " sampling_method/image conflicts)";
    for (const auto& issue : unresolved_examples) s += "\n  " + issue.to_string();
    for (const auto& issue : conflict_examples) s += "\n  " + issue.to_string();
    return s;
}

std::vector<double> StsDataset::sts_l_values() const {
    std::vector<double> v;
    v.reserve(pairs.size());
    for (const auto& p : pairs) v.push_back(p.sts_l);
    return v;
}

std::vector<double> StsDataset::sts_v_values() const {
    std::vector<double> v;
    v.reserve(pairs.size());
    for (const auto& p : pairs) v.push_back(p.sts_v);
    return v;
}

std::vector<std::string> StsDataset::sampling_methods() const {
    std::vector<std::string> v;
    v.reserve(pairs.size());
    for (const auto& p : pairs) v.push_back(p.sampling_method);
    return v;
}

UniqueTexts unique_texts(const StsDataset& dataset) {
    UniqueTexts out;
    std::unordered_map<std::string, std::uint32_t> position;
    auto intern = [&](const std::string& text) {
        auto [it, inserted] = position.emplace(text, static_cast<std::uint32_t>(out.texts.size()));
        if (inserted) out.texts.push_back(text);
        return it->second;
    };
    out.index1.reserve(dataset.pairs.size());
    out.index2.reserve(dataset.pairs.size());
    for (const auto& p : dataset.pairs) {
        out.index1.push_back(intern(p.text1));
        out.index2.push_back(intern(p.text2));
    }
    return out;
}

std::vector<StsPair> evenly_spaced_pairs(const std::vector<StsPair>& pairs, std::size_t n) {
    if (n == 0 || n >= pairs.size()) return pairs;
    std::vector<StsPair> subset;
    subset.reserve(n);
    for (std::size_t i = 0; i < n; ++i) subset.push_back(pairs[i * pairs.size() / n]);
    return subset;
}

}  // namespace syn::data
