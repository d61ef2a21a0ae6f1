#include <gtest/gtest.h>

#include "core/data/csv.h"
#include "core/io/errors.h"
#include "tests/data/temp_dir.h"

using syn::data::parse_csv_records;
using syn::data::parse_csv_table;
using syn::test::error_message;

TEST(Csv, PlainFieldsAndLineNumbers) {
    auto records = parse_csv_records("a,b,c\n1,2,3\n4,5,6\n", "t.csv");
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[1].fields, (std::vector<std::string>{"1", "2", "3"}));
    EXPECT_EQ(records[2].line, 3u);
}

TEST(Csv, QuotedCommasDoubledQuotesAndEmbeddedNewlines) {
    const std::string text = "x,y\r\n\"a, b\",\"he said \"\"hi\"\"\"\r\n\"two\nlines\",z\r\nlast,\"\"\r\n";
    auto records = parse_csv_records(text, "q.csv");
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(records[1].fields[0], "a, b");
    EXPECT_EQ(records[1].fields[1], "he said \"hi\"");
    EXPECT_EQ(records[2].fields[0], "two\nlines");
    EXPECT_EQ(records[2].fields[1], "z");
    EXPECT_EQ(records[2].line, 3u);
    // The record after a quoted line break starts one physical line later.
    EXPECT_EQ(records[3].line, 5u);
    EXPECT_EQ(records[3].fields, (std::vector<std::string>{"last", ""}));
}

TEST(Csv, NoFinalNewlineTrailingEmptyFieldBomAndBlankLines) {
    auto records = parse_csv_records("\xEF\xBB\xBFh1,h2\n\na,\n\nb,c", "b.csv");
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].fields[0], "h1");
    EXPECT_EQ(records[1].fields, (std::vector<std::string>{"a", ""}));
    EXPECT_EQ(records[1].line, 3u);
    EXPECT_EQ(records[2].fields, (std::vector<std::string>{"b", "c"}));
    EXPECT_EQ(records[2].line, 5u);
}

TEST(Csv, SyntaxErrorsNameFileAndLine) {
    EXPECT_NE(error_message([] { parse_csv_records("a,b\n1,\"open\n2,3\n", "u.csv"); }).find("u.csv:2: quoted field is never closed"),
              std::string::npos);
    EXPECT_NE(error_message([] { parse_csv_records("a,b\n1,2\nx\"y,3\n", "v.csv"); }).find("v.csv:3: quote character inside an unquoted field"),
              std::string::npos);
    EXPECT_NE(error_message([] { parse_csv_records("a,b\n\"x\"y,3\n", "w.csv"); }).find("w.csv:2: unexpected text after a closing quote"),
              std::string::npos);
    EXPECT_NE(error_message([] { parse_csv_records("a,b\r1,2\n", "cr.csv"); }).find("cr.csv:1: stray carriage return"),
              std::string::npos);
}

TEST(Csv, HeaderLookupAndMissingColumn) {
    auto table = parse_csv_table("name,score\nx,1\ny\n", "h.csv");
    EXPECT_EQ(table.column("score"), 1u);
    EXPECT_FALSE(table.find_column("nope").has_value());
    const std::string message = error_message([&] { table.column("agg_score"); });
    EXPECT_NE(message.find("h.csv:1: missing column 'agg_score' (columns: name, score)"), std::string::npos) << message;
    auto problems = table.check_field_counts();
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0], "h.csv:3: expected 2 fields, found 1");
}

TEST(Csv, EmptyFileAndBadHeaders) {
    EXPECT_NE(error_message([] { parse_csv_table("", "e.csv"); }).find("e.csv: empty CSV file"), std::string::npos);
    EXPECT_NE(error_message([] { parse_csv_table("a,a\n", "d.csv"); }).find("d.csv:1: duplicated column 'a'"), std::string::npos);
    EXPECT_NE(error_message([] { parse_csv_table("a,,b\n", "n.csv"); }).find("n.csv:1: empty column name"), std::string::npos);
}

TEST(Csv, ReadFileNamesMissingFile) {
    syn::test::TempDir dir;
    const std::string path = dir.write("ok.csv", "a\n1\n");
    EXPECT_EQ(syn::data::read_csv_file(path).rows.size(), 1u);
    const std::string missing = path + ".absent";
    EXPECT_NE(error_message([&] { syn::data::read_csv_file(missing); }).find(missing + ": cannot open"), std::string::npos);
}
