// The report of `synesthesia score`: Table 3 (Markdown / LaTeX / CSV) beside the paper's numbers,
// and score_manifest.json.
#include "core/run/reports/score_report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/io/output_folder.h"
#include "core/run/reports/paper_tables.h"
#include "core/run/reports/text_formats.h"
#include "core/run/versions.h"

namespace syn::run {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kSkippedNamedInTable = 5;  // the first few skipped files the footnote names

bool finite(double v) { return std::isfinite(v); }

// --- formatting --------------------------------------------------------------------------------

std::string fixed(double v, int decimals) {
    if (!finite(v)) return "n/a";
    std::ostringstream s;
    s << std::fixed << std::setprecision(decimals) << v;
    return s.str();
}

std::string p_text(double p) {
    if (!finite(p)) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, p < 1e-3 ? "%.2e" : "%.3f", p);
    return buf;
}

std::string number_csv(double v) {
    if (!finite(v)) return "";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

std::string mean_pm(const MeanSd& m, int decimals, int sd_decimals, const std::string& pm) {
    if (m.n == 0) return "n/a";
    std::string s = fixed(m.mean, decimals);
    if (m.n > 1) s += " " + pm + " " + fixed(m.sd, sd_decimals);
    return s;
}

const char* kNotComputed = "not computed";

struct TableRow {
    std::string label, group, seeds, images, is, clip_s;
};

struct TestRow {
    std::string label, metric, n, t, df, p_ours, p_paper;
};

bool is_computed_anywhere(const ScoreJobResult& r) { return !r.inception_weights.empty(); }

std::vector<TableRow> table_rows(const ScoreJobResult& r, const std::string& pm) {
    std::vector<TableRow> rows;
    const bool is_on = is_computed_anywhere(r);
    for (const auto& e : r.encoders)
        rows.push_back({e.label + " (ours)", e.group, std::to_string(e.seeds.size()), std::to_string(e.images),
                        is_on ? mean_pm(e.is, 2, 3, pm) : kNotComputed, mean_pm(e.clip_s, 2, 3, pm)});
    if (r.ground_truth.computed)
        rows.push_back({"Ground-truth pairs (ours)", "", "", std::to_string(r.ground_truth.images.size()), "–",
                        fixed(r.ground_truth.clip_s, 2)});
    for (const auto& g : r.groups)
        rows.push_back({g.group + ", grouped (ours)", g.group, std::to_string(g.clip_s_values.size()) + " values", "",
                        is_on ? mean_pm(g.is, 2, 3, pm) : kNotComputed, mean_pm(g.clip_s, 3, 3, pm)});
    const std::string paper_suffix = r.kind == "hessel" ? " (paper, 100 x cos)" : " (paper)";
    for (const auto& p : paper_t2i_rows()) {
        const bool gt = std::string(p.id).empty();
        rows.push_back({std::string(p.label) + paper_suffix, p.group, gt ? "" : "3", "",
                        finite(p.is) ? fixed(p.is, 2) : "", fixed(p.clip_s, 2)});
    }
    for (const auto& g : paper_t2i_groups())
        rows.push_back({std::string(g.group) + ", grouped" + paper_suffix, g.group, "", "", "",
                        fixed(g.mean, 3) + " " + pm + " " + fixed(g.sd, 3)});
    return rows;
}

std::vector<TestRow> test_rows(const ScoreJobResult& r) {
    std::vector<TestRow> rows;
    for (const auto& t : r.tests) {
        const double paper = t.metric == "CLIP-S" && r.kind == "cos100" ? paper_t2i_p(t.a, t.b)
                                                                        : std::numeric_limits<double>::quiet_NaN();
        rows.push_back({t.a + " vs " + t.b, t.metric,
                        std::to_string(t.test.n_a) + " / " + std::to_string(t.test.n_b), fixed(t.test.t, 2),
                        fixed(t.test.df, 0), t.test.undefined_reason.empty() ? p_text(t.test.p) : "n/a (" + t.test.undefined_reason + ")",
                        finite(paper) ? p_text(paper) : "–"});
    }
    return rows;
}

std::vector<std::string> footnotes(const ScoreJobResult& r) {
    std::vector<std::string> notes;
    notes.push_back(r.kind == "hessel"
                        ? "CLIP-S = 2.5 x max(cos, 0) (Hessel et al.) of the " + r.clip_model +
                              " image and text embeddings; the paper's CLIP-S values are 100 x cos, not on this scale."
                        : "CLIP-S = 100 x cos(image embedding, text embedding) of " + r.clip_model +
                              ", each image against its own prompt (the study's metric).");
    notes.push_back("Ours: per (encoder, seed) the mean over its images; per encoder mean ± sample sd over seeds; "
                    "grouped: mean ± sd over all (model, seed) values; p: pooled two-sample Student t-test "
                    "(equal variances, as scipy.stats.ttest_ind).");
    if (is_computed_anywhere(r))
        notes.push_back("IS: Inception v3 (" + r.inception_weights + "), " + std::to_string(r.is_splits_asked) +
                        " splits (fewer when a seed has fewer than two images per split), computed on the real generated images. The "
                        "paper's IS of 1.01 comes from images cast to uint8 from [0,1] floats (near-black images); "
                        "ours are the real images.");
    else
        notes.push_back("IS: not computed (no --inception-weights given). The paper's IS of 1.01 comes from images "
                        "cast to uint8 from [0,1] floats (near-black images); ours would be the real images.");
    if (!r.skipped.empty()) {
        std::string names;
        for (std::size_t i = 0; i < r.skipped.size() && i < kSkippedNamedInTable; ++i)
            names += (i ? ", " : "") + r.skipped[i].path;
        if (r.skipped.size() > kSkippedNamedInTable) names += ", ...";
        notes.push_back("Skipped " + std::to_string(r.skipped.size()) + " unreadable image file(s): " + names +
                        " (all listed in score_manifest.json).");
    }
    if (r.ground_truth.computed)
        notes.push_back("Ground truth: " + std::to_string(r.ground_truth.images.size()) + " images of split '" +
                        r.ground_truth.split + "', mean over all " + std::to_string(r.ground_truth.pairs) +
                        " (image, caption) pairs" +
                        (r.ground_truth.skipped.empty()
                             ? std::string()
                             : "; " + std::to_string(r.ground_truth.skipped.size()) + " unreadable images skipped") +
                        ".");
    if (r.duplicate_images) notes.push_back(std::to_string(r.duplicate_images) + " image file(s) listed twice were scored once.");
    if (r.truncated_prompts)
        notes.push_back(std::to_string(r.truncated_prompts) + " prompt(s) longer than CLIP's context were truncated.");
    return notes;
}

}  // namespace

