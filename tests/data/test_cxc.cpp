#include <gtest/gtest.h>

#include "core/data/cxc.h"
#include "tests/data/temp_dir.h"

using syn::data::load_cxc_sts;
using syn::test::error_message;
using syn::test::TempDir;

namespace {
const std::string kHeader = "caption1,caption2,agg_score,sampling_method\n";
bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}
}  // namespace

TEST(CxcIds, ParsesTheNumberAfterSentid) {
    std::int64_t id = -1;
    EXPECT_TRUE(syn::data::parse_cxc_caption_id("COCO_val2014:sentid:190268", id));
    EXPECT_EQ(id, 190268);
    EXPECT_FALSE(syn::data::parse_cxc_caption_id("COCO_val2014:sentid:", id));
    EXPECT_FALSE(syn::data::parse_cxc_caption_id("COCO_val2014:sentid:12a", id));
    EXPECT_FALSE(syn::data::parse_cxc_caption_id("190268", id));
    EXPECT_FALSE(syn::data::parse_cxc_caption_id(":sentid:5", id));
    EXPECT_EQ(id, 190268);  // untouched by failures
}

TEST(Cxc, LoadsValidRowsWithQuotingAndCrlf) {
    TempDir dir;
    const std::string path = dir.write(
        "ok.csv", "caption1,caption2,agg_score,sampling_method\r\n"
                  "COCO_val2014:sentid:1,COCO_val2014:sentid:2,3.5,c2c_cocaption\r\n"
                  "\"COCO_val2014:sentid:3\",COCO_val2014:sentid:4,0,\"c2c_isim\"\r\n");
    const auto file = load_cxc_sts(path);
    ASSERT_EQ(file.pairs.size(), 2u);
    EXPECT_EQ(file.pairs[0].caption_id1, 1);
    EXPECT_EQ(file.pairs[0].caption_id2, 2);
    EXPECT_DOUBLE_EQ(file.pairs[0].score, 3.5);
    EXPECT_EQ(file.pairs[1].sampling_method, "c2c_isim");
    EXPECT_EQ(file.pairs[1].line, 3u);
    EXPECT_EQ(file.method_counts.at("c2c_cocaption"), 1u);
    EXPECT_TRUE(file.warnings.empty());
}

TEST(Cxc, MalformedRowsAreAllReportedWithFileAndLine) {
    TempDir dir;
    const std::string path = dir.write("bad_rows.csv", kHeader +
                                                           "COCO_val2014:sentid:1,COCO_val2014:sentid:2,3.5,c2c_isim\n"
                                                           "COCO_val2014:sentid:1,COCO_val2014:sentid:2,c2c_isim\n"
                                                           "COCO_val2014:sentid:5,COCO_val2014:sentid:6,1,c2c_isim,extra\n");
    const std::string message = error_message([&] { load_cxc_sts(path); });
    EXPECT_TRUE(contains(message, "2 invalid row(s)")) << message;
    EXPECT_TRUE(contains(message, path + ":3: expected 4 fields, found 3")) << message;
    EXPECT_TRUE(contains(message, path + ":4: expected 4 fields, found 5")) << message;
}

TEST(Cxc, MissingColumnIsNamed) {
    TempDir dir;
    const std::string path = dir.write("no_score.csv", "caption1,caption2,sampling_method\nCOCO_val2014:sentid:1,COCO_val2014:sentid:2,c2c_isim\n");
    const std::string message = error_message([&] { load_cxc_sts(path); });
    EXPECT_TRUE(contains(message, path + ":1: missing column 'agg_score'")) << message;
}

