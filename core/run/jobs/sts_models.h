#pragma once
// The STS job as the workbench runs it: one run_sts per group of models that share pooling, dtype
// and device, a failing group retried model by model, and the CxC / COCO data loading with the
// same evenly spaced subset run_sts takes.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/data/sts_dataset.h"
#include "core/run/progress.h"
#include "core/run/jobs/sts_job.h"

namespace syn::run {

// Loads the pairs (when max_pairs > 0, the same N evenly spaced pairs the STS job takes).
std::shared_ptr<data::StsDataset> load_sts_data(const std::string& cxc_csv, const std::string& captions_json,
                                                std::size_t max_pairs, const ProgressSink& progress,
                                                const CancelToken* cancel);

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
    ModelSession* session = nullptr;  // the compute worker's: encoders stay resident
};
struct StsModelOutcome {
    std::string model;
    bool ok = false;
    std::string error;
};
struct StsRunOutcome {
    std::shared_ptr<StsResult> result;  // null when every model failed
    std::vector<StsModelOutcome> models;
};
// Runs run_sts once per group of models sharing (pooling, dtype, device). run_sts goes on past a
// failing model and names it; a group that fails as a whole reports each of its models failed with
// the reason, and the other groups still run. Encoders of all groups are merged into one result
// (paired comparisons stay within a group).
StsRunOutcome run_sts_models(const StsRunRequest& request, const ProgressSink& progress,
                             const CancelToken* cancel);

}  // namespace syn::run
