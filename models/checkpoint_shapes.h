#pragma once
// Holds the sizes a config declares against the tensors a checkpoint holds, before any module is
// built: a wrong or hostile config (10^9 layers, a defaulted hidden_size, a negative vocabulary)
// then fails with a message naming the config key and the checkpoint tensor, instead of
// allocating what the config asks for. Each model family lists its anchor tensors (the ones whose
// shapes pin every size its constructor allocates) in its own .cpp, next to the module they mirror.
#include <cstdint>
#include <string>
#include <vector>

#include "core/io/hf_config.h"
#include "core/io/raw_tensor.h"

namespace syn::models {

// The largest size any config (config.json or taming YAML) may declare.
inline constexpr int64_t kMaxConfigSize = HfConfig::kMaxSize;

// One size a config declared: the key it came from, its value, whether the file gave it (else a
// default was used) and the file it came from.
struct ConfigSize {
    std::string key;
    int64_t value = 0;
    bool given = true;
    std::string source;
};

// The size `value` read from `config` under `key` (given = the key is present).
ConfigSize config_size(const HfConfig& config, const std::string& key, int64_t value);
// A size derived from others ("num_heads*d_kv"); given when every part was.
ConfigSize derived_size(const std::string& expression, int64_t value, const std::vector<ConfigSize>& parts);

class CheckpointShapes {
public:
    // `prefix` is prepended to every name (the checkpoint's "bert." / "text_model." layer).
    CheckpointShapes(const TensorMap& tensors, std::string checkpoint, std::string prefix = "");

    // The tensor must exist with exactly these dimensions.
    void expect(const std::string& name, const std::vector<ConfigSize>& dims) const;
    // As expect(), when the tensor exists (optional parts such as a projection).
    void expect_if_present(const std::string& name, const std::vector<ConfigSize>& dims) const;
    // The number of list entries "<prefix><list>N." (N = 0, 1, ...) must equal `count`, and they must
    // be numbered 0..count-1.
    void expect_count(const std::string& list, const ConfigSize& count) const;

private:
    const TensorMap& tensors_;
    std::string checkpoint_;
    std::string prefix_;
};

}  // namespace syn::models
