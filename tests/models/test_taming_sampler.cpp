// The code sampler (core/run/generate): cached decoding equals the uncached forward at every step,
// seeds make it reproducible, top-k / top-p / temperature filter as documented, cancellation and
// progress work. Runs on random tiny GPTs (always) and on tiny-taming (when ../shared is present).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <set>

#include "core/io/errors.h"
#include "core/run/jobs/generate.h"
#include "models/mingpt.h"
#include "models/vqgan.h"
#include "models/taming_config.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using namespace syn::models;
using namespace syn::run;

namespace {

// A GPT with every parameter random (pos_emb and LayerNorms included), so no shortcut hides.
std::unique_ptr<MinGPT> random_gpt(int64_t vocab = 48, int64_t block = 40, uint64_t seed = 7) {
    GPTConfig c;
    c.vocab_size = vocab, c.block_size = block, c.n_layer = 2, c.n_head = 4, c.n_embd = 32;
    auto gpt = std::make_unique<MinGPT>(c);
    torch::manual_seed(seed);
    torch::NoGradGuard no_grad;
    for (auto& p : gpt->module().parameters()) p.normal_(0.0, 0.3);
    return gpt;
}

// Uncached reference: the logits of every step from one forward over [SOS, codes[:-1]].
at::Tensor uncached_logits(MinGPT& gpt, const at::Tensor& codes, const at::Tensor& prefix, int64_t sos) {
    torch::NoGradGuard no_grad;
    auto input = at::cat({at::full({codes.size(0), 1}, sos, codes.options()), codes.narrow(1, 0, codes.size(1) - 1)}, 1);
    return prefix.defined() ? gpt.forward_with_prefix(input, prefix) : gpt.forward(input);
}

double check_cached_equals_uncached(MinGPT& gpt, SampleRequest request, SamplingOptions options) {
    std::vector<at::Tensor> step_logits;
    auto codes = sample_codes(gpt, request, options, nullptr, {},
                              [&](int64_t, const at::Tensor& logits, const at::Tensor&) { step_logits.push_back(logits.clone()); });
    EXPECT_EQ(static_cast<int64_t>(step_logits.size()), options.num_tokens);
    auto reference = uncached_logits(gpt, codes, request.prefix, options.sos_token);
    double worst = 0.0;
    for (int64_t s = 0; s < options.num_tokens; ++s)
        worst = std::max(worst, (step_logits[s] - reference.select(1, s)).abs().max().item<double>());
    return worst;
}

TEST(Sampler, CachedLogitsEqualUncachedForwardAtEveryStep) {
    auto gpt = random_gpt();
    SamplingOptions options;
    options.num_tokens = 40;  // the whole block
    SampleRequest request;
    request.batch = 3;
    request.seeds = {11};
    const double plain = check_cached_equals_uncached(*gpt, request, options);
    request.prefix = at::randn({3, 1, 32});
    options.top_k = 10;
    const double prefixed = check_cached_equals_uncached(*gpt, request, options);
    std::printf("  cached vs uncached max abs diff: %.3g (plain), %.3g (prefix)\n", plain, prefixed);
    EXPECT_LE(plain, 1e-4);
    EXPECT_LE(prefixed, 1e-4);
}

TEST(Sampler, CachedLogitsEqualUncachedOnTinyTaming) {
    SYN_REQUIRE_SHARED();
    auto model = load_taming((fs::path(syn::test::fixtures_dir()) / "models" / "tiny-taming").string());
    SamplingOptions options;
    options.num_tokens = 64;
    options.top_k = 16;
    SampleRequest request;
    request.prefix = at::randn({2, 1, 32});
    request.seeds = {5, 6};
    const double diff = check_cached_equals_uncached(*model.gpt, request, options);
    std::printf("  tiny-taming cached vs uncached max abs diff: %.3g\n", diff);
    EXPECT_LE(diff, 1e-4);
}

TEST(Sampler, GenerateImagesOnTinyTamingIsReproducible) {
    SYN_REQUIRE_SHARED();
    auto model = load_taming((fs::path(syn::test::fixtures_dir()) / "models" / "tiny-taming").string());
    SamplingOptions options;
    options.num_tokens = 64;
    options.top_k = 16;
    SampleRequest request;
    request.prefix = at::randn({2, 1, 32});
    request.seeds = {21, 22};
    std::vector<std::string> stages;
    auto a = generate_images(*model.gpt, *model.vqgan, request, options, nullptr,
                             [&](const syn::run::Progress& p) {
                                 const std::string stage = syn::run::stage_name(p.stage);
                                 if (stages.empty() || stages.back() != stage) stages.push_back(stage);
                             });
    EXPECT_EQ(stages, (std::vector<std::string>{"sampling", "decoding"}));
    EXPECT_EQ(a.images.sizes(), (std::vector<int64_t>{2, 3, 32, 32}));
    EXPECT_EQ(a.rgb.sizes(), (std::vector<int64_t>{2, 32, 32, 3}));
    EXPECT_TRUE(at::equal(a.images, model.vqgan->decode_codes(a.codes)));
    auto b = generate_images(*model.gpt, *model.vqgan, request, options);
    EXPECT_TRUE(at::equal(a.rgb, b.rgb));  // same seeds, same images
    request.seeds = {23, 24};
    EXPECT_FALSE(at::equal(a.codes, generate_images(*model.gpt, *model.vqgan, request, options).codes));
    options.num_tokens = 63;  // not the 8x8 grid
    EXPECT_THROW(generate_images(*model.gpt, *model.vqgan, request, options), syn::Error);
}

TEST(Sampler, SameSeedSameCodesDifferentSeedDifferentCodes) {
    auto gpt = random_gpt();
    SamplingOptions options;
    options.num_tokens = 32;
    SampleRequest request;
    request.batch = 2;
    request.seeds = {1, 2};
    auto a = sample_codes(*gpt, request, options);
    auto b = sample_codes(*gpt, request, options);
    EXPECT_TRUE(at::equal(a, b));
    EXPECT_FALSE(at::equal(a[0], a[1]));  // rows with different seeds differ
    request.seeds = {3, 4};
    EXPECT_FALSE(at::equal(a, sample_codes(*gpt, request, options)));
    // An image depends on its own seed, not on its batch neighbours.
    request.batch = 1;
    request.seeds = {2};
    EXPECT_TRUE(at::equal(a[1], sample_codes(*gpt, request, options)[0]));
    // A single seed s gives row r the seed s + r.
    request.batch = 2;
    request.seeds = {1};
    EXPECT_TRUE(at::equal(a, sample_codes(*gpt, request, options)));
}

TEST(Sampler, TopKKeepsOnlyTheKBestTokens) {
    auto gpt = random_gpt();
    SamplingOptions options;
    options.num_tokens = 30;
    options.top_k = 3;
    SampleRequest request;
    request.batch = 4;
    request.seeds = {9};
    int64_t checked = 0;
    std::set<int64_t> ranks_seen;
    sample_codes(*gpt, request, options, nullptr, {}, [&](int64_t, const at::Tensor& logits, const at::Tensor& codes) {
        auto order = std::get<1>(at::sort(logits, -1, true));
        for (int64_t r = 0; r < logits.size(0); ++r) {
            const int64_t rank = (order[r] == codes[r]).nonzero().item<int64_t>();
            EXPECT_LT(rank, 3);
            ranks_seen.insert(rank);
            ++checked;
        }
    });
    EXPECT_EQ(checked, 120);
    EXPECT_GT(ranks_seen.size(), 1u);  // it samples, it does not take the argmax
}

TEST(Sampler, GreedyAtTemperatureZeroTakesTheArgmax) {
    auto gpt = random_gpt();
    SamplingOptions options;
    options.num_tokens = 20;
    options.temperature = 0.0;
    SampleRequest request;
    request.batch = 2;
    sample_codes(*gpt, request, options, nullptr, {}, [&](int64_t, const at::Tensor& logits, const at::Tensor& codes) {
        EXPECT_TRUE(at::equal(at::argmax(logits, -1), codes));
    });
}

TEST(Sampler, FilterLogitsTopPAndTemperature) {
    // probabilities 0.5, 0.3, 0.15, 0.05
    auto logits = at::log(at::tensor({0.05, 0.5, 0.15, 0.3}, at::kFloat)).unsqueeze(0);
    SamplingOptions o;
    o.top_p = 0.7;  // 0.5 + 0.3 reach 0.7: keep tokens 1 and 3
    const auto kept_1_and_3 = at::tensor({0, 1, 0, 1}, at::kLong);
    EXPECT_TRUE(at::equal(at::isfinite(filter_logits(logits, o))[0].to(at::kLong), kept_1_and_3));
    o.top_p = 0.4;  // the best token alone reaches it
    EXPECT_EQ(at::isfinite(filter_logits(logits, o)).sum().item<int64_t>(), 1);
    o.top_p = 1.0;
    o.temperature = 2.0;
    EXPECT_TRUE(at::allclose(filter_logits(logits, o), logits / 2.0));
    o.temperature = 1.0;
    o.top_k = 2;
    EXPECT_TRUE(at::equal(at::isfinite(filter_logits(logits, o))[0].to(at::kLong), kept_1_and_3));
}

TEST(Sampler, DrawFromFollowsTheCdfAndSkipsZeroProbabilities) {
    auto probs = at::tensor({0.0, 0.25, 0.0, 0.75}, at::kDouble).unsqueeze(0).repeat({5, 1});
    auto u = at::tensor({1e-12, 0.25, 0.2500001, 0.9, 1.0}, at::kDouble);
    EXPECT_TRUE(at::equal(draw_from(probs, u), at::tensor({1, 1, 3, 3, 3}, at::kLong)));
    // Empirical frequencies of many draws.
    auto many = draw_from(at::tensor({0.2, 0.8}, at::kDouble).unsqueeze(0).repeat({20000, 1}),
                          1.0 - at::rand({20000}, at::kDouble));
    EXPECT_NEAR(many.to(at::kDouble).mean().item<double>(), 0.8, 0.02);
}

TEST(Sampler, CancelStopsAndProgressCountsSteps) {
    auto gpt = random_gpt();
    SamplingOptions options;
    options.num_tokens = 25;
    SampleRequest request;
    std::vector<long long> seen;
    CancelToken token;
    auto sink = [&](const syn::run::Progress& p) {
        EXPECT_EQ(p.stage, syn::run::Stage::sampling);
        EXPECT_EQ(p.total, 25);
        seen.push_back(p.done);
        if (p.done == 4) token.cancel();
    };
    EXPECT_THROW(sample_codes(*gpt, request, options, &token, sink), Cancelled);
    EXPECT_EQ(seen, (std::vector<long long>{1, 2, 3, 4}));
    token.reset();
    seen.clear();
    auto codes = sample_codes(*gpt, request, options, &token, [&](const syn::run::Progress& p) { seen.push_back(p.done); });
    EXPECT_EQ(seen.size(), 25u);
    EXPECT_EQ(codes.sizes(), (std::vector<int64_t>{1, 25}));
}

TEST(Sampler, BadOptionsAreErrors) {
    auto gpt = random_gpt();
    SampleRequest request;
    SamplingOptions o;
    o.num_tokens = 41;  // beyond block_size 40
    EXPECT_THROW(sample_codes(*gpt, request, o), syn::Error);
    o.num_tokens = 4;
    o.top_p = 0.0;
    EXPECT_THROW(sample_codes(*gpt, request, o), syn::Error);
    o.top_p = 1.0;
    o.temperature = -1.0;
    EXPECT_THROW(sample_codes(*gpt, request, o), syn::Error);
    o.temperature = 1.0;
    request.batch = 3;
    request.seeds = {1, 2};  // neither one nor three seeds
    EXPECT_THROW(sample_codes(*gpt, request, o), syn::Error);
    request.seeds = {1};
    request.prefix = at::zeros({3, 1, 31});  // wrong width
    EXPECT_THROW(sample_codes(*gpt, request, o), syn::Error);
}

}  // namespace
