// Classification heads of the study's GLUE experiment (transformers' BertForSequenceClassification /
// RobertaForSequenceClassification and the study's CLIP classifier) on top of TextEncoder::forward.
#include "models/classification_heads.h"

#include <torch/torch.h>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "models/layers.h"
#include "models/registry.h"

namespace syn::models {

namespace {

at::Tensor maybe_dropout(const at::Tensor& x, double p, bool training) { return torch::dropout(x, p, training && p > 0); }

void init_like_transformers(torch::nn::LinearImpl& linear, double std) {
    torch::NoGradGuard no_grad;
    linear.weight.normal_(0.0, std);
    if (linear.bias.defined()) linear.bias.zero_();
}

}  // namespace

const char* head_kind_name(HeadKind kind) {
    switch (kind) {
        case HeadKind::bert: return "bert";
        case HeadKind::roberta: return "roberta";
        case HeadKind::clip: return "clip";
    }
    return "?";
}

struct SequenceClassifier::Impl {
    std::shared_ptr<torch::nn::Module> root = std::make_shared<torch::nn::Module>("SequenceClassifier");
    std::shared_ptr<torch::nn::Module> head;  // "classifier" (a container for RoBERTa)
    std::shared_ptr<torch::nn::LinearImpl> classifier, dense, out_proj;
    // CLIP: the encoder's pretrained text_projection (its weights are the encoder's "text_projection").
    std::shared_ptr<torch::nn::LinearImpl> projection;
    double head_p = 0.0;
    int64_t type_vocab = 0;  // BERT/RoBERTa token types passed to the encoder when > 1
};

SequenceClassifier::SequenceClassifier(std::unique_ptr<TextEncoder> encoder, const HfConfig& config,
                                       const ClassifierOptions& options)
    : encoder_(std::move(encoder)), impl_(std::make_unique<Impl>()), options_(options) {
    if (!encoder_) throw Error("SequenceClassifier: no encoder");
    if (options_.num_outputs < 1)
        throw Error("SequenceClassifier: num_outputs must be at least 1, got " + std::to_string(options_.num_outputs));
    Impl& m = *impl_;
    const std::string source = encoder_->source().empty() ? config.source() : encoder_->source();
    const int64_t hidden = encoder_->hidden_size();
    double init_std = config.get_double("initializer_range", 0.02);

    switch (encoder_->family()) {
        case Family::bert:
        case Family::roberta: {
            const bool roberta = encoder_->family() == Family::roberta;
            kind_ = roberta ? HeadKind::roberta : HeadKind::bert;
            m.type_vocab = encoder_->type_vocab_size();
            // The encoder's own dropouts come from the same config (BertConfig::from_hf).
            m.head_p = config.get_double("classifier_dropout", detail::parse_dropout(config, "hidden_dropout_prob", 0.1));
            break;
        }
        case Family::clip_text: {
            kind_ = HeadKind::clip;
            m.head_p = 0.0;  // CLIP's text tower has no hidden dropout; its attention_dropout is the encoder's
            if (!encoder_->has_projection())
                throw file_error(source, "the CLIP classifier needs the pretrained text_projection, which this "
                                         "checkpoint (a CLIPTextModel without projection) does not hold");
            for (const auto& child : encoder_->module().named_children())
                if (child.key() == "text_projection")
                    m.projection = std::dynamic_pointer_cast<torch::nn::LinearImpl>(child.value());
            if (!m.projection) throw Error("SequenceClassifier: the CLIP encoder has no 'text_projection' layer");
            init_std = -1;  // a fresh nn.Linear, as the study's code creates it
            break;
        }
        default:
            throw file_error(source, std::string("GLUE classification heads exist for bert, roberta and clip encoders, not '") +
                                         family_name(encoder_->family()) + "'");
    }
    if (options_.dropout >= 0) {
        if (options_.dropout >= 1.0)
            throw Error("SequenceClassifier: dropout must be in [0, 1), got " + std::to_string(options_.dropout));
        // One rate for the head and every dropout of the encoder.
        m.head_p = options_.dropout;
        for (const auto& child : encoder_->module().modules())
            if (auto* dropout = dynamic_cast<torch::nn::DropoutImpl*>(child.get())) dropout->options.p(options_.dropout);
    }

    // The encoder module joins the tree under the transformers prefix of the family.
    m.root->register_module(head_kind_name(kind_), encoder_->module().shared_from_this());
    const int64_t out = options_.num_outputs;
    if (kind_ == HeadKind::roberta) {
        m.head = m.root->register_module("classifier", std::make_shared<torch::nn::Module>("RobertaClassificationHead"));
        m.dense = m.head->register_module("dense", torch::nn::Linear(hidden, hidden));
        m.out_proj = m.head->register_module("out_proj", torch::nn::Linear(hidden, out));
        init_like_transformers(*m.dense, init_std);
        init_like_transformers(*m.out_proj, init_std);
    } else {
        const int64_t in = kind_ == HeadKind::clip ? encoder_->projection_size() : hidden;
        m.classifier = m.root->register_module("classifier", torch::nn::Linear(in, out));
        m.head = m.classifier;
        if (init_std > 0) init_like_transformers(*m.classifier, init_std);
    }
    // The head follows the encoder's device and dtype.
    m.head->to(encoder_->device(), encoder_->dtype());
    if (options_.freeze_encoder)
        for (auto& p : encoder_->module().parameters()) p.set_requires_grad(false);
    train(false);
}

SequenceClassifier::~SequenceClassifier() = default;

std::unique_ptr<SequenceClassifier> SequenceClassifier::load(const std::string& folder, const ClassifierOptions& options,
                                                             c10::Device device, c10::ScalarType dtype) {
    const HfConfig config = HfConfig::load(folder);
    auto encoder = load_text_encoder(folder, device, dtype);
    return std::make_unique<SequenceClassifier>(std::move(encoder), config, options);
}

at::Tensor SequenceClassifier::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                                       const at::Tensor& token_type_ids) {
    Impl& m = *impl_;
    if (token_type_ids.defined() && input_ids.defined() && token_type_ids.sizes() != input_ids.sizes())
        throw Error("SequenceClassifier: token_type_ids must have the shape of input_ids");
    // The encoder checks the ids against the vocabulary where they live on the CPU; a training batch
    // already on the device is checked here, since a bad index there aborts the device, not the job.
    if (input_ids.defined() && !input_ids.device().is_cpu() && input_ids.numel() > 0 &&
        (input_ids.min().item<int64_t>() < 0 || input_ids.max().item<int64_t>() >= encoder_->vocab_size()))
        throw Error("SequenceClassifier: token id outside the vocabulary of " + std::to_string(encoder_->vocab_size()));

    ForwardOptions fo;
    // Token types reach BERT's table (and a RoBERTa with more than one type); RoBERTa's single type
    // means transformers' tokenizers give zeros for pairs, and CLIP has none: both run without them.
    if (kind_ != HeadKind::clip && m.type_vocab > 1) fo.token_type_ids = token_type_ids;
    fo.untrained_pooler = kind_ == HeadKind::bert;  // BertForSequenceClassification trains the pooler either way

    at::Tensor features;
    {
        // A frozen encoder runs without autograd (a linear probe keeps no activations for it) and
        // in eval mode (see train()).
        c10::optional<torch::NoGradGuard> no_grad;
        if (options_.freeze_encoder) no_grad.emplace();
        const EncoderOutput out = encoder_->forward(input_ids, attention_mask, fo);
        switch (kind_) {
            case HeadKind::bert: features = out.pooler_output; break;
            case HeadKind::roberta: features = out.last_hidden_state.select(1, 0); break;
            case HeadKind::clip: {
                // The study's CLIP classifier reads the last non-pad token (the end-of-text token of
                // an untruncated text), then the pretrained projection.
                const auto& hidden = out.last_hidden_state;
                const auto rows = at::arange(hidden.size(0), at::TensorOptions(hidden.device()).dtype(at::kLong));
                features = m.projection->forward(hidden.index({rows, last_non_pad_index(attention_mask.to(hidden.device()))}));
                break;
            }
        }
    }
    if (kind_ == HeadKind::roberta) {
        auto x = maybe_dropout(features, m.head_p, training_);
        x = at::tanh(m.dense->forward(x));
        return m.out_proj->forward(maybe_dropout(x, m.head_p, training_));
    }
    return m.classifier->forward(maybe_dropout(features, m.head_p, training_));
}

at::Tensor SequenceClassifier::loss(const at::Tensor& logits, const at::Tensor& targets) const {
    if (regression())
        return torch::mse_loss(logits.squeeze(-1), targets.to(logits.device(), logits.scalar_type()));
    return torch::nn::functional::cross_entropy(logits, targets.to(logits.device(), at::kLong));
}

void SequenceClassifier::train(bool on) {
    training_ = on;
    impl_->root->train(on);  // the encoder's dropouts follow its module's mode
    if (options_.freeze_encoder) encoder_->module().eval();  // a linear probe's encoder is a fixed feature map
}

void SequenceClassifier::to(c10::Device device, c10::ScalarType dtype) {
    encoder_->to(device, dtype);  // leaves the encoder in eval mode
    impl_->head->to(device, dtype);
    train(training_);
}

std::vector<at::Tensor> SequenceClassifier::trainable_parameters() const {
    std::vector<at::Tensor> out;
    for (const auto& p : impl_->root->parameters())
        if (p.requires_grad()) out.push_back(p);
    return out;
}

torch::nn::Module& SequenceClassifier::module() { return *impl_->root; }

}  // namespace syn::models
