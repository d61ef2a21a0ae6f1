#include <gtest/gtest.h>

#include <set>

#include "core/data/sts_dataset.h"
#include "tests/data/temp_dir.h"
#include "tests/support/shared_paths.h"

using syn::data::load_sts_dataset;
using syn::test::error_message;
using syn::test::TempDir;

namespace {
bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}
const char* kCaptions = R"({"images": [{"id": 1}, {"id": 2}],
  "annotations": [{"id": 10, "image_id": 1, "caption": "a dog"}, {"id": 11, "image_id": 1, "caption": "a puppy"},
                  {"id": 20, "image_id": 2, "caption": "a dog"}]})";
}  // namespace

TEST(StsDataset, JoinsTextsImagesAndStsV) {
    TempDir dir;
    const std::string csv = dir.write("sts.csv",
                                      "caption1,caption2,agg_score,sampling_method\n"
                                      "COCO_val2014:sentid:10,COCO_val2014:sentid:11,4.5,c2c_cocaption\n"
                                      "COCO_val2014:sentid:11,COCO_val2014:sentid:20,2,c2c_isim\n");
    const auto data = load_sts_dataset(csv, dir.write("cap.json", kCaptions));
    ASSERT_EQ(data.pairs.size(), 2u);
    EXPECT_EQ(data.pairs[0].text1, "a dog");
    EXPECT_EQ(data.pairs[0].text2, "a puppy");
    EXPECT_EQ(data.pairs[0].sts_v, 1.0);
    EXPECT_EQ(data.pairs[0].sts_l, 4.5);
    EXPECT_EQ(data.pairs[1].sts_v, 0.0);
    EXPECT_EQ(data.pairs[1].image_id2, 2);
    EXPECT_EQ(data.pairs[1].csv_line, 3u);
    EXPECT_EQ(data.dropped_unresolved, 0u);
    EXPECT_EQ(data.method_image_conflicts, 0u);

    // "a dog" appears under two caption ids: embedded once.
    const auto unique = syn::data::unique_texts(data);
    EXPECT_EQ(unique.texts, (std::vector<std::string>{"a dog", "a puppy"}));
    EXPECT_EQ(unique.index1, (std::vector<std::uint32_t>{0, 1}));
    EXPECT_EQ(unique.index2, (std::vector<std::uint32_t>{1, 0}));
}

TEST(StsDataset, UnresolvedIdsAreCountedListedAndDropped) {
    TempDir dir;
    const std::string csv = dir.write("sts.csv",
                                      "caption1,caption2,agg_score,sampling_method\n"
                                      "COCO_val2014:sentid:10,COCO_val2014:sentid:99,1,c2c_isim\n"
                                      "COCO_val2014:sentid:10,COCO_val2014:sentid:11,4,c2c_cocaption\n"
                                      "COCO_val2014:sentid:98,COCO_val2014:sentid:97,1,c2c_isim\n");
    const auto data = load_sts_dataset(csv, dir.write("cap.json", kCaptions));
    EXPECT_EQ(data.pairs.size(), 1u);
    EXPECT_EQ(data.dropped_unresolved, 2u);
    ASSERT_EQ(data.unresolved_examples.size(), 2u);
    EXPECT_TRUE(contains(data.unresolved_examples[0].to_string(), csv + ":2: caption id 99 not found"));
    EXPECT_TRUE(contains(data.unresolved_examples[1].to_string(), csv + ":4: caption id 98 and 97 not found"));
    EXPECT_TRUE(contains(data.summary(), "2 rows dropped with unresolved caption ids"));
}

TEST(StsDataset, MethodImageConflictsAreReported) {
    TempDir dir;
    const std::string csv = dir.write("sts.csv",
                                      "caption1,caption2,agg_score,sampling_method\n"
                                      "COCO_val2014:sentid:10,COCO_val2014:sentid:20,1,c2c_cocaption\n");
    const auto data = load_sts_dataset(csv, dir.write("cap.json", kCaptions));
    EXPECT_EQ(data.method_image_conflicts, 1u);
    ASSERT_EQ(data.conflict_examples.size(), 1u);
    EXPECT_TRUE(contains(data.conflict_examples[0].to_string(), csv + ":2: c2c_cocaption but images 1 and 2"));
    EXPECT_EQ(data.pairs[0].sts_v, 0.0);
}

