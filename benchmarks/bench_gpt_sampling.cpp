// Code sampling speed of taming's minGPT with the project's sampler (preallocated key/value cache,
// top-k), random weights:
//
//   bench_gpt_sampling [--config tiny|mid|celebahq] [--device auto|cpu|cuda]
//                      [--dtype float32|bfloat16|float16|auto|both]
//                      [--images N] [--batch B] [--tokens T] [--top-k K] [--repeat R]
//
//  tiny      tiny-taming's GPT (2 layers, width 32, 2 heads, vocab 64), 64 tokens
//  mid       12 layers, width 512, 8 heads, vocab 1024, block 256, 256 tokens
//  celebahq  the study's GPT: 24 layers, width 1664, 16 heads, vocab 1024, block 256 (802 M params);
//            the GPU figure to compare with ../shared/bench/hf_reference.py's
//            t2i/gpt_sample_s_per_100img (run both in one device call).
// Half precision casts the weights (no autocast; LayerNorms stay float32). Prints tokens/s (images x
// tokens / s) and the seconds for all images, best of --repeat runs after one warm-up. `--dtype both`
// runs float32 and then bfloat16 on the same weights in one process, with the ratio.
#include <torch/torch.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "core/io/errors.h"
#include "core/io/torch/torch_runtime.h"
#include "core/run/device_choice.h"
#include "core/run/jobs/generate.h"
#include "models/mingpt.h"

namespace {

syn::models::GPTConfig preset(const std::string& name, int64_t* tokens) {
    syn::models::GPTConfig c;
    if (name == "tiny") {
        c.vocab_size = 64, c.block_size = 260, c.n_layer = 2, c.n_head = 2, c.n_embd = 32;
        *tokens = 64;
    } else if (name == "mid") {
        c.vocab_size = 1024, c.block_size = 256, c.n_layer = 12, c.n_head = 8, c.n_embd = 512;
        *tokens = 256;
    } else if (name == "celebahq") {
        *tokens = 256;  // the defaults are celebahq's
    } else {
        throw syn::Error("--config must be tiny, mid or celebahq, got '" + name + "'");
    }
    return c;
}

}  // namespace

int main(int argc, char** argv) {
    syn::prefer_passive_openmp_wait(argv);
    CLI::App app{"minGPT code sampling benchmark (random weights)"};
    std::string config_name = "tiny", device_name = "auto", dtype_name = "float32";
    int64_t images = 100, batch = 0, tokens = 0, top_k = 250;
    int repeat = 3;
    app.add_option("--config", config_name, "tiny | mid | celebahq");
    app.add_option("--device", device_name, "auto | cpu | cuda[:N]");
    app.add_option("--dtype", dtype_name, "float32 | bfloat16 | float16 (CUDA) | auto | both (float32, then bfloat16)");
    app.add_option("--images", images, "images to sample (default 100)");
    app.add_option("--batch", batch, "images per batch (default: all at once)");
    app.add_option("--tokens", tokens, "tokens per image (default: the preset's)");
    app.add_option("--top-k", top_k, "top-k filter (default 250, as the study)");
    app.add_option("--repeat", repeat, "timed runs after the warm-up; the best is printed");
    CLI11_PARSE(app, argc, argv);

    try {
        const int threads = syn::init_torch_runtime();
        int64_t preset_tokens = 0;
        const auto config = preset(config_name, &preset_tokens);
        if (tokens <= 0) tokens = preset_tokens;
        if (batch <= 0) batch = images;
        std::vector<std::string> dtypes = {dtype_name};
        if (dtype_name == "both") dtypes = {"float32", "bfloat16"};

        syn::models::MinGPT gpt(config);
        {
            torch::NoGradGuard no_grad;
            torch::manual_seed(0);
            for (auto& p : gpt.module().parameters()) p.normal_(0.0, 0.02);
        }
        std::vector<double> seconds;
        for (const std::string& dt : dtypes) {
            const auto choice = syn::run::choose_device(device_name, dt);
            gpt.to(choice.device, choice.dtype);  // float32 master weights: cast once per dtype

            syn::run::SamplingOptions options;
            options.num_tokens = tokens;
            options.top_k = top_k;
            auto run_all = [&] {
                torch::InferenceMode inference;
                const auto start = std::chrono::steady_clock::now();
                for (int64_t done = 0; done < images; done += batch) {
                    syn::run::SampleRequest request;
                    request.batch = std::min(batch, images - done);
                    request.seeds = {static_cast<uint64_t>(done)};
                    auto codes = syn::run::sample_codes(gpt, request, options);
                    (void)codes.to(at::kCPU);  // waits for the device
                }
                return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            };
            std::printf("config %s: %lld layers, width %lld, %lld heads, vocab %lld (%.1f M params), device %s, %s (%s), "
                        "%d CPU threads\n",
                        config_name.c_str(), (long long)config.n_layer, (long long)config.n_embd,
                        (long long)config.n_head, (long long)config.vocab_size, config.parameter_count() / 1e6,
                        choice.device.str().c_str(), choice.dtype_name.c_str(), choice.reason.c_str(), threads);
            const double warm = run_all();
            double best = warm;
            for (int r = 0; r < repeat; ++r) best = std::min(best, run_all());
            std::printf("%lld images x %lld tokens (batch %lld, top-k %lld): %.3f s (warm-up %.3f s), %.0f tokens/s\n",
                        (long long)images, (long long)tokens, (long long)batch, (long long)top_k, best, warm,
                        double(images * tokens) / best);
            seconds.push_back(best);
            gpt.to(choice.device, at::kFloat);
        }
        if (seconds.size() == 2)
            std::printf("bfloat16 is %.2fx as fast as float32 (same weights, same run)\n", seconds[0] / seconds[1]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_gpt_sampling: %s\n", e.what());
        return 1;
    }
    return 0;
}
