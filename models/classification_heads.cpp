// Classification heads of the study's GLUE experiment and the differentiable encoder forward they
// need (transformers' BertForSequenceClassification / RobertaForSequenceClassification and the
// study's CLIP classifier).
#include "models/classification_heads.h"

#include <torch/torch.h>

#include <cmath>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "models/bert.h"
#include "models/clip.h"
#include "models/layers.h"
#include "models/registry.h"

namespace syn::models {

using namespace detail;

namespace {

using ModuleMap = std::map<std::string, std::shared_ptr<torch::nn::Module>>;

ModuleMap module_map(torch::nn::Module& root) {
    ModuleMap map;
    for (const auto& item : root.named_modules()) map[item.key()] = item.value();
    return map;
}

// The submodule `name` of the encoder as a concrete layer type; a missing or differently typed one is
// a programming error between this file and the encoder's naming, reported with the name.
template <typename T>
std::shared_ptr<T> find(const ModuleMap& map, const std::string& name) {
    auto it = map.find(name);
    std::shared_ptr<T> typed = it == map.end() ? nullptr : std::dynamic_pointer_cast<T>(it->second);
    if (!typed) throw Error("encoder module has no layer '" + name + "' of the expected type");
    return typed;
}

int64_t count_layers(const ModuleMap& map, const std::string& prefix) {
    int64_t n = 0;
    while (map.count(prefix + std::to_string(n))) ++n;
    return n;
}

// softmax(q k^T * scale + bias) v with dropout on the probabilities (as transformers' eager attention).
at::Tensor attention_with_dropout(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias,
                                  double scale, double p, bool training) {
    auto scores = at::matmul(q, k.transpose(-2, -1)) * scale;
    if (bias.defined()) scores = scores + bias;
    auto probs = at::softmax(scores, -1);
    probs = torch::dropout(probs, p, training && p > 0);
    return at::matmul(probs, v);
}

at::Tensor maybe_dropout(const at::Tensor& x, double p, bool training) { return torch::dropout(x, p, training && p > 0); }

struct BertLayerRefs {
    std::shared_ptr<torch::nn::LinearImpl> query, key, value, attention_dense, intermediate, output_dense;
    std::shared_ptr<torch::nn::LayerNormImpl> attention_norm, output_norm;
};

struct ClipLayerRefs {
    std::shared_ptr<torch::nn::LayerNormImpl> layer_norm1, layer_norm2;
    std::shared_ptr<torch::nn::LinearImpl> q_proj, k_proj, v_proj, out_proj, fc1, fc2;
};

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

    int64_t heads = 1;
    double scale = 1.0;
    Activation act = Activation::gelu;
    double hidden_p = 0.0, attention_p = 0.0, head_p = 0.0;
    int64_t pad_id = 0, type_vocab = 1, vocab = 0, max_tokens = 0;
    bool roberta = false;

    // BERT / RoBERTa
    std::shared_ptr<torch::nn::EmbeddingImpl> word, position, token_type;
    std::shared_ptr<torch::nn::LayerNormImpl> embeddings_norm;
    std::vector<BertLayerRefs> bert_layers;
    std::shared_ptr<torch::nn::LinearImpl> pooler;
    // CLIP
    std::shared_ptr<torch::nn::EmbeddingImpl> clip_token, clip_position;
    std::vector<ClipLayerRefs> clip_layers;
    std::shared_ptr<torch::nn::LayerNormImpl> final_norm;
    std::shared_ptr<torch::nn::LinearImpl> projection;
    // heads
    std::shared_ptr<torch::nn::LinearImpl> classifier, dense, out_proj;

    void bind_bert(const ModuleMap& m) {
        word = find<torch::nn::EmbeddingImpl>(m, "embeddings.word_embeddings");
        position = find<torch::nn::EmbeddingImpl>(m, "embeddings.position_embeddings");
        token_type = find<torch::nn::EmbeddingImpl>(m, "embeddings.token_type_embeddings");
        embeddings_norm = find<torch::nn::LayerNormImpl>(m, "embeddings.LayerNorm");
        pooler = find<torch::nn::LinearImpl>(m, "pooler.dense");
        const int64_t n = count_layers(m, "encoder.layer.");
        for (int64_t i = 0; i < n; ++i) {
            const std::string p = "encoder.layer." + std::to_string(i) + ".";
            BertLayerRefs l;
            l.query = find<torch::nn::LinearImpl>(m, p + "attention.self.query");
            l.key = find<torch::nn::LinearImpl>(m, p + "attention.self.key");
            l.value = find<torch::nn::LinearImpl>(m, p + "attention.self.value");
            l.attention_dense = find<torch::nn::LinearImpl>(m, p + "attention.output.dense");
            l.attention_norm = find<torch::nn::LayerNormImpl>(m, p + "attention.output.LayerNorm");
            l.intermediate = find<torch::nn::LinearImpl>(m, p + "intermediate.dense");
            l.output_dense = find<torch::nn::LinearImpl>(m, p + "output.dense");
            l.output_norm = find<torch::nn::LayerNormImpl>(m, p + "output.LayerNorm");
            bert_layers.push_back(l);
        }
    }

