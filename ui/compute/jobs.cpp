#include "ui/compute/jobs.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "core/io/errors.h"
#include "core/run/embed_job.h"
#include "core/run/lexical_encoders.h"

namespace syn::ui {

std::shared_ptr<syn::data::StsDataset> load_data_job(const std::string& cxc_csv, const std::string& captions_json,
                                                     std::size_t max_pairs, const syn::run::ProgressSink& progress,
                                                     const syn::run::CancelToken* cancel) {
    if (progress) progress("loading captions and pairs", 0, 1);
    auto dataset = std::make_shared<syn::data::StsDataset>(syn::data::load_sts_dataset(cxc_csv, captions_json));
    syn::run::throw_if_cancelled(cancel, "load data");
    if (max_pairs > 0 && dataset->pairs.size() > max_pairs) {
        // The same N evenly spaced pairs run_sts takes for StsJobOptions::max_pairs.
        std::vector<syn::data::StsPair> subset;
        subset.reserve(max_pairs);
        const std::size_t n = dataset->pairs.size();
        for (std::size_t i = 0; i < max_pairs; ++i) subset.push_back(dataset->pairs[i * n / max_pairs]);
        dataset->pairs = std::move(subset);
    }
    if (dataset->pairs.empty())
        throw syn::file_error(cxc_csv, "no caption pairs left after joining with " + captions_json);
    if (progress) progress("loading captions and pairs", 1, 1);
    return dataset;
}

namespace {

syn::run::StsResult run_group(const StsRunRequest& request, const std::vector<StsModelRequest>& models,
                              const syn::run::ProgressSink& progress, const syn::run::CancelToken* cancel) {
    syn::run::StsJobOptions options;
    options.cxc_csv = request.cxc_csv;
    options.captions_json = request.captions_json;
    options.max_pairs = request.max_pairs;
    options.bootstrap = request.bootstrap;
    options.pooling = models.front().pooling;
    options.dtype = models.front().dtype.empty() ? "auto" : models.front().dtype;
    options.device = models.front().device.empty() ? "auto" : models.front().device;
    for (const auto& m : models) options.models.push_back(m.model);
    return syn::run::run_sts(options, progress, cancel);
}

// Records each model of a finished group as evaluated or failed (run_sts goes on past a failing
// model and names it in `failed`), then merges the evaluated ones.
void merge_into(std::shared_ptr<syn::run::StsResult>& merged, syn::run::StsResult&& part,
                const std::vector<StsModelRequest>& models, std::vector<StsModelOutcome>& outcomes) {
    for (const auto& m : models) {
        auto f = std::find_if(part.failed.begin(), part.failed.end(),
                              [&](const syn::run::FailedEncoder& x) { return x.model == m.model; });
        outcomes.push_back(f == part.failed.end() ? StsModelOutcome{m.model, true, {}}
                                                  : StsModelOutcome{m.model, false, f->reason});
    }
    part.failed.clear();
    if (!merged) {
        merged = std::make_shared<syn::run::StsResult>(std::move(part));
        return;
    }
    for (auto& e : part.encoders) merged->encoders.push_back(std::move(e));
    for (auto& c : part.comparisons) merged->comparisons.push_back(std::move(c));
    if (part.manifest.is_object()) merged->manifest["merged_runs"].push_back(std::move(part.manifest));
}

}  // namespace

StsRunOutcome run_sts_models(const StsRunRequest& request, const syn::run::ProgressSink& progress,
                             const syn::run::CancelToken* cancel) {
    if (request.models.empty()) throw syn::Error("no encoders selected: tick at least one model in the Models panel");
    std::map<std::tuple<std::string, std::string, std::string>, std::vector<StsModelRequest>> groups;
    for (const auto& m : request.models) groups[{m.pooling, m.dtype, m.device}].push_back(m);
    StsRunOutcome outcome;
    for (const auto& [key, models] : groups) {
        (void)key;
        try {
            merge_into(outcome.result, run_group(request, models, progress, cancel), models, outcome.models);
        } catch (const syn::run::Cancelled&) {
            throw;
        } catch (const std::exception& e) {  // every model of the group failed (or the data did)
            for (const auto& m : models) outcome.models.push_back({m.model, false, e.what()});
        }
    }
    if (!outcome.result) {
        std::string all;
        for (const auto& m : outcome.models) all += (all.empty() ? "" : "\n") + m.model + ": " + m.error;
        throw syn::Error("STS failed for every selected encoder:\n" + all);
    }
    return outcome;
}

std::vector<Neighbour> top_k(const std::vector<double>& scores, std::size_t k) {
    std::vector<Neighbour> all;
    all.reserve(scores.size());
    for (std::size_t i = 0; i < scores.size(); ++i)
        if (std::isfinite(scores[i])) all.push_back({scores[i], i});
    const std::size_t n = std::min(k, all.size());
    auto better = [](const Neighbour& a, const Neighbour& b) {
        return a.score != b.score ? a.score > b.score : a.text < b.text;
    };
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), better);
    all.resize(n);
    return all;
}

PromptResult nearest_captions(const std::string& prompt, const std::vector<std::string>& captions,
                              const std::vector<PromptModel>& models, std::size_t k,
                              const syn::run::ProgressSink& progress, const syn::run::CancelToken* cancel) {
    PromptResult result;
    result.prompt = prompt;
    result.texts = captions;
    long long step = 0;
    for (const auto& m : models) {
        syn::run::throw_if_cancelled(cancel, "prompt search");
        if (progress) progress("nearest captions: " + m.label, step++, static_cast<long long>(models.size()));
        EncoderNeighbours out{m.model, m.label, {}, {}};
        try {
            std::vector<double> scores(captions.size());
            if (syn::run::is_lexical_model(m.model)) {
                if (m.model == "lexical/tfidf") {
                    std::vector<std::string> docs = captions;
                    docs.push_back(prompt);  // fitted on the searched captions plus the prompt
                    const syn::run::TfidfModel tfidf(docs);
                    for (std::size_t i = 0; i < captions.size(); ++i) scores[i] = tfidf.cosine(prompt, captions[i]);
                } else {
                    for (std::size_t i = 0; i < captions.size(); ++i)
                        scores[i] = syn::run::jaccard_similarity(prompt, captions[i]);
                }
            } else {
                std::vector<std::string> texts;
                texts.reserve(captions.size() + 1);
                texts.push_back(prompt);
                texts.insert(texts.end(), captions.begin(), captions.end());
                syn::run::EmbedOptions options;
                options.model = m.model;
                options.pooling = m.pooling;
                if (!m.dtype.empty()) options.dtype = m.dtype;
                if (!m.device.empty()) options.device = m.device;
                const auto emb = syn::run::embed_texts(texts, options, progress, cancel);
                for (std::size_t i = 0; i < captions.size(); ++i)
                    scores[i] = syn::run::cosine_rows(emb.rows, emb.dim, 0, i + 1);
            }
            out.neighbours = top_k(scores, k);
        } catch (const syn::run::Cancelled&) {
            throw;
        } catch (const std::exception& e) {
            out.error = e.what();
        }
        result.encoders.push_back(std::move(out));
    }
    if (progress) progress("nearest captions", static_cast<long long>(models.size()), static_cast<long long>(models.size()));
    return result;
}

}  // namespace syn::ui
