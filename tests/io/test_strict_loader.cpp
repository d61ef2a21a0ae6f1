#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/io/errors.h"
#include "core/io/torch/strict_loader.h"
#include "core/io/torch/tensor_bridge.h"

namespace {

// A tiny tree whose names mirror checkpoint keys: "dense.weight", "dense.bias", "norm.weight", ...
struct TinyImpl : torch::nn::Module {
    TinyImpl() {
        dense = register_module("dense", torch::nn::Linear(3, 2));
        norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({2})));
        register_buffer("position_ids", torch::arange(4));
    }
    torch::nn::Linear dense{nullptr};
    torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(Tiny);

syn::TensorMap full_checkpoint(const std::string& prefix, at::ScalarType dtype = at::kFloat) {
    syn::TensorMap m;
    m[prefix + "dense.weight"] = syn::from_torch(torch::arange(6, torch::kFloat).reshape({2, 3}).to(dtype));
    m[prefix + "dense.bias"] = syn::from_torch(torch::tensor({0.5f, -0.5f}).to(dtype));
    m[prefix + "norm.weight"] = syn::from_torch(torch::tensor({2.f, 3.f}).to(dtype));
    m[prefix + "norm.bias"] = syn::from_torch(torch::tensor({0.25f, 0.75f}).to(dtype));
    m[prefix + "position_ids"] = syn::from_torch(torch::arange(4) + 10);
    return m;
}

std::string load_error(Tiny& model, const syn::TensorMap& m, const syn::LoadOptions& o = {}) {
    try {
        syn::load_state_dict(*model, m, "ckpt.safetensors", o);
    } catch (const syn::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(StrictLoader, LoadsEveryTensorWithPrefixAndDtypeConversion) {
    Tiny model;
    auto ckpt = full_checkpoint("text_model.", at::kBFloat16);
    ckpt["text_projection.weight"] = syn::from_torch(torch::zeros({2, 2}));  // outside the prefix: ignored
    syn::LoadOptions o;
    o.prefix = "text_model.";
    auto report = syn::load_state_dict(*model, ckpt, "ckpt.safetensors", o);
    EXPECT_EQ(report.loaded.size(), 5u);
    EXPECT_TRUE(report.unexpected.empty());
    EXPECT_TRUE(torch::equal(model->dense->weight, torch::arange(6, torch::kFloat).reshape({2, 3})));
    EXPECT_EQ(model->dense->weight.scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::equal(model->named_buffers()["position_ids"], torch::arange(4) + 10));
}

TEST(StrictLoader, ReportsMissingUnexpectedAndMisshapedByName) {
    Tiny model;
    auto ckpt = full_checkpoint("");
    ckpt.erase("norm.bias");
    ckpt["dense.weight"] = syn::from_torch(torch::zeros({3, 2}));
    ckpt["extra.weight"] = syn::from_torch(torch::zeros({1}));
    std::string msg = load_error(model, ckpt);
    EXPECT_NE(msg.find("ckpt.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("norm.bias"), std::string::npos) << msg;
    EXPECT_NE(msg.find("dense.weight: checkpoint [3, 2] vs module [2, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("extra.weight"), std::string::npos) << msg;
}

TEST(StrictLoader, AllowedMissingAndUnexpectedAreNotFatalUnlessStrict) {
    Tiny model;
    auto ckpt = full_checkpoint("");
    ckpt.erase("norm.bias");
    ckpt["extra.weight"] = syn::from_torch(torch::zeros({1}));
    syn::LoadOptions o;
    o.allow_missing = {"norm.bias"};
    auto report = syn::load_state_dict(*model, ckpt, "x", o);
    EXPECT_EQ(report.unexpected, std::vector<std::string>{"extra.weight"});
    o.strict_unexpected = true;
    EXPECT_NE(load_error(model, ckpt, o).find("extra.weight"), std::string::npos);
    o.ignore_unexpected = {"extra.weight"};
    EXPECT_EQ(load_error(model, ckpt, o), "");
}
