// CLIP-S (100 x cos, and Hessel's 2.5 x max(cos, 0)) through the project's path for generated
// images: uint8 images -> CLIP preprocessing -> vision embeds; captions -> text embeds; checked
// against tiny-clip's golden clip_score_100cos / clip_score_hessel [image, text].
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "core/io/errors.h"
#include "core/io/safetensors.h"
#include "core/io/torch/tensor_bridge.h"
#include "core/run/jobs/clip_score.h"
#include "models/registry.h"
#include "models/vqgan.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using namespace syn::run;

namespace {

TEST(ClipScore, MatchesTinyClipGoldenFromImageFiles) {
    SYN_REQUIRE_SHARED();
    const fs::path dir = fs::path(syn::test::fixtures_dir()) / "models" / "tiny-clip";
    std::map<std::string, at::Tensor> golden;
    for (const auto& [key, raw] : syn::read_safetensors((dir / "golden.safetensors").string()).tensors)
        golden[key] = syn::to_torch(raw);
    const auto config = syn::models::ClipImageConfig::load(dir.string());
    std::vector<syn::models::RgbImage> images = {syn::models::read_rgb_image((dir / "image0.png").string()),
                                                 syn::models::read_rgb_image((dir / "image1.png").string())};
    auto pixels = clip_pixel_values(images, config);
    auto vision = syn::models::load_clip_vision(dir.string());
    auto text = syn::models::load_text_encoder(dir.string());
    torch::NoGradGuard no_grad;
    auto image_embeds = vision->forward(pixels).image_embeds;
    auto text_embeds = text->forward(golden.at("input_ids"), golden.at("attention_mask")).projected;
    auto cos100 = clip_score_matrix(image_embeds, text_embeds, ClipScoreKind::cos100);
    auto hessel = clip_score_matrix(image_embeds, text_embeds, ClipScoreKind::hessel);
    const double d100 = (cos100 - golden.at("clip_score_100cos")).abs().max().item<double>();
    const double dh = (hessel - golden.at("clip_score_hessel")).abs().max().item<double>();
    std::printf("  clip_score_100cos max abs diff %.3g, clip_score_hessel %.3g\n", d100, dh);
    EXPECT_LE(d100, 1e-3);  // 100 x a cosine: 1e-5 on the cosine
    EXPECT_LE(dh, 1e-4);
    // Paired scores are the diagonal.
    const int64_t n = std::min(image_embeds.size(0), text_embeds.size(0));
    auto pairs = clip_score_pairs(image_embeds.narrow(0, 0, n), text_embeds.narrow(0, 0, n), ClipScoreKind::cos100);
    EXPECT_TRUE(at::allclose(pairs, cos100.narrow(0, 0, n).narrow(1, 0, n).diagonal(), 1e-5, 1e-4));
}

TEST(ClipScore, KnownCosinesAndUint8Path) {
    auto a = at::tensor({1.0f, 0.0f, 0.0f, -1.0f}).view({2, 2});
    auto b = at::tensor({2.0f, 0.0f, 1.0f, 1.0f}).view({2, 2});
    auto m = clip_score_matrix(a, b, ClipScoreKind::cos100);
    EXPECT_NEAR(m[0][0].item<double>(), 100.0, 1e-4);
    EXPECT_NEAR(m[1][1].item<double>(), -100.0 / std::sqrt(2.0), 1e-3);
    EXPECT_NEAR(clip_score_matrix(a, b, ClipScoreKind::hessel)[1][1].item<double>(), 0.0, 1e-6);
    EXPECT_THROW(clip_score_pairs(a, b.narrow(0, 0, 1), ClipScoreKind::cos100), syn::Error);
    EXPECT_THROW(clip_score_matrix(a, at::zeros({2, 3}), ClipScoreKind::cos100), syn::Error);
    // Generator output in [-1, 1] -> uint8 as taming's custom_to_pil -> RGB images.
    auto out = at::tensor({-2.0f, -1.0f, 0.0f, 1.0f}).view({1, 1, 2, 2}).repeat({1, 3, 1, 1});
    auto bytes = syn::models::images_to_uint8(out);
    EXPECT_EQ(bytes.sizes(), (std::vector<int64_t>{1, 2, 2, 3}));
    EXPECT_TRUE(at::equal(bytes.select(3, 0).flatten(), at::tensor({0, 0, 127, 255}, at::kLong).to(at::kByte)));
    auto rgb = rgb_images_from_uint8(bytes);
    ASSERT_EQ(rgb.size(), 1u);
    EXPECT_EQ(rgb[0].width, 2);
    EXPECT_EQ(rgb[0].pixels[3 * 3], 255);
    EXPECT_THROW(rgb_images_from_uint8(out), syn::Error);
}

}  // namespace
