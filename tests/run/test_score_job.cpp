// `synesthesia score` (Table 3) on generation folders the test writes: PNGs (OpenCV) of tiny-clip's
// two fixture images + images.jsonl manifests. Per-image CLIP-S is checked against tiny-clip's
// goldens (transformers' CLIPModel), the per-encoder mean / sd over seeds against the same numbers
// averaged by hand here, the pooled t-test against a second implementation (one-way ANOVA F and the
// closed-form Student t distribution of Abramowitz & Stegun 26.7.3-4) and textbook values; a
// corrupt PNG is skipped and named, a bad manifest line is named, IS without weights says so.
#include <CLI/CLI.hpp>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/safetensors.h"
#include "core/io/torch/tensor_bridge.h"
#include "core/run/reports/paper_tables.h"
#include "core/run/commands/score_command.h"
#include "core/run/jobs/score_job.h"
#include "core/run/reports/score_report.h"
#include "models/clip_image.h"
#include "models/inception_v3.h"
#include "tests/data/temp_dir.h"
#include "tests/support/shared_paths.h"

using namespace syn::run;
namespace fs = std::filesystem;

namespace {

// ---------- a second implementation of the pooled two-sample t-test ----------

// Two-sided p of Student's t with integer df, in closed form (Abramowitz & Stegun 26.7.3 / 26.7.4):
// A(t|v) = sin(th) [1 + cos^2/2 + 1*3 cos^4/(2*4) + ... ]                        (v even)
//        = 2/pi [th + sin(th) cos(th) (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...)]   (v odd)
// with th = atan(|t| / sqrt(v)); p = 1 - A. No Boost, no incomplete beta.
double closed_form_two_sided_p(double t, int df) {
    const double theta = std::atan(std::abs(t) / std::sqrt(double(df)));
    const double c2 = std::cos(theta) * std::cos(theta);
    double a;
    if (df % 2 == 0) {
        double term = 1.0, sum = 1.0;
        for (int k = 2; k <= df - 2; k += 2) {
            term *= c2 * (k - 1) / k;
            sum += term;
        }
        a = std::sin(theta) * sum;
    } else {
        double sum = 0.0;
        if (df > 1) {
            double term = 1.0;
            sum = 1.0;
            for (int k = 3; k <= df - 2; k += 2) {
                term *= c2 * (k - 1) / k;
                sum += term;
            }
        }
        a = 2.0 / M_PI * (theta + std::sin(theta) * std::cos(theta) * sum);
    }
    return 1.0 - a;
}

// t from a one-way ANOVA of the two groups: F = MS_between / MS_within and t^2 = F.
double anova_t(const std::vector<double>& a, const std::vector<double>& b) {
    auto mean = [](const std::vector<double>& x) {
        double s = 0;
        for (double v : x) s += v;
        return s / x.size();
    };
    std::vector<double> all = a;
    all.insert(all.end(), b.begin(), b.end());
    const double ma = mean(a), mb = mean(b), m = mean(all);
    const double ss_between = a.size() * (ma - m) * (ma - m) + b.size() * (mb - m) * (mb - m);
    double ss_within = 0;
    for (double v : a) ss_within += (v - ma) * (v - ma);
    for (double v : b) ss_within += (v - mb) * (v - mb);
    const double f = ss_between / (ss_within / double(all.size() - 2));
    return (ma < mb ? -1.0 : 1.0) * std::sqrt(f);
}

// ---------- generation folders ----------

const fs::path& tiny_clip() {
    static const fs::path dir = fs::path(syn::test::fixtures_dir()) / "models" / "tiny-clip";
    return dir;
}

std::vector<std::string> golden_texts() {
    const auto j = nlohmann::json::parse(syn::read_file((tiny_clip() / "golden.json").string()));
    return j.at("texts").get<std::vector<std::string>>();
}

// golden[kind] [image, text]
at::Tensor golden(const std::string& name) {
    for (const auto& [key, raw] : syn::read_safetensors((tiny_clip() / "golden.safetensors").string()).tensors)
        if (key == name) return syn::to_torch(raw).to(at::kDouble).clone();
    ADD_FAILURE() << "golden tensor " << name << " missing";
    return {};
}

struct Entry {
    int image;     // 0 or 1: tiny-clip's image0.png / image1.png; -1: a corrupt PNG
    int text;      // index into golden.json's texts
    uint64_t seed;
};

// Writes <root>/<name>/ with one PNG per entry (decoded from the fixture and re-encoded with
// OpenCV: PNG is lossless, so the pixels are the fixture's) and images.jsonl in the lead's format.
std::string write_generation(const fs::path& root, const std::string& name, const std::string& encoder,
                             const std::string& pooling, const std::vector<Entry>& entries) {
    const fs::path dir = root / name;
    fs::create_directories(dir / "images");
    const auto texts = golden_texts();
    std::ofstream manifest(dir / "images.jsonl");
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const Entry& e = entries[i];
        const std::string file = "images/" + std::to_string(i) + "_seed" + std::to_string(e.seed) + ".png";
        if (e.image < 0) {
            // A PNG signature followed by garbage: decoders reject it.
            std::ofstream bad(dir / file, std::ios::binary);
            bad << "\x89PNG\r\n\x1a\n" << std::string(64, '\x07');
        } else {
            const cv::Mat bgr = cv::imread((tiny_clip() / ("image" + std::to_string(e.image) + ".png")).string(),
                                           cv::IMREAD_COLOR);
            EXPECT_FALSE(bgr.empty());
            EXPECT_TRUE(cv::imwrite((dir / file).string(), bgr));
        }
        nlohmann::json line = {{"file", file},       {"prompt", texts.at(e.text)}, {"seed", e.seed},
                               {"encoder", encoder}, {"pooling", pooling},         {"mapping", "/ckpt/" + name},
                               {"width", 32},        {"height", 32}};
        manifest << line.dump() << "\n";
    }
    return dir.string();
}