std::string score_table_markdown(const ScoreJobResult& r) {
    std::ostringstream s;
    s << "| Model | Group | Seeds | Images | IS | CLIP-S |\n|---|---|---|---|---|---|\n";
    for (const auto& row : table_rows(r, "±"))
        s << "| " << markdown_cell(row.label) << " | " << markdown_cell(row.group) << " | " << row.seeds << " | "
          << row.images << " | " << row.is << " | " << row.clip_s << " |\n";
    if (!r.tests.empty()) {
        s << "\n| Groups | Metric | n | t | df | p (ours) | p (paper) |\n|---|---|---|---|---|---|---|\n";
        for (const auto& t : test_rows(r))
            s << "| " << markdown_cell(t.label) << " | " << t.metric << " | " << t.n << " | " << t.t << " | " << t.df
              << " | " << markdown_cell(t.p_ours) << " | " << t.p_paper << " |\n";
    }
    s << '\n';
    for (const auto& note : footnotes(r)) s << markdown_cell(note) << "\n\n";
    return s.str();
}

std::string score_table_latex(const ScoreJobResult& r) {
    auto cell = [](const std::string& c) { return c == "–" ? std::string("--") : latex_escape(c); };
    auto pm_cell = [&](const std::string& c) {
        // "$\pm$" was inserted by table_rows and must not be escaped: split around it.
        const std::string pm = "$\\pm$";
        const auto at = c.find(pm);
        return at == std::string::npos ? cell(c) : cell(c.substr(0, at)) + pm + cell(c.substr(at + pm.size()));
    };
    std::ostringstream s;
    s << "\\begin{tabular}{l l r r r r}\n\\toprule\nModel & Group & Seeds & Images & IS & CLIP-S \\\\\n\\midrule\n";
    for (const auto& row : table_rows(r, "$\\pm$"))
        s << cell(row.label) << " & " << cell(row.group) << " & " << cell(row.seeds) << " & " << cell(row.images)
          << " & " << pm_cell(row.is) << " & " << pm_cell(row.clip_s) << " \\\\\n";
    s << "\\bottomrule\n\\end{tabular}\n\n";
    if (!r.tests.empty()) {
        s << "\\begin{tabular}{l l r r r r r}\n\\toprule\nGroups & Metric & n & t & df & p (ours) & p (paper) \\\\\n"
             "\\midrule\n";
        for (const auto& t : test_rows(r))
            s << cell(t.label) << " & " << cell(t.metric) << " & " << cell(t.n) << " & " << cell(t.t) << " & "
              << cell(t.df) << " & " << cell(t.p_ours) << " & " << cell(t.p_paper) << " \\\\\n";
        s << "\\bottomrule\n\\end{tabular}\n\n";
    }
    for (const auto& note : footnotes(r)) s << "\\par\\noindent{\\footnotesize " << latex_escape(note) << "}\n";
    return s.str();
}

