// Multi-Modal CelebA-HQ layout reader: small layouts built in a scratch folder, split files in every
// accepted form (pickles written byte by byte as Python writes them), and every skip / error path.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/data/mm_celeba_hq.h"
#include "core/io/errors.h"
#include "tests/data/temp_dir.h"

namespace fs = std::filesystem;
using namespace syn::data;
using syn::test::error_message;
using syn::test::TempDir;

namespace {

// A string literal with its NUL bytes.
template <size_t N>
std::string bytes(const char (&s)[N]) {
    return std::string(s, N - 1);
}

std::string le(uint64_t v, int bytes) {
    std::string s;
    for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
    return s;
}

// pickle.dumps(names, protocol=2): PROTO 2, EMPTY_LIST, BINPUT, MARK, (BINUNICODE, BINPUT)*, APPENDS, STOP.
std::string pickle_protocol2(const std::vector<std::string>& names) {
    std::string p = "\x80\x02]q";
    p += '\0';
    p += '(';
    for (size_t i = 0; i < names.size(); ++i) p += "X" + le(names[i].size(), 4) + names[i] + "q" + le(i + 1, 1);
    return p + "e.";
}

// pickle.dumps(names, protocol=4): PROTO 4, FRAME, EMPTY_LIST, MEMOIZE, MARK,
// (SHORT_BINUNICODE, MEMOIZE)*, APPENDS, STOP.
std::string pickle_protocol4(const std::vector<std::string>& names) {
    std::string body = "]\x94(";
    for (const auto& n : names) body += "\x8c" + le(n.size(), 1) + n + "\x94";
    body += "e.";
    return "\x80\x04\x95" + le(body.size(), 8) + body;
}

// A Python 2 pickle of a list of byte strings: SHORT_BINSTRING items.
std::string pickle_python2_str(const std::vector<std::string>& names) {
    std::string p = "\x80\x02](";
    for (const auto& n : names) p += "U" + le(n.size(), 1) + n;
    return p + "e.";
}

// A scratch dataset folder: root/images, root/text and whatever a test adds.
class Layout {
public:
    Layout(const std::string& images = "images", const std::string& text = "text")
        : root_(fs::path(tmp_.write("marker", "")).parent_path() / "mm") {
        fs::create_directories(root_ / images);
        fs::create_directories(root_ / text);
        images_ = images;
        text_ = text;
    }
    std::string root() const { return root_.string(); }
    std::string path(const std::string& rel) const { return (root_ / rel).string(); }
    std::string write(const std::string& rel, const std::string& content) const {
        const fs::path p = root_ / rel;
        fs::create_directories(p.parent_path());
        std::ofstream out(p, std::ios::binary);
        out << content;
        return p.string();
    }
    // An image file (never decoded by the reader) and its captions.
    void face(const std::string& id, const std::string& captions, const std::string& ext = ".jpg") const {
        write(images_ + "/" + id + ext, "\xFF\xD8 not really a jpeg");
        write(text_ + "/" + id + ".txt", captions);
    }

private:
    TempDir tmp_;
    fs::path root_;
    std::string images_, text_;
};

std::vector<std::string> ids(const FaceDataset& d) {
    std::vector<std::string> v;
    for (const auto& s : d.samples) v.push_back(s.id);
    return v;
}

bool any_problem_contains(const FaceDataset& d, const std::string& needle) {
    for (const auto& p : d.problems)
        if (p.find(needle) != std::string::npos) return true;
    return false;
}

TEST(MmCelebaHq, PickleSplitProtocol2KeepsListOrder) {
    Layout l;
    l.face("0", "the woman has blond hair.\nshe is smiling.\n");
    l.face("1", "the man wears eyeglasses.\n");
    l.face("2", "a person.\n");
    l.face("3", "not in the split.\n");
    l.write("train/filenames.pickle", pickle_protocol2({"2", "0", "1"}));
    FaceDataset d = load_mm_celeba_hq(l.root(), "train");
    EXPECT_EQ(ids(d), (std::vector<std::string>{"2", "0", "1"}));
    EXPECT_EQ(d.split_file, l.path("train/filenames.pickle"));
    EXPECT_EQ(d.samples[1].image_path, l.path("images/0.jpg"));
    EXPECT_EQ(d.samples[1].captions, (std::vector<std::string>{"the woman has blond hair.", "she is smiling."}));
    EXPECT_EQ(d.listed, 3u);
    EXPECT_EQ(d.empty_caption_lines, 0u);
    EXPECT_EQ(d.problem_count, 0u);
    EXPECT_TRUE(d.problems.empty());
}

TEST(MmCelebaHq, PickleSplitProtocol4WithExtensionsAndPython2Strings) {
    Layout l;
    for (int i = 0; i < 4; ++i) l.face(std::to_string(i), "caption " + std::to_string(i) + "\n");
    l.write("test/filenames.pickle", pickle_protocol4({"3.jpg", "1.jpg"}));
    FaceDataset d = load_mm_celeba_hq(l.root(), "test");
    EXPECT_EQ(ids(d), (std::vector<std::string>{"3", "1"}));
    EXPECT_EQ(d.samples[0].captions, std::vector<std::string>{"caption 3"});

    l.write("train/filenames.pickle", pickle_python2_str({"0", "2"}));
    EXPECT_EQ(ids(load_mm_celeba_hq(l.root(), "train")), (std::vector<std::string>{"0", "2"}));
}

TEST(MmCelebaHq, TextSplitWithBomCrlfBlankLinesAndExtensions) {
    Layout l;
    for (int i = 0; i < 3; ++i) l.face(std::to_string(i), "c\n");
    l.write("train.txt", "\xEF\xBB\xBF" "0\r\n\r\n  2.jpg \r\n1");
    FaceDataset d = load_mm_celeba_hq(l.root(), "train");
    EXPECT_EQ(ids(d), (std::vector<std::string>{"0", "2", "1"}));
    EXPECT_EQ(d.split_file, l.path("train.txt"));
}

TEST(MmCelebaHq, PickleIsPreferredOverText) {
    Layout l;
    for (int i = 0; i < 3; ++i) l.face(std::to_string(i), "c\n");
    l.write("train/filenames.pickle", pickle_protocol2({"1"}));
    l.write("train.txt", "0\n2\n");
    EXPECT_EQ(ids(load_mm_celeba_hq(l.root(), "train")), std::vector<std::string>{"1"});
}

TEST(MmCelebaHq, AllSplitIsNumericAndNeedsAnImage) {
    Layout l;
    l.face("10", "ten\n");
    l.face("2", "two\n");
    l.face("0", "zero\n");
    l.write("text/7.txt", "seven has no image\n");
    l.write("images/5.jpg", "image without captions");  // not in "all": it has no caption file
    l.write("text/notes.md", "ignored");
    FaceDataset d = load_mm_celeba_hq(l.root(), "all");
    EXPECT_EQ(ids(d), (std::vector<std::string>{"0", "2", "10"}));
    EXPECT_EQ(d.missing_images, 1u);
    EXPECT_TRUE(any_problem_contains(d, "7.jpg")) << d.problems.at(0);
    EXPECT_TRUE(d.split_file.empty());
}

TEST(MmCelebaHq, LayoutVariantsAndImageExtensions) {
    Layout l("image", "celeba-caption");
    l.face("0", "png face\n", ".png");
    l.face("1", "jpeg face\n", ".jpeg");
    l.write("image/2.png", "x");
    l.face("2", "both\n", ".jpg");  // .jpg wins over .png
    FaceDataset d = load_mm_celeba_hq(l.root(), "all");
    ASSERT_EQ(ids(d), (std::vector<std::string>{"0", "1", "2"}));
    EXPECT_EQ(d.samples[0].image_path, l.path("image/0.png"));
    EXPECT_EQ(d.samples[1].image_path, l.path("image/1.jpeg"));
    EXPECT_EQ(d.samples[2].image_path, l.path("image/2.jpg"));
    EXPECT_EQ(d.images_dir, l.path("image"));
    EXPECT_EQ(d.text_dir, l.path("celeba-caption"));
}

TEST(MmCelebaHq, CaptionLinesEmptyCrlfBomAndInvalidUtf8) {
    Layout l;
    // Line 3 is blank, line 4 whitespace only, line 5 holds a stray continuation byte, line 7 an
    // overlong '/', line 8 a UTF-16 surrogate; line 6 is valid UTF-8 (é).
    l.face("0", "\xEF\xBB\xBF" "first caption\r\n"
                "  second caption  \r\n"
                "\r\n"
                " \t \n"
                "bad \x80 byte\n"
                "caf\xC3\xA9 caption\n"
                "overlong \xC0\xAF\n"
                "surrogate \xED\xA0\x80\n"
                "last without newline");
    FaceDataset d = load_mm_celeba_hq(l.root(), "all");
    ASSERT_EQ(d.samples.size(), 1u);
    EXPECT_EQ(d.samples[0].captions, (std::vector<std::string>{"first caption", "second caption",
                                                               "caf\xC3\xA9 caption", "last without newline"}));
    EXPECT_EQ(d.empty_caption_lines, 2u);
    EXPECT_EQ(d.invalid_caption_lines, 3u);
    EXPECT_EQ(d.samples_without_captions, 0u);
    EXPECT_EQ(d.problem_count, 3u);
    const std::string file = l.path("text/0.txt");
    EXPECT_TRUE(any_problem_contains(d, file + ":5: invalid UTF-8 at byte 4")) << d.problems.at(0);
    EXPECT_TRUE(any_problem_contains(d, file + ":7:"));
    EXPECT_TRUE(any_problem_contains(d, file + ":8:"));
}

TEST(MmCelebaHq, SamplesWithoutCaptionsOrImagesAreSkippedAndCounted) {
    Layout l;
    l.face("0", "good\n");
    l.write("images/1.jpg", "x");  // no caption file
    l.face("2", "");               // empty caption file
    l.face("3", "\n  \n\r\n");     // blank lines only
    l.write("text/4.txt", "no image\n");
    l.face("5", "\xFF\xFE\n");     // its only line is not UTF-8
    l.write("train.txt", "0\n1\n2\n3\n4\n5\n");
    FaceDataset d = load_mm_celeba_hq(l.root(), "train");
    EXPECT_EQ(ids(d), std::vector<std::string>{"0"});
    EXPECT_EQ(d.listed, 6u);
    EXPECT_EQ(d.samples_without_captions, 4u);
    EXPECT_EQ(d.missing_images, 1u);
    EXPECT_EQ(d.empty_caption_lines, 3u);
    EXPECT_EQ(d.invalid_caption_lines, 1u);
    EXPECT_TRUE(any_problem_contains(d, l.path("text/1.txt") + ": caption file missing"));
    EXPECT_TRUE(any_problem_contains(d, l.path("text/2.txt") + ": no usable caption line"));
    EXPECT_TRUE(any_problem_contains(d, l.path("text/3.txt") + ": no usable caption line"));
    EXPECT_TRUE(any_problem_contains(d, l.path("images/4.jpg") + ": no image"));
    EXPECT_TRUE(any_problem_contains(d, l.path("train.txt") + ":5"));  // where 4 was listed
    EXPECT_TRUE(any_problem_contains(d, l.path("text/5.txt") + ":1: invalid UTF-8"));
}

TEST(MmCelebaHq, MaxImagesDuplicatesAndProblemCap) {
    Layout l;
    std::string split;
    for (int i = 0; i < 30; ++i) split += std::to_string(i) + "\n";  // none of them has files
    for (int i = 30; i < 35; ++i) {
        l.face(std::to_string(i), "c\n");
        split += std::to_string(i) + "\n";
    }
    split += "30\n";
    l.write("train.txt", split);
    FaceDataset d = load_mm_celeba_hq(l.root(), "train");
    EXPECT_EQ(d.samples.size(), 5u);
    EXPECT_EQ(d.missing_images, 30u);
    EXPECT_EQ(d.duplicate_names, 1u);
    EXPECT_EQ(d.problem_count, 31u);
    EXPECT_EQ(d.problems.size(), FaceDataset::kMaxProblems);

    FaceDataset two = load_mm_celeba_hq(l.root(), "train", 2);
    EXPECT_EQ(ids(two), (std::vector<std::string>{"30", "31"}));
    EXPECT_EQ(two.listed, 32u);
}

TEST(MmCelebaHq, ErrorsNameThePaths) {
    Layout l;
    l.face("0", "c\n");
    const std::string missing = l.path("nowhere");
    EXPECT_NE(error_message([&] { load_mm_celeba_hq(missing, "train"); }).find(missing + ": "), std::string::npos);

    std::string m = error_message([&] { load_mm_celeba_hq(l.root(), "val"); });
    EXPECT_NE(m.find("split 'val'"), std::string::npos) << m;
    EXPECT_NE(m.find(l.path("val/filenames.pickle")), std::string::npos) << m;
    EXPECT_NE(m.find(l.path("val.txt")), std::string::npos) << m;

    m = error_message([&] { load_mm_celeba_hq(l.root(), "../x"); });
    EXPECT_NE(m.find("not a split name"), std::string::npos) << m;

    // A pickled dict, a list holding an int, garbage, and a path instead of a name.
    l.write("a/filenames.pickle", bytes("\x80\x02}q\x00X\x01\x00\x00\x00" "aq\x01K\x01s."));
    m = error_message([&] { load_mm_celeba_hq(l.root(), "a"); });
    EXPECT_NE(m.find(l.path("a/filenames.pickle") + ": holds a value of type dict, not a list"), std::string::npos) << m;

    l.write("b/filenames.pickle", bytes("\x80\x02](X\x01\x00\x00\x00" "0K\x07" "e."));
    m = error_message([&] { load_mm_celeba_hq(l.root(), "b"); });
    EXPECT_NE(m.find(l.path("b/filenames.pickle") + " item [1]: is of type int, not a file name string"), std::string::npos) << m;

    l.write("c/filenames.pickle", "this is not a pickle");
    m = error_message([&] { load_mm_celeba_hq(l.root(), "c"); });
    EXPECT_NE(m.find(l.path("c/filenames.pickle") + ": not a pickled list of file names"), std::string::npos) << m;

    l.write("d/filenames.pickle", pickle_protocol2({"0", "../../etc/passwd"}));
    m = error_message([&] { load_mm_celeba_hq(l.root(), "d"); });
    EXPECT_NE(m.find(l.path("d/filenames.pickle") + " item [1]: '../../etc/passwd' is not a plain file name"),
              std::string::npos)
        << m;

    l.write("e.txt", "0\nimages/0.jpg\n");
    m = error_message([&] { load_mm_celeba_hq(l.root(), "e"); });
    EXPECT_NE(m.find(l.path("e.txt") + ":2: 'images/0.jpg' is not a plain file name"), std::string::npos) << m;

    // Nothing usable: the message says which split and why.
    l.write("f.txt", "5\n6\n");
    m = error_message([&] { load_mm_celeba_hq(l.root(), "f"); });
    EXPECT_NE(m.find("no usable samples in split 'f'"), std::string::npos) << m;
    EXPECT_NE(m.find("2 without an image"), std::string::npos) << m;
    EXPECT_NE(m.find(l.path("images/5.jpg")), std::string::npos) << m;
}

TEST(MmCelebaHq, MissingFoldersAreNamed) {
    TempDir tmp;
    const fs::path root = fs::path(tmp.write("marker", "")).parent_path();
    fs::create_directories(root / "images");
    std::string m = error_message([&] { load_mm_celeba_hq(root.string(), "all"); });
    EXPECT_NE(m.find("no caption folder"), std::string::npos) << m;
    EXPECT_NE(m.find((root / "text").string()), std::string::npos) << m;
    EXPECT_NE(m.find((root / "celeba-caption").string()), std::string::npos) << m;
    fs::remove(root / "images");
    fs::create_directories(root / "text");
    m = error_message([&] { load_mm_celeba_hq(root.string(), "all"); });
    EXPECT_NE(m.find("no image folder"), std::string::npos) << m;
    EXPECT_NE(m.find((root / "image").string()), std::string::npos) << m;
}

TEST(MmCelebaHq, Utf8ValidatorAndNames) {
    size_t bad = 99;
    EXPECT_TRUE(is_valid_utf8("plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
    EXPECT_FALSE(is_valid_utf8("ab\xC3", &bad));  // truncated
    EXPECT_EQ(bad, 2u);
    EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // overlong 3-byte
    EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));  // overlong 4-byte
    EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xED\xBF\xBF"));      // surrogate
    EXPECT_FALSE(is_valid_utf8("\xC3\x28"));          // bad continuation

    EXPECT_EQ(face_id_from_name("12.jpg", "w"), "12");
    EXPECT_EQ(face_id_from_name(" 12.JPG ", "w"), "12");
    EXPECT_EQ(face_id_from_name("12", "w"), "12");
    EXPECT_EQ(face_id_from_name("12.txt", "w"), "12");
    EXPECT_EQ(face_id_from_name("a.b", "w"), "a.b");
    EXPECT_NE(error_message([] { face_id_from_name(".jpg", "split.txt:3"); }).find("split.txt:3: '.jpg' is an empty"),
              std::string::npos);
    EXPECT_THROW(face_id_from_name("..", "w"), syn::Error);
    EXPECT_THROW(face_id_from_name("a\\b", "w"), syn::Error);
    EXPECT_THROW(face_id_from_name(std::string("a\0b", 3), "w"), syn::Error);
    EXPECT_THROW(face_id_from_name("\xFF", "w"), syn::Error);
}

TEST(MmCelebaHq, ParseCaptionTextDirectly) {
    CaptionFile f = parse_caption_text("a\n\nb\r\n\xC3\n", "mem.txt");
    EXPECT_EQ(f.captions, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(f.empty_lines, 1u);
    EXPECT_EQ(f.invalid_lines, 1u);
    ASSERT_EQ(f.problems.size(), 1u);
    EXPECT_EQ(f.problems[0], "mem.txt:4: invalid UTF-8 at byte 0 of the line; line skipped");
    EXPECT_TRUE(parse_caption_text("", "e").captions.empty());
    EXPECT_TRUE(parse_caption_text("\xEF\xBB\xBF", "e").captions.empty());
}

}  // namespace
