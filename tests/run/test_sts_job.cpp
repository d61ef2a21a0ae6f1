// The main job end to end on the real CxC test split with the lexical baselines, checked against an
// independent computation of the correlations written out in this file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/data/csv.h"
#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/run/jobs/lexical_encoders.h"
#include "core/run/jobs/sts_job.h"
#include "core/run/reports/sts_report.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using namespace syn::run;

namespace {

// Textbook Pearson in long double, two-pass.
double ref_pearson(const std::vector<double>& x, const std::vector<double>& y) {
    long double mx = 0, my = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= x.size();
    my /= y.size();
    long double sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return static_cast<double>(sxy / std::sqrt(sxx * syy));
}

// Average ranks by sorting and walking runs of ties.
std::vector<double> ref_ranks(const std::vector<double>& v) {
    std::vector<size_t> idx(v.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> r(v.size());
    for (size_t i = 0; i < idx.size();) {
        size_t j = i;
        while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
        for (size_t k = i; k <= j; ++k) r[idx[k]] = (i + j) / 2.0 + 1.0;
        i = j + 1;
    }
    return r;
}

StsJobOptions real_data_options() {
    StsJobOptions o;
    o.cxc_csv = syn::test::shared_dir() + "/data/cxc/sts_test.csv";
    o.captions_json = syn::test::shared_dir() + "/data/coco/captions_karpathy_test.json";
    o.models = {"lexical/jaccard", "lexical/tfidf"};
    o.bootstrap = 200;
    return o;
}

}  // namespace

TEST(StsJob, LexicalBaselinesOnTheRealTestSplit) {
    SYN_REQUIRE_SHARED();
    StsJobOptions o = real_data_options();
    std::vector<std::string> stages;
    StsResult r = run_sts(o, [&](const Progress& p) {
        if (stages.empty() || stages.back() != p.text()) stages.push_back(p.text());
    });
    ASSERT_EQ(r.dataset.pairs.size(), 44045u);
    ASSERT_EQ(r.encoders.size(), 2u);
    EXPECT_FALSE(stages.empty());

    std::vector<double> sts_l, sts_v;
    std::vector<std::pair<std::string, std::string>> texts;
    for (const auto& p : r.dataset.pairs) {
        sts_l.push_back(p.sts_l);
        sts_v.push_back(p.sts_v);
        texts.emplace_back(p.text1, p.text2);
    }
    // STS-V must carry information: both classes present.
    EXPECT_GT(std::count(sts_v.begin(), sts_v.end(), 1.0), 1000);
    EXPECT_GT(std::count(sts_v.begin(), sts_v.end(), 0.0), 1000);

    for (const auto& e : r.encoders) {
        // Scores recomputed here pair by pair (Jaccard needs no fitting; TF-IDF is refitted).
        std::vector<double> scores = lexical_pair_scores(e.model, texts);
        ASSERT_EQ(scores, e.scores) << e.model;
        const double sp_l = ref_pearson(ref_ranks(scores), ref_ranks(sts_l));
        const double p_l = ref_pearson(scores, sts_l);
        const double sp_v = ref_pearson(ref_ranks(scores), ref_ranks(sts_v));
        const double p_v = ref_pearson(scores, sts_v);
        EXPECT_NEAR(e.all.sts_l_spearman.point.value, sp_l, 1e-9) << e.model;
        EXPECT_NEAR(e.all.sts_l_pearson.point.value, p_l, 1e-9) << e.model;
        EXPECT_NEAR(e.all.sts_v_spearman.point.value, sp_v, 1e-9) << e.model;
        EXPECT_NEAR(e.all.sts_v_pearson.point.value, p_v, 1e-9) << e.model;
        // Lexical overlap tracks human similarity clearly but imperfectly.
        EXPECT_GT(sp_l, 0.3) << e.model;
        EXPECT_LT(sp_l, 0.9) << e.model;
        for (const auto* est : {&e.all.sts_l_spearman, &e.all.sts_v_pearson}) {
            EXPECT_LE(est->ci.lower, est->point.value);
            EXPECT_GE(est->ci.upper, est->point.value);
            EXPECT_LT(est->ci.upper - est->ci.lower, 0.05);  // 44k pairs: a narrow interval
        }
        // Within one sampling method STS-V is constant: its correlation is undefined, and says so.
        ASSERT_EQ(e.by_method.size(), 2u);
        for (const auto& [method, c] : e.by_method) {
            EXPECT_FALSE(c.sts_v_pearson.point.defined()) << method;
            EXPECT_TRUE(c.sts_l_spearman.point.defined()) << method;
        }
    }
    ASSERT_EQ(r.comparisons.size(), 4u);  // one pair of encoders x four metrics
    EXPECT_EQ(r.manifest["data"]["pairs_used"], 44045);
    EXPECT_EQ(r.manifest["data"]["cxc_csv_sha256"].get<std::string>().size(), 64u);
}

TEST(StsJob, WritesEveryOutputAtomically) {
    SYN_REQUIRE_SHARED();
    StsJobOptions o = real_data_options();
    o.max_pairs = 500;
    StsResult r = run_sts(o);
    fs::path out = fs::temp_directory_path() / "syn_sts_outputs";
    fs::remove_all(out);
    bool figure_writer_called = false;
    auto written = write_sts_outputs(r, out.string(), [&](const StsResult&, const std::string& dir) {
        figure_writer_called = true;
        // Figures go to the staging folder beside `out`, which appears with every other file at once.
        EXPECT_NE(dir, out.string());
        EXPECT_EQ(fs::path(dir).parent_path(), out.parent_path());
        EXPECT_FALSE(fs::exists(out)) << "the final folder exists before the run's files are complete";
        const std::string figure = (fs::path(dir) / "figure.svg").string();
        std::ofstream(figure) << "<svg/>";
        return std::vector<std::string>{figure};
    });
    EXPECT_TRUE(figure_writer_called);
    ASSERT_EQ(written.size(), 5u);
    EXPECT_EQ(written.back(), (out / "figure.svg").string());
    EXPECT_TRUE(fs::exists(out / "figure.svg"));
    for (const char* f : {"table.md", "table.tex", "results.json", "pairs.csv"})
        EXPECT_TRUE(fs::exists(out / f)) << f;
    std::string md = syn::read_file((out / "table.md").string());
    EXPECT_NE(md.find("| lexical/jaccard | none |"), std::string::npos) << md;
    // Read back with the project's RFC 4180 reader: captions with commas, quotes or line breaks
    // must survive the round trip.
    syn::data::CsvTable csv = syn::data::read_csv_file((out / "pairs.csv").string());
    ASSERT_EQ(csv.rows.size(), 500u);
    EXPECT_TRUE(csv.check_field_counts().empty());
    const size_t c1 = csv.column("caption1"), jac = csv.column("lexical/jaccard");
    for (size_t i = 0; i < csv.rows.size(); ++i) {
        EXPECT_EQ(csv.rows[i].fields[c1], r.dataset.pairs[i].text1);
        EXPECT_NEAR(std::stod(csv.rows[i].fields[jac]), r.encoders[0].scores[i], 1e-8);
    }
    int temporaries = 0;
    for (auto& e : fs::directory_iterator(out)) temporaries += e.path().string().find(".tmp.") != std::string::npos;
    EXPECT_EQ(temporaries, 0);
}

TEST(StsJob, ClearErrorsForBadInputAndCancellation) {
    SYN_REQUIRE_SHARED();
    StsJobOptions o = real_data_options();
    o.models = {};
    EXPECT_THROW(run_sts(o), syn::Error);
    o = real_data_options();
    o.cxc_csv = "/no/such/sts.csv";
    try {
        run_sts(o);
        FAIL();
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("/no/such/sts.csv"), std::string::npos) << e.what();
    }
    o = real_data_options();
    o.models = {"lexical/bm25"};
    EXPECT_THROW(run_sts(o), syn::Error);
    o = real_data_options();
    CancelToken cancel;
    cancel.cancel();
    EXPECT_THROW(run_sts(o, {}, &cancel), Cancelled);
}