std::string score_table_csv(const ScoreJobResult& r) {
    std::ostringstream s;
    s << "section,label,group,seed,seeds,images,is_mean,is_sd,clip_s_mean,clip_s_sd,t,df,p\n";
    const bool is_on = is_computed_anywhere(r);
    auto is_cell = [&](bool computed, double v) { return is_on && computed ? number_csv(v) : std::string(kNotComputed); };
    auto line = [&](const std::vector<std::string>& cells) {
        for (std::size_t i = 0; i < cells.size(); ++i) s << (i ? "," : "") << csv_field(cells[i]);
        s << '\n';
    };
    for (const auto& e : r.encoders) {
        line({"ours_model", e.label, e.group, "", std::to_string(e.seeds.size()), std::to_string(e.images),
              is_cell(e.is.n > 0, e.is.mean), is_cell(e.is.n > 0, e.is.sd), number_csv(e.clip_s.mean),
              number_csv(e.clip_s.sd), "", "", ""});
        for (const auto& sd : e.seeds)
            line({"ours_seed", e.label, e.group, std::to_string(sd.seed), "1", std::to_string(sd.images),
                  is_cell(sd.is.computed, sd.is.mean), is_cell(sd.is.computed, sd.is.sd), number_csv(sd.clip_s), "",
                  "", "", ""});
    }
    if (r.ground_truth.computed)
        line({"ours_ground_truth", "Ground-truth pairs", "", "", "", std::to_string(r.ground_truth.images.size()), "",
              "", number_csv(r.ground_truth.clip_s), "", "", "", ""});
    for (const auto& g : r.groups)
        line({"ours_group", g.group, g.group, "", std::to_string(g.clip_s_values.size()), "",
              is_cell(g.is.n > 0, g.is.mean), is_cell(g.is.n > 0, g.is.sd), number_csv(g.clip_s.mean),
              number_csv(g.clip_s.sd), "", "", ""});
    for (const auto& t : r.tests)
        line({"ours_test", t.a + " vs " + t.b + " (" + t.metric + ")", "", "", "", "", "", "", "", "",
              number_csv(t.test.t), number_csv(t.test.df), number_csv(t.test.p)});
    for (const auto& p : paper_t2i_rows())
        line({std::string(p.id).empty() ? "paper_ground_truth" : "paper_model", p.label, p.group, "",
              std::string(p.id).empty() ? "" : "3", "", number_csv(p.is), "", number_csv(p.clip_s), "", "", "", ""});
    for (const auto& g : paper_t2i_groups())
        line({"paper_group", g.group, g.group, "", "", "", "", "", number_csv(g.mean), number_csv(g.sd), "", "", ""});
    const auto& groups = paper_t2i_groups();
    for (std::size_t i = 0; i < groups.size(); ++i)
        for (std::size_t j = i + 1; j < groups.size(); ++j)
            line({"paper_test", std::string(groups[i].group) + " vs " + groups[j].group + " (CLIP-S)", "", "", "", "",
                  "", "", "", "", "", "", number_csv(paper_t2i_p(groups[i].group, groups[j].group))});
    return s.str();
}

