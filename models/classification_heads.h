#pragma once
// Sequence classification / regression on top of a text encoder, built as the reference
// implementations build them (the study's Table 1):
//   bert    (BertForSequenceClassification): pooler (dense + tanh on [CLS]) -> dropout -> `classifier`
//   roberta (RobertaClassificationHead): <s> -> dropout -> `classifier.dense` -> tanh -> dropout ->
//           `classifier.out_proj`
//   clip    (the study's CLIP classifier): final-LN hidden state at the LAST NON-PAD token ->
//           pretrained `text_projection` -> new Linear(projection -> labels) `classifier`
// One output + MSE is the regression head (STS-B); otherwise cross-entropy.
//
// The encoder part is TextEncoder::forward itself (one source of numerics for inference and
// fine-tuning): it runs with autograd when the caller allows it, takes the token type ids of
// sentence pairs, and applies the config's dropout while the module is in train() mode. This file
// adds only the head layers on its outputs (BERT: pooler_output; RoBERTa: last_hidden_state of <s>;
// CLIP: last_hidden_state at the last non-pad token through the encoder's text_projection).
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <string>
#include <vector>

#include "models/text_encoder.h"

namespace torch::nn {
class Module;
}
namespace syn {
class HfConfig;
}

namespace syn::models {

enum class HeadKind { bert, roberta, clip };
const char* head_kind_name(HeadKind kind);

struct ClassifierOptions {
    int num_outputs = 2;  // 1 = regression (MSE)
    // Dropout of the head and (when training) of the encoder; < 0: the config's values
    // (classifier_dropout, else hidden_dropout_prob; attention_probs_dropout_prob; CLIP: attention_dropout).
    // A value >= 0 sets every dropout of the encoder module too.
    double dropout = -1.0;
    // Linear probe: the encoder's weights do not train (requires_grad off, encoder run without autograd
    // and without dropout).
    bool freeze_encoder = false;
};

class SequenceClassifier {
public:
    // `config` is the model folder's config.json (the encoder was built from it); the new head
    // layers are initialised from torch's current RNG (seed it first): BERT/RoBERTa heads as
    // transformers does (normal(0, initializer_range), zero bias), the CLIP classifier as nn.Linear.
    SequenceClassifier(std::unique_ptr<TextEncoder> encoder, const HfConfig& config, const ClassifierOptions& options);
    ~SequenceClassifier();
    SequenceClassifier(const SequenceClassifier&) = delete;
    SequenceClassifier& operator=(const SequenceClassifier&) = delete;

    // load_text_encoder(folder) + the head. Families other than bert/roberta/clip -> syn::Error.
    static std::unique_ptr<SequenceClassifier> load(const std::string& folder, const ClassifierOptions& options,
                                                    c10::Device device = c10::Device(c10::kCPU),
                                                    c10::ScalarType dtype = c10::kFloat);

    // input_ids, attention_mask, token_type_ids: [B, T] (token_type_ids may be undefined: zeros).
    // Returns logits [B, num_outputs] with autograd (unless the caller disabled it).
    at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                       const at::Tensor& token_type_ids = at::Tensor());
    // Cross-entropy over int64 class ids, or MSE against float targets for num_outputs == 1.
    at::Tensor loss(const at::Tensor& logits, const at::Tensor& targets) const;

    // Dropout on (training) or off (evaluation): the head's and, through module().train(), the
    // encoder's (a frozen encoder stays in eval mode).
    void train(bool on);
    bool is_training() const { return training_; }
    void to(c10::Device device, c10::ScalarType dtype);

    // The parameters the optimiser updates (head only for a linear probe), in a fixed order.
    std::vector<at::Tensor> trainable_parameters() const;
    // Every parameter under transformers-like names: "bert.encoder.layer.0...", "roberta.*",
    // "clip.text_model.*", "classifier.weight" / "classifier.dense.weight" / "classifier.out_proj.*".
    torch::nn::Module& module();

    HeadKind kind() const { return kind_; }
    int num_outputs() const { return options_.num_outputs; }
    bool regression() const { return options_.num_outputs == 1; }
    TextEncoder& encoder() { return *encoder_; }
    const ClassifierOptions& options() const { return options_; }

private:
    struct Impl;
    std::unique_ptr<TextEncoder> encoder_;
    std::unique_ptr<Impl> impl_;
    ClassifierOptions options_;
    HeadKind kind_ = HeadKind::bert;
    bool training_ = false;
};

}  // namespace syn::models
