#include "core/run/reports/sts_report.h"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/output_folder.h"
#include "core/run/reports/text_formats.h"
#include "core/run/versions.h"

namespace fs = std::filesystem;

namespace syn::run {

namespace {

// Table 2's column order: STS-L Spearman, STS-L Pearson, STS-V Spearman, STS-V Pearson.
const eval::CorrelationEstimate& metric_of(const StsCorrelations& c, int metric) {
    switch (metric) {
        case 0: return c.sts_l_spearman;
        case 1: return c.sts_l_pearson;
        case 2: return c.sts_v_spearman;
        default: return c.sts_v_pearson;
    }
}


std::string fmt(double v, int decimals = 2) {
    if (!std::isfinite(v)) return "n/a";
    std::ostringstream ss;
    ss.setf(std::ios::fixed);
    ss.precision(decimals);
    ss << v;
    return ss.str();
}

// "67.60 [66.91, 68.27]" (x100)
std::string cell(const eval::CorrelationEstimate& e, bool latex) {
    if (!e.point.defined()) return latex ? "--" : "n/a";
    std::string s = fmt(100 * e.point.value);
    if (std::isfinite(e.ci.lower) && std::isfinite(e.ci.upper)) {
        s += latex ? " {\\scriptsize [" : " [";
        s += fmt(100 * e.ci.lower) + ", " + fmt(100 * e.ci.upper) + "]";
        if (latex) s += "}";
    }
    return s;
}

// A number, or null for NaN / infinity (JSON has neither).
nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json estimate_json(const eval::CorrelationEstimate& e) {
    nlohmann::json j = {{"value", num(e.point.value)},
                        {"n", e.point.n},
                        {"ci_lower", num(e.ci.lower)},
                        {"ci_upper", num(e.ci.upper)},
                        {"ci_level", e.ci.level},
                        {"standard_error", num(e.ci.standard_error)},
                        {"replicates", e.ci.replicates},
                        {"undefined_replicates", e.ci.undefined_replicates}};
    if (!e.point.defined()) j["undefined_reason"] = e.point.undefined_reason;
    if (!e.ci.note.empty()) j["ci_note"] = e.ci.note;
    return j;
}

// The first line of a failure, shortened for a table cell (the full text is in results.json).
std::string short_reason(const std::string& reason) {
    std::string line = reason.substr(0, reason.find('\n'));
    if (line.size() > 160) line = line.substr(0, 157) + "...";
    return line;
}

std::string requested_pooling_cell(const FailedEncoder& f) { return f.pooling.empty() ? "default" : f.pooling; }

nlohmann::json correlations_json(const StsCorrelations& c) {
    return {{"sts_l_spearman", estimate_json(c.sts_l_spearman)},
            {"sts_l_pearson", estimate_json(c.sts_l_pearson)},
            {"sts_v_spearman", estimate_json(c.sts_v_spearman)},
            {"sts_v_pearson", estimate_json(c.sts_v_pearson)}};
}

}  // namespace

std::string sts_table_markdown(const StsResult& r) {
    std::ostringstream ss;
    ss << "Table 2: correlation (x100) of each encoder's cosine similarity with STS-L (human ratings) and STS-V "
          "(same image), "
       << r.dataset.pairs.size() << " CxC pairs; [95% bootstrap CI, "
       << (r.encoders.empty() ? 0 : r.encoders[0].all.sts_l_spearman.ci.replicates) << " resamples]\n\n";
    ss << "| Model | Pooling | STS-L Spearman | STS-L Pearson | STS-V Spearman | STS-V Pearson |\n";
    ss << "|---|---|---|---|---|---|\n";
    for (const auto& e : r.encoders) {
        ss << "| " << markdown_cell(e.label) << " | " << markdown_cell(e.pooling);
        for (int m = 0; m < 4; ++m) ss << " | " << cell(metric_of(e.all, m), false);
        ss << " |\n";
    }
    for (const auto& f : r.failed)
        ss << "| " << markdown_cell(f.label) << " | " << markdown_cell(requested_pooling_cell(f))
           << " | failed | failed | failed | failed |\n";
    if (!r.failed.empty()) {
        ss << "\nFailed models (not evaluated; the others are unaffected):\n\n";
        for (const auto& f : r.failed) ss << "- " << markdown_cell(f.model) << ": " << markdown_cell(short_reason(f.reason)) << "\n";
    }
    if (!r.comparisons.empty()) {
        ss << "\nPaired comparisons (same pairs): difference r_A - r_B (x100) with paired-bootstrap CI; Steiger's Z "
              "test for dependent correlations.\n\n";
        ss << "| A | B | Metric | r_A - r_B | 95% CI | bootstrap p | Steiger Z | Steiger p |\n";
        ss << "|---|---|---|---|---|---|---|---|\n";
        for (const auto& c : r.comparisons) {
            ss << "| " << markdown_cell(c.a) << " | " << markdown_cell(c.b) << " | " << c.metric << " | "
               << fmt(100 * (c.r_a - c.r_b)) << " | [" << fmt(100 * c.difference.lower) << ", "
               << fmt(100 * c.difference.upper) << "] | " << fmt(c.bootstrap_p, 4) << " | " << fmt(c.steiger_z, 2)
               << " | " << (std::isfinite(c.steiger_p) ? (c.steiger_p < 1e-4 ? "<1e-4" : fmt(c.steiger_p, 4)) : "n/a")
               << " |\n";
        }
    }
    return ss.str();
}

std::string sts_table_latex(const StsResult& r) {
    std::ostringstream ss;
    ss << "% Generated by synesthesia sts; requires \\usepackage{booktabs}\n";
    ss << "\\begin{table}[t]\n\\centering\n\\small\n";
    ss << "\\begin{tabular}{llcccc}\n\\toprule\n";
    ss << " & & \\multicolumn{2}{c}{STS-L} & \\multicolumn{2}{c}{STS-V} \\\\\n";
    ss << "\\cmidrule(lr){3-4}\\cmidrule(lr){5-6}\n";
    ss << "Model & Pooling & Spearman & Pearson & Spearman & Pearson \\\\\n\\midrule\n";
    for (const auto& e : r.encoders) {
        ss << latex_escape(e.label) << " & " << latex_escape(e.pooling);
        for (int m = 0; m < 4; ++m) ss << " & " << cell(metric_of(e.all, m), true);
        ss << " \\\\\n";
    }
    for (const auto& f : r.failed)
        ss << latex_escape(f.label) << " & " << latex_escape(requested_pooling_cell(f))
           << " & \\multicolumn{4}{l}{\\emph{failed: " << latex_escape(short_reason(f.reason)) << "}} \\\\\n";
    ss << "\\bottomrule\n\\end{tabular}\n";
    ss << "\\caption{Correlation ($\\times 100$) between cosine similarity of caption embeddings and STS-L / STS-V on "
       << r.dataset.pairs.size() << " CxC pairs, with 95\\% bootstrap confidence intervals.}\n";
    ss << "\\label{tab:sts}\n\\end{table}\n";
    return ss.str();
}

nlohmann::json sts_results_json(const StsResult& r) {
    nlohmann::json j;
    j["manifest"] = r.manifest;
    for (const auto& e : r.encoders) {
        nlohmann::json ej = {{"model", e.model},     {"label", e.label},       {"family", e.family},
                             {"style", e.style},     {"pooling", e.pooling},   {"dtype", e.dtype},
                             {"device", e.device},   {"computed_texts", e.computed},
                             {"cached_texts", e.from_cache}, {"truncated_texts", e.truncated_texts},
                             {"seconds", e.seconds}, {"all", correlations_json(e.all)}};
        for (const auto& [method, c] : e.by_method) ej["by_sampling_method"][method] = correlations_json(c);
        j["encoders"].push_back(ej);
    }
    j["failed"] = nlohmann::json::array();
    for (const auto& f : r.failed)
        j["failed"].push_back({{"model", f.model}, {"label", f.label}, {"requested_pooling", f.pooling}, {"reason", f.reason}});
    j["comparisons"] = nlohmann::json::array();
    for (const auto& c : r.comparisons)
        j["comparisons"].push_back({{"a", c.a},
                                    {"b", c.b},
                                    {"metric", c.metric},
                                    {"r_a", num(c.r_a)},
                                    {"r_b", num(c.r_b)},
                                    {"r_ab", num(c.r_ab)},
                                    {"steiger_z", num(c.steiger_z)},
                                    {"steiger_p", num(c.steiger_p)},
                                    {"difference_ci_lower", num(c.difference.lower)},
                                    {"difference_ci_upper", num(c.difference.upper)},
                                    {"bootstrap_p", num(c.bootstrap_p)}});
    return j;
}

std::string sts_pairs_csv(const StsResult& r) {
    std::ostringstream ss;
    ss.precision(9);
    ss << "csv_line,caption_id1,caption_id2,caption1,caption2,sampling_method,sts_l,sts_v";
    for (const auto& e : r.encoders) ss << "," << csv_field(e.label);
    ss << "\n";
    for (size_t i = 0; i < r.dataset.pairs.size(); ++i) {
        const auto& p = r.dataset.pairs[i];
        ss << p.csv_line << "," << p.caption_id1 << "," << p.caption_id2 << "," << csv_field(p.text1) << ","
           << csv_field(p.text2) << "," << csv_field(p.sampling_method) << "," << p.sts_l << "," << p.sts_v;
        for (const auto& e : r.encoders) ss << "," << e.scores[i];
        ss << "\n";
    }
    return ss.str();
}

namespace {

// A model id as MTEB names its results folder ("org/name" -> "org__name"); a local folder by its name.
std::string mteb_model_folder(const EncoderRun& e) {
    std::string name = e.model;
    std::error_code ec;
    if (fs::is_directory(name, ec)) name = fs::path(name).lexically_normal().filename().string();
    if (name.empty()) name = e.label;
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '/') out += "__";
        else if (name[i] == ':' || name[i] == '\\') out += '_';
        else out += name[i];
    }
    return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> sts_interop_files(const StsResult& r) {
    std::vector<std::pair<std::string, std::string>> files;
    const std::string version = version_info().value("synesthesia", "unknown");
    struct Task {
        const char* name;  // MTEB task name and sentence-transformers evaluator name
        const eval::CorrelationEstimate StsCorrelations::*pearson;
        const eval::CorrelationEstimate StsCorrelations::*spearman;
        const char* what;
    };
    const Task tasks[] = {
        {"CxC-STS-L", &StsCorrelations::sts_l_pearson, &StsCorrelations::sts_l_spearman,
         "cosine of the two captions' embeddings vs the human similarity rating (CxC)"},
        {"CxC-STS-V", &StsCorrelations::sts_v_pearson, &StsCorrelations::sts_v_spearman,
         "cosine of the two captions' embeddings vs whether they describe the same image (CxC)"},
    };
    for (const auto& e : r.encoders) {
        const std::string folder = mteb_model_folder(e);
        const std::string revision = "no_revision_available";  // MTEB's word for an unknown revision
        files.emplace_back("mteb/" + folder + "/" + revision + "/model_meta.json",
                           nlohmann::json{{"name", e.model},
                                          {"revision", revision},
                                          {"framework", {"synesthesia " + version}},
                                          {"pooling", e.pooling},
                                          {"dtype", e.dtype},
                                          {"fingerprint_sha256", e.fingerprint}}
                                   .dump(2) + "\n");
        std::string csv_dir = "sentence-transformers/" + folder + "/";
        for (const Task& t : tasks) {
            const double pearson = (e.all.*t.pearson).point.value, spearman = (e.all.*t.spearman).point.value;
            // MTEB's TaskResult layout: scores per split, main_score = cosine Spearman as for its STS tasks.
            nlohmann::json task = {
                {"dataset_revision", r.manifest.value("data", nlohmann::json::object()).value("cxc_csv_sha256", "")},
                {"task_name", t.name},
                {"mteb_version", nullptr},
                {"description", t.what},
                {"evaluation_time", e.seconds},
                {"kg_co2_emissions", nullptr},
                {"scores",
                 {{"test",
                   {{{"cosine_pearson", num(pearson)},
                     {"cosine_spearman", num(spearman)},
                     {"pearson", num(pearson)},
                     {"spearman", num(spearman)},
                     {"main_score", num(spearman)},
                     {"hf_subset", "default"},
                     {"languages", {"eng-Latn"}},
                     {"n_pairs", r.dataset.pairs.size()}}}}}}};
            files.emplace_back("mteb/" + folder + "/" + revision + "/" + t.name + ".json", task.dump(2) + "\n");
            // sentence-transformers' EmbeddingSimilarityEvaluator CSV (epoch and steps -1: not during training).
            std::ostringstream csv;
            csv.precision(17);
            csv << "epoch,steps,cosine_pearson,cosine_spearman\n-1,-1," << pearson << "," << spearman << "\n";
            std::string name = t.name;
            for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            files.emplace_back(csv_dir + "similarity_evaluation_" + name + "_results.csv", csv.str());
        }
    }
    return files;
}

std::vector<std::string> write_sts_outputs(const StsResult& result, const std::string& out_dir,
                                           const FigureWriter& figures, bool interop_files) {
    StagedOutputFolder staged(out_dir);
    std::vector<std::string> written;
    auto put = [&](const char* name, const std::string& content) {
        std::string path = (fs::path(staged.path()) / name).string();
        write_file_atomically(path, content);
        written.push_back(path);
    };
    put("table.md", sts_table_markdown(result));
    put("table.tex", sts_table_latex(result));
    put("results.json", sts_results_json(result).dump(2) + "\n");
    put("pairs.csv", sts_pairs_csv(result));
    if (interop_files)
        for (const auto& [name, content] : sts_interop_files(result)) {
            const fs::path path = fs::path(staged.path()) / name;
            fs::create_directories(path.parent_path());
            write_file_atomically(path.string(), content);
            written.push_back(path.string());
        }
    if (figures) {
        auto more = figures(result, staged.path());
        written.insert(written.end(), more.begin(), more.end());
    }
    staged.commit();
    for (auto& path : written) path = staged.final_path_of(path);
    return written;
}

}  // namespace syn::run
