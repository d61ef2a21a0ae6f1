// CelebA attribute annotations -> MM-CelebA-HQ-style captions: strict parsing of both file
// flavours, the wording of all 40 attributes, determinism, the writer and the CLI subcommand.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/data/celeba_attributes.h"
#include "core/data/mm_celeba_hq.h"
#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/run/commands/celeba_captions_command.h"
#include "tests/data/temp_dir.h"

namespace fs = std::filesystem;
using namespace syn::data;
using syn::test::error_message;
using syn::test::TempDir;

namespace {

const std::vector<std::string>& names() { return celeba_attribute_names(); }

std::string header(const std::string& sep = " ") {
    std::string s;
    for (const auto& n : names()) s += n + sep;
    return s;
}

// "<file> v1 ... v40" with the named attributes 1, `rest` elsewhere.
std::string row(const std::string& file, const std::set<std::string>& on, int rest = -1,
                const std::string& sep = " ") {
    std::string s = file;
    for (const auto& n : names()) s += sep + std::to_string(on.count(n) ? 1 : rest);
    return s;
}

// CelebAMask-HQ-attribute-anno.txt style.
std::string anno_file(const std::vector<std::string>& rows) {
    std::string s = std::to_string(rows.size()) + "\n" + header() + "\n";
    for (const auto& r : rows) s += r + "\n";
    return s;
}

const std::set<std::string> kWoman = {"Arched_Eyebrows", "Wavy_Hair", "Brown_Hair", "Heavy_Makeup",
                                      "Smiling",         "No_Beard",  "Young",      "Wearing_Lipstick"};
const std::set<std::string> kMan = {"Male", "No_Beard", "Eyeglasses", "Black_Hair", "Big_Nose", "Bald"};

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

TEST(CelebaAttributes, NamesAreTheFortyCelebaAttributes) {
    ASSERT_EQ(names().size(), 40u);
    EXPECT_EQ(names().front(), "5_o_Clock_Shadow");
    EXPECT_EQ(names()[20], "Male");
    EXPECT_EQ(names().back(), "Young");
}

TEST(CelebaAttributes, ParsesCelebaAndMaskHqFlavours) {
    // list_attr_celeba.txt: trailing space after the names, two spaces before positive values, CRLF, BOM.
    std::string celeba = "\xEF\xBB\xBF" "2\r\n" + header() + "\r\n";
    std::string r1 = "000001.jpg";
    for (const auto& n : names()) r1 += n == "Smiling" ? "  1" : " -1";
    celeba += r1 + "\r\n" + row("000002.jpg", {"Male"}, 0, "\t") + "\r\n\r\n";
    AttributeTable t = parse_celeba_attributes(celeba, "list_attr_celeba.txt");
    EXPECT_EQ(t.names, names());
    ASSERT_EQ(t.rows(), 2u);
    EXPECT_EQ(t.files, (std::vector<std::string>{"000001.jpg", "000002.jpg"}));
    EXPECT_EQ(t.value(0, t.column("Smiling")), 1);
    EXPECT_EQ(t.value(0, t.column("Young")), -1);
    EXPECT_EQ(t.value(1, t.column("Male")), 1);
    EXPECT_EQ(t.value(1, t.column("Young")), 0);
    EXPECT_EQ(t.column("Nope"), -1);

    AttributeTable m = parse_celeba_attributes(anno_file({row("0.jpg", kWoman), row("1.jpg", kMan)}), "anno.txt");
    EXPECT_EQ(m.rows(), 2u);
    EXPECT_EQ(m.value(1, m.column("Male")), 1);
    EXPECT_EQ(attribute_caption_id(m.files[1]), "1");

    // A subset of the attributes is a valid header too.
    AttributeTable sub = parse_celeba_attributes("1\nSmiling Young\n7.png 1 -1\n", "sub.txt");
    EXPECT_EQ(sub.names, (std::vector<std::string>{"Smiling", "Young"}));
}

TEST(CelebaAttributes, StrictParsingNamesFileAndLine) {
    auto err = [](const std::string& text) {
        return error_message([&] { parse_celeba_attributes(text, "attr.txt"); });
    };
    std::string m = err("2\n" + header() + "\n" + row("0.jpg", {}) + "\n" + row("1.jpg", {}) + " 1\n");
    EXPECT_TRUE(contains(m, "attr.txt:4: expected a file name and 40 values, found 41 values")) << m;

    std::string short_row = row("0.jpg", {});
    short_row.resize(short_row.size() - 3);
    m = err("1\n" + header() + "\n" + short_row + "\n");
    EXPECT_TRUE(contains(m, "attr.txt:3: expected a file name and 40 values, found 39")) << m;

    std::string bad_value = row("0.jpg", {});
    bad_value.replace(bad_value.rfind("-1"), 2, "2");  // Young
    m = err("1\n" + header() + "\n" + bad_value + "\n");
    EXPECT_TRUE(contains(m, "attr.txt:3: value '2' for Young is not 1, -1 or 0")) << m;
    bad_value = row("0.jpg", {});
    bad_value.replace(bad_value.find("-1"), 2, "+1");
    EXPECT_TRUE(contains(err("1\n" + header() + "\n" + bad_value + "\n"), "value '+1' for 5_o_Clock_Shadow")) << m;

    m = err("3\n" + header() + "\n" + row("0.jpg", {}) + "\n" + row("1.jpg", {}) + "\n");
    EXPECT_TRUE(contains(m, "attr.txt:1: declares 3 images but 2 rows follow")) << m;
    m = err("1\n" + header() + "\n" + row("0.jpg", {}) + "\n" + row("1.jpg", {}) + "\n");
    EXPECT_TRUE(contains(m, "attr.txt:4: more image rows than the 1 declared")) << m;

    m = err("1\nSmiling Purple_Hair\n0.jpg 1 1\n");
    EXPECT_TRUE(contains(m, "attr.txt:2: unknown attribute 'Purple_Hair'")) << m;
    m = err("1\nSmiling Smiling\n0.jpg 1 1\n");
    EXPECT_TRUE(contains(m, "attr.txt:2: attribute 'Smiling' appears twice")) << m;
    m = err("two\nSmiling\n0.jpg 1\n");
    EXPECT_TRUE(contains(m, "attr.txt:1: expected the number of images")) << m;
    m = err("-1\nSmiling\n");
    EXPECT_TRUE(contains(m, "attr.txt:1: expected the number of images")) << m;
    EXPECT_TRUE(contains(err(""), "attr.txt: empty attribute file"));
    EXPECT_TRUE(contains(err("\n\n"), "attr.txt: empty attribute file"));
    EXPECT_TRUE(contains(err("0\n"), "attr.txt: no attribute-name line"));
    m = err("1\nSmiling\n../0.jpg 1\n");
    EXPECT_TRUE(contains(m, "attr.txt:3: '../0.jpg' is not a plain image file name")) << m;
    m = err("1\nSmiling\n.. 1\n");
    EXPECT_TRUE(contains(m, "attr.txt:3:")) << m;
    m = err("2\nSmiling\n4.jpg 1\n4.png -1\n");
    EXPECT_TRUE(contains(m, "attr.txt:4: '4.png' names the same image as line 3")) << m;
}

TEST(CelebaAttributes, CaptionsMentionThePositiveAttributesOnly) {
    AttributeTable t = parse_celeba_attributes(anno_file({row("0.jpg", kWoman), row("1.jpg", kMan)}), "anno.txt");
    const auto woman = captions_from_attributes(t, 0, 10, 0);
    ASSERT_EQ(woman.size(), 10u);
    for (const auto& c : woman) {
        SCOPED_TRACE(c);
        for (const char* phrase : {"arched eyebrows", "wavy brown hair", "heavy makeup", "smiling", "young", "lipstick"})
            EXPECT_TRUE(contains(c, phrase)) << phrase;
        EXPECT_TRUE(contains(c, "woman") || contains(c, "She ")) << "gender";
        EXPECT_FALSE(contains(c, "beard")) << "No_Beard is implied for women";
        EXPECT_FALSE(contains(c, " man") || contains(c, "He ") || contains(c, "eyeglasses"));
        EXPECT_TRUE(std::isupper(static_cast<unsigned char>(c.front())));
        EXPECT_EQ(c.back(), '.');
        EXPECT_FALSE(contains(c, "  "));
        EXPECT_TRUE(is_valid_utf8(c));
    }
    EXPECT_EQ(std::set<std::string>(woman.begin(), woman.end()).size(), 10u) << "ten distinct wordings";

    for (const auto& c : captions_from_attributes(t, 1, 10, 0)) {
        SCOPED_TRACE(c);
        for (const char* phrase : {"no beard", "eyeglasses", "black hair", "a big nose", "bald"})
            EXPECT_TRUE(contains(c, phrase)) << phrase;
        EXPECT_TRUE(contains(c, "man") || contains(c, "He ")) << "gender";
        EXPECT_FALSE(contains(c, "woman") || contains(c, "She ") || contains(c, "smiling"));
    }
}

TEST(CelebaAttributes, EveryAttributeIsWorded) {
    // Each attribute alone (Male unknown = 0) gives captions different from those of no attribute.
    std::vector<std::string> rows = {row("none.jpg", {}, 0)};
    for (const auto& n : names()) rows.push_back(row(n + ".jpg", {n}, 0));
    AttributeTable t = parse_celeba_attributes(anno_file(rows), "anno.txt");
    const auto none = captions_from_attributes(t, 0, 3, 1);
    for (const auto& c : none) EXPECT_TRUE(contains(c, "person")) << c;
    std::set<std::string> all_captions;
    for (size_t i = 0; i < names().size(); ++i) {
        for (const auto& c : captions_from_attributes(t, i + 1, 3, 1)) {
            EXPECT_EQ(std::find(none.begin(), none.end(), c), none.end()) << names()[i] << ": " << c;
            all_captions.insert(c);
        }
    }
    EXPECT_GE(all_captions.size(), 40u * 2);
    // Everything at once still reads as one caption per line.
    AttributeTable everything = parse_celeba_attributes(anno_file({row("0.jpg", {}, 1)}), "anno.txt");
    for (const auto& c : captions_from_attributes(everything, 0, 5, 3)) {
        EXPECT_FALSE(contains(c, "\n")) << c;
        EXPECT_TRUE(contains(c, "five o'clock shadow") && contains(c, "necktie") && contains(c, "blurry")) << c;
        EXPECT_TRUE(contains(c, "straight and wavy black, blond, brown and gray hair")) << c;
    }
}

TEST(CelebaAttributes, GenderWordingWithoutMale) {
    AttributeTable t = parse_celeba_attributes("1\nSmiling No_Beard\n0.jpg 1 1\n", "sub.txt");
    for (const auto& c : captions_from_attributes(t, 0, 4, 0)) {
        EXPECT_TRUE(contains(c, "person")) << c;
        EXPECT_TRUE(contains(c, "no beard")) << c;  // only left out when the gender is known to be female
    }
}

TEST(CelebaAttributes, DeterministicInSeedPlusRow) {
    const std::string a = row("a.jpg", kWoman), b = row("b.jpg", kMan);
    AttributeTable t = parse_celeba_attributes(anno_file({a, b}), "t.txt");
    AttributeTable shifted = parse_celeba_attributes(anno_file({b}), "s.txt");
    EXPECT_EQ(captions_from_attributes(t, 0, 10, 42), captions_from_attributes(t, 0, 10, 42));
    EXPECT_NE(captions_from_attributes(t, 0, 10, 42), captions_from_attributes(t, 0, 10, 43));
    // Row 1 with seed 6 draws from mt19937_64(7), as row 0 with seed 7 does.
    EXPECT_EQ(captions_from_attributes(t, 1, 10, 6), captions_from_attributes(shifted, 0, 10, 7));
    // The first caption is a prefix of a longer request: one generator per image, drawn in order.
    auto ten = captions_from_attributes(t, 0, 10, 5);
    auto three = captions_from_attributes(t, 0, 3, 5);
    EXPECT_TRUE(std::equal(three.begin(), three.end(), ten.begin()));
    EXPECT_THROW(captions_from_attributes(t, 2, 1, 0), syn::Error);
    // Few attributes allow few wordings: the count is still honoured.
    AttributeTable one = parse_celeba_attributes("1\nSmiling\n0.jpg 1\n", "one.txt");
    EXPECT_EQ(captions_from_attributes(one, 0, 50, 0).size(), 50u);
}

TEST(CelebaAttributes, WriterWritesOneFilePerImageAtomically) {
    TempDir tmp;
    const std::string attr = tmp.write("anno.txt", anno_file({row("0.jpg", kWoman), row("17.jpg", kMan)}));
    const fs::path out = fs::path(attr).parent_path() / "out";
    EXPECT_EQ(write_attribute_captions(attr, out.string(), 3, 9), 2u);
    const std::string first = syn::read_file((out / "text" / "0.txt").string());
    EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), 3);
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(out / "text")) {
        ++files;
        EXPECT_EQ(e.path().extension(), ".txt") << "no temporary file left: " << e.path();
    }
    EXPECT_EQ(files, 2u);
    const auto t = load_celeba_attributes(attr);
    std::string expected;
    for (const auto& c : captions_from_attributes(t, 1, 3, 9)) expected += c + "\n";
    EXPECT_EQ(syn::read_file((out / "text" / "17.txt").string()), expected);
    // The same seed rewrites the same bytes; the files read back as an MM-CelebA-HQ caption folder.
    EXPECT_EQ(write_attribute_captions(attr, out.string(), 3, 9), 2u);
    EXPECT_EQ(syn::read_file((out / "text" / "0.txt").string()), first);
    CaptionFile parsed = parse_caption_text(first, "0.txt");
    EXPECT_EQ(parsed.captions.size(), 3u);
    EXPECT_EQ(parsed.empty_lines + parsed.invalid_lines, 0u);

    EXPECT_TRUE(contains(error_message([&] { write_attribute_captions(attr, out.string(), 0, 0); }), "at least 1"));
    const std::string missing = (fs::path(attr).parent_path() / "missing.txt").string();
    EXPECT_TRUE(contains(error_message([&] { write_attribute_captions(missing, out.string(), 1, 0); }), missing));
}

