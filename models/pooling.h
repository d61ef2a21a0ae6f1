#pragma once
// Pooling: how one vector per text is taken from an encoder's output. It is an explicit, recorded
// choice (the study compares encoders under the pooling their reference code used), never a
// silent default: a pooling the model cannot honestly provide is refused with a message.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace syn::models {

class TextEncoder;
struct EncoderOutput;

enum class Pooling {
    cls,           // hidden state of the first token ([CLS] / <s>)
    pooler,        // the model's own pooled output: BERT/RoBERTa dense+tanh over [CLS] (only when the
                   // checkpoint holds a trained pooler), CLIP final-LN state at the end-of-text token,
                   // SigLIP head over the last token
    mean,          // attention-masked mean of last_hidden_state
    eos,           // the model's end-of-sequence position (CLIP: its EOT rule; others: last non-pad)
    last_non_pad,  // hidden state at the last position whose attention mask is 1
    projected,     // the joint-space projection (CLIP text_embeds before L2, SigLIP text head)
    random_pooler, // the study's RoBERTa rows, made reproducible: tanh(W h_[CLS]) with W drawn from
                   // N(0, 0.02^2) by a fixed generator and a recorded seed, zero bias; what
                   // transformers does (unseeded) for a checkpoint without pooler.dense.* weights
};

const char* pooling_name(Pooling pooling);
// "cls", "pooler", "mean", "eos", "last_non_pad" (also "last"), "projected"; anything else ->
// syn::Error listing the choices.
Pooling parse_pooling(const std::string& name);
const std::vector<Pooling>& all_poolings();

struct PoolingChoice {
    Pooling kind = Pooling::mean;
    bool l2_normalize = false;
    std::uint64_t seed = 0;  // random_pooler only
    // "mean", "projected+l2", "random_pooler@0": the spelling recorded in manifests and cache keys
    // (a random pooler always names its seed).
    std::string describe() const;
};
// Parses describe()'s spelling ("mean", "cls+l2", "random_pooler", "random_pooler@7+l2"); an
// '@seed' on any other pooling, or a seed that is not a decimal integer, is an error.
PoolingChoice parse_pooling_choice(const std::string& text);

// The weight of the random pooler: [hidden, hidden] float32 on the CPU, N(0, 0.02^2) (transformers'
// initializer_range for BERT/RoBERTa), drawn by SplitMix64 + Box-Muller from `seed`, row-major in
// nn.Linear's [out, in] layout. The same numbers on every machine, compiler and libtorch version.
at::Tensor random_pooler_weight(std::int64_t hidden, std::uint64_t seed);

// Throws syn::Error (naming the model family, the checkpoint and the reason) when `encoder` cannot
// provide `pooling`: unsupported for the family, or `pooler` without trained pooler weights.
void check_pooling(const TextEncoder& encoder, Pooling pooling);

// One float32 vector per row: [B, D]. `attention_mask` is the one given to forward().
at::Tensor pool(const TextEncoder& encoder, const EncoderOutput& output, const at::Tensor& attention_mask,
                const PoolingChoice& choice);

// Helpers, exposed for tests: masked mean (float32) and the index of the last position with mask 1
// (right or left padding alike).
at::Tensor masked_mean(const at::Tensor& hidden, const at::Tensor& attention_mask);
at::Tensor last_non_pad_index(const at::Tensor& attention_mask);

}  // namespace syn::models
