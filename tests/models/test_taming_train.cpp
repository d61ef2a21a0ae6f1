// The prefix-mapping trainer: on a small set of images (encoded once to codes by tiny-taming's
// VQGAN) and caption embeddings, a few AdamW steps lower the loss; the GPT stays frozen.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "core/io/errors.h"
#include "core/run/train_mapping.h"
#include "models/mingpt.h"
#include "models/prefix_mapping.h"
#include "models/taming_config.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using namespace syn::models;
using namespace syn::run;

namespace {

// Smooth random images in [-1, 1] (low-frequency noise, upsampled), so their codes vary.
at::Tensor make_images(int64_t n, int64_t side, uint64_t seed) {
    torch::manual_seed(seed);
    auto low = at::rand({n, 3, side / 4, side / 4}) * 2.0 - 1.0;
    return at::upsample_bilinear2d(low, {side, side}, false);
}

TEST(MappingTrainer, FewStepsLowerTheLossAndLeaveTheGptFrozen) {
    SYN_REQUIRE_SHARED();
    auto model = load_taming((fs::path(syn::test::fixtures_dir()) / "models" / "tiny-taming").string());
    const int64_t n = 24;
    auto codes = model.vqgan->encode(make_images(n, 32, 3)).indices;  // cached once, as the trainer expects
    ASSERT_EQ(codes.sizes(), (std::vector<int64_t>{n, 64}));
    // Caption embeddings that carry information about the codes (a fixed random projection of their
    // histogram), as a text encoder's would about the face.
    auto histogram = at::one_hot(codes, 64).sum(1).to(at::kFloat) / 64.0;
    auto text = at::matmul(histogram, at::randn({64, 16}));
    auto gpt_before = model.gpt->module().named_parameters()["head.weight"].clone();

    PrefixMapping mapping(16, model.gpt->config().n_embd);
    const double before = mapping_loss(mapping, *model.gpt, text, codes).item<double>();
    MappingTrainOptions options;
    options.batch_size = 8;
    options.epochs = 10;
    options.learning_rate = 5e-3;
    options.seed = 1;
    std::vector<long long> progress;
    auto report = train_mapping(mapping, *model.gpt, text, codes, options, nullptr,
                                [&](const std::string&, long long done, long long) { progress.push_back(done); });
    torch::NoGradGuard no_grad;
    const double after = mapping_loss(mapping, *model.gpt, text, codes).item<double>();
    std::printf("  loss %.4f -> %.4f over %lld steps (epoch losses %.4f .. %.4f)\n", before, after,
                (long long)report.steps, report.epoch_losses.front(), report.epoch_losses.back());
    EXPECT_EQ(report.steps, 30);
    EXPECT_EQ(progress.size(), 30u);
    EXPECT_EQ(report.step_losses.size(), 30u);
    EXPECT_LT(after, before - 0.01);
    EXPECT_LT(report.epoch_losses.back(), report.epoch_losses.front());
    EXPECT_TRUE(at::equal(gpt_before, model.gpt->module().named_parameters()["head.weight"]));
}

TEST(MappingTrainer, MaxStepsCancelAndBadInput) {
    GPTConfig c;
    c.vocab_size = 16, c.block_size = 9, c.n_layer = 1, c.n_head = 2, c.n_embd = 8;
    MinGPT gpt(c);
    PrefixMapping mapping(4, 8);
    auto text = at::randn({10, 4});
    auto codes = at::randint(0, 16, {10, 9}, at::kLong);
    MappingTrainOptions o;
    o.batch_size = 3;
    o.max_steps = 5;
    EXPECT_EQ(train_mapping(mapping, gpt, text, codes, o).steps, 5);
    CancelToken token;
    token.cancel();
    EXPECT_THROW(train_mapping(mapping, gpt, text, codes, o, &token), Cancelled);
    EXPECT_THROW(train_mapping(mapping, gpt, text.narrow(0, 0, 9), codes, o), syn::Error);          // N differs
    EXPECT_THROW(train_mapping(mapping, gpt, text, at::zeros({10, 10}, at::kLong), o), syn::Error);  // > block
    EXPECT_THROW(train_mapping(mapping, gpt, at::randn({10, 5}), codes, o), syn::Error);           // width
}

}  // namespace
