// The report of `synesthesia score`: Table 3 (Markdown / LaTeX / CSV) beside the paper's numbers,
// and score_manifest.json.
#include "core/run/reports/score_report.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/output_folder.h"
#include "core/io/safetensors.h"
#include "core/io/sha256.h"
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

namespace {

std::vector<std::string> write_outputs(const ScoreJobResult& r, const ScoreJobOptions& o, const std::string& out_dir,
                                       const json& timing) {
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
                                                                    {"score_manifest.json", m.dump(2) + "\n"},
                                                                    {"score_timing.json", timing.dump(2) + "\n"}};
    std::vector<std::string> written;
    for (const auto& [name, text] : files)
        write_file_atomically((fs::path(staged.path()) / name).string(), text);
    staged.commit();
    for (const auto& file : files) written.push_back((fs::path(out_dir) / file.first).string());
    return written;
}

}  // namespace

std::vector<std::string> write_score_outputs(const ScoreJobResult& r, const ScoreJobOptions& o,
                                             const std::string& out_dir) {
    // The wall time has a file of its own, so that score_manifest.json of a merge of shards is the
    // unsharded run's byte for byte.
    return write_outputs(r, o, out_dir, json{{"seconds", finite(r.seconds) ? json(r.seconds) : json(nullptr)}});
}

// --- score --shard i/n and its merge (issue 15) --------------------------------------------------

