// Classification heads on the tiny fixture models: the heads' logits agree with the head layers
// applied to TextEncoder::forward (eval and train mode), gradients agree with central finite
// differences in double precision, linear probes train only the head, dropout is seeded. And
// TextEncoder::forward itself: gradients reach the encoder weights, dropout follows train()/eval(),
// token types reach BERT, inference callers under a guard build no graph.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/text/tokenizer.h"
#include "models/classification_heads.h"
#include "models/registry.h"
#include "tests/support/shared_paths.h"

using namespace syn::models;

namespace {

std::string model_dir(const std::string& name) { return syn::test::fixtures_dir() + "/models/" + name; }

struct Batch {
    at::Tensor ids, mask, types;
};

Batch make_batch(const std::string& folder, bool pairs) {
    auto tok = syn::text::load_tokenizer(folder);
    std::vector<syn::text::Encoding> enc;
    if (pairs) {
        enc.push_back(tok->encode_pair("a man rides a horse", "someone is riding"));
        enc.push_back(tok->encode_pair("the cat sleeps", "a dog barks loudly at night"));
        enc.push_back(tok->encode_pair("hello", "world"));
    } else {
        enc.push_back(tok->encode("a man rides a horse"));
        enc.push_back(tok->encode("the cat sleeps on the warm mat today"));
        enc.push_back(tok->encode("hello"));
    }
    syn::text::pad_batch(enc, {syn::text::PaddingMode::Longest, 0}, tok->pad_id(), tok->pad_token());
    const int64_t b = enc.size(), t = enc[0].ids.size();
    Batch out{torch::zeros({b, t}, torch::kLong), torch::zeros({b, t}, torch::kLong), torch::zeros({b, t}, torch::kLong)};
    for (int64_t i = 0; i < b; ++i)
        for (int64_t j = 0; j < t; ++j) {
            out.ids[i][j] = int64_t(enc[i].ids[j]);
            out.mask[i][j] = int64_t(enc[i].attention_mask[j]);
            out.types[i][j] = int64_t(enc[i].type_ids[j]);
        }
    return out;
}

std::map<std::string, at::Tensor> params(SequenceClassifier& c) {
    std::map<std::string, at::Tensor> out;
    for (const auto& p : c.module().named_parameters()) out[p.key()] = p.value();
    return out;
}

std::unique_ptr<SequenceClassifier> make(const std::string& name, int outputs, bool freeze = false) {
    torch::manual_seed(7);
    ClassifierOptions o;
    o.num_outputs = outputs;
    o.freeze_encoder = freeze;
    return SequenceClassifier::load(model_dir(name), o);
}

// What the head computes, written from the inference forward of the encoder (no grad).
at::Tensor reference_logits(SequenceClassifier& c, const Batch& b) {
    torch::NoGradGuard no_grad;
    auto p = params(c);
    EncoderOutput out = c.encoder().forward(b.ids, b.mask);
    switch (c.kind()) {
        case HeadKind::bert:
            return torch::linear(out.pooler_output, p.at("classifier.weight"), p.at("classifier.bias"));
        case HeadKind::roberta: {
            auto x = torch::tanh(torch::linear(out.last_hidden_state.select(1, 0), p.at("classifier.dense.weight"),
                                               p.at("classifier.dense.bias")));
            return torch::linear(x, p.at("classifier.out_proj.weight"), p.at("classifier.out_proj.bias"));
        }
        case HeadKind::clip: {
            auto last = b.mask.sum(1) - 1;
            auto h = out.last_hidden_state.index({torch::arange(b.ids.size(0)), last});
            auto proj = torch::linear(h, p.at("clip.text_projection.weight"));
            return torch::linear(proj, p.at("classifier.weight"), p.at("classifier.bias"));
        }
    }
    return {};
}

// Central differences of the loss against autograd for a few scalar entries of named parameters.
void check_gradients(SequenceClassifier& c, const Batch& b, const at::Tensor& targets,
                     const std::vector<std::pair<std::string, std::vector<int64_t>>>& entries) {
    c.to(torch::kCPU, torch::kDouble);
    c.train(false);  // no dropout: the loss is a deterministic function of the weights
    auto p = params(c);
    for (auto& kv : p)
        if (kv.second.grad().defined()) kv.second.mutable_grad().zero_();
    auto loss = c.loss(c.forward(b.ids, b.mask, b.types), targets);
    loss.backward();
    for (const auto& [name, index] : entries) {
        SCOPED_TRACE(name);
        ASSERT_TRUE(p.count(name)) << "no parameter " << name;
        at::Tensor w = p.at(name);
        ASSERT_TRUE(w.grad().defined());
        std::vector<at::indexing::TensorIndex> idx(index.begin(), index.end());
        const double analytic = w.grad().index(idx).item<double>();
        const double h = 1e-6;
        double numeric;
        {
            torch::NoGradGuard no_grad;
            auto entry = w.index(idx);
            const double original = entry.item<double>();
            w.index_put_(idx, original + h);
            const double up = c.loss(c.forward(b.ids, b.mask, b.types), targets).item<double>();
            w.index_put_(idx, original - h);
            const double down = c.loss(c.forward(b.ids, b.mask, b.types), targets).item<double>();
            w.index_put_(idx, original);
            numeric = (up - down) / (2 * h);
        }
        EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-5 * std::abs(numeric)) << "analytic " << analytic << " numeric " << numeric;
        EXPECT_NE(analytic, 0.0) << "a zero gradient proves nothing: pick another entry";
    }
}

}  // namespace