    void bind_clip(const ModuleMap& m) {
        clip_token = find<torch::nn::EmbeddingImpl>(m, "text_model.embeddings.token_embedding");
        clip_position = find<torch::nn::EmbeddingImpl>(m, "text_model.embeddings.position_embedding");
        final_norm = find<torch::nn::LayerNormImpl>(m, "text_model.final_layer_norm");
        projection = find<torch::nn::LinearImpl>(m, "text_projection");
        const int64_t n = count_layers(m, "text_model.encoder.layers.");
        for (int64_t i = 0; i < n; ++i) {
            const std::string p = "text_model.encoder.layers." + std::to_string(i) + ".";
            ClipLayerRefs l;
            l.layer_norm1 = find<torch::nn::LayerNormImpl>(m, p + "layer_norm1");
            l.layer_norm2 = find<torch::nn::LayerNormImpl>(m, p + "layer_norm2");
            l.q_proj = find<torch::nn::LinearImpl>(m, p + "self_attn.q_proj");
            l.k_proj = find<torch::nn::LinearImpl>(m, p + "self_attn.k_proj");
            l.v_proj = find<torch::nn::LinearImpl>(m, p + "self_attn.v_proj");
            l.out_proj = find<torch::nn::LinearImpl>(m, p + "self_attn.out_proj");
            l.fc1 = find<torch::nn::LinearImpl>(m, p + "mlp.fc1");
            l.fc2 = find<torch::nn::LinearImpl>(m, p + "mlp.fc2");
            clip_layers.push_back(l);
        }
    }

    // last_hidden_state of BertModel / RobertaModel, differentiable, with token types and dropout.
    at::Tensor bert_hidden(const at::Tensor& ids, const at::Tensor& mask, const at::Tensor& types, bool training) {
        const int64_t t = ids.size(1);
        at::Tensor positions;
        if (roberta) {
            auto not_pad = ids.ne(pad_id).to(at::kLong);
            positions = at::cumsum(not_pad, 1) * not_pad + pad_id;
        } else {
            positions = at::arange(t, ids.options()).unsqueeze(0);
        }
        auto x = word->forward(ids) + token_type->forward(types);
        x = embeddings_norm->forward(x + position->forward(positions));
        x = maybe_dropout(x, hidden_p, training);
        const auto bias = padding_bias(mask, x.scalar_type());
        for (const auto& l : bert_layers) {
            auto context = attention_with_dropout(split_heads(l.query->forward(x), heads), split_heads(l.key->forward(x), heads),
                                                  split_heads(l.value->forward(x), heads), bias, scale, attention_p, training);
            auto a = l.attention_norm->forward(maybe_dropout(l.attention_dense->forward(merge_heads(context)), hidden_p, training) + x);
            auto i = apply_activation(act, l.intermediate->forward(a));
            x = l.output_norm->forward(maybe_dropout(l.output_dense->forward(i), hidden_p, training) + a);
        }
        return x;
    }

