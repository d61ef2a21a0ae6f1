#pragma once
// The activation functions the supported checkpoints name in config.json, spelled as in
// transformers' ACT2FN. Parsing names the file and key of an unsupported value.
#include <string>

namespace syn {
class HfConfig;
}

namespace syn::models {

enum class Activation {
    gelu,               // exact, erf-based ("gelu")
    gelu_new,           // tanh approximation written out ("gelu_new", T5 v1.1 "gated-gelu")
    gelu_pytorch_tanh,  // torch's tanh-approximate gelu (SigLIP)
    quick_gelu,         // x * sigmoid(1.702 x) (OpenAI CLIP)
    relu,
    silu,               // "silu" / "swish"
};

const char* activation_name(Activation activation);
// Reads `key` of `config` (`fallback` when absent); an unknown name -> syn::Error
// "<file>: key '<key>' = '<name>' is not a supported activation (supported: ...)".
Activation parse_activation(const HfConfig& config, const std::string& key, const std::string& fallback);

}  // namespace syn::models
