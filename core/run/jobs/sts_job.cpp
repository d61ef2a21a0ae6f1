#include "core/run/jobs/sts_job.h"

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
#include "core/run/jobs/embed_job.h"
#include "core/run/jobs/lexical_encoders.h"
#include "core/run/model_description.h"
#include "core/run/reports/text_formats.h"
#include "core/run/versions.h"
#include "models/pooling.h"

namespace fs = std::filesystem;

namespace syn::run {
namespace {

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

// How STS embeds with one model of the run.
EmbedOptions embed_options(const ModelSpec& ms, const StsJobOptions& options) {
    EmbedOptions eo;
    eo.model = ms.model;
    eo.pooling = ms.pooling.empty() ? options.pooling : ms.pooling;
    eo.device = options.device;
    eo.dtype = options.dtype;
    if (options.token_budget > 0) eo.token_budget = options.token_budget;
    eo.devices = options.devices;
    eo.use_cache = options.use_cache;
    eo.cache_root = options.cache_root;
    eo.session = options.session;
    return eo;
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
        EmbedResult emb = embed_texts(unique.texts, embed_options(ms, options), progress, cancel);
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

StsShardOutcome run_sts_embedding_shard(const StsJobOptions& options, int shard_index, int shard_count,
                                        const ProgressSink& progress, const CancelToken* cancel) {
    if (!options.use_cache) throw Error("sts --shard needs the embedding cache (the shards meet there): drop --no-cache");
    data::StsDataset dataset = data::load_sts_dataset(options.cxc_csv, options.captions_json);
    dataset.pairs = data::evenly_spaced_pairs(dataset.pairs, options.max_pairs);
    const data::UniqueTexts unique = data::unique_texts(dataset);
    StsShardOutcome out;
    for (const std::string& spec : options.models) {
        const ModelSpec ms = parse_model_spec(spec);
        if (is_lexical_model(ms.model)) continue;  // nothing to embed
        EmbedOptions eo = embed_options(ms, options);
        eo.shard_index = shard_index;
        eo.shard_count = shard_count;
        try {
            const EmbedResult r = embed_texts(unique.texts, eo, progress, cancel);
            out.lines.push_back(spec + ": " + std::to_string(r.computed) + " computed, " + std::to_string(r.from_cache) +
                                " from cache (shard " + std::to_string(shard_index) + "/" +
                                std::to_string(shard_count) + " of " + std::to_string(unique.texts.size()) + " texts)");
        } catch (const Cancelled&) {
            throw;
        } catch (const std::exception& e) {
            ++out.failed;
            out.lines.push_back(spec + ": FAILED: " + e.what());
        }
    }
    return out;
}

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

}  // namespace syn::run