std::vector<std::string> write_score_outputs(const ScoreJobResult& r, const ScoreJobOptions& o,
                                             const std::string& out_dir) {
    StagedOutputFolder staged(out_dir);  // all four files appear together (core/io/output_folder.h)
    auto number = [](double v) { return finite(v) ? json(v) : json(nullptr); };
    auto mean_sd_json = [&](const MeanSd& m) { return json{{"mean", number(m.mean)}, {"sd", number(m.sd)}, {"n", m.n}}; };
    auto is_json = [&](const InceptionScoreValue& v) {
        if (!v.computed) return json(kNotComputed);
        return json{{"mean", number(v.mean)}, {"std", number(v.sd)}, {"splits", v.splits}};
    };
    json m = {{"experiment", "Text-to-image probe (Table 3)"},
              {"clip_model", r.clip_model},
              {"clip_folder", r.clip_folder},
              {"kind", r.kind},
              {"device", r.device},
              {"inception_weights", r.inception_weights.empty() ? json(nullptr) : json(r.inception_weights)},
              {"is", r.inception_weights.empty() ? kNotComputed : "computed on the real generated images"},
              {"is_splits", r.is_splits_asked},
              {"batch", o.batch},
              {"group_overrides", o.group_overrides},
              {"manifests", r.manifests},
              {"duplicate_images", r.duplicate_images},
              {"truncated_prompts", r.truncated_prompts},
              {"seconds", r.seconds},
              {"versions", version_info()}};
    json images = json::array();
    for (const auto& i : r.images)
        images.push_back({{"file", i.file}, {"path", i.path}, {"manifest", i.manifest}, {"prompt", i.prompt},
                          {"seed", i.seed}, {"encoder", i.encoder}, {"pooling", i.pooling}, {"mapping", i.mapping},
                          {"width", i.width}, {"height", i.height}, {"clip_s", number(i.clip_s)}});
    m["images"] = images;
    json skipped = json::array();
    for (const auto& sk : r.skipped) skipped.push_back({{"path", sk.path}, {"reason", sk.reason}});
    m["skipped_images"] = skipped;
    json encoders = json::array();
    for (const auto& e : r.encoders) {
        json seeds = json::array();
        for (const auto& s : e.seeds)
            seeds.push_back({{"seed", s.seed}, {"images", s.images}, {"clip_s", number(s.clip_s)}, {"is", is_json(s.is)}});
        encoders.push_back({{"encoder", e.encoder}, {"pooling", e.pooling}, {"label", e.label}, {"group", e.group},
                            {"group_source", e.group_source}, {"paper_label", e.paper_label}, {"images", e.images},
                            {"clip_s", mean_sd_json(e.clip_s)},
                            {"is", e.is.n ? mean_sd_json(e.is) : json(kNotComputed)}, {"seeds", seeds}});
    }
    m["encoders"] = encoders;
    json groups = json::array();
    for (const auto& g : r.groups)
        groups.push_back({{"group", g.group}, {"encoders", g.encoders}, {"clip_s_values", g.clip_s_values},
                          {"clip_s", mean_sd_json(g.clip_s)}, {"is_values", g.is_values},
                          {"is", g.is.n ? mean_sd_json(g.is) : json(kNotComputed)}});
    m["groups"] = groups;
    json tests = json::array();
    for (const auto& t : r.tests)
        tests.push_back({{"metric", t.metric}, {"a", t.a}, {"b", t.b}, {"n_a", t.test.n_a}, {"n_b", t.test.n_b},
                         {"mean_a", number(t.test.mean_a)}, {"mean_b", number(t.test.mean_b)},
                         {"t", number(t.test.t)}, {"df", number(t.test.df)}, {"p", number(t.test.p)},
                         {"undefined_reason", t.test.undefined_reason},
                         {"test", "pooled two-sample Student t (equal variances), two-sided"}});
    m["tests"] = tests;
    if (r.ground_truth.computed) {
        json gi = json::array();
        for (const auto& g : r.ground_truth.images)
            gi.push_back({{"id", g.id}, {"path", g.path}, {"captions", g.captions}, {"clip_s", g.clip_s}});
        json gs = json::array();
        for (const auto& sk : r.ground_truth.skipped) gs.push_back({{"path", sk.path}, {"reason", sk.reason}});
        m["ground_truth"] = {{"data_dir", r.ground_truth.data_dir}, {"split", r.ground_truth.split},
                             {"pairs", r.ground_truth.pairs}, {"clip_s", number(r.ground_truth.clip_s)},
                             {"truncated_captions", r.ground_truth.truncated_captions},
                             {"skipped_images", gs}, {"images", gi}};
    }
    json paper_rows = json::array();
    for (const auto& p : paper_t2i_rows())
        paper_rows.push_back({{"id", p.id}, {"label", p.label}, {"group", p.group}, {"is", number(p.is)},
                              {"clip_s", p.clip_s}});
    json paper_groups = json::array();
    for (const auto& g : paper_t2i_groups()) paper_groups.push_back({{"group", g.group}, {"mean", g.mean}, {"sd", g.sd}});
    json paper_p = json::object();
    for (std::size_t i = 0; i < paper_t2i_groups().size(); ++i)
        for (std::size_t j = i + 1; j < paper_t2i_groups().size(); ++j) {
            const std::string a = paper_t2i_groups()[i].group, b = paper_t2i_groups()[j].group;
            paper_p[a + " vs " + b] = paper_t2i_p(a, b);
        }
    m["paper"] = {{"rows", paper_rows},
                  {"groups", paper_groups},
                  {"p", paper_p},
                  {"note", "IS 1.01 from images cast to uint8 from [0,1] floats (near-black); ours are the real images"}};

    const std::vector<std::pair<std::string, std::string>> files = {{"table3.md", score_table_markdown(r)},
                                                                    {"table3.tex", score_table_latex(r)},
                                                                    {"table3.csv", score_table_csv(r)},
                                                                    {"score_manifest.json", m.dump(2) + "\n"}};
    std::vector<std::string> written;
    for (const auto& [name, text] : files)
        write_file_atomically((fs::path(staged.path()) / name).string(), text);
    staged.commit();
    for (const auto& file : files) written.push_back((fs::path(out_dir) / file.first).string());
    return written;
}

}  // namespace syn::run