struct Folders {
    syn::test::TempDir tmp;
    fs::path root;
    std::string bert, clip, random;
    // The entries, by folder, to recompute expectations by hand.
    std::vector<Entry> bert_entries = {{0, 0, 0}, {1, 2, 0}, {0, 3, 1}, {1, 1, 1}};
    std::vector<Entry> clip_entries = {{1, 0, 0}, {0, 5, 0}, {-1, 2, 0}, {1, 4, 1}, {0, 2, 1}};
    std::vector<Entry> random_entries = {{0, 1, 0}, {1, 3, 1}, {0, 4, 2}, {1, 5, 2}};
    Folders() {
        root = fs::path(tmp.write("marker", "")).parent_path();
        bert = write_generation(root, "gen_bert", "bert-base-cased", "mean", bert_entries);
        clip = write_generation(root, "gen_clip", "openai/clip-vit-base-patch32", "projected", clip_entries);
        random = write_generation(root, "gen_random", "random", "mean", random_entries);
    }
    ScoreJobOptions options(const std::string& kind = "cos100") const {
        ScoreJobOptions o;
        o.generation_dirs = {bert, clip, random};
        o.clip_model = tiny_clip().string();
        o.kind = kind;
        o.device = "cpu";
        o.batch = 3;  // several batches, one with the corrupt file
        o.use_cache = false;
        return o;
    }
};

// Per seed: the mean of golden[image, text] over the seed's readable entries.
std::map<uint64_t, double> seed_means_by_hand(const std::vector<Entry>& entries, const at::Tensor& g) {
    std::map<uint64_t, std::pair<double, int>> acc;
    for (const auto& e : entries) {
        if (e.image < 0) continue;
        acc[e.seed].first += g[e.image][e.text].item<double>();
        acc[e.seed].second += 1;
    }
    std::map<uint64_t, double> out;
    for (const auto& [seed, sum_n] : acc) out[seed] = sum_n.first / sum_n.second;
    return out;
}

std::vector<double> values_of(const std::map<uint64_t, double>& m) {
    std::vector<double> v;
    for (const auto& [k, x] : m) v.push_back(x);
    return v;
}

double sample_sd_by_hand(const std::vector<double>& v) {
    double mean = 0;
    for (double x : v) mean += x;
    mean /= v.size();
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    return std::sqrt(ss / (v.size() - 1));
}

const EncoderScore& encoder_named(const ScoreJobResult& r, const std::string& name) {
    for (const auto& e : r.encoders)
        if (e.encoder == name) return e;
    throw std::runtime_error("encoder " + name + " not in the result");
}

// ---------- tests ----------