TEST(ClassificationHeads, EvalForwardMatchesEncoderInferenceForward) {
    SYN_REQUIRE_SHARED();
    for (const std::string name : {"tiny-bert", "tiny-roberta", "tiny-clip"}) {
        SCOPED_TRACE(name);
        auto c = make(name, 3);
        const Batch b = make_batch(model_dir(name), false);
        torch::NoGradGuard no_grad;
        auto got = c->forward(b.ids, b.mask);
        auto want = reference_logits(*c, b);
        ASSERT_EQ(got.sizes(), want.sizes());
        EXPECT_EQ(got.size(1), 3);
        EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-5)) << got << want;
    }
}

TEST(ClassificationHeads, ParameterNamesFollowTransformers) {
    SYN_REQUIRE_SHARED();
    auto bert = params(*make("tiny-bert", 2));
    EXPECT_TRUE(bert.count("bert.encoder.layer.0.attention.self.query.weight"));
    EXPECT_TRUE(bert.count("bert.pooler.dense.weight"));
    EXPECT_EQ(bert.at("classifier.weight").sizes(), (std::vector<int64_t>{2, 32}));
    auto roberta = params(*make("tiny-roberta", 3));
    EXPECT_EQ(roberta.at("classifier.dense.weight").sizes(), (std::vector<int64_t>{32, 32}));
    EXPECT_EQ(roberta.at("classifier.out_proj.weight").sizes(), (std::vector<int64_t>{3, 32}));
    auto clip = params(*make("tiny-clip", 2));
    EXPECT_EQ(clip.at("classifier.weight").sizes(), (std::vector<int64_t>{2, 16}));  // projection_dim 16
    EXPECT_TRUE(clip.count("clip.text_projection.weight"));
}

TEST(ClassificationHeads, TokenTypesReachBertEmbeddings) {
    SYN_REQUIRE_SHARED();
    auto c = make("tiny-bert", 2);
    const Batch b = make_batch(model_dir("tiny-bert"), true);
    ASSERT_GT(b.types.max().item<int64_t>(), 0) << "encode_pair gave no second segment";
    torch::NoGradGuard no_grad;
    EXPECT_FALSE(torch::allclose(c->forward(b.ids, b.mask, b.types), c->forward(b.ids, b.mask)));
}

TEST(ClassificationHeads, BertGradientsMatchFiniteDifferences) {
    SYN_REQUIRE_SHARED();
    auto c = make("tiny-bert", 2);
    const Batch b = make_batch(model_dir("tiny-bert"), true);
    const int64_t used_id = b.ids[0][2].item<int64_t>();
    check_gradients(*c, b, torch::tensor({1, 0, 1}),
                    {{"classifier.weight", {1, 3}},
                     {"classifier.bias", {0}},
                     {"bert.pooler.dense.weight", {2, 5}},
                     {"bert.encoder.layer.1.output.dense.weight", {4, 7}},
                     {"bert.encoder.layer.0.attention.self.query.weight", {3, 1}},
                     {"bert.embeddings.word_embeddings.weight", {used_id, 6}},
                     {"bert.embeddings.token_type_embeddings.weight", {1, 2}},
                     {"bert.embeddings.LayerNorm.weight", {9}}});
}

