// BertModel / RobertaModel, mirroring transformers' modeling_bert.py / modeling_roberta.py.
#include "models/bert.h"

#include <torch/torch.h>

#include <cmath>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/torch/strict_loader.h"
#include "models/checkpoint_shapes.h"
#include "models/layers.h"

namespace syn::models {

using namespace detail;

BertConfig BertConfig::from_hf(const HfConfig& config, bool roberta) {
    BertConfig c;
    c.roberta = roberta;
    if (roberta) {  // RobertaConfig's defaults where they differ from BertConfig's
        c.vocab_size = 50265;
        c.max_position_embeddings = 514;
        c.type_vocab_size = 1;
        c.pad_token_id = 1;
        c.layer_norm_eps = 1e-5;
    }
    c.vocab_size = config.get_size("vocab_size", c.vocab_size);
    c.hidden_size = config.get_size("hidden_size", c.hidden_size);
    c.num_hidden_layers = config.get_size("num_hidden_layers", c.num_hidden_layers);
    c.num_attention_heads = config.get_size("num_attention_heads", c.num_attention_heads);
    c.intermediate_size = config.get_size("intermediate_size", c.intermediate_size);
    c.max_position_embeddings = config.get_size("max_position_embeddings", c.max_position_embeddings);
    c.type_vocab_size = config.get_size("type_vocab_size", c.type_vocab_size);
    c.pad_token_id = config.get_size("pad_token_id", c.pad_token_id, 0);
    c.layer_norm_eps = config.get_double("layer_norm_eps", c.layer_norm_eps);
    c.hidden_act = parse_activation(config, "hidden_act", "gelu");
    c.hidden_dropout_prob = parse_dropout(config, "hidden_dropout_prob", c.hidden_dropout_prob);
    c.attention_probs_dropout_prob = parse_dropout(config, "attention_probs_dropout_prob", c.attention_probs_dropout_prob);
    const std::string pos = config.get_string("position_embedding_type", "absolute");
    if (pos != "absolute")
        throw file_error(config.source(), "key 'position_embedding_type' = '" + pos + "' is not supported (only 'absolute')");
    if (c.num_attention_heads <= 0 || c.hidden_size % c.num_attention_heads != 0)
        throw file_error(config.source(), "key 'num_attention_heads' (" + std::to_string(c.num_attention_heads) +
                                              ") does not divide 'hidden_size' (" + std::to_string(c.hidden_size) + ")");
    if (c.pad_token_id >= c.vocab_size)
        throw file_error(config.source(), "key 'pad_token_id' (" + std::to_string(c.pad_token_id) +
                                              ") is outside the vocabulary ('vocab_size' " + std::to_string(c.vocab_size) + ")");
    if (roberta && c.max_position_embeddings <= c.pad_token_id + 1)
        throw file_error(config.source(), "key 'max_position_embeddings' (" + std::to_string(c.max_position_embeddings) +
                                              ") leaves no position after padding_idx + 1 (RoBERTa counts from there)");
    return c;
}

namespace {

// Checkpoints of the pre-training / masked-LM heads (bert-base-uncased, roberta-base) hold the
// encoder under "bert." / "roberta."; BertModel checkpoints hold it at the top.
std::string checkpoint_prefix(const TensorMap& tensors, bool roberta) {
    const std::string head_prefix = roberta ? "roberta." : "bert.";
    if (!tensors.count("embeddings.word_embeddings.weight") && tensors.count(head_prefix + "embeddings.word_embeddings.weight"))
        return head_prefix;
    return "";
}

}  // namespace

void BertConfig::check_checkpoint(const HfConfig& config, const TensorMap& tensors, const std::string& checkpoint) const {
    const CheckpointShapes shapes(tensors, checkpoint, checkpoint_prefix(tensors, roberta));
    const ConfigSize hidden = config_size(config, "hidden_size", hidden_size);
    shapes.expect("embeddings.word_embeddings.weight", {config_size(config, "vocab_size", vocab_size), hidden});
    shapes.expect("embeddings.position_embeddings.weight",
                  {config_size(config, "max_position_embeddings", max_position_embeddings), hidden});
    shapes.expect("embeddings.token_type_embeddings.weight", {config_size(config, "type_vocab_size", type_vocab_size), hidden});
    shapes.expect_count("encoder.layer.", config_size(config, "num_hidden_layers", num_hidden_layers));
    shapes.expect("encoder.layer.0.intermediate.dense.weight", {config_size(config, "intermediate_size", intermediate_size), hidden});
}

namespace {

// encoder.layer.N: attention.{self.{query,key,value}, output.{dense,LayerNorm}}, intermediate.dense,
// output.{dense,LayerNorm}; the parameter-free dropouts sit where transformers has them
// (attention.self.dropout on the probabilities, attention.output.dropout, output.dropout).
struct BertLayer : torch::nn::Module {
    torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr}, attention_dense{nullptr};
    torch::nn::LayerNorm attention_norm{nullptr};
    torch::nn::Linear intermediate{nullptr}, output_dense{nullptr};
    torch::nn::LayerNorm output_norm{nullptr};
    torch::nn::Dropout attention_dropout{nullptr}, attention_output_dropout{nullptr}, output_dropout{nullptr};
    int64_t heads;
    double scale;
    Activation act;