TEST(Cxc, NonNumericAndOutOfRangeScores) {
    TempDir dir;
    const std::string path = dir.write("scores.csv", kHeader +
                                                         "COCO_val2014:sentid:1,COCO_val2014:sentid:2,abc,c2c_isim\n"
                                                         "COCO_val2014:sentid:3,COCO_val2014:sentid:4,5.01,c2c_isim\n"
                                                         "COCO_val2014:sentid:5,COCO_val2014:sentid:6,-0.5,c2c_isim\n"
                                                         "COCO_val2014:sentid:7,COCO_val2014:sentid:8,nan,c2c_isim\n"
                                                         "COCO_val2014:sentid:9,COCO_val2014:sentid:10,,c2c_isim\n"
                                                         "COCO_val2014:sentid:11,COCO_val2014:sentid:12,5,c2c_isim\n");
    const std::string message = error_message([&] { load_cxc_sts(path); });
    EXPECT_TRUE(contains(message, "5 invalid row(s)")) << message;
    EXPECT_TRUE(contains(message, path + ":2: agg_score 'abc' is not a number")) << message;
    EXPECT_TRUE(contains(message, path + ":3: agg_score '5.01' is outside the CxC range 0..5")) << message;
    EXPECT_TRUE(contains(message, path + ":4: agg_score '-0.5' is outside")) << message;
    EXPECT_TRUE(contains(message, path + ":5: agg_score 'nan' is not a number")) << message;
    EXPECT_TRUE(contains(message, path + ":6: agg_score '' is not a number")) << message;
    EXPECT_FALSE(contains(message, path + ":7:")) << message;  // 5 is in range
}

TEST(Cxc, MalformedIdsAreErrors) {
    TempDir dir;
    const std::string path = dir.write("ids.csv", kHeader + "COCO_val2014:sentid:x,COCO_val2014:sentid:2,1,c2c_isim\n");
    const std::string message = error_message([&] { load_cxc_sts(path); });
    EXPECT_TRUE(contains(message, path + ":2: caption1 'COCO_val2014:sentid:x' is not a caption id")) << message;
}

TEST(Cxc, DuplicatedPairsKeepTheFirstAndListTheLines) {
    TempDir dir;
    const std::string path = dir.write("dups.csv", kHeader +
                                                       "COCO_val2014:sentid:1,COCO_val2014:sentid:2,1.0,c2c_isim\n"
                                                       "COCO_val2014:sentid:3,COCO_val2014:sentid:4,2.0,c2c_isim\n"
                                                       "COCO_val2014:sentid:2,COCO_val2014:sentid:1,4.0,c2c_isim\n"
                                                       "COCO_val2014:sentid:1,COCO_val2014:sentid:2,3.0,c2c_isim\n");
    const auto file = load_cxc_sts(path);
    ASSERT_EQ(file.pairs.size(), 2u);
    EXPECT_DOUBLE_EQ(file.pairs[0].score, 1.0);  // the first occurrence is the one kept
    EXPECT_EQ(file.duplicate_rows, 2u);
    EXPECT_EQ(file.duplicate_lines, (std::vector<std::size_t>{4, 5}));
    ASSERT_EQ(file.warnings.size(), 2u);
    EXPECT_TRUE(contains(file.warnings[0].to_string(), path + ":4: duplicate pair 1,2")) << file.warnings[0].to_string();
    EXPECT_EQ(file.rows_read, 4u);
}

TEST(Cxc, UnknownSamplingMethodIsKeptAndCounted) {
    TempDir dir;
    const std::string path = dir.write("methods.csv", kHeader +
                                                          "COCO_val2014:sentid:1,COCO_val2014:sentid:2,1,c2c_isim\n"
                                                          "COCO_val2014:sentid:3,COCO_val2014:sentid:4,2,i2i_foo\n"
                                                          "COCO_val2014:sentid:5,COCO_val2014:sentid:5,2,c2c_cocaption\n");
    const auto file = load_cxc_sts(path);
    EXPECT_EQ(file.pairs.size(), 3u);
    EXPECT_EQ(file.unknown_method_rows, 1u);
    EXPECT_EQ(file.method_counts.at("i2i_foo"), 1u);
    EXPECT_EQ(file.self_pairs, 1u);
    ASSERT_EQ(file.warnings.size(), 2u);
    EXPECT_TRUE(contains(file.warnings[0].to_string(), path + ":3: unknown sampling_method 'i2i_foo'"));
    EXPECT_TRUE(contains(file.warnings[1].to_string(), path + ":4: caption 5 is paired with itself"));
}

TEST(Cxc, MissingFileIsNamed) {
    const std::string message = error_message([] { load_cxc_sts("/nonexistent/sts.csv"); });
    EXPECT_TRUE(contains(message, "/nonexistent/sts.csv: cannot open")) << message;
}
