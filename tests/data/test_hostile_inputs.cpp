// Hostile inputs to the data readers (issue "Hostile and oversized inputs"): a folder given where a
// file is expected is an error naming it, and messages never echo raw input bytes (invalid UTF-8,
// NUL, a 1 MB field): they quote a short escaped excerpt. A CxC split joined with the captions of
// another split says which id is missing instead of "fewer than 3 usable pairs".
#include <gtest/gtest.h>

#include <filesystem>

#include "core/data/coco_captions.h"
#include "core/data/csv.h"
#include "core/data/cxc.h"
#include "core/data/glue.h"
#include "core/data/sts_dataset.h"
#include "core/io/errors.h"
#include "tests/data/temp_dir.h"

using syn::test::error_message;
using syn::test::TempDir;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// True when every byte of `message` is printable ASCII (or a newline between message lines).
bool printable_ascii(const std::string& message) {
    for (unsigned char c : message)
        if ((c < 0x20 && c != '\n') || c >= 0x7f) return false;
    return true;
}

std::string make_dir(const TempDir& dir, const std::string& name) {
    const std::string path = std::filesystem::path(dir.write("probe", "")).parent_path() / name;
    std::filesystem::create_directories(path);
    return path;
}

}  // namespace

TEST(HostileInputs, DirectoryWhereAFileIsExpectedIsNamed) {
    TempDir tmp;
    const std::string dir = make_dir(tmp, "a_folder.csv");
    const std::string expected = dir + ": is a directory, not a file";
    EXPECT_TRUE(contains(error_message([&] { syn::data::read_csv_file(dir); }), expected));
    EXPECT_TRUE(contains(error_message([&] { syn::data::load_cxc_sts(dir); }), expected));
    EXPECT_TRUE(contains(error_message([&] { syn::data::load_coco_captions(dir); }), expected));
    EXPECT_TRUE(contains(error_message([&] { syn::data::read_glue_tsv(syn::data::GlueTask::sst2, dir); }), expected));
    EXPECT_TRUE(contains(error_message([&] { syn::data::load_sts_dataset(dir, dir); }), expected));
}

TEST(HostileInputs, CsvAndCxcMessagesQuoteAShortEscapedExcerpt) {
    TempDir tmp;
    const std::string huge(1 << 20, 'x');
    const std::string csv_text = "caption1,caption2,agg_score,sampling_method\n" +
                                 std::string("COCO:sentid:1\xff\xfe\x01,COCO_val2014:sentid:2,1,c2c_isim\n");
    std::string message = error_message([&] { syn::data::parse_cxc_sts(csv_text, "bad.csv"); });
    EXPECT_TRUE(contains(message, "caption1 'COCO:sentid:1\\xff\\xfe\\x01' is not a caption id")) << message;
    EXPECT_TRUE(printable_ascii(message)) << message;

    const std::string long_field = "caption1,caption2,agg_score,sampling_method\n"
                                   "COCO_val2014:sentid:1,COCO_val2014:sentid:2," + huge + ",c2c_isim\n";
    message = error_message([&] { syn::data::load_cxc_sts(tmp.write("long.csv", long_field)); });
    EXPECT_LT(message.size(), 1000u) << message.substr(0, 2000);
    EXPECT_TRUE(contains(message, "agg_score 'xxxxxxxxxx")) << message.substr(0, 300);
    EXPECT_TRUE(contains(message, "x'... is not a number")) << message.substr(0, 300);

    // A column list made of hostile header names.
    const std::string header = "a\xc3\x28," + huge + "\n1,2\n";
    message = error_message([&] { syn::data::parse_csv_table(header, "h.csv").column("agg_score"); });
    EXPECT_LT(message.size(), 1000u);
    EXPECT_TRUE(printable_ascii(message)) << message;
    EXPECT_TRUE(contains(message, "a\\xc3(")) << message;
}

TEST(HostileInputs, GlueMessagesQuoteAShortEscapedExcerpt) {
    const std::string text = "sentence\tlabel\nfine\t" + std::string(1 << 20, '7') + "\xff\n";
    const std::string message =
        error_message([&] { syn::data::parse_glue_tsv(syn::data::GlueTask::sst2, text, "SST-2/dev.tsv"); });
    EXPECT_LT(message.size(), 1000u) << message.substr(0, 300);
    EXPECT_TRUE(printable_ascii(message)) << message.substr(0, 300);
    EXPECT_TRUE(contains(message, "SST-2/dev.tsv:2: label '777")) << message;
    const std::string m2 = error_message(
        [&] { syn::data::parse_glue_tsv(syn::data::GlueTask::sst2, std::string("sentence\tlabel\nfine\t1\0" "2\n", 24), "d.tsv"); });
    EXPECT_TRUE(contains(m2, "label '1\\x002' is not one of 0, 1")) << m2;
}

TEST(HostileInputs, CocoJsonErrorsDoNotEchoRawBytes) {
    const std::string text = "{\"annotations\": [{\"caption\": \"" + std::string(100000, 'y') + "\xff\xfe\"}]}";
    const std::string message = error_message([&] { syn::data::parse_coco_captions(text, "c.json"); });
    EXPECT_TRUE(contains(message, "c.json: not valid JSON")) << message.substr(0, 300);
    EXPECT_LT(message.size(), 1000u);
    EXPECT_TRUE(printable_ascii(message)) << message.substr(0, 300);
}

TEST(HostileInputs, CxcSplitWithTheCaptionsOfAnotherSplitSaysWhichIdIsMissing) {
    TempDir tmp;
    const std::string csv = tmp.write("sts_val.csv",
                                      "caption1,caption2,agg_score,sampling_method\n"
                                      "COCO_val2014:sentid:501,COCO_val2014:sentid:502,1,c2c_isim\n"
                                      "COCO_val2014:sentid:503,COCO_val2014:sentid:504,4,c2c_cocaption\n");
    const std::string captions = tmp.write("captions_test.json", R"({"images": [{"id": 1}],
        "annotations": [{"id": 10, "image_id": 1, "caption": "a dog"}]})");
    const std::string message = error_message([&] { syn::data::load_sts_dataset(csv, captions); });
    EXPECT_TRUE(contains(message, csv + ": none of its 2 pairs joins with " + captions)) << message;
    EXPECT_TRUE(contains(message, "caption id 501 (line 2) is not in it")) << message;
    EXPECT_TRUE(contains(message, "sts_val.csv needs the val captions")) << message;
}

// Found by fuzz_coco_captions: a number too large for a double made nlohmann::json throw
// out_of_range (not parse_error), which escaped the reader as a non-syn::Error and aborted.
TEST(HostileInputs, CocoNumberOverflowIsASynError) {
    const std::string text = R"({"d/taset":11111111037754781485126606.11111103775478267E11111111}]}]})";
    try {
        syn::data::parse_coco_captions(text, "overflow.json");
        ADD_FAILURE() << "no error";
    } catch (const syn::Error& e) {
        EXPECT_TRUE(contains(e.what(), "overflow.json: not valid JSON")) << e.what();
    }
}