TEST(ClassificationHeads, RobertaGradientsMatchFiniteDifferences) {
    SYN_REQUIRE_SHARED();
    auto c = make("tiny-roberta", 3);
    const Batch b = make_batch(model_dir("tiny-roberta"), true);
    check_gradients(*c, b, torch::tensor({2, 0, 1}),
                    {{"classifier.out_proj.weight", {2, 5}},
                     {"classifier.dense.weight", {4, 1}},
                     {"classifier.dense.bias", {3}},
                     {"roberta.encoder.layer.1.attention.self.value.weight", {0, 8}},
                     {"roberta.embeddings.position_embeddings.weight", {3, 4}}});
}

TEST(ClassificationHeads, ClipGradientsMatchFiniteDifferences) {
    SYN_REQUIRE_SHARED();
    auto c = make("tiny-clip", 2);
    const Batch b = make_batch(model_dir("tiny-clip"), false);
    check_gradients(*c, b, torch::tensor({0, 1, 1}),
                    {{"classifier.weight", {1, 3}},
                     {"clip.text_projection.weight", {2, 5}},
                     {"clip.text_model.final_layer_norm.bias", {4}},
                     {"clip.text_model.encoder.layers.0.mlp.fc1.weight", {5, 2}},
                     {"clip.text_model.encoder.layers.1.self_attn.k_proj.weight", {6, 7}}});
}

TEST(ClassificationHeads, RegressionHeadUsesMseAndMatchesFiniteDifferences) {
    SYN_REQUIRE_SHARED();
    auto c = make("tiny-bert", 1);
    EXPECT_TRUE(c->regression());
    const Batch b = make_batch(model_dir("tiny-bert"), true);
    {
        torch::NoGradGuard no_grad;
        auto logits = c->forward(b.ids, b.mask, b.types);
        ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{3, 1}));
        auto targets = torch::tensor({4.5, 0.0, 2.0});
        const double want = (logits.squeeze(-1).to(torch::kDouble) - targets).pow(2).mean().item<double>();
        EXPECT_NEAR(c->loss(logits, targets).item<double>(), want, 1e-6);
    }
    check_gradients(*c, b, torch::tensor({4.5, 0.0, 2.0}, torch::kDouble),
                    {{"classifier.weight", {0, 3}}, {"bert.encoder.layer.0.intermediate.dense.weight", {2, 3}}});
}

TEST(ClassificationHeads, LinearProbeTrainsOnlyTheHead) {
    SYN_REQUIRE_SHARED();
    auto c = make("tiny-clip", 2, /*freeze=*/true);
    const auto trainable = c->trainable_parameters();
    ASSERT_EQ(trainable.size(), 2u);  // classifier.weight, classifier.bias
    const Batch b = make_batch(model_dir("tiny-clip"), false);
    c->train(true);
    c->loss(c->forward(b.ids, b.mask), torch::tensor({0, 1, 1})).backward();
    auto p = params(*c);
    EXPECT_TRUE(p.at("classifier.weight").grad().defined());
    EXPECT_FALSE(p.at("clip.text_projection.weight").grad().defined());
    EXPECT_FALSE(p.at("clip.text_model.encoder.layers.0.mlp.fc1.weight").grad().defined());
}

TEST(ClassificationHeads, DropoutIsActiveInTrainingAndSeeded) {
    SYN_REQUIRE_SHARED();
    auto c = make("tiny-bert", 2);
    const Batch b = make_batch(model_dir("tiny-bert"), true);
    torch::NoGradGuard no_grad;
    auto eval = c->forward(b.ids, b.mask, b.types);
    c->train(true);
    torch::manual_seed(3);
    auto first = c->forward(b.ids, b.mask, b.types);
    torch::manual_seed(3);
    auto second = c->forward(b.ids, b.mask, b.types);
    EXPECT_TRUE(torch::equal(first, second));
    EXPECT_FALSE(torch::allclose(first, eval));
}

