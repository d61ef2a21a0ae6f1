#pragma once
// The study's text-to-GPT map T (PAPER.md section 3): Linear(text_dim -> GPT width) + Dropout(0.1),
// whose output is ONE prefix vector placed before the SOS token. The only trained part of the
// text-to-image probe; key names "linear.weight" / "linear.bias".
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/io/raw_tensor.h"

namespace torch::nn {
class Module;
}
namespace syn {
struct LoadReport;
}

namespace syn::models {

class PrefixMapping {
public:
    PrefixMapping(int64_t text_dim, int64_t gpt_width, double dropout = 0.1);
    ~PrefixMapping();
    PrefixMapping(const PrefixMapping&) = delete;
    PrefixMapping& operator=(const PrefixMapping&) = delete;

    int64_t text_dim() const { return text_dim_; }
    int64_t gpt_width() const { return gpt_width_; }

    // text embeddings [B, text_dim] -> prefix [B, 1, gpt_width]. Dropout acts in train mode only
    // (module().train()). Keeps autograd (the trainer differentiates through it).
    at::Tensor forward(const at::Tensor& text_embeddings);

    LoadReport load_weights(const TensorMap& tensors, const std::string& source);
    // name -> CPU tensor copy, for saving checkpoints with write_safetensors.
    TensorMap state_dict() const;

    torch::nn::Module& module();
    void to(c10::Device device, c10::ScalarType dtype);
    c10::Device device() const { return device_; }
    c10::ScalarType dtype() const { return dtype_; }

private:
    struct Impl;
    int64_t text_dim_, gpt_width_;
    std::unique_ptr<Impl> impl_;
    c10::Device device_ = c10::Device(c10::kCPU);
    c10::ScalarType dtype_ = c10::kFloat;
};

}  // namespace syn::models
