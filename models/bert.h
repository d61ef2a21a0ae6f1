#pragma once
// BERT and RoBERTa encoders (transformers BertModel / RobertaModel): post-LayerNorm blocks, learned
// absolute positions (RoBERTa's counted from padding_idx + 1 over non-pad tokens), token type
// embeddings, dropout in train() mode, and the optional pooler (dense + tanh over the first token).
#include <cstdint>
#include <memory>
#include <string>

#include "core/io/raw_tensor.h"

#include "models/activation.h"
#include "models/text_encoder.h"

namespace syn {
class HfConfig;
}

namespace syn::models {

struct BertConfig {
    bool roberta = false;
    int64_t vocab_size = 30522;
    int64_t hidden_size = 768;
    int64_t num_hidden_layers = 12;
    int64_t num_attention_heads = 12;
    int64_t intermediate_size = 3072;
    int64_t max_position_embeddings = 512;
    int64_t type_vocab_size = 2;
    int64_t pad_token_id = 0;
    double layer_norm_eps = 1e-12;
    Activation hidden_act = Activation::gelu;
    // Dropout in train() mode only (no parameters: checkpoints are unaffected).
    double hidden_dropout_prob = 0.1;
    double attention_probs_dropout_prob = 0.1;

    // transformers' defaults for absent keys; an unsupported hidden_act or a head count that does
    // not divide hidden_size -> syn::Error naming the file and key.
    static BertConfig from_hf(const HfConfig& config, bool roberta);
    // Before building: every size against the checkpoint's tensors (checkpoint_shapes.h).
    void check_checkpoint(const HfConfig& config, const TensorMap& tensors, const std::string& checkpoint) const;
};

// Random weights (torch's default init) until load_weights().
std::unique_ptr<TextEncoder> make_bert_encoder(const BertConfig& config);

}  // namespace syn::models