TEST(ClassificationHeads, BadInputThrowsSynError) {
    SYN_REQUIRE_SHARED();
    auto c = make("tiny-clip", 2);
    auto ids = torch::ones({1, 78}, torch::kLong);
    EXPECT_THROW(c->forward(ids, torch::ones_like(ids)), syn::Error);  // beyond 77 positions
    auto bad = torch::full({1, 4}, 1 << 20, torch::kLong);
    EXPECT_THROW(c->forward(bad, torch::ones_like(bad)), syn::Error);
    EXPECT_THROW(c->forward(torch::ones({1, 4}, torch::kLong), torch::ones({1, 3}, torch::kLong)), syn::Error);
    ClassifierOptions o;
    o.num_outputs = 0;
    EXPECT_THROW(SequenceClassifier::load(model_dir("tiny-bert"), o), syn::Error);
}

// TextEncoder::forward is the fine-tuning forward too: autograd follows the caller, dropout the
// module's train()/eval() mode, token types reach BERT and are refused where a family has none.
TEST(EncoderForward, GradientsReachEncoderWeights) {
    SYN_REQUIRE_SHARED();
    for (const std::string name : {"tiny-bert", "tiny-roberta", "tiny-clip", "tiny-t5-encoder"}) {
        SCOPED_TRACE(name);
        auto encoder = load_text_encoder(model_dir(name));
        ASSERT_TRUE(torch::GradMode::is_enabled());
        auto ids = torch::tensor({{0, 5, 7, 9, 2}, {0, 11, 2, 1, 1}}, torch::kLong);
        auto mask = torch::tensor({{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}}, torch::kLong);
        const EncoderOutput out = encoder->forward(ids, mask);
        ASSERT_TRUE(out.last_hidden_state.requires_grad());
        out.last_hidden_state.pow(2).sum().backward();
        // The token embedding table: the first parameter of every family here.
        const auto named = encoder->module().named_parameters();
        const at::Tensor embedding = named.begin()->value();
        SCOPED_TRACE(named.begin()->key());
        ASSERT_TRUE(embedding.grad().defined());
        EXPECT_GT(embedding.grad()[5].abs().sum().item<double>(), 0.0);  // a row the batch used
        EXPECT_EQ(embedding.grad()[3].abs().sum().item<double>(), 0.0);  // one it did not
    }
}

TEST(EncoderForward, InferenceCallersBuildNoGraph) {
    SYN_REQUIRE_SHARED();
    auto encoder = load_text_encoder(model_dir("tiny-bert"));
    auto ids = torch::tensor({{0, 5, 7, 2}}, torch::kLong);
    auto mask = torch::ones_like(ids);
    {
        torch::NoGradGuard no_grad;
        const EncoderOutput out = encoder->forward(ids, mask);
        EXPECT_FALSE(out.last_hidden_state.requires_grad());
        EXPECT_FALSE(out.pooler_output.requires_grad());
    }
    {
        c10::InferenceMode inference;
        EXPECT_FALSE(encoder->forward(ids, mask).last_hidden_state.requires_grad());
    }
}

TEST(EncoderForward, DropoutFollowsTrainAndEvalMode) {
    SYN_REQUIRE_SHARED();
    for (const std::string name : {"tiny-bert", "tiny-roberta", "tiny-clip"}) {
        SCOPED_TRACE(name);
        auto encoder = load_text_encoder(model_dir(name));
        if (name == "tiny-clip")  // CLIP configs ship attention_dropout 0.0: give it some
            for (const auto& m : encoder->module().modules())
                if (auto* d = dynamic_cast<torch::nn::DropoutImpl*>(m.get())) d->options.p(0.3);
        auto ids = torch::tensor({{0, 5, 7, 9, 2}, {0, 11, 2, 1, 1}}, torch::kLong);
        auto mask = torch::tensor({{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}}, torch::kLong);
        torch::NoGradGuard no_grad;
        const at::Tensor eval1 = encoder->forward(ids, mask).last_hidden_state;
        const at::Tensor eval2 = encoder->forward(ids, mask).last_hidden_state;
        EXPECT_TRUE(torch::equal(eval1, eval2));
        encoder->module().train(true);
        const at::Tensor train1 = encoder->forward(ids, mask).last_hidden_state;
        const at::Tensor train2 = encoder->forward(ids, mask).last_hidden_state;
        EXPECT_FALSE(torch::allclose(train1, train2));
        EXPECT_FALSE(torch::allclose(train1, eval1));
        encoder->module().eval();
        EXPECT_TRUE(torch::equal(encoder->forward(ids, mask).last_hidden_state, eval1));
    }
}

