// The GLUE trainer on a small synthetic SST-2-style task the test writes ("good" words vs "bad"
// words among neutral ones), with the tiny fixture BERT: it beats chance, is bit-for-bit
// deterministic for a fixed seed on CPU, resumes to the same losses, keeps its best checkpoint.
#include <gtest/gtest.h>

#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "core/io/errors.h"
#include "core/io/safetensors.h"
#include "core/run/commands/glue_command.h"
#include "core/run/jobs/glue_job.h"
#include "tests/data/temp_dir.h"
#include "tests/support/shared_paths.h"
#include "tests/support/synthetic_sst2.h"

using namespace syn::run;
using syn::data::GlueTask;
namespace fs = std::filesystem;

namespace {

using syn::test::synthetic_sst2;

struct Fixture {
    syn::test::TempDir dir;
    std::string root;
    Fixture() {
        root = fs::path(dir.write("marker", "")).parent_path().string();
        fs::create_directories(root + "/glue/SST-2");
        dir.write("glue/SST-2/train.tsv", synthetic_sst2(96, 1));
        dir.write("glue/SST-2/dev.tsv", synthetic_sst2(48, 2));
        dir.write("glue/SST-2/test.tsv", "index\tsentence\n0\tthe movie was good\n");
    }
    GlueJobOptions options(const std::string& out) const {
        GlueJobOptions o;
        o.task = GlueTask::sst2;
        o.glue_dir = root + "/glue";
        o.model = syn::test::fixtures_dir() + "/models/tiny-bert";
        o.out_dir = root + "/" + out;
        // Far above the study's 2e-5: the fixture's weights are random, not pretrained.
        o.learning_rate = 1e-2;
        o.batch_size = 8;
        o.epochs = 4;
        o.warmup_ratio = 0.1;
        o.device = "cpu";
        // SYN_GLUE_TEST_LOG=1 prints the trainer's progress lines.
        if (std::getenv("SYN_GLUE_TEST_LOG")) o.log = [](const std::string& l) { std::fprintf(stderr, "%s\n", l.c_str()); };
        return o;
    }
};

}  // namespace

TEST(GlueJob, TinyBertLearnsSyntheticTaskDeterministically) {
    SYN_REQUIRE_SHARED();
    Fixture f;
    const GlueTaskResult a = run_glue_task(f.options("a"));
    const GlueTaskResult b = run_glue_task(f.options("b"));
    ASSERT_EQ(a.runs.size(), 1u);
    const GlueRun& r = a.runs[0];
    EXPECT_TRUE(r.finished);
    EXPECT_EQ(r.epochs.size(), 4u);
    EXPECT_EQ(r.step_losses.size(), 4u * 12u);  // 96 / 8 steps per epoch
    EXPECT_EQ(a.primary_metric, "accuracy");
    EXPECT_GE(r.best_metrics.at("accuracy"), 0.8) << "chance is 0.5";
    EXPECT_LT(r.epochs.back().train_loss, r.epochs.front().train_loss);
    // Same seed, same machine: identical losses, bit for bit.
    EXPECT_EQ(r.step_losses, b.runs[0].step_losses);
    EXPECT_EQ(r.best_metrics, b.runs[0].best_metrics);
    // The best checkpoint holds the whole classifier under transformers' names.
    ASSERT_FALSE(r.best_checkpoint.empty());
    const auto ckpt = syn::read_safetensors(r.best_checkpoint);
    EXPECT_TRUE(ckpt.tensors.count("classifier.weight"));
    EXPECT_TRUE(ckpt.tensors.count("bert.encoder.layer.1.output.dense.weight"));
}

TEST(GlueJob, ResumedRunGivesTheSameLosses) {
    SYN_REQUIRE_SHARED();
    Fixture f;
    GlueJobOptions o = f.options("resume");
    o.epochs = 3;
    o.stop_after_epochs = 1;
    const GlueTaskResult first = run_glue_task(o);
    EXPECT_FALSE(first.runs[0].finished);
    EXPECT_EQ(first.runs[0].epochs.size(), 1u);
    o.stop_after_epochs = 0;
    const GlueTaskResult resumed = run_glue_task(o);
    GlueJobOptions whole = f.options("whole");
    whole.epochs = 3;
    const GlueTaskResult straight = run_glue_task(whole);
    EXPECT_TRUE(resumed.runs[0].finished);
    EXPECT_EQ(resumed.runs[0].step_losses, straight.runs[0].step_losses);
}

