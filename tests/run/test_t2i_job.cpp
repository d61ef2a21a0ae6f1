// The text-to-image probe end to end with the tiny fixtures: a small Multi-Modal CelebA-HQ layout
// made by the test (faces whose colour the captions name, one corrupt image, an empty caption
// line), tiny-taming as the frozen generator, tiny-clip / tiny-bert as text encoders. Training
// lowers the loss, checkpoints resume to the same losses, generation is reproducible per seed and
// writes PNGs + a manifest, and bad input gives clear errors.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <cstring>
#include <random>
#include <unistd.h>

#include "core/io/errors.h"
#include "core/io/safetensors.h"
#include "core/run/jobs/t2i_job.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using namespace syn::run;

namespace {

struct Colour {
    const char* name;
    cv::Scalar bgr;
};
const Colour kColours[] = {{"red", {40, 40, 220}}, {"green", {40, 200, 40}}, {"blue", {220, 60, 30}},
                           {"yellow", {30, 220, 230}}};

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

// <root>/images/<n>.jpg (48x40: the job must resize and crop to 32x32), <root>/text/<n>.txt, train.txt.
// Image 5 is corrupt; image 2's captions contain an empty line.
fs::path make_faces(const fs::path& root, int n) {
    fs::create_directories(root / "images");
    fs::create_directories(root / "text");
    std::mt19937 rng(7);
    std::string split;
    for (int i = 0; i < n; ++i) {
        const Colour& c = kColours[i % 4];
        cv::Mat image(40, 48, CV_8UC3, c.bgr);
        cv::circle(image, {24, 20}, 6 + i % 3 * 4, cv::Scalar(250, 250, 250), -1);  // a "face" of varying size
        for (int y = 0; y < 40; ++y)
            for (int x = 0; x < 48; ++x) image.at<cv::Vec3b>(y, x)[i % 3] += uint8_t(rng() % 12);
        const fs::path file = root / "images" / (std::to_string(i) + ".jpg");
        if (i == 5) write_text(file, "this is not a JPEG");
        else cv::imwrite(file.string(), image);
        std::string captions = std::string("a ") + c.name + " face\n";
        if (i == 2) captions += "   \n";
        captions += std::string("the person is ") + c.name + (i % 3 == 0 ? " with a small face" : " with a big face") + "\n";
        write_text(root / "text" / (std::to_string(i) + ".txt"), captions);
        split += std::to_string(i) + "\n";
    }
    write_text(root / "train.txt", split);
    return root;
}

struct T2I : ::testing::Test {
    fs::path dir;
    std::string generator, clip, bert;
    void SetUp() override {
        SYN_REQUIRE_SHARED();
        dir = fs::temp_directory_path() / ("syn_t2i_" + std::to_string(::getpid()));
        fs::remove_all(dir);
        make_faces(dir / "faces", 13);
        const fs::path models = fs::path(syn::test::fixtures_dir()) / "models";
        generator = (models / "tiny-taming").string();
        clip = (models / "tiny-clip").string();
        bert = (models / "tiny-bert").string();
    }
    void TearDown() override { fs::remove_all(dir); }