namespace {

constexpr const char* kShardFile = "score_shard.json";
constexpr const char* kValuesFile = "score_values.safetensors";
constexpr const char* kShardFormat = "synesthesia score shard";

// An image of the run as the manifests list it (no score).
json image_record(const ImageScore& i) {
    return {{"file", i.file},       {"path", i.path},       {"manifest", i.manifest}, {"prompt", i.prompt},
            {"seed", i.seed},       {"encoder", i.encoder}, {"pooling", i.pooling},   {"mapping", i.mapping},
            {"width", i.width},     {"height", i.height}};
}

// The run's image list, in order: shards of the same settings over other images differ here.
std::string image_list_sha256(const std::vector<ImageScore>& images) {
    std::string text;
    for (const auto& i : images) text += image_record(i).dump() + "\n";
    return sha256_hex(text);
}

// What every shard of one run has alike (what the unsharded run's numbers depend on).
json shard_settings(const ScoreJobResult& r, const ScoreJobOptions& o) {
    const json v = version_info();
    return {{"clip_model", r.clip_model},
            {"clip_folder", r.clip_folder},
            {"kind", r.kind},
            {"device", r.device},
            {"inception_weights", r.inception_weights},
            {"is_splits", r.is_splits_asked},
            {"batch", o.batch},
            {"group_overrides", o.group_overrides},
            {"data_dir", o.data_dir},
            {"split", o.split},
            {"max_gt_images", o.max_gt_images},
            {"manifests", r.manifests},
            {"synesthesia", v.value("synesthesia", "")},
            {"libtorch", v.value("libtorch", "")}};
}

json ground_truth_json(const GroundTruthScore& gt) {
    json images = json::array();
    for (const auto& g : gt.images)
        images.push_back({{"id", g.id}, {"path", g.path}, {"captions", g.captions}, {"clip_s", g.clip_s}});
    json skipped = json::array();
    for (const auto& sk : gt.skipped) skipped.push_back({{"path", sk.path}, {"reason", sk.reason}});
    return {{"data_dir", gt.data_dir}, {"split", gt.split},           {"pairs", gt.pairs},
            {"clip_s", gt.clip_s},     {"truncated_captions", gt.truncated_captions},
            {"skipped", skipped},      {"images", images}};
}

GroundTruthScore ground_truth_from_json(const json& j) {
    GroundTruthScore gt;
    gt.computed = true;
    gt.data_dir = j.at("data_dir").get<std::string>();
    gt.split = j.at("split").get<std::string>();
    gt.pairs = j.at("pairs").get<std::size_t>();
    gt.clip_s = j.at("clip_s").get<double>();
    gt.truncated_captions = j.at("truncated_captions").get<std::size_t>();
    for (const auto& s : j.at("skipped")) gt.skipped.push_back({s.at("path").get<std::string>(), s.at("reason").get<std::string>()});
    for (const auto& g : j.at("images"))
        gt.images.push_back({g.at("id").get<std::string>(), g.at("path").get<std::string>(),
                             g.at("captions").get<std::vector<std::string>>(), g.at("clip_s").get<std::vector<double>>()});
    return gt;
}

template <typename T>
RawTensor owned(DType dtype, std::vector<int64_t> shape, const std::vector<T>& values) {
    std::vector<uint8_t> bytes(values.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return make_owned_tensor(dtype, std::move(shape), std::move(bytes));
}

struct ShardRead {
    std::string dir, json_path, values_path;
    json meta;
    int index = 0, count = 0;
    SafetensorsFile values;
    int64_t rows = 0;
};

}  // namespace

bool is_score_shard_folder(const std::string& dir) {
    std::error_code ec;
    return fs::is_regular_file(fs::path(dir) / kShardFile, ec);
}

std::vector<std::string> write_score_shard(const ScoreShard& shard, const ScoreJobOptions& o,
                                           const std::string& out_dir) {
    StagedOutputFolder staged(out_dir);
    json images = json::array();
    std::vector<int64_t> positions;
    std::vector<double> clip_s;
    for (std::size_t k = 0; k < shard.positions.size(); ++k) {
        const ImageScore& img = shard.run.images.at(shard.positions[k]);
        json rec = image_record(img);
        rec["position"] = shard.positions[k];
        rec["skipped"] = shard.skip_reasons[k].empty() ? json(nullptr) : json(shard.skip_reasons[k]);
        images.push_back(std::move(rec));
        positions.push_back(static_cast<int64_t>(shard.positions[k]));
        clip_s.push_back(shard.skip_reasons[k].empty() ? img.clip_s : std::numeric_limits<double>::quiet_NaN());
    }
    json m = {{"format", kShardFormat},
              {"shard", std::to_string(shard.index) + "/" + std::to_string(shard.count)},
              {"index", shard.index},
              {"count", shard.count},
              {"settings", shard_settings(shard.run, o)},
              {"images_total", shard.run.images.size()},
              {"image_list_sha256", image_list_sha256(shard.run.images)},
              {"duplicate_images", shard.run.duplicate_images},
              {"truncated_prompts", shard.run.truncated_prompts},
              {"rows", shard.positions.size()},
              {"images", images},
              {"ground_truth", shard.run.ground_truth.computed ? ground_truth_json(shard.run.ground_truth) : json(nullptr)},
              {"seconds", shard.run.seconds},
              {"versions", version_info()}};
    TensorMap tensors;
    const int64_t k = static_cast<int64_t>(positions.size());
    tensors["positions"] = owned(DType::I64, {k}, positions);
    tensors["clip_s"] = owned(DType::F64, {k}, clip_s);
    std::vector<std::string> names = {"positions", "clip_s"};
    if (!shard.run.inception_weights.empty()) {
        tensors["inception_logits"] = owned(DType::F32, {k, shard.classes}, shard.logits);
        names.push_back("inception_logits");
    }
    write_safetensors((fs::path(staged.path()) / kValuesFile).string(), tensors,
                      {{"shard", m.at("shard").get<std::string>()}}, names);
    write_file_atomically((fs::path(staged.path()) / kShardFile).string(), m.dump(2) + "\n");
    staged.commit();
    return {(fs::path(out_dir) / kShardFile).string(), (fs::path(out_dir) / kValuesFile).string()};
}

std::size_t merge_score_shards(const std::vector<std::string>& shard_dirs, const std::string& out_dir) {
    if (shard_dirs.empty()) throw Error("merge: no score shard folders given");
    std::vector<ShardRead> shards(shard_dirs.size());
    for (std::size_t s = 0; s < shard_dirs.size(); ++s) {
        ShardRead& r = shards[s];
        r.dir = shard_dirs[s];
        r.json_path = (fs::path(r.dir) / kShardFile).string();
        r.values_path = (fs::path(r.dir) / kValuesFile).string();
        if (!is_score_shard_folder(r.dir))
            throw file_error(r.dir, "not a `score --shard` output folder (no score_shard.json)");
        try {
            r.meta = json::parse(read_file(r.json_path));
            if (!r.meta.is_object() || r.meta.value("format", "") != kShardFormat)
                throw Error("not a score shard (format is not '" + std::string(kShardFormat) + "')");
            r.index = r.meta.at("index").get<int>();
            r.count = r.meta.at("count").get<int>();
            if (r.count < 1 || r.count > 1000000 || r.index < 0 || r.index >= r.count)
                throw Error("shard " + std::to_string(r.index) + "/" + std::to_string(r.count) + " is not i/n with 0 <= i < n");
            for (const char* key : {"settings", "images_total", "image_list_sha256", "duplicate_images",
                                    "truncated_prompts", "rows", "images"})
                if (!r.meta.contains(key)) throw Error(std::string("lacks key '") + key + "'");
            if (!r.meta.at("images").is_array()) throw Error("'images' is not an array");
            if (!r.meta.at("images_total").is_number_unsigned()) throw Error("'images_total' is not a count");
        } catch (const json::exception& e) {
            throw file_error(r.json_path, std::string("not a valid score shard: ") + e.what());
        } catch (const Error& e) {
            throw file_error(r.json_path, e.what());
        }
    }
    const ShardRead& first = shards.front();
    const int count = first.count;
    if (static_cast<int>(shards.size()) != count)
        throw Error("merge: " + std::to_string(shards.size()) + " folders given for a run of " + std::to_string(count) +
                    " shards (" + first.dir + " is shard " + first.meta.at("shard").get<std::string>() + ")");
    std::vector<const ShardRead*> by_index(static_cast<std::size_t>(count), nullptr);
    const json& settings = first.meta.at("settings");
    for (const auto& r : shards) {
        if (r.count != count)
            throw file_error(r.dir, "is shard " + std::to_string(r.index) + "/" + std::to_string(r.count) +
                                        ", of a run of another number of shards than " + first.dir + " (" +
                                        std::to_string(count) + ")");
        for (const auto& [key, value] : settings.items()) {
            const json& mine = r.meta.at("settings").contains(key) ? r.meta.at("settings").at(key) : json(nullptr);
            if (mine != value)
                throw file_error(r.dir, "setting '" + key + "' is " + mine.dump() + ", but " + first.dir + " has " +
                                            value.dump() + ": shards of other runs");
        }
        if (r.meta.at("settings").size() != settings.size())
            throw file_error(r.dir, "its settings name other keys than " + first.dir + "'s: shards of other runs");
        for (const char* key : {"images_total", "image_list_sha256", "duplicate_images", "truncated_prompts"})
            if (r.meta.at(key) != first.meta.at(key))
                throw file_error(r.dir, std::string("'") + key + "' is " + r.meta.at(key).dump() + ", but " + first.dir +
                                            " has " + first.meta.at(key).dump() +
                                            ": shards of other image sets (or other runs)");
        if (by_index[r.index]) throw file_error(r.dir, "is shard " + std::to_string(r.index) + "/" + std::to_string(count) +
                                                          ", and so is " + by_index[r.index]->dir + " (given twice)");
        by_index[r.index] = &r;
    }
    for (int i = 0; i < count; ++i)
        if (!by_index[i]) throw Error("merge: shard " + std::to_string(i) + "/" + std::to_string(count) + " is missing");

    // The values files: what they hold (checked by the reader against the file's length) bounds
    // every allocation below; the claimed total must equal the rows held.
    const bool inception = !settings.at("inception_weights").get<std::string>().empty();
    int64_t classes = -1;
    std::size_t rows_held = 0;
    for (auto& r : shards) {
        r.values = read_safetensors(r.values_path);
        auto p = r.values.tensors.find("positions");
        auto c = r.values.tensors.find("clip_s");
        if (p == r.values.tensors.end() || c == r.values.tensors.end() || p->second.dtype != DType::I64 ||
            p->second.shape.size() != 1 || c->second.dtype != DType::F64 || c->second.shape != p->second.shape)
            throw file_error(r.values_path, "needs 'positions' I64 [k] and 'clip_s' F64 [k]");
        r.rows = p->second.shape[0];
        if (r.meta.at("rows") != json(r.rows) || r.meta.at("images").size() != static_cast<std::size_t>(r.rows))
            throw file_error(r.dir, "score_shard.json lists " + std::to_string(r.meta.at("images").size()) +
                                        " images, its values file holds " + std::to_string(r.rows));
        if (inception) {
            auto l = r.values.tensors.find("inception_logits");
            if (l == r.values.tensors.end() || l->second.dtype != DType::F32 || l->second.shape.size() != 2 ||
                l->second.shape[0] != r.rows)
                throw file_error(r.values_path, "needs 'inception_logits' F32 [k, classes]");
            bool any_scored = false;
            for (const auto& img : r.meta.at("images")) any_scored = any_scored || img.at("skipped").is_null();
            if (any_scored) {
                if (classes >= 0 && l->second.shape[1] != classes)
                    throw file_error(r.values_path, "holds " + std::to_string(l->second.shape[1]) +
                                                        " Inception classes, other shards " + std::to_string(classes));
                classes = l->second.shape[1];
            }
        }
        rows_held += static_cast<std::size_t>(r.rows);
    }
    const std::size_t total = first.meta.at("images_total").get<std::size_t>();
    if (rows_held != total)
        throw Error("merge: the shards hold " + std::to_string(rows_held) + " images, but their run had " +
                    std::to_string(total) + " (" + first.dir + "): a shard is truncated or from another run");

    ScoreJobResult result;
    result.clip_model = settings.at("clip_model").get<std::string>();
    result.clip_folder = settings.at("clip_folder").get<std::string>();
    result.kind = settings.at("kind").get<std::string>();
    result.device = settings.at("device").get<std::string>();
    result.inception_weights = settings.at("inception_weights").get<std::string>();
    result.is_splits_asked = settings.at("is_splits").get<int64_t>();
    result.manifests = settings.at("manifests").get<std::vector<std::string>>();
    result.duplicate_images = first.meta.at("duplicate_images").get<std::size_t>();
    result.truncated_prompts = first.meta.at("truncated_prompts").get<std::size_t>();
    ScoreJobOptions options;
    options.batch = settings.at("batch").get<int64_t>();
    options.is_splits = result.is_splits_asked;
    options.group_overrides = settings.at("group_overrides").get<std::map<std::string, std::string>>();
    options.data_dir = settings.at("data_dir").get<std::string>();
    const std::size_t step = static_cast<std::size_t>(std::max<int64_t>(1, options.batch));

    result.images.resize(total);
    std::vector<double> scores(total, std::numeric_limits<double>::quiet_NaN());
    std::vector<std::vector<float>> logits(inception ? total : 0);
    std::vector<std::string> skip_reason(total);
    std::vector<char> seen(total, 0);
    for (const auto& r : shards) {
        const RawTensor& p = r.values.tensors.at("positions");
        const RawTensor& c = r.values.tensors.at("clip_s");
        const RawTensor* l = inception ? &r.values.tensors.at("inception_logits") : nullptr;
        for (int64_t k = 0; k < r.rows; ++k) {
            int64_t pos;
            double score;
            std::memcpy(&pos, p.data + k * sizeof(int64_t), sizeof pos);
            std::memcpy(&score, c.data + k * sizeof(double), sizeof score);
            if (pos < 0 || static_cast<std::size_t>(pos) >= total)
                throw file_error(r.values_path, "position " + std::to_string(pos) + " is outside the run's " +
                                                    std::to_string(total) + " images");
            const std::size_t i = static_cast<std::size_t>(pos);
            if ((i / step) % static_cast<std::size_t>(count) != static_cast<std::size_t>(r.index))
                throw file_error(r.values_path, "image " + std::to_string(i) + " is not in shard " +
                                                    std::to_string(r.index) + "/" + std::to_string(count) + "'s batches");
            if (seen[i]) throw file_error(r.values_path, "image " + std::to_string(i) + " is in two shards");
            seen[i] = 1;
            const json& rec = r.meta.at("images")[static_cast<std::size_t>(k)];
            try {
                if (rec.at("position").get<int64_t>() != pos) throw Error("its position differs from the values file's");
                ImageScore& img = result.images[i];
                img.file = rec.at("file").get<std::string>();
                img.path = rec.at("path").get<std::string>();
                img.manifest = rec.at("manifest").get<std::string>();
                img.prompt = rec.at("prompt").get<std::string>();
                img.seed = rec.at("seed").get<uint64_t>();
                img.encoder = rec.at("encoder").get<std::string>();
                img.pooling = rec.at("pooling").get<std::string>();
                img.mapping = rec.at("mapping").get<std::string>();
                img.width = rec.at("width").get<int>();
                img.height = rec.at("height").get<int>();
                if (!rec.at("skipped").is_null()) skip_reason[i] = rec.at("skipped").get<std::string>();
            } catch (const json::exception& e) {
                throw file_error(r.json_path, "image " + std::to_string(k) + ": " + e.what());
            } catch (const Error& e) {
                throw file_error(r.json_path, "image " + std::to_string(k) + ": " + e.what());
            }
            if (skip_reason[i].empty()) {
                if (!finite(score)) throw file_error(r.values_path, "image " + std::to_string(i) + " has no score");
                scores[i] = score;
                if (l) {
                    const float* row = reinterpret_cast<const float*>(l->data) + k * l->shape[1];
                    logits[i].resize(static_cast<std::size_t>(l->shape[1]));
                    std::memcpy(logits[i].data(), row, logits[i].size() * sizeof(float));
                }
            }
        }
    }
    for (std::size_t i = 0; i < total; ++i)
        if (!seen[i]) throw Error("merge: image " + std::to_string(i) + " of the run is in no shard");
    if (image_list_sha256(result.images) != first.meta.at("image_list_sha256").get<std::string>())
        throw Error("merge: the shards' images are not the image list of their run (" + first.dir + ")");
    for (std::size_t i = 0; i < total; ++i)
        if (!skip_reason[i].empty()) result.skipped.push_back({result.images[i].path, skip_reason[i]});
    if (!options.data_dir.empty()) {
        const json& gt = by_index[0]->meta.value("ground_truth", json(nullptr));
        if (gt.is_null()) throw file_error(by_index[0]->dir, "shard 0 of a run with --data holds no ground truth");
        try {
            result.ground_truth = ground_truth_from_json(gt);
        } catch (const json::exception& e) {
            throw file_error(by_index[0]->json_path, std::string("ground_truth: ") + e.what());
        }
    }
    finish_score(result, scores, std::move(logits), options);
    double seconds = 0.0;
    json shard_seconds = json::array();
    for (const auto* r : by_index) {
        const double s = r->meta.value("seconds", 0.0);
        seconds += s;
        shard_seconds.push_back(s);
    }
    result.seconds = seconds;
    write_outputs(result, options, out_dir,
                  json{{"seconds", seconds},
                       {"shard_seconds", shard_seconds},
                       {"note", "merged from " + std::to_string(count) + " shards: the sum of their wall times"}});
    return total;
}

}  // namespace syn::run