TEST(PooledTTest, TextbookValues) {
    // [1..5] vs [3..7]: means 3 and 5, both variances 2.5, pooled s^2 = 2.5, se = sqrt(2.5 (1/5 + 1/5)) = 1,
    // t = -2, df = 8. By hand (A&S 26.7.3, v = 8): cos^2 = 8 / 12 = 2/3, sin = sqrt(1/3),
    // A = sqrt(1/3) (1 + 1/3 + 3/8 * 4/9 + 15/48 * 8/27) = 0.9194838, p = 0.0805162 (scipy.stats.ttest_ind
    // prints 0.08051623795726257 for this example).
    const auto t = pooled_t_test({1, 2, 3, 4, 5}, {3, 4, 5, 6, 7});
    EXPECT_DOUBLE_EQ(t.t, -2.0);
    EXPECT_DOUBLE_EQ(t.df, 8.0);
    EXPECT_NEAR(t.p, 0.0805162379572626, 1e-12);
    EXPECT_EQ(t.n_a, 5u);
    EXPECT_TRUE(t.undefined_reason.empty());
    // One value against three: df = 2, the t distribution with 2 df has p = 1 - |t| / sqrt(t^2 + 2).
    const auto u = pooled_t_test({10}, {1, 2, 3});
    const double s2 = 2.0 / 2.0;  // (ss_b = 2) / df 2
    const double tt = (10.0 - 2.0) / std::sqrt(s2 * (1.0 + 1.0 / 3.0));
    EXPECT_NEAR(u.t, tt, 1e-12);
    EXPECT_NEAR(u.p, 1.0 - tt / std::sqrt(tt * tt + 2.0), 1e-12);
    // Undefined cases are said so, never a number.
    EXPECT_FALSE(pooled_t_test({1}, {2}).undefined_reason.empty());
    EXPECT_TRUE(std::isnan(pooled_t_test({1}, {2}).p));
    EXPECT_FALSE(pooled_t_test({1, 1}, {1, 1, 1}).undefined_reason.empty());
    EXPECT_TRUE(std::isnan(pooled_t_test({}, {1, 2, 3}).t));
    EXPECT_THROW(pooled_t_test({1, NAN}, {1, 2}), syn::Error);
}

TEST(PooledTTest, AgreesWithAnovaAndClosedFormT) {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal(22.4, 0.05);
    for (int na : {2, 3, 5, 12}) {
        for (int nb : {3, 4, 12}) {
            std::vector<double> a(na), b(nb);
            for (auto& v : a) v = normal(rng);
            for (auto& v : b) v = normal(rng) + 0.04;
            const auto t = pooled_t_test(a, b);
            const double t2 = anova_t(a, b);
            const double p2 = closed_form_two_sided_p(t2, na + nb - 2);
            EXPECT_NEAR(t.t, t2, 1e-9 * std::max(1.0, std::abs(t2))) << na << " vs " << nb;
            EXPECT_EQ(t.df, na + nb - 2);
            EXPECT_NEAR(t.p, p2, 1e-9) << na << " vs " << nb;
        }
    }
}

TEST(PooledTTest, PaperGroupStatisticsGiveThePaperPValues) {
    // Samples with exactly the paper's grouped mean and sd (12 BERT, 12 CLIP, 3 Random (model, seed)
    // values): the pooled t-test must land on the printed p-values, up to the rounding of the
    // printed means and sds (3 decimals), which moves p by some tens of per cent.
    auto sample = [](double mean, double sd, int n) {
        std::vector<double> z(n);
        for (int i = 0; i < n; ++i) z[i] = i - (n - 1) / 2.0;
        double ss = 0;
        for (double v : z) ss += v * v;
        const double scale = sd / std::sqrt(ss / (n - 1));
        for (auto& v : z) v = mean + scale * v;
        return z;
    };
    const auto bert = sample(22.414, 0.041, 12), clip = sample(22.631, 0.066, 12), rnd = sample(22.130, 0.029, 3);
    const double p_bc = pooled_t_test(bert, clip).p, p_br = pooled_t_test(bert, rnd).p,
                 p_cr = pooled_t_test(clip, rnd).p;
    std::printf("  p from the paper's summary statistics: B-C %.3g (paper 2.25e-9), B-R %.3g (5.18e-8), "
                "C-R %.3g (1.18e-8)\n", p_bc, p_br, p_cr);
    EXPECT_NEAR(std::log10(p_bc), std::log10(paper_t2i_p("BERT-style", "CLIP-style")), 0.3);
    EXPECT_NEAR(std::log10(p_br), std::log10(paper_t2i_p("Random", "BERT-style")), 0.3);
    EXPECT_NEAR(std::log10(p_cr), std::log10(paper_t2i_p("CLIP-style", "Random")), 0.3);
}

