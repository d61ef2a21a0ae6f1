#include <gtest/gtest.h>

#include "core/run/text_formats.h"

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
