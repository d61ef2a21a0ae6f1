#pragma once
// The workbench's heavy actions as plain functions that run on the ComputeWorker's thread (never on
// the GUI thread): loading the CxC / COCO data, the STS run over the selected encoders, the prompt
// box's nearest-caption search, and a model check. They take and return plain structs; no Qt
// widgets, no tensors in their interface.
#include <QString>

#include <memory>
#include <string>
#include <vector>

#include "core/data/sts_dataset.h"
#include "core/run/progress.h"
#include "core/run/sts_job.h"

namespace syn::ui {

// Loads the pairs (when max_pairs > 0, the same N evenly spaced pairs the STS job takes).
std::shared_ptr<syn::data::StsDataset> load_data_job(const std::string& cxc_csv, const std::string& captions_json,
                                                     std::size_t max_pairs, const syn::run::ProgressSink& progress,
                                                     const syn::run::CancelToken* cancel);

struct StsModelRequest {
    std::string model;    // as given to run_sts (id or folder)
    std::string pooling;  // "" = catalog default
    std::string dtype, device;
};
struct StsRunRequest {
    std::string cxc_csv, captions_json;
    std::size_t max_pairs = 0;
    std::size_t bootstrap = 1000;
    std::vector<StsModelRequest> models;
};
struct StsModelOutcome {
    std::string model;
    bool ok = false;
    std::string error;
};
struct StsRunOutcome {
    std::shared_ptr<syn::run::StsResult> result;  // null when every model failed
    std::vector<StsModelOutcome> models;
};
// Runs run_sts once per group of models sharing (pooling, dtype, device); when a group fails, each
// of its models is retried alone so that one broken model is reported by name and the rest still
// run. Encoders of all groups are merged into one result (paired comparisons stay within a group).
StsRunOutcome run_sts_models(const StsRunRequest& request, const syn::run::ProgressSink& progress,
                             const syn::run::CancelToken* cancel);

struct Neighbour {
    double score = 0;
    std::size_t text = 0;  // index into PromptResult::texts
};
struct EncoderNeighbours {
    std::string model, label;
    std::string error;  // non-empty when this encoder failed
    std::vector<Neighbour> neighbours;
};
struct PromptResult {
    std::string prompt;
    std::vector<std::string> texts;  // the unique captions searched
    std::vector<EncoderNeighbours> encoders;
};
struct PromptModel {
    std::string model, label, pooling, dtype, device;
};
// Per encoder, the k captions most similar to `prompt` (cosine of embeddings; lexical encoders use
// their own similarity). One failing encoder does not stop the others.
PromptResult nearest_captions(const std::string& prompt, const std::vector<std::string>& captions,
                              const std::vector<PromptModel>& models, std::size_t k,
                              const syn::run::ProgressSink& progress, const syn::run::CancelToken* cancel);
// The top k of scores (descending; ties by index), NaN scores skipped.
std::vector<Neighbour> top_k(const std::vector<double>& scores, std::size_t k);

}  // namespace syn::ui