TEST(EncoderForward, DropoutModulesAddNoCheckpointKeys) {
    SYN_REQUIRE_SHARED();
    auto encoder = load_text_encoder(model_dir("tiny-bert"));
    int dropouts = 0;
    for (const auto& m : encoder->module().named_modules())
        if (auto* d = dynamic_cast<torch::nn::DropoutImpl*>(m.value().get())) {
            ++dropouts;
            EXPECT_DOUBLE_EQ(d->options.p(), 0.1) << m.key();  // the config's hidden / attention dropout
        }
    EXPECT_EQ(dropouts, 1 + 3 * 2);  // embeddings + 3 per layer, 2 layers
    for (const auto& p : encoder->module().named_parameters()) EXPECT_EQ(p.key().find("dropout"), std::string::npos);
    for (const auto& b : encoder->module().named_buffers()) EXPECT_EQ(b.key().find("dropout"), std::string::npos);
}

TEST(EncoderForward, TokenTypesReachBertAndAreRefusedElsewhere) {
    SYN_REQUIRE_SHARED();
    auto bert = load_text_encoder(model_dir("tiny-bert"));
    auto ids = torch::tensor({{0, 5, 7, 9, 2}}, torch::kLong);
    auto mask = torch::ones_like(ids);
    auto types = torch::tensor({{0, 0, 1, 1, 1}}, torch::kLong);
    torch::NoGradGuard no_grad;
    ForwardOptions zeros, pair;
    zeros.token_type_ids = torch::zeros_like(ids);
    pair.token_type_ids = types;
    const auto plain = bert->forward(ids, mask).last_hidden_state;
    EXPECT_TRUE(torch::allclose(bert->forward(ids, mask, zeros).last_hidden_state, plain, 1e-6, 1e-6));
    EXPECT_FALSE(torch::allclose(bert->forward(ids, mask, pair).last_hidden_state, plain));
    ForwardOptions beyond;
    beyond.token_type_ids = torch::full_like(ids, 2);  // type_vocab_size 2
    EXPECT_THROW(bert->forward(ids, mask, beyond), syn::Error);
    ForwardOptions misshaped;
    misshaped.token_type_ids = torch::zeros({1, 4}, torch::kLong);
    EXPECT_THROW(bert->forward(ids, mask, misshaped), syn::Error);

    auto clip = load_text_encoder(model_dir("tiny-clip"));
    EXPECT_NO_THROW(clip->forward(ids, mask, zeros));
    try {
        clip->forward(ids, mask, pair);
        ADD_FAILURE() << "CLIP took non-zero token types";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("no token type embeddings"), std::string::npos) << e.what();
    }
}

TEST(ClassificationHeads, TrainingForwardIsTheEncoderForward) {
    SYN_REQUIRE_SHARED();
    // With the same seed, the head's train-mode features are the encoder's own train-mode outputs:
    // one forward, no second implementation beside it.
    auto c = make("tiny-roberta", 2);
    const Batch b = make_batch(model_dir("tiny-roberta"), false);
    c->train(true);
    torch::NoGradGuard no_grad;
    torch::manual_seed(11);
    const auto got = c->forward(b.ids, b.mask);
    torch::manual_seed(11);
    auto p = params(*c);
    const auto hidden = c->encoder().forward(b.ids, b.mask).last_hidden_state.select(1, 0);
    const double head_p = 0.1;  // tiny-roberta: classifier_dropout absent -> hidden_dropout_prob
    auto x = torch::dropout(hidden, head_p, true);
    x = torch::tanh(torch::linear(x, p.at("classifier.dense.weight"), p.at("classifier.dense.bias")));
    const auto want = torch::linear(torch::dropout(x, head_p, true), p.at("classifier.out_proj.weight"),
                                    p.at("classifier.out_proj.bias"));
    EXPECT_TRUE(torch::allclose(got, want, 1e-6, 1e-6)) << got << want;
}
