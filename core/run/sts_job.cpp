#include "core/run/sts_job.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "core/eval/sts_metrics.h"
#include "core/io/atomic_file.h"
#include "core/io/output_folder.h"
#include "core/io/errors.h"
#include "core/io/torch/torch_runtime.h"
#include "core/io/sha256.h"
#include "core/run/catalog.h"
#include "core/run/embed_job.h"
#include "core/run/lexical_encoders.h"
#include "core/run/model_description.h"
#include "core/run/text_formats.h"
#include "core/run/versions.h"
#include "models/pooling.h"

namespace fs = std::filesystem;

namespace syn::run {
namespace {

const eval::CorrelationEstimate& metric_of(const StsCorrelations& c, int metric) {
    switch (metric) {
        case 0: return c.sts_l_spearman;
        case 1: return c.sts_l_pearson;
        case 2: return c.sts_v_spearman;
        default: return c.sts_v_pearson;
    }
}

StsCorrelations to_correlations(const eval::StsScores& s) {
    return StsCorrelations{s.spearman_l, s.pearson_l, s.spearman_v, s.pearson_v};
}

// A model's name in tables: the folder name for local folders ("tiny-bert"), else the id.
std::string display_name(const std::string& model) {
    std::error_code ec;
    if (fs::is_directory(model, ec)) {
        fs::path p = fs::path(model).lexically_normal();
        if (p.filename().empty()) p = p.parent_path();
        return p.filename().string();
    }
    return model;
}

std::string file_hash_or_note(const std::string& path) {
    try {
        return sha256_file(path);
    } catch (const Error& e) {
        return std::string("unreadable: ") + e.what();
    }
}

std::string utc_timestamp() {
    std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

// Scores every pair with one model (a "model[:pooling]" entry), filling `run`; throws on failure.
// `requested_pooling` is set to the pooling asked for, for the failure record.
void evaluate_encoder(const std::string& spec, const StsJobOptions& options, const std::vector<data::StsPair>& pairs,
                      const data::UniqueTexts& unique, const ProgressSink& progress, const CancelToken* cancel,
                      EncoderRun& run, std::string& requested_pooling) {
    auto start = std::chrono::steady_clock::now();
    const ModelSpec ms = parse_model_spec(spec);
    const auto entry = find_catalog_entry(ms.model);
    run.label = entry && !entry->paper_label.empty() ? entry->paper_label : display_name(ms.model);
    if (!ms.pooling.empty()) {
        requested_pooling = ms.pooling;
        run.label += " (" + models::parse_pooling_choice(ms.pooling).describe() + ")";
    }
    if (is_lexical_model(ms.model)) {
        if (!ms.pooling.empty()) throw Error("'" + spec + "': the lexical baselines take no pooling");
        if (progress) progress({Stage::scoring, ms.model, 0, 1});
        std::vector<std::pair<std::string, std::string>> texts;
        texts.reserve(pairs.size());
        for (const auto& p : pairs) texts.emplace_back(p.text1, p.text2);
        run.scores = lexical_pair_scores(ms.model, texts);
        run.family = run.style = "lexical";
        run.pooling = "none";
        run.dtype = "float64";
        run.device = "cpu";
        run.computed = unique.texts.size();
        if (progress) progress({Stage::scoring, ms.model, 1, 1});
    } else {
        EmbedOptions eo;
        eo.model = ms.model;
        eo.pooling = ms.pooling.empty() ? options.pooling : ms.pooling;
        eo.device = options.device;
        eo.dtype = options.dtype;
        eo.use_cache = options.use_cache;
        eo.cache_root = options.cache_root;
        eo.session = options.session;
        EmbedResult emb = embed_texts(unique.texts, eo, progress, cancel);
        run.scores.resize(pairs.size());
        for (size_t i = 0; i < pairs.size(); ++i)
            run.scores[i] = cosine_rows(emb.rows, emb.dim, unique.index1[i], unique.index2[i]);
        run.family = emb.family;
        run.style = entry ? entry->style : style_of_family(emb.family);
        run.pooling = emb.pooling;
        run.dtype = emb.dtype;
        run.dtype_reason = emb.dtype_reason;
        run.pooling_reason = emb.pooling_reason;
        run.device = emb.device;
        run.folder = emb.model_folder;
        run.fingerprint = emb.fingerprint;
        run.computed = emb.computed;
        run.from_cache = emb.from_cache;
        run.truncated_texts = emb.truncated_texts;
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

StsResult run_sts(const StsJobOptions& options, const ProgressSink& progress, const CancelToken* cancel) {
    if (options.models.empty()) throw Error("sts: no models given (try --models lexical/jaccard lexical/tfidf)");
    auto report = [&](Stage stage, const std::string& subject, long long done, long long total) {
        if (progress) progress({stage, subject, done, total});
    };
    StsResult result;
    report(Stage::reading_data, "CxC pairs", 0, 1);
    result.dataset = data::load_sts_dataset(options.cxc_csv, options.captions_json);
    result.dataset.pairs = data::evenly_spaced_pairs(result.dataset.pairs, options.max_pairs);
    const auto& pairs = result.dataset.pairs;
    if (pairs.size() < 3) throw file_error(options.cxc_csv, "fewer than 3 usable pairs: no correlation can be computed");
    report(Stage::reading_data, "CxC pairs", 1, 1);

    const std::vector<double> sts_l = result.dataset.sts_l_values();
    const std::vector<double> sts_v = result.dataset.sts_v_values();
    const std::vector<std::string> methods = result.dataset.sampling_methods();
    const data::UniqueTexts unique = data::unique_texts(result.dataset);
    eval::BootstrapOptions boot;
    boot.replicates = options.bootstrap;
    boot.seed = options.seed;
    // The threads this process may use (OMP_NUM_THREADS, affinity, cgroup quota), not every core.
    boot.threads = static_cast<unsigned>(std::min(default_thread_count(), 8));

    std::set<std::string> labels_used;
    for (const std::string& spec : options.models) {
        throw_if_cancelled(cancel, "sts");
        EncoderRun run;
        run.model = spec;
        run.label = display_name(spec);
        std::string requested_pooling = options.pooling;
        try {
            evaluate_encoder(spec, options, pairs, unique, progress, cancel, run, requested_pooling);
        } catch (const Cancelled&) {
            throw;
        } catch (const std::exception& e) {
            // One model's failure (not in the cache, a pooling it cannot give, a broken checkpoint,
            // out of memory) must not cost the others: it is recorded, shown and the run goes on.
            result.failed.push_back({spec, run.label, requested_pooling, e.what()});
            report(Stage::scoring, spec + " (failed)", 1, 1);
            continue;
        }
        // Labels name rows and comparisons: keep them unique (the same model twice, two poolings).
        std::string label = run.label;
        for (int k = 2; !labels_used.insert(label).second; ++k) label = run.label + " #" + std::to_string(k);
        run.label = label;
        throw_if_cancelled(cancel, "sts");
        report(Stage::statistics, run.label, 0, 1);
        const eval::StsEvaluation ev = eval::evaluate_sts(run.scores, sts_l, sts_v, methods, boot);
        run.all = to_correlations(ev.all);
        // Per sampling method (STS-V is constant within a CxC method, so its correlations there
        // are undefined and reported as such).
        for (const auto& g : ev.by_method) run.by_method.emplace_back(g.group, to_correlations(g));
        report(Stage::statistics, run.label, 1, 1);
        result.encoders.push_back(std::move(run));
    }
    if (result.encoders.empty()) {
        std::string all;
        for (const auto& f : result.failed) all += "\n  " + f.model + ": " + f.reason;
        throw Error("sts: no model could be evaluated:" + all);
    }

    // Paired comparisons of every two encoders on each metric.
    const size_t m = result.encoders.size();
    const long long total = static_cast<long long>(m * (m - 1) / 2);
    long long done = 0;
    for (size_t a = 0; a < m; ++a) {
        for (size_t b = a + 1; b < m; ++b) {
            throw_if_cancelled(cancel, "sts comparisons");
            report(Stage::statistics, "paired comparisons", done, total);
            for (const eval::StsComparisonRow& row : eval::compare_encoders_sts(
                     result.encoders[a].scores, result.encoders[b].scores, sts_l, sts_v, {}, boot)) {
                const eval::EncoderComparison& c = row.comparison;
                PairedComparison pc;
                pc.a = result.encoders[a].label;
                pc.b = result.encoders[b].label;
                pc.metric = row.target + " " + eval::to_string(c.kind);
                pc.r_a = c.a.value;
                pc.r_b = c.b.value;
                pc.r_ab = c.a_vs_b.value;
                pc.steiger_z = c.parametric.steiger_z;
                pc.steiger_p = c.parametric.steiger_p;
                pc.difference = c.bootstrap.ci;
                pc.bootstrap_p = c.bootstrap.p_two_sided;
                result.comparisons.push_back(std::move(pc));
            }
            ++done;
        }
    }
    report(Stage::statistics, "paired comparisons", total, total);

    nlohmann::json manifest;
    manifest["created_utc"] = utc_timestamp();
    manifest["versions"] = version_info();
    manifest["data"] = {{"cxc_csv", options.cxc_csv},
                        {"cxc_csv_sha256", file_hash_or_note(options.cxc_csv)},
                        {"captions_json", options.captions_json},
                        {"captions_json_sha256", file_hash_or_note(options.captions_json)},
                        {"pairs_used", pairs.size()},
                        {"max_pairs", options.max_pairs},
                        {"summary", result.dataset.summary()}};
    manifest["bootstrap"] = {{"replicates", options.bootstrap}, {"seed", options.seed}, {"level", boot.level}};
    manifest["requested"] = {{"pooling", options.pooling}, {"device", options.device}, {"dtype", options.dtype}};
    for (const auto& e : result.encoders)
        manifest["models"].push_back({{"model", e.model},
                                      {"label", e.label},
                                      {"family", e.family},
                                      {"folder", e.folder},
                                      {"fingerprint_sha256", e.fingerprint},
                                      {"pooling", e.pooling},
                                      {"pooling_reason", e.pooling_reason},
                                      {"dtype", e.dtype},
                                      {"dtype_reason", e.dtype_reason},
                                      {"device", e.device}});
    for (const auto& f : result.failed)
        manifest["failed_models"].push_back(
            {{"model", f.model}, {"label", f.label}, {"requested_pooling", f.pooling}, {"reason", f.reason}});
    result.manifest = std::move(manifest);
    return result;
}

// ---------------------------------------------------------------------------------------------
// Reports

namespace {

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
