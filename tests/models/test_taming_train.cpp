// The prefix-mapping trainer: on a small set of images (encoded once to codes by tiny-taming's
// VQGAN) and caption embeddings, a few AdamW steps lower the loss; the GPT stays frozen.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "core/io/errors.h"
#include "core/io/torch/tensor_bridge.h"
#include "core/run/jobs/train_mapping.h"
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
    MappingTrainHooks hooks;
    hooks.progress = [&](const syn::run::Progress& p) { progress.push_back(p.done); };
    MappingTrainState state;
    auto report = train_mapping(mapping, *model.gpt, MappingData{codes, text}, options, state, {}, hooks);
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
    auto train = [&](const MappingData& data, const MappingTrainHooks& hooks = {}) {
        MappingTrainState state;
        return train_mapping(mapping, gpt, data, o, state, {}, hooks);
    };
    EXPECT_EQ(train({codes, text}).steps, 5);
    CancelToken token;
    token.cancel();
    MappingTrainHooks cancelled;
    cancelled.cancel = &token;
    EXPECT_THROW(train({codes, text}, cancelled), Cancelled);
    EXPECT_THROW(train({codes, text.narrow(0, 0, 9)}), syn::Error);          // N differs
    EXPECT_THROW(train({at::zeros({10, 10}, at::kLong), text}), syn::Error);  // > block
    EXPECT_THROW(train({codes, at::randn({10, 5})}), syn::Error);           // width
    MappingData owners{codes, at::randn({4, 4}), at::tensor({0, 1, 2, 10}, at::kLong)};
    EXPECT_THROW(train(owners), syn::Error);  // a caption of image 10 of 10
    MappingData random{codes};
    random.random_dim = 5;
    EXPECT_THROW(train(random), syn::Error);  // the mapping takes 4
    random.random_dim = 4;
    EXPECT_EQ(train(random).steps, 5);
}

// Resuming from the state and optimizer saved at an epoch end gives the same losses and weights as an
// uninterrupted run; several captions per image are drawn one per image per epoch.
TEST(MappingTrainer, ResumedRunEqualsUninterruptedRun) {
    GPTConfig c;
    c.vocab_size = 16, c.block_size = 9, c.n_layer = 1, c.n_head = 2, c.n_embd = 8;
    torch::manual_seed(5);
    MinGPT gpt(c);
    auto codes = at::randint(0, 16, {12, 9}, at::kLong);
    MappingData data{codes, at::randn({30, 4}), at::arange(30, at::kLong).remainder(12)};
    MappingTrainOptions o;
    o.batch_size = 5;
    o.epochs = 3;
    o.seed = 9;
    EXPECT_EQ(mapping_samples_per_epoch(data), 12);  // one caption per image per epoch

    torch::manual_seed(1);
    PrefixMapping straight(4, 8);
    MappingTrainState s1;
    auto full = train_mapping(straight, gpt, data, o, s1);
    EXPECT_EQ(full.steps, 9);
    EXPECT_EQ(s1.epochs_done, 3);

    torch::manual_seed(1);
    PrefixMapping resumed(4, 8);
    MappingTrainState s2;
    std::stringstream saved_optimizer;
    MappingTrainHooks first;
    first.stop_after_epochs = 1;
    first.on_epoch_end = [&](const MappingTrainState&, const MappingTrainReport&, torch::optim::Optimizer& opt) {
        saved_optimizer.str("");
        torch::save(opt, saved_optimizer);
    };
    auto part = train_mapping(resumed, gpt, data, o, s2, {}, first);
    EXPECT_EQ(part.steps, 3);
    EXPECT_EQ(s2.epochs_done, 1);
    MappingTrainHooks second;
    second.restore_optimizer = [&](torch::optim::Optimizer& opt) { torch::load(opt, saved_optimizer); };
    auto rest = train_mapping(resumed, gpt, data, o, s2, part, second);
    ASSERT_EQ(rest.step_losses.size(), full.step_losses.size());
    for (std::size_t i = 0; i < full.step_losses.size(); ++i) EXPECT_DOUBLE_EQ(rest.step_losses[i], full.step_losses[i]) << i;
    EXPECT_TRUE(at::allclose(syn::to_torch(straight.state_dict().at("linear.weight")),
                             syn::to_torch(resumed.state_dict().at("linear.weight")), 0, 0));

    MappingData every = data;
    every.all_captions = true;
    EXPECT_EQ(mapping_samples_per_epoch(every), 30);
}

}  // namespace