TEST(ScoreJob, PerImageClipSAndAggregatesAgainstGoldens) {
    SYN_REQUIRE_SHARED();
    Folders f;
    const ScoreJobResult r = run_score(f.options());
    const at::Tensor g = golden("clip_score_100cos");
    const auto texts = golden_texts();

    // Per image, in manifest order, the corrupt one left out.
    std::vector<Entry> expected;
    for (const auto* list : {&f.bert_entries, &f.clip_entries, &f.random_entries})
        for (const auto& e : *list)
            if (e.image >= 0) expected.push_back(e);
    ASSERT_EQ(r.images.size(), expected.size());
    double worst = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(r.images[i].prompt, texts[expected[i].text]);
        EXPECT_EQ(r.images[i].seed, expected[i].seed);
        const double want = g[expected[i].image][expected[i].text].item<double>();
        worst = std::max(worst, std::abs(r.images[i].clip_s - want));
        EXPECT_NEAR(r.images[i].clip_s, want, 1e-3) << r.images[i].path;  // 100 x cos: 1e-5 on the cosine
    }
    std::printf("  per-image CLIP-S: max abs diff to the goldens %.3g over %zu images\n", worst, expected.size());

    // The corrupt PNG: counted, named, not fatal.
    ASSERT_EQ(r.skipped.size(), 1u);
    EXPECT_NE(r.skipped[0].path.find("gen_clip"), std::string::npos);
    EXPECT_NE(r.skipped[0].path.find("2_seed0.png"), std::string::npos);

    // Per encoder: mean and sample sd over the seeds' means, by hand.
    struct Expect {
        const char* encoder;
        const char* group;
        const std::vector<Entry>* entries;
    };
    for (const Expect& x : {Expect{"bert-base-cased", "BERT-style", &f.bert_entries},
                            Expect{"openai/clip-vit-base-patch32", "CLIP-style", &f.clip_entries},
                            Expect{"random", "Random", &f.random_entries}}) {
        const auto seeds = values_of(seed_means_by_hand(*x.entries, g));
        double mean = 0;
        for (double v : seeds) mean += v;
        mean /= seeds.size();
        const EncoderScore& e = encoder_named(r, x.encoder);
        EXPECT_EQ(e.group, x.group);
        ASSERT_EQ(e.seeds.size(), seeds.size());
        for (std::size_t s = 0; s < seeds.size(); ++s) EXPECT_NEAR(e.seeds[s].clip_s, seeds[s], 1e-3);
        EXPECT_NEAR(e.clip_s.mean, mean, 1e-3) << x.encoder;
        EXPECT_NEAR(e.clip_s.sd, sample_sd_by_hand(seeds), 1e-3) << x.encoder;
        EXPECT_FALSE(e.is.n);  // no Inception weights
        for (const auto& s : e.seeds) EXPECT_FALSE(s.is.computed);
    }
    EXPECT_EQ(encoder_named(r, "bert-base-cased").paper_label, "BERT-base");

    // Groups in the paper's order and their t-tests against the second implementation.
    ASSERT_EQ(r.groups.size(), 3u);
    EXPECT_EQ(r.groups[0].group, "BERT-style");
    EXPECT_EQ(r.groups[1].group, "CLIP-style");
    EXPECT_EQ(r.groups[2].group, "Random");
    EXPECT_EQ(r.groups[2].clip_s_values.size(), 3u);
    ASSERT_EQ(r.tests.size(), 3u);  // CLIP-S only: no IS without weights
    for (const auto& t : r.tests) {
        EXPECT_EQ(t.metric, "CLIP-S");
        const GroupScore* a = nullptr;
        const GroupScore* b = nullptr;
        for (const auto& gr : r.groups) {
            if (gr.group == t.a) a = &gr;
            if (gr.group == t.b) b = &gr;
        }
        ASSERT_TRUE(a && b);
        const double t2 = anova_t(a->clip_s_values, b->clip_s_values);
        const int df = int(a->clip_s_values.size() + b->clip_s_values.size() - 2);
        EXPECT_NEAR(t.test.t, t2, 1e-9 * std::max(1.0, std::abs(t2)));
        EXPECT_NEAR(t.test.p, closed_form_two_sided_p(t2, df), 1e-9);
    }

    // IS: not computed, visibly, never a 0.
    const std::string md = score_table_markdown(r);
    EXPECT_NE(md.find("not computed"), std::string::npos);
    EXPECT_NE(md.find("IS: not computed"), std::string::npos);
    EXPECT_NE(md.find("2_seed0.png"), std::string::npos) << "the skipped file is named in the table's footnote";
    EXPECT_NE(md.find("BERT-base (paper)"), std::string::npos);
    EXPECT_NE(md.find("2.25e-09"), std::string::npos);
    EXPECT_NE(md.find("cast to uint8 from [0,1] floats"), std::string::npos);

    // Outputs: the four files, atomically written, the manifest with every per-image score.
    const fs::path out = f.root / "out";
    const auto written = write_score_outputs(r, f.options(), out.string());
    EXPECT_EQ(written.size(), 5u);  // and score_timing.json
    EXPECT_EQ(syn::read_file((out / "table3.md").string()), md);
    const auto manifest = nlohmann::json::parse(syn::read_file((out / "score_manifest.json").string()));
    EXPECT_EQ(manifest.at("images").size(), expected.size());
    EXPECT_NEAR(manifest.at("images")[0].at("clip_s").get<double>(), r.images[0].clip_s, 1e-12);
    EXPECT_EQ(manifest.at("skipped_images").size(), 1u);
    EXPECT_EQ(manifest.at("is"), "not computed");
    EXPECT_EQ(manifest.at("encoders")[0].at("is"), "not computed");
    const std::string csv = syn::read_file((out / "table3.csv").string());
    EXPECT_NE(csv.find("ours_seed,bert-base-cased,BERT-style,0,1,2,not computed,not computed,"), std::string::npos) << csv;
    EXPECT_NE(csv.find("paper_test,BERT-style vs CLIP-style (CLIP-S)"), std::string::npos);
    const std::string tex = syn::read_file((out / "table3.tex").string());
    EXPECT_NE(tex.find("\\begin{tabular}"), std::string::npos);
    EXPECT_NE(tex.find("$\\pm$"), std::string::npos);
    EXPECT_EQ(tex.find("\\$\\textbackslash"), std::string::npos) << "the ± sign must not be escaped";
}

