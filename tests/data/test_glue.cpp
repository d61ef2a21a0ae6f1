// GLUE TSV reading on small files in the official layouts (written by the tests): column indices as
// HF's glue processors use them, quoting disabled, headers and BOM, QQP's malformed lines, test splits.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/data/glue.h"
#include "core/io/errors.h"
#include "tests/data/temp_dir.h"

using namespace syn::data;
using syn::test::error_message;
using syn::test::TempDir;

namespace {
const std::string kStsbHeader = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
const std::string kMnliHeader =
    "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\t"
    "sentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n";
}  // namespace

TEST(Glue, TaskNamesParseInEverySpelling) {
    EXPECT_EQ(parse_glue_task("SST-2"), GlueTask::sst2);
    EXPECT_EQ(parse_glue_task("sst2"), GlueTask::sst2);
    EXPECT_EQ(parse_glue_task("STS-B"), GlueTask::stsb);
    EXPECT_EQ(parse_glue_task("cola"), GlueTask::cola);
    EXPECT_EQ(all_glue_tasks().size(), 9u);
    EXPECT_NE(error_message([] { parse_glue_task("squad"); }).find("'squad' is not one of cola, sst2"),
              std::string::npos);
    EXPECT_TRUE(glue_task_info(GlueTask::stsb).regression());
    EXPECT_EQ(glue_task_info(GlueTask::mnli).num_outputs(), 3);
}

TEST(Glue, ColaTrainHasNoHeaderAndQuotesArePlainText) {
    const std::string text =
        "gj04\t1\t\tOur friends won't buy this analysis, let alone the next one we propose.\n"
        "gj04\t0\t*\tThey drank the pub \"dry\n"
        "gj04\t1\t\t'quoted' \"unbalanced\r\n";
    const GlueSplit s = parse_glue_tsv(GlueTask::cola, text, "CoLA/train.tsv");
    ASSERT_TRUE(s.labeled);
    ASSERT_EQ(s.examples.size(), 3u);
    EXPECT_EQ(s.examples[0].label, 1);
    EXPECT_EQ(s.examples[0].line, 1u);
    EXPECT_EQ(s.examples[1].label, 0);
    EXPECT_EQ(s.examples[1].text_a, "They drank the pub \"dry");  // QUOTE_NONE: the quote is data
    EXPECT_EQ(s.examples[2].text_a, "'quoted' \"unbalanced");     // CRLF stripped
    EXPECT_TRUE(s.examples[0].text_b.empty());
}

TEST(Glue, ColaTestSplitIsRecognisedAndRefused) {
    const GlueSplit s = parse_glue_tsv(GlueTask::cola, "index\tsentence\n0\tBill whistled past the house.\n",
                                       "CoLA/test.tsv");
    EXPECT_FALSE(s.labeled);
    ASSERT_EQ(s.examples.size(), 1u);
    EXPECT_EQ(s.examples[0].text_a, "Bill whistled past the house.");
    EXPECT_EQ(s.examples[0].label, -1);
    const std::string msg = error_message([&] { require_labeled(s, "training"); });
    EXPECT_NE(msg.find("CoLA/test.tsv: is an unlabeled GLUE CoLA test split"), std::string::npos) << msg;
    EXPECT_NE(msg.find("training"), std::string::npos);
}

TEST(Glue, Sst2TrainAndTest) {
    const GlueSplit train = parse_glue_tsv(GlueTask::sst2, "sentence\tlabel\nhide new secretions \t0\na \"gem\" \t1\n",
                                           "SST-2/train.tsv");
    ASSERT_EQ(train.examples.size(), 2u);
    EXPECT_EQ(train.examples[1].text_a, "a \"gem\" ");
    EXPECT_EQ(train.examples[1].label, 1);
    EXPECT_EQ(train.examples[1].line, 3u);
    const GlueSplit test = parse_glue_tsv(GlueTask::sst2, "index\tsentence\n0\tuneasy mishmash\n", "SST-2/test.tsv");
    EXPECT_FALSE(test.labeled);
    EXPECT_EQ(test.examples[0].text_a, "uneasy mishmash");
    EXPECT_THROW(require_labeled(test, "evaluation"), syn::Error);
}