TEST(CelebaAttributes, CliSubcommand) {
    TempDir tmp;
    const std::string attr = tmp.write("anno.txt", anno_file({row("0.jpg", kWoman), row("1.jpg", kMan)}));
    const std::string out = (fs::path(attr).parent_path() / "faces").string();
    {
        CLI::App app("synesthesia");
        syn::run::add_celeba_captions_command(app);
        std::vector<std::string> args = {"synesthesia", "captions-from-attributes", "--attributes", attr,
                                         "--out", out, "--per-image", "4", "--seed", "3"};
        std::vector<const char*> argv;
        for (const auto& a : args) argv.push_back(a.c_str());
        app.parse(static_cast<int>(argv.size()), argv.data());
    }
    const auto t = load_celeba_attributes(attr);
    std::string expected;
    for (const auto& c : captions_from_attributes(t, 1, 4, 3)) expected += c + "\n";
    EXPECT_EQ(syn::read_file((fs::path(out) / "text" / "1.txt").string()), expected);

    CLI::App app("synesthesia");
    syn::run::add_celeba_captions_command(app);
    const char* no_attributes[] = {"synesthesia", "captions-from-attributes", "--out", "x"};
    EXPECT_THROW(app.parse(4, no_attributes), CLI::ParseError);
    CLI::App app2("synesthesia");
    syn::run::add_celeba_captions_command(app2);
    std::vector<std::string> zero = {"synesthesia", "captions-from-attributes", "--attributes", attr, "--out", out,
                                     "--per-image", "0"};
    std::vector<const char*> argv;
    for (const auto& a : zero) argv.push_back(a.c_str());
    EXPECT_THROW(app2.parse(static_cast<int>(argv.size()), argv.data()), CLI::ParseError);
}

}  // namespace