    explicit BertLayer(const BertConfig& c)
        : heads(c.num_attention_heads),
          scale(1.0 / std::sqrt(double(c.hidden_size / c.num_attention_heads))),
          act(c.hidden_act) {
        const int64_t h = c.hidden_size;
        auto attention = add_container(*this, "attention");
        auto self = add_container(*attention, "self");
        query = self->register_module("query", make_linear(h, h));
        key = self->register_module("key", make_linear(h, h));
        value = self->register_module("value", make_linear(h, h));
        attention_dropout = self->register_module("dropout", torch::nn::Dropout(c.attention_probs_dropout_prob));
        auto attention_output = add_container(*attention, "output");
        attention_dense = attention_output->register_module("dense", make_linear(h, h));
        attention_norm = attention_output->register_module("LayerNorm", make_layer_norm(h, c.layer_norm_eps));
        attention_output_dropout = attention_output->register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
        intermediate = add_container(*this, "intermediate")->register_module("dense", make_linear(h, c.intermediate_size));
        auto output = add_container(*this, "output");
        output_dense = output->register_module("dense", make_linear(c.intermediate_size, h));
        output_norm = output->register_module("LayerNorm", make_layer_norm(h, c.layer_norm_eps));
        output_dropout = output->register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
    }

    at::Tensor forward(const at::Tensor& x, const at::Tensor& bias) {
        auto q = split_heads(query(x), heads);
        auto k = split_heads(key(x), heads);
        auto v = split_heads(value(x), heads);
        auto context = merge_heads(attention(q, k, v, bias, scale, dropout_rate(attention_dropout)));
        auto a = norm32(attention_norm, attention_output_dropout(attention_dense(context)) + x);
        auto i = apply_activation(act, intermediate(a));
        return norm32(output_norm, output_dropout(output_dense(i)) + a);
    }
};

struct BertModule : torch::nn::Module {
    torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr}, token_type_embeddings{nullptr};
    torch::nn::LayerNorm embeddings_norm{nullptr};
    torch::nn::Dropout embeddings_dropout{nullptr};
    std::vector<std::shared_ptr<BertLayer>> layers;
    torch::nn::Linear pooler{nullptr};

    explicit BertModule(const BertConfig& c) {
        const int64_t h = c.hidden_size;
        auto embeddings = add_container(*this, "embeddings");
        word_embeddings = embeddings->register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, h));
        position_embeddings =
            embeddings->register_module("position_embeddings", torch::nn::Embedding(c.max_position_embeddings, h));
        token_type_embeddings =
            embeddings->register_module("token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, h));
        embeddings_norm = embeddings->register_module("LayerNorm", make_layer_norm(h, c.layer_norm_eps));
        embeddings_dropout = embeddings->register_module("dropout", torch::nn::Dropout(c.hidden_dropout_prob));
        auto layer = add_container(*add_container(*this, "encoder"), "layer");
        for (int64_t i = 0; i < c.num_hidden_layers; ++i)
            layers.push_back(layer->register_module(std::to_string(i), std::make_shared<BertLayer>(c)));
        pooler = add_container(*this, "pooler")->register_module("dense", make_linear(h, h));
    }
};