TEST(Glue, MrpcWithBomAndQuotes) {
    const std::string text =
        "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
        "1\t702876\t702977\tAmrozi accused his brother , whom he called \" the witness \" .\tReferring to him as "
        "only \" the witness \" , Amrozi accused his brother .\n"
        "0\t2108705\t2108831\tYucaipa owned Dominick 's\tYucaipa bought Dominick 's\n";
    const GlueSplit s = parse_glue_tsv(GlueTask::mrpc, text, "MRPC/train.tsv");
    ASSERT_TRUE(s.labeled);
    ASSERT_EQ(s.examples.size(), 2u);
    EXPECT_EQ(s.examples[0].label, 1);
    EXPECT_EQ(s.examples[0].text_a, "Amrozi accused his brother , whom he called \" the witness \" .");
    EXPECT_EQ(s.examples[0].text_b, "Referring to him as only \" the witness \" , Amrozi accused his brother .");
    EXPECT_EQ(s.examples[1].label, 0);
    const GlueSplit test = parse_glue_tsv(
        GlueTask::mrpc, "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1\t2\tA b .\tC d .\n", "MRPC/test.tsv");
    EXPECT_FALSE(test.labeled);
    EXPECT_EQ(test.examples[0].text_b, "C d .");
}

TEST(Glue, StsbFloatScoresAndRange) {
    const GlueSplit s = parse_glue_tsv(
        GlueTask::stsb, kStsbHeader + "0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane is taking off.\tAn air plane is taking off.\t5.000\n"
                                      "1\tmain-captions\tMSRvid\t2012test\t0004\tnone\tnone\tA man plays.\tA man sings.\t1.5\n",
        "STS-B/dev.tsv");
    ASSERT_EQ(s.examples.size(), 2u);
    EXPECT_DOUBLE_EQ(s.examples[0].score, 5.0);
    EXPECT_DOUBLE_EQ(s.examples[1].score, 1.5);
    EXPECT_EQ(s.examples[1].text_b, "A man sings.");
    const std::string msg = error_message([&] {
        parse_glue_tsv(GlueTask::stsb, kStsbHeader + "0\tg\tf\ty\to\ts\ts\tA.\tB.\t5.5\n", "STS-B/dev.tsv");
    });
    EXPECT_NE(msg.find("STS-B/dev.tsv:2: label '5.5' is not a similarity score in [0, 5]"), std::string::npos) << msg;
    EXPECT_THROW(parse_glue_tsv(GlueTask::stsb, kStsbHeader + "0\tg\tf\ty\to\ts\ts\tA.\tB.\tfive\n", "x"), syn::Error);
    const GlueSplit test = parse_glue_tsv(
        GlueTask::stsb, "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\n0\tg\tf\ty\to\ts\ts\tA.\tB.\n",
        "STS-B/test.tsv");
    EXPECT_FALSE(test.labeled);
}

TEST(Glue, QqpSkipsMalformedLinesAndReportsThem) {
    const std::string text =
        "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
        "1\t3\t4\tHow do I read?\tHow can I read?\t1\n"
        "2\t5\t6\tWhat is \"this\n"  // broken line (as in the real QQP train.tsv)
        "3\t7\t8\tWhy?\tWhy not?\t0\n"
        "4\n";
    const GlueSplit s = parse_glue_tsv(GlueTask::qqp, text, "QQP/train.tsv");
    ASSERT_EQ(s.examples.size(), 2u);
    EXPECT_EQ(s.skipped_lines, (std::vector<std::size_t>{3, 5}));
    EXPECT_EQ(s.examples[1].text_b, "Why not?");
    EXPECT_EQ(s.examples[1].line, 4u);
    // Asked to fail instead, the first broken line is named.
    GlueReadOptions strict;
    strict.malformed = GlueReadOptions::Malformed::fail;
    const std::string msg = error_message([&] { parse_glue_tsv(GlueTask::qqp, text, "QQP/train.tsv", strict); });
    EXPECT_NE(msg.find("QQP/train.tsv:3: expected at least 6 tab-separated columns"), std::string::npos) << msg;
    const GlueSplit test = parse_glue_tsv(GlueTask::qqp, "id\tquestion1\tquestion2\n0\tA?\tB?\n", "QQP/test.tsv");
    EXPECT_FALSE(test.labeled);
    EXPECT_EQ(test.examples[0].text_a, "A?");
    EXPECT_EQ(test.examples[0].text_b, "B?");
}

TEST(Glue, MnliLabelsFromTheLastColumn) {
    const std::string row =
        "0\t31193\t31193n\tgovernment\t(bp)\t(bp)\t(p)\t(p)\tConceptually cream skimming has two basic dimensions.\t"
        "Product and geography are what make cream skimming work. \tneutral\tneutral\tneutral\tneutral\tneutral\tneutral\n";
    const GlueSplit s = parse_glue_tsv(GlueTask::mnli, kMnliHeader + row, "MNLI/dev_matched.tsv");
    ASSERT_EQ(s.examples.size(), 1u);
    EXPECT_EQ(s.examples[0].label, 2);  // contradiction, entailment, neutral
    EXPECT_EQ(s.examples[0].text_a, "Conceptually cream skimming has two basic dimensions.");
    const std::string bad = kMnliHeader + "0\t1\t1n\tg\tb\tb\tp\tp\tA.\tB.\tx\tx\tx\tx\tx\tmaybe\n";
    const std::string msg = error_message([&] { parse_glue_tsv(GlueTask::mnli, bad, "MNLI/dev_matched.tsv"); });
    EXPECT_NE(msg.find("MNLI/dev_matched.tsv:2: label 'maybe' is not one of contradiction, entailment, neutral"),
              std::string::npos)
        << msg;
}