TEST(GlueJob, SeveralSeedsGiveMeanAndSd) {
    SYN_REQUIRE_SHARED();
    Fixture f;
    GlueJobOptions o = f.options("seeds");
    o.epochs = 1;
    o.seeds = {1, 2};
    o.linear_probe = true;
    o.save_checkpoints = false;
    const GlueTaskResult r = run_glue_task(o);
    ASSERT_EQ(r.runs.size(), 2u);
    const double a = r.runs[0].best_metrics.at("accuracy"), b = r.runs[1].best_metrics.at("accuracy");
    EXPECT_NEAR(r.mean.at("accuracy"), (a + b) / 2, 1e-12);
    EXPECT_NEAR(r.sd.at("accuracy"), std::abs(a - b) / std::sqrt(2.0), 1e-12);
    EXPECT_NE(r.runs[0].step_losses, r.runs[1].step_losses);  // the seed matters
}

TEST(GlueJob, MetricsPerTaskFollowTheStudy) {
    EXPECT_EQ(glue_primary_metric(GlueTask::cola), "mcc");
    EXPECT_EQ(glue_primary_metric(GlueTask::mrpc), "f1");
    EXPECT_EQ(glue_primary_metric(GlueTask::qqp), "f1");
    EXPECT_EQ(glue_primary_metric(GlueTask::stsb), "spearman");
    EXPECT_EQ(glue_primary_metric(GlueTask::rte), "accuracy");
    EXPECT_EQ(glue_default_epochs(GlueTask::mrpc), 5);
    EXPECT_EQ(glue_default_epochs(GlueTask::rte), 3);
    auto m = glue_metrics(GlueTask::mrpc, {1, 1, 0, 1}, {1, 1, 1, 0});
    EXPECT_NEAR(m.at("f1"), 4.0 / 6.0, 1e-12);
    EXPECT_NEAR(m.at("accuracy"), 0.5, 1e-12);
    auto s = glue_metrics(GlueTask::stsb, {1, 2, 3, 4}, {0.5, 1.5, 1.0, 5.0});
    EXPECT_NEAR(s.at("spearman"), 0.8, 1e-12);
}

TEST(GlueJob, UnlabeledOrMissingFilesAreRefused) {
    SYN_REQUIRE_SHARED();
    Fixture f;
    GlueJobOptions o = f.options("bad");
    o.task = GlueTask::rte;  // no RTE folder
    std::string msg = syn::test::error_message([&] { run_glue_task(o); });
    EXPECT_NE(msg.find("RTE/train.tsv: GLUE RTE train file not found"), std::string::npos) << msg;
    // A test split placed as dev is refused for evaluation.
    f.dir.write("glue/SST-2/dev.tsv", "index\tsentence\n0\tthe movie was good\n");
    o.task = GlueTask::sst2;
    msg = syn::test::error_message([&] { run_glue_task(o); });
    EXPECT_NE(msg.find("dev.tsv: is an unlabeled GLUE SST-2 test split"), std::string::npos) << msg;
}

TEST(GlueJob, TableHasTheStudysLayoutWithThePapersRow) {
    GlueModelResults m;
    m.model = "bert-base-cased";
    GlueTaskResult rte;
    rte.task = GlueTask::rte;
    rte.primary_metric = "accuracy";
    rte.mean["accuracy"] = 0.6534;
    rte.sd["accuracy"] = 0.01;
    rte.runs.resize(2);
    rte.encoder_parameters = 108310272;
    m.tasks.push_back(rte);
    const std::string md = glue_table_markdown({m});
    EXPECT_NE(md.find("| Model | Params | CoLA | SST-2 | MRPC | STS-B | QQP | MNLI | QNLI | RTE | Avg |"), std::string::npos)
        << md;
    EXPECT_NE(md.find("| bert-base-cased (ours) | 108M | – | – | – | – | – | – | – | 65.34 ± 1.00 | – |"), std::string::npos)
        << md;
    EXPECT_NE(md.find("| BERT-base (paper) | 110M | 57.78 | 92.20 | 88.50 | 88.79 | 87.62 | 84.13 | 90.50 | 65.34 | 81.86 |"),
              std::string::npos)
        << md;
    const std::string tex = glue_table_latex({m});
    EXPECT_NE(tex.find("65.34 $\\pm$ 1.00"), std::string::npos) << tex;
    EXPECT_TRUE(paper_glue_row("/home/x/models/openai/clip-vit-large-patch14-336").size() == 9);
    EXPECT_EQ(paper_glue_row("/home/x/models/openai/clip-vit-large-patch14-336")[8], 73.62);
    EXPECT_TRUE(paper_glue_row("tiny-bert").empty());
}