TEST(ScoreJob, GroundTruthRowFromTheDatasetLayout) {
    SYN_REQUIRE_SHARED();
    Folders f;
    // A two-face Multi-Modal CelebA-HQ: images/<n>.png, text/<n>.txt (blank lines are skipped), test.txt;
    // face 2 is listed with a corrupt image and is skipped, not fatal.
    const fs::path data = f.root / "mmceleba";
    fs::create_directories(data / "images");
    fs::create_directories(data / "text");
    const auto texts = golden_texts();
    const std::map<int, std::vector<int>> captions = {{0, {0, 2}}, {1, {1, 3, 4}}};
    for (const auto& [face, text_ids] : captions) {
        fs::copy_file(tiny_clip() / ("image" + std::to_string(face) + ".png"),
                      data / "images" / (std::to_string(face) + ".png"));
        std::ofstream txt(data / "text" / (std::to_string(face) + ".txt"));
        for (int t : text_ids) txt << texts[t] << "\n\n";
    }
    std::ofstream(data / "images" / "2.png", std::ios::binary) << "not a png";
    std::ofstream(data / "text" / "2.txt") << "a face\n";
    std::ofstream(data / "test.txt") << "0\n1\n2\n";

    ScoreJobOptions o = f.options();
    o.generation_dirs = {f.random};
    o.data_dir = data.string();
    const ScoreJobResult r = run_score(o);
    const at::Tensor g = golden("clip_score_100cos");
    double sum = 0;
    int pairs = 0;
    for (const auto& [face, text_ids] : captions)
        for (int t : text_ids) {
            sum += g[face][t].item<double>();
            ++pairs;
        }
    ASSERT_TRUE(r.ground_truth.computed);
    EXPECT_EQ(r.ground_truth.pairs, std::size_t(pairs));
    ASSERT_EQ(r.ground_truth.images.size(), 2u);
    EXPECT_EQ(r.ground_truth.images[1].clip_s.size(), 3u);
    EXPECT_NEAR(r.ground_truth.images[1].clip_s[2], g[1][4].item<double>(), 1e-3);
    EXPECT_NEAR(r.ground_truth.clip_s, sum / pairs, 1e-3);
    ASSERT_EQ(r.ground_truth.skipped.size(), 1u);
    EXPECT_NE(r.ground_truth.skipped[0].path.find("2.png"), std::string::npos);
    char cell[32];
    std::snprintf(cell, sizeof cell, "%.2f", r.ground_truth.clip_s);
    EXPECT_NE(score_table_markdown(r).find(std::string("| Ground-truth pairs (ours) |  |  | 2 | – | ") + cell),
              std::string::npos)
        << score_table_markdown(r);
}

