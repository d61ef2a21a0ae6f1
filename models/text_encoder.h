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

struct ForwardOptions {
    // [B, T] integer segment ids (BERT sentence pairs); undefined: all zeros. Families without token
    // type embeddings (CLIP, T5, SigLIP) refuse non-zero ids with syn::Error; BERT/RoBERTa refuse
    // ids beyond type_vocab_size (checked where the ids live on the CPU, like input_ids).
    at::Tensor token_type_ids;
    // BERT/RoBERTa: compute pooler_output even when the checkpoint held no trained pooler (its
    // initial weights then), for a fine-tuning head that trains it (BertForSequenceClassification).
    bool untrained_pooler = false;
};

class TextEncoder {
public:
    virtual ~TextEncoder();

    virtual Family family() const = 0;
    // input_ids [B, T] integer, attention_mask [B, T] (1 = token, 0 = padding; any integer or bool
    // dtype). Inputs are moved to the model's device. Throws syn::Error on mis-shaped input, ids
    // outside the vocabulary, or T beyond max_tokens().
    //
    // The one forward of the family, for inference and fine-tuning alike: autograd follows the
    // caller (torch's GradMode), so inference callers hold a torch::NoGradGuard / c10::InferenceMode
    // themselves; dropout (the config's hidden_dropout_prob / attention_probs_dropout_prob, CLIP's
    // attention_dropout; T5 has none here) follows module().train() / eval(). Encoders are built and
    // moved (to()) in eval mode.
    EncoderOutput forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                          const ForwardOptions& options = ForwardOptions());

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
    // Rows of the token type table (BERT: 2, RoBERTa: 1); 0: the family has no token types.
    virtual int64_t type_vocab_size() const { return 0; }
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
    // What forward() hands the family after validation: ids and mask int64 on the model's device;
    // token_type_ids int64 there too, or undefined (zeros; always undefined for families without
    // token types).
    struct Inputs {
        at::Tensor ids, mask, token_type_ids;
        bool untrained_pooler = false;
    };
    virtual EncoderOutput encode(const Inputs& inputs) = 0;

    // Shared input validation: rank, dtype, shape agreement, length and vocabulary range. Returns
    // the ids (int64) and mask (int64) on the model's device.
    std::pair<at::Tensor, at::Tensor> prepare_inputs(const at::Tensor& input_ids, const at::Tensor& attention_mask) const;
    // token_type_ids against input_ids and type_vocab_size(); int64 on the model's device or undefined.
    at::Tensor prepare_token_types(const at::Tensor& token_type_ids, const at::Tensor& input_ids) const;

    c10::Device device_ = c10::Device(c10::kCPU);
    c10::ScalarType dtype_ = c10::kFloat;
    std::string source_;
};

}  // namespace syn::models