TEST(Glue, QnliRteWnli) {
    const GlueSplit qnli = parse_glue_tsv(
        GlueTask::qnli, "index\tquestion\tsentence\tlabel\n0\tWhat?\tThis.\tnot_entailment\n", "QNLI/dev.tsv");
    EXPECT_EQ(qnli.examples[0].label, 1);
    EXPECT_EQ(qnli.examples[0].text_a, "What?");
    const GlueSplit rte = parse_glue_tsv(
        GlueTask::rte, "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tentailment\n", "RTE/dev.tsv");
    EXPECT_EQ(rte.examples[0].label, 0);
    const GlueSplit wnli =
        parse_glue_tsv(GlueTask::wnli, "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n", "WNLI/dev.tsv");
    EXPECT_EQ(wnli.examples[0].label, 1);
    const GlueSplit rte_test =
        parse_glue_tsv(GlueTask::rte, "index\tsentence1\tsentence2\n0\tA.\tB.\n", "RTE/test.tsv");
    EXPECT_FALSE(rte_test.labeled);
}

TEST(Glue, BadInputNamesFileAndLine) {
    // A label of another task.
    std::string msg = error_message([] {
        parse_glue_tsv(GlueTask::rte, "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\t1\n", "RTE/dev.tsv");
    });
    EXPECT_NE(msg.find("RTE/dev.tsv:2: label '1' is not one of entailment, not_entailment"), std::string::npos) << msg;
    msg = error_message([] { parse_glue_tsv(GlueTask::cola, "gj04\t2\t\tA.\n", "CoLA/dev.tsv"); });
    EXPECT_NE(msg.find("CoLA/dev.tsv:1: label '2' is not one of 0, 1"), std::string::npos) << msg;
    // A broken line outside QQP is an error.
    msg = error_message([] {
        parse_glue_tsv(GlueTask::rte, "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tentailment\n1\tA.\n", "RTE/train.tsv");
    });
    EXPECT_NE(msg.find("RTE/train.tsv:3: expected at least 4 tab-separated columns for RTE, got 2"), std::string::npos)
        << msg;
    // Another task's file.
    msg = error_message([] {
        parse_glue_tsv(GlueTask::mnli, "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tentailment\n", "x.tsv");
    });
    EXPECT_NE(msg.find("x.tsv:1: header"), std::string::npos) << msg;
    EXPECT_NE(msg.find("is not a GLUE MNLI header"), std::string::npos) << msg;
    msg = error_message([] { parse_glue_tsv(GlueTask::sst2, "", "empty.tsv"); });
    EXPECT_NE(msg.find("empty.tsv: empty file"), std::string::npos) << msg;
    msg = error_message([] { read_glue_tsv(GlueTask::sst2, "/nonexistent/SST-2/dev.tsv"); });
    EXPECT_NE(msg.find("/nonexistent/SST-2/dev.tsv: cannot open"), std::string::npos) << msg;
}

TEST(Glue, SplitPathsFollowTheGlueDownloadLayout) {
    TempDir dir;
    std::filesystem::create_directories(std::filesystem::path(dir.write("x", "")).parent_path() / "MNLI");
    const std::string root = std::filesystem::path(dir.write("x", "")).parent_path().string();
    dir.write("MNLI/dev_matched.tsv", kMnliHeader);
    dir.write("MNLI/dev_mismatched.tsv", kMnliHeader);
    EXPECT_EQ(glue_split_path(root, GlueTask::mnli, "dev"), root + "/MNLI/dev_matched.tsv");
    EXPECT_EQ(glue_split_path(root, GlueTask::mnli, "dev_mismatched"), root + "/MNLI/dev_mismatched.tsv");
    const std::string msg = error_message([&] { glue_split_path(root, GlueTask::rte, "dev"); });
    EXPECT_NE(msg.find("RTE/dev.tsv: GLUE RTE dev file not found"), std::string::npos) << msg;
    EXPECT_THROW(glue_split_path(root, GlueTask::rte, "validation"), syn::Error);
    // Reading from disk gives the same as parsing.
    const std::string path = dir.write("MNLI/dev_mismatched.tsv",
                                       kMnliHeader + "0\t1\t1n\tg\tb\tb\tp\tp\tA.\tB.\tx\tx\tx\tx\tx\tentailment\n");
    const GlueSplit s = read_glue_tsv(GlueTask::mnli, path);
    ASSERT_EQ(s.examples.size(), 1u);
    EXPECT_EQ(s.examples[0].label, 1);
}