TEST(ScoreJob, HesselKindAgainstGoldens) {
    SYN_REQUIRE_SHARED();
    Folders f;
    ScoreJobOptions o = f.options("hessel");
    o.generation_dirs = {f.bert};
    const ScoreJobResult r = run_score(o);
    const at::Tensor g = golden("clip_score_hessel");
    ASSERT_EQ(r.images.size(), f.bert_entries.size());
    for (std::size_t i = 0; i < r.images.size(); ++i)
        EXPECT_NEAR(r.images[i].clip_s, g[f.bert_entries[i].image][f.bert_entries[i].text].item<double>(), 1e-4);
    EXPECT_NE(score_table_markdown(r).find("(paper, 100 x cos)"), std::string::npos);
    EXPECT_THROW(check_score_kind("cos"), syn::Error);
}

TEST(ScoreJob, BadManifestLinesAreNamed) {
    syn::test::TempDir tmp;
    const std::string good = R"({"file": "a.png", "prompt": "p", "seed": 0, "encoder": "random", "pooling": "mean", )"
                             R"("mapping": "m", "width": 256, "height": 256})";
    const std::string not_json = tmp.write("bad_json.jsonl", good + "\n\n{\"file\": \"b.png\", \"prompt\": \n");
    std::string msg = syn::test::error_message([&] { read_generation_manifest(not_json); });
    EXPECT_NE(msg.find("bad_json.jsonl:3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;

    std::string missing = good;
    missing.replace(missing.find("\"seed\": 0, "), 11, "");
    const std::string no_key = tmp.write("no_key.jsonl", good + "\n" + missing + "\n");
    msg = syn::test::error_message([&] { read_generation_manifest(no_key); });
    EXPECT_NE(msg.find("no_key.jsonl:2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("lacks key 'seed'"), std::string::npos) << msg;

    std::string typed = good;
    typed.replace(typed.find("\"seed\": 0"), 9, "\"seed\": \"zero\"");
    msg = syn::test::error_message([&] { read_generation_manifest(tmp.write("typed.jsonl", typed + "\n")); });
    EXPECT_NE(msg.find("typed.jsonl:1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'seed'"), std::string::npos) << msg;

    msg = syn::test::error_message([&] { read_generation_manifest(tmp.write("empty.jsonl", "\n")); });
    EXPECT_NE(msg.find("empty.jsonl"), std::string::npos) << msg;

    const std::string ok = tmp.write("ok.jsonl", good + "\r\n");
    const auto entries = read_generation_manifest(ok);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].path, (fs::path(ok).parent_path() / "a.png").string());  // relative to the manifest
    EXPECT_EQ(entries[0].width, 256);
}

TEST(ScoreJob, BadManifestFailsTheJobBeforeLoadingModels) {
    SYN_REQUIRE_SHARED();
    Folders f;
    std::ofstream(fs::path(f.random) / "images.jsonl", std::ios::app) << "{not json}\n";
    const std::string msg = syn::test::error_message([&] { run_score(f.options()); });
    EXPECT_NE(msg.find("gen_random/images.jsonl:5"), std::string::npos) << msg;
    ScoreJobOptions o = f.options();
    o.generation_dirs = {(f.root / "nowhere").string()};
    EXPECT_NE(syn::test::error_message([&] { run_score(o); }).find("nowhere/images.jsonl"), std::string::npos);
}

TEST(ScoreJob, GroupsFromCatalogConfigAndOverride) {
    SYN_REQUIRE_SHARED();
    const std::string fx = syn::test::fixtures_dir() + "/models/";
    std::string source;
    EXPECT_EQ(encoder_group("random", {}, &source), "Random");
    EXPECT_EQ(encoder_group("roberta-large", {}, &source), "BERT-style");
    EXPECT_EQ(source, "catalog");
    EXPECT_EQ(encoder_group("openai/clip-vit-large-patch14-336", {}), "CLIP-style");
    EXPECT_EQ(encoder_group(fx + "tiny-roberta", {}, &source), "BERT-style");
    EXPECT_EQ(source, "config.json model_type");
    EXPECT_EQ(encoder_group(fx + "tiny-clip", {}), "CLIP-style");
    EXPECT_EQ(encoder_group(fx + "tiny-t5-encoder", {}), "Other");
    EXPECT_EQ(encoder_group(fx + "tiny-clip", {{fx + "tiny-clip", "Mine"}}, &source), "Mine");
    EXPECT_EQ(source, "--group");
    const std::string msg = syn::test::error_message([] { encoder_group("/no/such/encoder", {}); });
    EXPECT_NE(msg.find("--group"), std::string::npos) << msg;
}

// An Inception v3 with seeded random weights (torch's default initialisation, rescaled below),
// saved as the user's weights file would be, to `path`.
// The caller seeds torch (torch::manual_seed(2024)) before constructing `net`.
void write_random_inception(syn::models::InceptionV3& net, const std::string& path) {
    {
        // torch's default initialisation shrinks activations layer after layer (all images end
        // with the same features, IS = 1 to 9 digits): He-normal convolutions keep their scale, and
        // a wide classifier makes two images' class distributions differ visibly.
        torch::NoGradGuard no_grad;
        for (auto& p : net.module().named_parameters()) {
            auto& w = p.value();
            if (p.key() == "fc.weight") w.normal_(0.0, 1.0);
            else if (w.dim() == 4) w.normal_(0.0, std::sqrt(2.0 / double(w.size(1) * w.size(2) * w.size(3))));
        }
    }
    syn::TensorMap tensors;
    for (const auto& p : net.module().named_parameters()) tensors[p.key()] = syn::from_torch(p.value());
    for (const auto& b : net.module().named_buffers()) tensors[b.key()] = syn::from_torch(b.value());
    syn::write_safetensors(path, tensors);
}

TEST(ScoreJob, InceptionScoreWithWeightsTheTestWrites) {
    SYN_REQUIRE_SHARED();
    Folders f;
    torch::manual_seed(2024);
    syn::models::InceptionV3 net;
    const std::string weights = (f.root / "inception_test.safetensors").string();
    write_random_inception(net, weights);

    // Seed 0: two images, seed 1: three (one split each: every split holds at least two images).
    const std::vector<Entry> entries = {{0, 0, 0}, {1, 1, 0}, {0, 2, 1}, {0, 3, 1}, {1, 4, 1}};
    ScoreJobOptions o = f.options();
    o.generation_dirs = {write_generation(f.root, "gen_is", "roberta-base", "mean", entries)};
    o.inception_weights = weights;
    o.is_splits = 10;              // capped: one split per seed (two images each)
    const ScoreJobResult r = run_score(o);
    ASSERT_EQ(r.encoders.size(), 1u);
    const EncoderScore& e = r.encoders[0];
    ASSERT_EQ(e.seeds.size(), 2u);
    std::vector<double> by_hand;
    for (const auto& seed : e.seeds) {
        // The seed's images in manifest order (the fixtures differ in size: 64 x 48 and 40 x 70), each
        // through the network on its own.
        std::vector<at::Tensor> rows;
        for (const auto& entry : entries) {
            if (entry.seed != seed.seed) continue;
            const auto image = syn::models::read_rgb_image(
                (tiny_clip() / ("image" + std::to_string(entry.image) + ".png")).string());
            auto one = torch::empty({1, image.height, image.width, 3}, torch::kByte);
            std::memcpy(one.data_ptr<uint8_t>(), image.pixels.data(), image.pixels.size());
            rows.push_back(net.forward(one, syn::models::ImageLayout::NHWC).logits_unbiased.to(torch::kDouble));
        }
        // IS from the logits by its definition, in double: exp(mean_i KL(p_i || mean p)).
        const auto p = torch::softmax(torch::cat(rows, 0), 1);
        const auto py = p.mean(0, true);
        const double is = std::exp((p * (p.log() - py.log())).sum(1).mean().item<double>());
        std::printf("  seed %llu: IS %.9f (job), %.9f (by definition)\n", (unsigned long long)seed.seed,
                    seed.is.mean, is);
        ASSERT_TRUE(seed.is.computed);
        EXPECT_EQ(seed.is.splits, 1);
        EXPECT_GT(is, 1.001);
        EXPECT_NEAR(seed.is.mean, is, 1e-6 * is);
        by_hand.push_back(is);
    }
    EXPECT_NEAR(e.is.mean, (by_hand[0] + by_hand[1]) / 2, 1e-6);
    EXPECT_NEAR(e.is.sd, sample_sd_by_hand(by_hand), 1e-6);
    const std::string md = score_table_markdown(r);
    EXPECT_EQ(md.find("IS: not computed"), std::string::npos);
    EXPECT_NE(md.find("computed on the real generated images"), std::string::npos);
    EXPECT_EQ(md.find("| Groups |"), std::string::npos) << "one group: no test table";
    char cell[32];
    std::snprintf(cell, sizeof cell, "%.2f", e.is.mean);
    EXPECT_NE(md.find(std::string("| ") + cell), std::string::npos) << md;
    // A weights file of another network is refused with its name.
    o.inception_weights = (tiny_clip() / "model.safetensors").string();
    EXPECT_NE(syn::test::error_message([&] { run_score(o); }).find("model.safetensors"), std::string::npos);
}

TEST(ScoreJob, CommandLineWritesTheTables) {
    SYN_REQUIRE_SHARED();
    Folders f;
    const std::string out = (f.root / "cli_out").string();
    CLI::App app;
    add_score_command(app);
    std::vector<std::string> args = {f.bert, "--clip", tiny_clip().string(), "--group", "bert-base-cased=Custom",
                                     f.random, "--device", "cpu", "--no-cache", "--out", out, "--splits", "4"};
    std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
    args.push_back("score");
    app.parse(args);
    const std::string md = syn::read_file(out + "/table3.md");
    EXPECT_NE(md.find("| bert-base-cased (ours) | Custom |"), std::string::npos) << md;
    EXPECT_NE(md.find("| random (ours) | Random |"), std::string::npos) << md;
    EXPECT_NE(md.find("Random vs Custom"), std::string::npos) << md;  // the paper's groups first
    for (const char* name : {"table3.tex", "table3.csv", "score_manifest.json"})
        EXPECT_TRUE(fs::exists(fs::path(out) / name)) << name;
    CLI::App bad;
    add_score_command(bad);
    std::vector<std::string> bad_args = {"score", f.bert, "--kind", "cos", "--out", out};
    std::reverse(bad_args.begin(), bad_args.end());
    EXPECT_THROW(bad.parse(bad_args), CLI::ParseError);
}

// Issue 15: `score --shard i/n` over 2 and 3 shards with IS and a corrupt file, merged: the four
// outputs are the unsharded run's byte for byte (score_timing.json aside, the wall time).
TEST(ScoreJob, ShardsMergeIntoTheUnshardedOutputs) {
    SYN_REQUIRE_SHARED();
    Folders f;
    torch::manual_seed(2024);
    syn::models::InceptionV3 net;
    const std::string weights = (f.root / "inception_shards.safetensors").string();
    write_random_inception(net, weights);
    ScoreJobOptions o = f.options();
    o.inception_weights = weights;
    o.is_splits = 2;
    o.batch = 2;  // 13 images: 7 batches
    const ScoreJobResult whole = run_score(o);
    ASSERT_FALSE(whole.skipped.empty());
    ASSERT_TRUE(whole.encoders[0].seeds[0].is.computed);
    const fs::path whole_out = f.root / "whole";
    write_score_outputs(whole, o, whole_out.string());
    for (int n : {2, 3}) {
        std::vector<std::string> dirs;
        std::size_t held = 0;
        for (int i = n - 1; i >= 0; --i) {
            ScoreJobOptions so = o;
            so.shard_index = i;
            so.shard_count = n;
            const ScoreShard shard = run_score_shard(so);
            EXPECT_EQ(shard.run.images.size(), 13u);
            for (std::size_t p : shard.positions) EXPECT_EQ((p / 2) % n, static_cast<std::size_t>(i));
            held += shard.positions.size();
            dirs.push_back((f.root / ("shard" + std::to_string(i) + "of" + std::to_string(n))).string());
            write_score_shard(shard, so, dirs.back());
        }
        EXPECT_EQ(held, 13u);
        const fs::path merged = f.root / ("merged" + std::to_string(n));
        EXPECT_EQ(merge_score_shards(dirs, merged.string()), 13u);
        for (const char* name : {"table3.md", "table3.tex", "table3.csv", "score_manifest.json"})
            EXPECT_EQ(syn::read_file((merged / name).string()), syn::read_file((whole_out / name).string()))
                << n << " shards: " << name;
    }
    // A shard of another --splits is another run's.
    ScoreJobOptions other = o;
    other.is_splits = 3;
    other.shard_index = 1;
    other.shard_count = 2;
    write_score_shard(run_score_shard(other), other, (f.root / "other1of2").string());
    const std::string msg = syn::test::error_message([&] {
        merge_score_shards({(f.root / "shard0of2").string(), (f.root / "other1of2").string()},
                           (f.root / "refused").string());
    });
    EXPECT_NE(msg.find("setting 'is_splits'"), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(f.root / "refused"));
}

}  // namespace