TEST(StsDataset, KarpathySentidsAreRefused) {
    TempDir dir;
    const std::string csv = dir.write("sts.csv", "caption1,caption2,agg_score,sampling_method\n");
    const std::string karpathy = dir.write(
        "dataset_coco.json", R"({"dataset": "coco", "images": [{"cocoid": 1, "split": "test", "sentences": [{"sentid": 0, "raw": "x"}]}]})");
    const std::string message = error_message([&] { load_sts_dataset(csv, karpathy); });
    EXPECT_TRUE(contains(message, karpathy + ": caption ids are Karpathy sentids")) << message;
}

// The real CxC test split against the reconstructed Karpathy-test captions (../shared/README.md:
// 44,045 pairs, every caption id resolves).
TEST(StsDataset, EvenlySpacedPairsTakeEveryKthPair) {
    std::vector<syn::data::StsPair> pairs(10);
    for (std::size_t i = 0; i < pairs.size(); ++i) pairs[i].text1 = std::to_string(i);
    auto firsts = [](const std::vector<syn::data::StsPair>& v) {
        std::string s;
        for (const auto& p : v) s += p.text1;
        return s;
    };
    EXPECT_EQ(firsts(syn::data::evenly_spaced_pairs(pairs, 0)), "0123456789");   // 0 = all
    EXPECT_EQ(firsts(syn::data::evenly_spaced_pairs(pairs, 10)), "0123456789");
    EXPECT_EQ(firsts(syn::data::evenly_spaced_pairs(pairs, 25)), "0123456789");  // more than there are
    EXPECT_EQ(firsts(syn::data::evenly_spaced_pairs(pairs, 3)), "036");          // floor(i * 10 / 3)
    EXPECT_EQ(firsts(syn::data::evenly_spaced_pairs(pairs, 4)), "0257");
    EXPECT_EQ(firsts(syn::data::evenly_spaced_pairs(pairs, 1)), "0");
}

TEST(StsDatasetReal, CxcTestSplitLoadsCompletely) {
    SYN_REQUIRE_SHARED();
    const std::string data_dir = syn::test::shared_dir() + "/data";
    const auto data = load_sts_dataset(data_dir + "/cxc/sts_test.csv", data_dir + "/coco/captions_karpathy_test.json");
    EXPECT_EQ(data.csv_rows, 44045u);
    EXPECT_EQ(data.pairs.size(), 44045u) << data.summary();
    EXPECT_EQ(data.dropped_unresolved, 0u) << data.summary();
    EXPECT_EQ(data.duplicate_rows, 0u);
    EXPECT_EQ(data.unknown_method_rows, 0u);
    // STS-V consistency: c2c_cocaption pairs share their image, c2c_isim pairs do not.
    EXPECT_EQ(data.method_image_conflicts, 0u) << data.summary();
    std::size_t same = 0, different = 0;
    for (const auto& p : data.pairs) {
        if (p.sampling_method == syn::data::kSameImageMethod) {
            ++same;
            EXPECT_EQ(p.image_id1, p.image_id2) << "line " << p.csv_line;
        } else {
            ++different;
        }
        ASSERT_FALSE(p.text1.empty()) << "line " << p.csv_line;
        ASSERT_GE(p.sts_l, 0.0);
        ASSERT_LE(p.sts_l, 5.0);
    }
    EXPECT_GT(same, 0u);
    EXPECT_GT(different, 0u);
    const auto unique = syn::data::unique_texts(data);
    EXPECT_GT(unique.texts.size(), 1000u);
    EXPECT_LE(unique.texts.size(), 25000u);  // at most the 5 captions of each of the 5,000 images
    std::set<std::string> distinct(unique.texts.begin(), unique.texts.end());
    EXPECT_EQ(distinct.size(), unique.texts.size());
}
