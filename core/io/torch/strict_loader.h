#pragma once
// The single weight-loading path: every parameter and buffer of a libtorch module tree, whose
// names mirror the checkpoint keys, is filled from a TensorMap by name (dtype converted to the
// module's). Missing, unexpected and mis-shaped keys are reported by name.
#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "core/io/raw_tensor.h"

namespace syn {

struct LoadReport {
    std::vector<std::string> loaded;
    std::vector<std::string> missing;      // in the module, not in the checkpoint
    std::vector<std::string> unexpected;   // in the checkpoint (under the prefix), not in the module
    std::vector<std::string> mismatched;   // "name: checkpoint [a, b] vs module [c, d]"
    bool ok() const { return missing.empty() && mismatched.empty(); }
    // A readable multi-line summary naming every problem key (capped at a few dozen names).
    std::string describe() const;
};

struct LoadOptions {
    // Checkpoint keys are looked up as prefix + module name ("text_model.", "first_stage_model.").
    std::string prefix;
    // Module names (exact) that may be missing without an error, e.g. "pooler.dense.weight" when
    // the caller handles a checkpoint without a trained pooler, or non-persistent buffers.
    std::vector<std::string> allow_missing;
    // Checkpoint keys (after the prefix) that are ignored when unexpected (e.g. "position_ids").
    std::vector<std::string> ignore_unexpected;
    // Throw on unexpected keys under the prefix as well (default: reported, not fatal).
    bool strict_unexpected = false;
};

// Loads and returns the report; throws syn::Error with report.describe() when anything required
// is missing or mis-shaped (`source` names the file in the message).
LoadReport load_state_dict(torch::nn::Module& module, const TensorMap& tensors, const std::string& source,
                           const LoadOptions& options = {});

}  // namespace syn
