#pragma once
// The one interface every text encoder family implements (BERT, RoBERTa, CLIP text, T5 encoder,
// SigLIP text). Torch modules themselves live in the .cpp files: this header only needs ATen's
// tensor type, so code that merely passes encoders around compiles fast.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <string>
#include <vector>

#include "core/io/raw_tensor.h"
#include "models/pooling.h"

namespace torch::nn {
class Module;
}
namespace syn {
struct LoadReport;
}

namespace syn::models {

enum class Family { bert, roberta, clip_text, t5, siglip_text };
const char* family_name(Family family);

// The poolings a family offers (a loaded encoder may refuse some more, see check_pooling):
//   bert, roberta: cls, pooler, mean, eos, last_non_pad, random_pooler
//   clip:          pooler, eos, mean, last_non_pad, projected (no cls: under the causal mask the
//                  start token sees only itself, the same vector for every text)
//   t5:            mean, eos, last_non_pad
//   siglip:        pooler, projected, mean
std::vector<Pooling> family_poolings(Family family);

struct EncoderOutput {
    at::Tensor last_hidden_state;  // [B, T, H] in the model's dtype
    at::Tensor pooler_output;      // [B, H] or [B, P]; undefined when the model has none (see Pooling::pooler)
    at::Tensor projected;          // [B, P] CLIP text_embeds (unnormalised) / SigLIP head; else undefined
    at::Tensor eos_index;          // [B] int64: the position `eos` pooling reads
};

class TextEncoder {
public:
    virtual ~TextEncoder();

    virtual Family family() const = 0;
    // input_ids [B, T] integer, attention_mask [B, T] (1 = token, 0 = padding; any integer or bool
    // dtype). Inputs are moved to the model's device. Throws syn::Error on mis-shaped input, ids
    // outside the vocabulary, or T beyond max_tokens(). Runs without autograd.
    virtual EncoderOutput forward(const at::Tensor& input_ids, const at::Tensor& attention_mask) = 0;

    // Fills every weight by name through the strict loader (syn::load_state_dict) and records which
    // optional parts (trained pooler, projection) the checkpoint held. `source` names the file.
    virtual LoadReport load_weights(const TensorMap& tensors, const std::string& source) = 0;

    std::vector<Pooling> supported_poolings() const { return family_poolings(family()); }
    // True when pooling `pooler` gives trained weights (BERT/RoBERTa: pooler.dense.* were loaded).
    virtual bool has_trained_pooler() const = 0;
    virtual bool has_projection() const { return false; }

    // Longest input the position table allows (0: unbounded, T5's relative positions).
    virtual int64_t max_tokens() const = 0;
    // Inputs must be padded to exactly this length (SigLIP: trained padded to 64 with no mask), 0: any.
    virtual int64_t required_length() const { return 0; }
    virtual int64_t vocab_size() const = 0;
    virtual int64_t hidden_size() const = 0;
    // Width of the `projected` output (0 when none).
    virtual int64_t projection_size() const { return 0; }

    virtual torch::nn::Module& module() = 0;
    const torch::nn::Module& module() const { return const_cast<TextEncoder*>(this)->module(); }

    // Moves (and casts floating weights of) the module; forward() then moves its inputs there.
    void to(c10::Device device, c10::ScalarType dtype);
    c10::Device device() const { return device_; }
    c10::ScalarType dtype() const { return dtype_; }

    // The checkpoint the weights came from ("" for random weights), for messages and manifests.
    const std::string& source() const { return source_; }

protected:
    // Shared input validation: rank, dtype, shape agreement, length and vocabulary range. Returns
    // the ids (int64) and mask (int64) on the model's device.
    std::pair<at::Tensor, at::Tensor> prepare_inputs(const at::Tensor& input_ids, const at::Tensor& attention_mask) const;

    c10::Device device_ = c10::Device(c10::kCPU);
    c10::ScalarType dtype_ = c10::kFloat;
    std::string source_;
};

}  // namespace syn::models
