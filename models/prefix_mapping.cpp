// The linear prefix map of the text-to-image probe: Linear + Dropout(0.1).
#include "models/prefix_mapping.h"

#include <torch/torch.h>

#include "core/io/errors.h"
#include "core/io/torch/strict_loader.h"
#include "core/io/torch/tensor_bridge.h"
#include "models/layers.h"

namespace syn::models {

struct PrefixMapping::Impl {
    struct Module : torch::nn::Module {
        torch::nn::Linear linear{nullptr};
        torch::nn::Dropout dropout{nullptr};
        Module(int64_t in, int64_t out, double p) {
            linear = register_module("linear", detail::make_linear(in, out));
            dropout = register_module("dropout", torch::nn::Dropout(torch::nn::DropoutOptions(p)));
        }
    };
    std::shared_ptr<Module> module;
};

PrefixMapping::PrefixMapping(int64_t text_dim, int64_t gpt_width, double dropout)
    : text_dim_(text_dim), gpt_width_(gpt_width), impl_(std::make_unique<Impl>()) {
    if (text_dim <= 0 || gpt_width <= 0) throw Error("PrefixMapping: text_dim and gpt_width must be positive");
    if (dropout < 0.0 || dropout >= 1.0) throw Error("PrefixMapping: dropout must be in [0, 1)");
    impl_->module = std::make_shared<Impl::Module>(text_dim, gpt_width, dropout);
}

PrefixMapping::~PrefixMapping() = default;

torch::nn::Module& PrefixMapping::module() { return *impl_->module; }

void PrefixMapping::to(c10::Device device, c10::ScalarType dtype) {
    if (!at::isFloatingType(dtype)) throw Error("PrefixMapping::to: dtype must be floating point");
    impl_->module->to(device, dtype);
    device_ = device;
    dtype_ = dtype;
}

at::Tensor PrefixMapping::forward(const at::Tensor& text_embeddings) {
    if (!text_embeddings.defined() || text_embeddings.dim() != 2 || text_embeddings.size(1) != text_dim_)
        throw Error("PrefixMapping: text embeddings must be [batch, " + std::to_string(text_dim_) + "], got " +
                    (text_embeddings.defined() ? c10::str(text_embeddings.sizes()) : std::string("nothing")) +
                    ": was the mapping trained for another text encoder?");
    auto& m = *impl_->module;
    return m.dropout(m.linear(text_embeddings.to(device_, dtype_))).unsqueeze(1);
}

LoadReport PrefixMapping::load_weights(const TensorMap& tensors, const std::string& source) {
    LoadOptions options;
    options.strict_unexpected = true;  // a mapping file holds nothing else
    return load_state_dict(*impl_->module, tensors, source, options);
}

TensorMap PrefixMapping::state_dict() const {
    TensorMap out;
    for (const auto& item : impl_->module->named_parameters())
        out[item.key()] = from_torch(item.value().detach().to(at::kCPU, at::kFloat).contiguous());
    return out;
}

}  // namespace syn::models
