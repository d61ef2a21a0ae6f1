#include <gtest/gtest.h>

#include "core/data/coco_captions.h"
#include "tests/data/temp_dir.h"

using syn::data::CaptionIdKind;
using syn::data::load_coco_captions;
using syn::test::error_message;
using syn::test::TempDir;

namespace {
bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}
}  // namespace

TEST(CocoCaptions, OfficialFormat) {
    TempDir dir;
    const std::string path = dir.write(
        "captions_val.json",
        R"({"info": {}, "images": [{"id": 7, "file_name": "a.jpg"}, {"id": 9}],
            "annotations": [{"id": 100, "image_id": 7, "caption": "A cat."},
                            {"id": 101, "image_id": 9, "caption": "A \"dog\"\n"}]})");
    const auto index = load_coco_captions(path);
    EXPECT_EQ(index.id_kind, CaptionIdKind::kCocoCaptionId);
    EXPECT_EQ(index.image_count, 2u);
    ASSERT_NE(index.find(101), nullptr);
    EXPECT_EQ(index.find(101)->text, "A \"dog\"\n");
    EXPECT_EQ(index.find(101)->image_id, 9);
    EXPECT_EQ(index.find(102), nullptr);
}

TEST(CocoCaptions, KarpathyFormatWithSplitFilter) {
    TempDir dir;
    // The shape of Karpathy's dataset_coco.json (images[].sentences[] with sentid, raw; cocoid).
    const std::string path = dir.write(
        "dataset_coco.json",
        R"({"dataset": "coco", "images": [
            {"filepath": "val2014", "filename": "x.jpg", "imgid": 0, "split": "test", "cocoid": 391895, "sentids": [0, 1],
             "sentences": [{"tokens": ["a"], "raw": "A man.", "imgid": 0, "sentid": 0},
                           {"tokens": ["b"], "raw": "A bike.", "imgid": 0, "sentid": 1}]},
            {"filepath": "train2014", "filename": "y.jpg", "imgid": 1, "split": "train", "cocoid": 5, "sentids": [2],
             "sentences": [{"tokens": ["c"], "raw": "A tree.", "imgid": 1, "sentid": 2}]}]})");
    const auto all = load_coco_captions(path);
    EXPECT_EQ(all.id_kind, CaptionIdKind::kKarpathySentId);
    EXPECT_EQ(all.captions.size(), 3u);
    EXPECT_EQ(all.find(1)->text, "A bike.");
    EXPECT_EQ(all.find(1)->image_id, 391895);
    const auto test = load_coco_captions(path, {"test"});
    EXPECT_EQ(test.captions.size(), 2u);
    EXPECT_EQ(test.find(2), nullptr);
    EXPECT_EQ(test.image_count, 1u);
}

TEST(CocoCaptions, WrongShapesNameFileAndKey) {
    TempDir dir;
    struct Case {
        const char* json;
        const char* expected;
    };
    const Case cases[] = {
        {R"([1, 2])", "key '<root>': expected an object, got array"},
        {R"({"images": []})", "key 'annotations': missing"},
        {R"({"images": {}, "annotations": []})", "key 'images': expected an array, got object"},
        {R"({"images": [{"id": 1}], "annotations": [{"id": 5, "image_id": 1}]})", "key 'annotations[0].caption': missing"},
        {R"({"images": [{"id": 1}], "annotations": [{"id": 5, "image_id": 1, "caption": "a"}, {"id": "6", "image_id": 1, "caption": "b"}]})",
         "key 'annotations[1].id': expected an integer, got string"},
        {R"({"images": [{"id": 1}], "annotations": [{"id": 5, "image_id": 1, "caption": 3}]})",
         "key 'annotations[0].caption': expected a string, got number"},
        {R"({"images": [{"id": 1}], "annotations": [{"id": 5, "image_id": 2, "caption": "a"}]})",
         "key 'annotations[0].image_id': image id 2 is not listed in 'images'"},
        {R"({"images": [{"id": 1}], "annotations": [{"id": 5, "image_id": 1, "caption": "a"}, {"id": 5, "image_id": 1, "caption": "b"}]})",
         "key 'annotations[1].id': duplicated caption id 5"},
        {R"({"dataset": "coco", "images": [{"cocoid": 1, "sentences": [{"sentid": 0}]}]})",
         "key 'images[0].sentences[0].raw': missing"},
        {R"({"images": [{"id": 1}], "annotations": [)", "not valid JSON"},
    };
    int i = 0;
    for (const Case& c : cases) {
        const std::string path = dir.write("bad" + std::to_string(i++) + ".json", c.json);
        const std::string message = error_message([&] { load_coco_captions(path); });
        EXPECT_TRUE(contains(message, path + ": ")) << message;
        EXPECT_TRUE(contains(message, c.expected)) << "expected '" << c.expected << "' in: " << message;
    }
}

TEST(CocoCaptions, SplitFilterOnOfficialFormatIsAnError) {
    TempDir dir;
    const std::string path = dir.write("c.json", R"({"images": [], "annotations": []})");
    EXPECT_TRUE(contains(error_message([&] { load_coco_captions(path, {"test"}); }), "applies only to Karpathy"));
}