class BertEncoder final : public TextEncoder {
public:
    explicit BertEncoder(const BertConfig& c) : config_(c), module_(std::make_shared<BertModule>(c)) { module_->eval(); }

    Family family() const override { return config_.roberta ? Family::roberta : Family::bert; }
    torch::nn::Module& module() override { return *module_; }
    int64_t vocab_size() const override { return config_.vocab_size; }
    int64_t type_vocab_size() const override { return config_.type_vocab_size; }
    int64_t hidden_size() const override { return config_.hidden_size; }
    int64_t max_tokens() const override {
        // RoBERTa positions start at padding_idx + 1.
        return config_.roberta ? config_.max_position_embeddings - config_.pad_token_id - 1
                               : config_.max_position_embeddings;
    }
    bool has_trained_pooler() const override { return trained_pooler_; }

    LoadReport load_weights(const TensorMap& tensors, const std::string& source) override {
        LoadOptions options;
        options.prefix = checkpoint_prefix(tensors, config_.roberta);
        // The pooler is optional: roberta-base has none, and we refuse pooling 'pooler' then
        // instead of using random weights as transformers would.
        options.allow_missing = {"pooler.dense.weight", "pooler.dense.bias"};
        options.ignore_unexpected = {"embeddings.position_ids", "embeddings.token_type_ids"};
        const bool has_weight = tensors.count(options.prefix + "pooler.dense.weight") > 0;
        const bool has_bias = tensors.count(options.prefix + "pooler.dense.bias") > 0;
        if (has_weight != has_bias)
            throw file_error(source, "checkpoint holds only one of " + options.prefix + "pooler.dense.weight / .bias");
        LoadReport report = load_state_dict(*module_, tensors, source, options);
        trained_pooler_ = has_weight;
        source_ = source;
        return report;
    }

protected:
    EncoderOutput encode(const Inputs& in) override {
        const at::Tensor& ids = in.ids;
        const at::Tensor& mask = in.mask;
        auto& m = *module_;
        const int64_t t = ids.size(1);
        at::Tensor positions;
        if (config_.roberta) {
            // create_position_ids_from_input_ids: pads keep padding_idx, tokens count from it + 1.
            auto not_pad = ids.ne(config_.pad_token_id).to(at::kLong);
            positions = at::cumsum(not_pad, 1) * not_pad + config_.pad_token_id;
        } else {
            positions = at::arange(t, ids.options()).unsqueeze(0);
        }
        // Absent token_type_ids are zeros: row 0 of the table. Added as transformers does (words +
        // token types, then + positions).
        auto x = m.word_embeddings(ids) +
                 (in.token_type_ids.defined() ? m.token_type_embeddings(in.token_type_ids) : m.token_type_embeddings->weight[0]);
        x = m.embeddings_dropout(norm32(m.embeddings_norm, x + m.position_embeddings(positions)));
        auto bias = padding_bias(mask, x.scalar_type());
        for (auto& layer : m.layers) x = layer->forward(x, bias);

        EncoderOutput out;
        out.last_hidden_state = x;
        if (trained_pooler_ || in.untrained_pooler) out.pooler_output = at::tanh(m.pooler(x.select(1, 0)));
        out.eos_index = last_non_pad_index(mask);
        return out;
    }

private:
    BertConfig config_;
    std::shared_ptr<BertModule> module_;
    bool trained_pooler_ = false;
};

}  // namespace

std::unique_ptr<TextEncoder> make_bert_encoder(const BertConfig& config) { return std::make_unique<BertEncoder>(config); }

}  // namespace syn::models
