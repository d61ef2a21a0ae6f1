// The workbench's STS run over the ticked encoders and its data loading (core: the CLI and the
// GUI take the same subset and the same per-model failure handling).
#include "core/run/jobs/sts_models.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "core/io/errors.h"

namespace syn::run {

std::shared_ptr<data::StsDataset> load_sts_data(const std::string& cxc_csv, const std::string& captions_json,
                                                std::size_t max_pairs, const ProgressSink& progress,
                                                const CancelToken* cancel) {
    if (progress) progress({Stage::reading_data, "captions and pairs", 0, 1});
    auto dataset = std::make_shared<data::StsDataset>(data::load_sts_dataset(cxc_csv, captions_json));
    throw_if_cancelled(cancel, "load data");
    dataset->pairs = data::evenly_spaced_pairs(dataset->pairs, max_pairs);
    if (dataset->pairs.empty())
        throw syn::file_error(cxc_csv, "no caption pairs left after joining with " + captions_json);
    if (progress) progress({Stage::reading_data, "captions and pairs", 1, 1});
    return dataset;
}

namespace {

StsResult run_group(const StsRunRequest& request, const std::vector<StsModelRequest>& models,
                    const ProgressSink& progress, const CancelToken* cancel) {
    StsJobOptions options;
    options.cxc_csv = request.cxc_csv;
    options.captions_json = request.captions_json;
    options.max_pairs = request.max_pairs;
    options.bootstrap = request.bootstrap;
    options.session = request.session;
    options.pooling = models.front().pooling;
    options.dtype = models.front().dtype.empty() ? "auto" : models.front().dtype;
    options.device = models.front().device.empty() ? "auto" : models.front().device;
    for (const auto& m : models) options.models.push_back(m.model);
    return run_sts(options, progress, cancel);
}

// Records each model of a finished group as evaluated or failed (run_sts goes on past a failing
// model and names it in `failed`), then merges the evaluated ones.
void merge_into(std::shared_ptr<StsResult>& merged, StsResult&& part,
                const std::vector<StsModelRequest>& models, std::vector<StsModelOutcome>& outcomes) {
    for (const auto& m : models) {
        auto f = std::find_if(part.failed.begin(), part.failed.end(),
                              [&](const FailedEncoder& x) { return x.model == m.model; });
        outcomes.push_back(f == part.failed.end() ? StsModelOutcome{m.model, true, {}}
                                                  : StsModelOutcome{m.model, false, f->reason});
    }
    part.failed.clear();
    if (!merged) {
        merged = std::make_shared<StsResult>(std::move(part));
        return;
    }
    for (auto& e : part.encoders) merged->encoders.push_back(std::move(e));
    for (auto& c : part.comparisons) merged->comparisons.push_back(std::move(c));
    if (part.manifest.is_object()) merged->manifest["merged_runs"].push_back(std::move(part.manifest));
}

}  // namespace

StsRunOutcome run_sts_models(const StsRunRequest& request, const ProgressSink& progress,
                             const CancelToken* cancel) {
    if (request.models.empty()) throw syn::Error("no encoders selected: tick at least one model in the Models panel");
    std::map<std::tuple<std::string, std::string, std::string>, std::vector<StsModelRequest>> groups;
    for (const auto& m : request.models) groups[{m.pooling, m.dtype, m.device}].push_back(m);
    StsRunOutcome outcome;
    for (const auto& [key, models] : groups) {
        (void)key;
        try {
            merge_into(outcome.result, run_group(request, models, progress, cancel), models, outcome.models);
        } catch (const Cancelled&) {
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

}  // namespace syn::run
