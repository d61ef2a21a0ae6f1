#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/io/errors.h"
#include "core/run/reports/text_formats.h"

using namespace syn::run;

TEST(TextFormats, CsvQuotesOnlyWhenNeeded) {
    EXPECT_EQ(csv_field("a dog"), "a dog");
    EXPECT_EQ(csv_field("a dog, a cat"), "\"a dog, a cat\"");
    EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
}

TEST(TextFormats, MarkdownAndLatexEscapes) {
    EXPECT_EQ(markdown_cell("a|b\\c\nd"), "a\\|b\\\\c d");
    EXPECT_EQ(latex_escape("50% of R&D_1 {x} #2 $3 ~ ^ \\"),
              "50\\% of R\\&D\\_1 \\{x\\} \\#2 \\$3 \\textasciitilde{} \\textasciicircum{} \\textbackslash{}");
}

// `synesthesia embed --in DIR` read a folder as an empty file and wrote a [0,0] tensor.
TEST(TextFormats, ReadTextLinesNamesAFolderAndSkipsTheBom) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("syn_text_lines_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "captions.txt");
    try {
        read_text_lines((dir / "captions.txt").string(), true);
        ADD_FAILURE() << "no error for a folder";
    } catch (const syn::Error& e) {
        EXPECT_EQ(std::string(e.what()), (dir / "captions.txt").string() + ": is a directory, not a file");
    }
    {
        std::ofstream out(dir / "lines.txt", std::ios::binary);
        out << "\xEF\xBB\xBF" "first\r\n\n  \nsecond\nthird";
    }
    EXPECT_EQ(read_text_lines((dir / "lines.txt").string(), true),
              (std::vector<std::string>{"first", "second", "third"}));
    EXPECT_EQ(read_text_lines((dir / "lines.txt").string(), false),
              (std::vector<std::string>{"first", "", "  ", "second", "third"}));
    std::filesystem::remove_all(dir);
}