    TrainMappingJobOptions train_options(const std::string& encoder, const std::string& out) const {
        TrainMappingJobOptions o;
        o.generator = generator;
        o.data_dir = (dir / "faces").string();
        o.encoder = encoder;
        o.out_dir = (dir / out).string();
        o.cache_root = (dir / "cache").string();
        o.device = "cpu";
        o.train.batch_size = 4;
        o.train.epochs = 12;
        o.train.learning_rate = 2e-2;
        o.train.seed = 3;
        return o;
    }
};

TEST_F(T2I, TrainingLowersTheLossSkipsBadSamplesAndResumes) {
    auto o = train_options(clip, "clip-full");
    std::vector<Stage> stages;
    auto full = run_train_mapping(o, [&](const Progress& p) {
        if (stages.empty() || stages.back() != p.stage) stages.push_back(p.stage);
    });
    EXPECT_EQ(full.images, 12u);         // 13 listed, 1 corrupt
    EXPECT_EQ(full.skipped_images, 1u);
    EXPECT_EQ(full.empty_caption_lines, 1u);
    EXPECT_EQ(full.captions, 24u);
    EXPECT_EQ(full.codes_from_cache, 0u);
    EXPECT_TRUE(full.finished);
    EXPECT_FALSE(full.resumed);
    EXPECT_EQ(full.report.steps, 36);  // 12 images / batch 4 x 12 epochs
    ASSERT_EQ(full.report.epoch_losses.size(), 12u);
    const auto& e = full.report.epoch_losses;
    std::printf("  epoch losses %.4f %.4f %.4f ... %.4f %.4f %.4f\n", e[0], e[1], e[2], e[9], e[10], e[11]);
    // The tiny random GPT can only be steered so far by one prefix vector: the loss falls by ~0.03
    // nats in the first epochs and then flattens; an untrained map (lr 0) stays within dropout noise.
    EXPECT_LT(e.back(), e.front() - 0.02);
    ASSERT_GE(stages.size(), 3u);  // faces to codes, then the captions' embedding stages, then training
    EXPECT_EQ(stages.front(), Stage::encoding_images);
    EXPECT_EQ(stages.back(), Stage::training);
    EXPECT_EQ(stages[stages.size() - 2], Stage::embedding);
    auto info = read_mapping_info(full.checkpoint);
    EXPECT_EQ(info.encoder, clip);
    EXPECT_EQ(info.text_dim, full.text_dim);
    EXPECT_EQ(info.gpt_width, 32);
    EXPECT_EQ(info.epochs_done, 12);
    EXPECT_TRUE(info.finished);
    EXPECT_TRUE(fs::exists(dir / "clip-full" / "losses.csv"));

    // Interrupted after 2 epochs, then resumed: the same losses and weights as the uninterrupted run,
    // and the faces' codes come from the cache.
    auto o2 = train_options(clip, "clip-resumed");
    o2.stop_after_epochs = 2;
    auto part = run_train_mapping(o2);
    EXPECT_FALSE(part.finished);
    EXPECT_EQ(part.codes_from_cache, 12u);
    EXPECT_EQ(read_mapping_info(part.checkpoint).epochs_done, 2);
    o2.stop_after_epochs = 0;
    auto rest = run_train_mapping(o2);
    EXPECT_TRUE(rest.resumed);
    EXPECT_TRUE(rest.finished);
    ASSERT_EQ(rest.report.step_losses.size(), full.report.step_losses.size());
    for (std::size_t i = 0; i < full.report.step_losses.size(); ++i)
        EXPECT_NEAR(rest.report.step_losses[i], full.report.step_losses[i], 1e-6) << "step " << i + 1;
    auto a = syn::read_safetensors(full.checkpoint), b = syn::read_safetensors(rest.checkpoint);
    const auto& wa = a.tensors.at("linear.weight");
    const auto& wb = b.tensors.at("linear.weight");
    ASSERT_EQ(wa.nbytes, wb.nbytes);
    EXPECT_EQ(std::memcmp(wa.data, wb.data, wa.nbytes), 0);
    // A finished run is not trained again.
    auto again = run_train_mapping(o2);
    EXPECT_TRUE(again.resumed);
    EXPECT_EQ(again.report.steps, 36);
}

TEST_F(T2I, GenerationIsReproducibleAndWritesImages) {
    auto o = train_options(bert, "bert");
    o.train.epochs = 1;
    auto trained = run_train_mapping(o);

    GenerateJobOptions g;
    g.generator = generator;
    g.mapping = trained.checkpoint;
    g.prompts = {"a red face", "a blue face", "the person is green with a big face"};
    g.seeds = {1, 2};
    g.sampling.top_k = 20;
    g.sampling.num_tokens = 0;
    g.batch = 2;  // batches that cut across prompts: an image depends on its prompt and seed only
    g.device = "cpu";
    // float32: batch-invariant codes need rounding far below the logits' gaps; in bfloat16 another
    // batching may round a near-tie the other way (same batching: same codes, checked below).
    g.dtype = "float32";
    g.out_dir = (dir / "gen").string();
    auto first = run_generate(g);
    ASSERT_EQ(first.faces.size(), 6u);
    EXPECT_EQ(first.encoder, bert);
    for (const auto& face : first.faces) {
        EXPECT_EQ(face.width, 32);
        EXPECT_EQ(face.height, 32);
        cv::Mat png = cv::imread(face.path, cv::IMREAD_COLOR);
        ASSERT_FALSE(png.empty()) << face.path;
        EXPECT_EQ(png.cols, 32);
        // The file holds the same pixels (BGR on disk).
        EXPECT_EQ(png.at<cv::Vec3b>(5, 7)[2], face.rgb[(5 * 32 + 7) * 3]);
    }
    EXPECT_EQ(first.faces[0].prompt, "a red face");
    EXPECT_EQ(first.faces[1].seed, 2u);
    std::ifstream manifest(first.manifest);
    std::string line;
    int lines = 0;
    while (std::getline(manifest, line)) {
        auto j = nlohmann::json::parse(line);
        EXPECT_TRUE(fs::exists(dir / "gen" / j.at("file").get<std::string>()));
        EXPECT_EQ(j.at("encoder"), bert);
        ++lines;
    }
    EXPECT_EQ(lines, 6);

    g.out_dir.clear();
    auto same = run_generate(g);  // same seeds, same device, same batching -> the same pixels
    for (std::size_t i = 0; i < first.faces.size(); ++i) EXPECT_EQ(first.faces[i].rgb, same.faces[i].rgb) << i;
    // Other batching: the same codes (each image's random numbers come from its seed alone); the
    // decoder's float sums may then round a pixel differently, so pixels are compared within 1e-2 of range.
    g.batch = 16;
    auto second = run_generate(g);
    for (std::size_t i = 0; i < first.faces.size(); ++i) {
        EXPECT_EQ(first.faces[i].codes, second.faces[i].codes) << i;
        int worst = 0;
        for (std::size_t k = 0; k < first.faces[i].rgb.size(); ++k)
            worst = std::max(worst, std::abs(int(first.faces[i].rgb[k]) - int(second.faces[i].rgb[k])));
        EXPECT_LE(worst, 2) << i;
    }
    EXPECT_NE(first.faces[0].rgb, first.faces[1].rgb);  // seeds 1 and 2 differ
    EXPECT_TRUE(second.faces[0].path.empty());

    // bfloat16 sampling (the default on CPUs with native bf16): reproducible for the same batching.
    g.dtype = "bfloat16";
    auto bf_a = run_generate(g);
    auto bf_b = run_generate(g);
    EXPECT_EQ(bf_a.dtype, "bfloat16");
    for (std::size_t i = 0; i < bf_a.faces.size(); ++i) EXPECT_EQ(bf_a.faces[i].codes, bf_b.faces[i].codes) << i;
}

TEST_F(T2I, RandomBaselineTrainsAndGenerates) {
    auto o = train_options(kRandomEncoder, "random");
    o.random_dim = 16;
    o.train.epochs = 2;
    auto r = run_train_mapping(o);
    EXPECT_EQ(r.text_dim, 16);
    EXPECT_EQ(r.captions, 0u);
    EXPECT_EQ(r.report.steps, 6);
    GenerateJobOptions g;
    g.generator = generator;
    g.mapping = r.checkpoint;
    g.prompts = {"anything", "at all"};
    g.seeds = {4};
    g.device = "cpu";
    g.sampling.num_tokens = 0;
    auto a = run_generate(g), b = run_generate(g);
    ASSERT_EQ(a.faces.size(), 2u);
    EXPECT_EQ(a.encoder, kRandomEncoder);
    EXPECT_EQ(a.faces[0].rgb, b.faces[0].rgb);
}

TEST_F(T2I, BadInputGivesClearErrors) {
    auto expect_error = [](const std::function<void()>& f, const std::string& fragment) {
        try {
            f();
            ADD_FAILURE() << "no error; expected one mentioning " << fragment;
        } catch (const syn::Error& e) {
            EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        }
    };
    auto o = train_options(clip, "bad");
    o.data_dir = (dir / "nowhere").string();
    expect_error([&] { run_train_mapping(o); }, "nowhere");
    o = train_options("", "bad");
    expect_error([&] { run_train_mapping(o); }, "encoder");

    // Every image unreadable.
    fs::create_directories(dir / "broken" / "images");
    fs::create_directories(dir / "broken" / "text");
    write_text(dir / "broken" / "images" / "0.jpg", "garbage");
    write_text(dir / "broken" / "text" / "0.txt", "a face\n");
    o = train_options(clip, "bad");
    o.data_dir = (dir / "broken").string();
    o.split = "all";
    expect_error([&] { run_train_mapping(o); }, "could be read");

    // A safetensors file that is not a mapping checkpoint.
    const std::string plain = (dir / "plain.safetensors").string();
    syn::write_safetensors(plain, {});
    GenerateJobOptions g;
    g.generator = generator;
    g.mapping = plain;
    g.prompts = {"x"};
    g.device = "cpu";
    expect_error([&] { run_generate(g); }, "metadata key 'encoder'");
    g.prompts.clear();
    expect_error([&] { run_generate(g); }, "no prompts");
}

}  // namespace