    // CLIPTextModel's last_hidden_state (after final_layer_norm), differentiable.
    at::Tensor clip_hidden(const at::Tensor& ids, const at::Tensor& mask, bool training) {
        const int64_t t = ids.size(1);
        auto x = clip_token->forward(ids) + clip_position->forward(at::arange(t, ids.options()).unsqueeze(0));
        const auto bias = causal_padding_bias(mask, x.scalar_type());
        for (const auto& l : clip_layers) {
            auto h = l.layer_norm1->forward(x);
            auto context = attention_with_dropout(split_heads(l.q_proj->forward(h), heads), split_heads(l.k_proj->forward(h), heads),
                                                  split_heads(l.v_proj->forward(h), heads), bias, scale, attention_p, training);
            x = x + l.out_proj->forward(merge_heads(context));
            x = x + l.fc2->forward(apply_activation(act, l.fc1->forward(l.layer_norm2->forward(x))));
        }
        return final_norm->forward(x);
    }
};

SequenceClassifier::SequenceClassifier(std::unique_ptr<TextEncoder> encoder, const HfConfig& config,
                                       const ClassifierOptions& options)
    : encoder_(std::move(encoder)), impl_(std::make_unique<Impl>()), options_(options) {
    if (!encoder_) throw Error("SequenceClassifier: no encoder");
    if (options_.num_outputs < 1)
        throw Error("SequenceClassifier: num_outputs must be at least 1, got " + std::to_string(options_.num_outputs));
    Impl& m = *impl_;
    const ModuleMap modules = module_map(encoder_->module());
    const std::string source = encoder_->source().empty() ? config.source() : encoder_->source();
    const int64_t hidden = encoder_->hidden_size();
    m.vocab = encoder_->vocab_size();
    m.max_tokens = encoder_->max_tokens();
    double init_std = config.get_double("initializer_range", 0.02);

    switch (encoder_->family()) {
        case Family::bert:
        case Family::roberta: {
            m.roberta = encoder_->family() == Family::roberta;
            kind_ = m.roberta ? HeadKind::roberta : HeadKind::bert;
            const BertConfig c = BertConfig::from_hf(config, m.roberta);
            m.heads = c.num_attention_heads;
            m.act = c.hidden_act;
            m.pad_id = c.pad_token_id;
            m.type_vocab = c.type_vocab_size;
            m.hidden_p = config.get_double("hidden_dropout_prob", 0.1);
            m.attention_p = config.get_double("attention_probs_dropout_prob", 0.1);
            m.head_p = config.get_double("classifier_dropout", m.hidden_p);
            m.bind_bert(modules);
            break;
        }
        case Family::clip_text: {
            kind_ = HeadKind::clip;
            const ClipTextConfig c = ClipTextConfig::from_hf(config);
            const HfConfig text = config.model_type() == "clip_text_model" ? config : config.sub("text_config");
            m.heads = c.num_attention_heads;
            m.act = c.hidden_act;
            m.attention_p = text.get_double("attention_dropout", 0.0);
            m.hidden_p = 0.0;  // CLIP's text tower has no hidden dropout
            m.head_p = 0.0;
            if (!encoder_->has_projection())
                throw file_error(source, "the CLIP classifier needs the pretrained text_projection, which this "
                                         "checkpoint (a CLIPTextModel without projection) does not hold");
            m.bind_clip(modules);
            init_std = -1;  // a fresh nn.Linear, as the study's code creates it
            break;
        }
        default:
            throw file_error(source, std::string("GLUE classification heads exist for bert, roberta and clip encoders, not '") +
                                         family_name(encoder_->family()) + "'");
    }
    m.scale = 1.0 / std::sqrt(double(hidden / m.heads));
    if (options_.dropout >= 0) m.hidden_p = m.attention_p = m.head_p = options_.dropout;

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
    if (input_ids.dim() != 2 || attention_mask.sizes() != input_ids.sizes() ||
        (token_type_ids.defined() && token_type_ids.sizes() != input_ids.sizes()))
        throw Error("SequenceClassifier: input_ids, attention_mask and token_type_ids must be [B, T] of one shape");
    if (input_ids.size(1) == 0 || input_ids.size(0) == 0) throw Error("SequenceClassifier: empty batch");
    if (m.max_tokens > 0 && input_ids.size(1) > m.max_tokens)
        throw Error("SequenceClassifier: " + std::to_string(input_ids.size(1)) + " tokens, the model takes at most " +
                    std::to_string(m.max_tokens) + " (truncate to max_length)");
    const c10::Device device = encoder_->device();
    const auto ids = input_ids.to(device, at::kLong);
    const auto mask = attention_mask.to(device, at::kLong);
    if (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= m.vocab)
        throw Error("SequenceClassifier: token id outside the vocabulary of " + std::to_string(m.vocab));
    at::Tensor types = token_type_ids.defined() ? token_type_ids.to(device, at::kLong) : at::zeros_like(ids);
    if (kind_ != HeadKind::clip && types.max().item<int64_t>() >= m.type_vocab) {
        // RoBERTa has one token type: transformers' RoBERTa tokenizers give zeros for pairs.
        if (m.type_vocab == 1) types = at::zeros_like(ids);
        else throw Error("SequenceClassifier: token type id beyond type_vocab_size " + std::to_string(m.type_vocab));
    }

    const bool train_encoder = training_ && !options_.freeze_encoder;
    at::Tensor features;
    {
        // A frozen encoder runs without autograd (a linear probe keeps no activations for it).
        c10::optional<torch::NoGradGuard> no_grad;
        if (options_.freeze_encoder) no_grad.emplace();
        if (kind_ == HeadKind::clip) {
            const auto hidden = m.clip_hidden(ids, mask, train_encoder);
            const auto rows = at::arange(ids.size(0), ids.options());
            features = m.projection->forward(hidden.index({rows, last_non_pad_index(mask).to(ids.device())}));
        } else {
            const auto hidden = m.bert_hidden(ids, mask, types, train_encoder);
            features = kind_ == HeadKind::bert ? at::tanh(m.pooler->forward(hidden.select(1, 0))) : hidden.select(1, 0);
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
    impl_->root->train(on);
}

void SequenceClassifier::to(c10::Device device, c10::ScalarType dtype) {
    encoder_->to(device, dtype);
    impl_->head->to(device, dtype);
}

std::vector<at::Tensor> SequenceClassifier::trainable_parameters() const {
    std::vector<at::Tensor> out;
    for (const auto& p : impl_->root->parameters())
        if (p.requires_grad()) out.push_back(p);
    return out;
}

torch::nn::Module& SequenceClassifier::module() { return *impl_->root; }

}  // namespace syn::models
