// Throughput of a BERT-base-size (or CLIP L/14 text-size) encoder with random weights over the
// Karpathy test captions, next to the plain matrix-multiply rate of the same dtype measured in the
// same run; CPU by default, CUDA with --device cuda (beside ../shared/bench/hf_reference.py --sort).
//
//   bench_encoder [captions_karpathy_test.json] [--limit N] [--batch B] [--layers L] [--estimate]
//                 [--dtype float32|bfloat16|both] [--device cpu|cuda] [--model bert-base|clip-l14]
//
// With both dtypes (the default) the same random weights run in float32 and in bfloat16 (rounded;
// LayerNorms stay float32), each beside its own GEMM rate, and the agreement of the two sets of
// embeddings is printed (row cosines, and how far pair similarities move). clip-l14 is CLIP
// ViT-L/14's text tower (12 layers, 768 wide, causal, 77 positions); as hf_reference.py does, its
// captions are tokenised with the BERT WordPiece and clipped to 77 tokens.
// Captions are tokenised with the real BERT WordPiece (fixtures/models/tiny-bert/tokenizer.json,
// the bert-base-uncased vocabulary) unless --estimate or the tokenizer cannot be loaded, in which
// case lengths come from a whitespace split x1.3 + 2 with random ids. Captions are sorted by length
// and batched (padding to the longest of each batch), run under torch::InferenceMode, and pooled
// (masked mean). Tokenisation is timed separately and not included in captions/s.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/hf_config.h"
#include "core/io/torch/cpu_features.h"
#include "core/io/torch/torch_runtime.h"
#include "core/text/tokenizer.h"
#include "models/pooling.h"
#include "models/registry.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string shared_dir() {
    if (const char* env = std::getenv("SYNESTHESIA_SHARED"); env && *env) return env;
    return SYN_DEFAULT_SHARED_DIR;
}

std::vector<std::string> read_captions(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        std::fprintf(stderr, "cannot open %s\n", path.c_str());
        std::exit(2);
    }
    const auto json = nlohmann::json::parse(in);
    std::vector<std::string> captions;
    for (const auto& a : json.at("annotations")) captions.push_back(a.at("caption").get<std::string>());
    return captions;
}

// Token ids per caption: the real WordPiece when available, else estimated lengths with random ids.
std::vector<std::vector<int64_t>> tokenise(const std::vector<std::string>& captions, bool estimate, int max_length,
                                           double* seconds, std::string* how) {
    std::vector<std::vector<int64_t>> out(captions.size());
    const auto start = Clock::now();
    std::unique_ptr<syn::text::Tokenizer> tokenizer;
    if (!estimate) {
        try {
            tokenizer = syn::text::load_tokenizer(shared_dir() + "/fixtures/models/tiny-bert");
        } catch (const std::exception& e) {
            std::fprintf(stderr, "tokenizer unavailable (%s): estimating lengths\n", e.what());
        }
    }
    if (tokenizer) {
        *how = "BERT WordPiece (bert-base-uncased vocab)";
        syn::text::EncodeOptions options;
        options.max_length = max_length;
        options.return_tokens = false;
        for (size_t i = 0; i < captions.size(); ++i) {
            const auto enc = tokenizer->encode(captions[i], options);
            out[i].assign(enc.ids.begin(), enc.ids.end());
        }
    } else {
        *how = "estimated: whitespace words x1.3 + 2, random ids";
        std::mt19937 rng(7);
        std::uniform_int_distribution<int64_t> id(1000, 29999);
        for (size_t i = 0; i < captions.size(); ++i) {
            std::istringstream words(captions[i]);
            size_t n = 0;
            for (std::string w; words >> w;) ++n;
            const size_t len = std::min<size_t>(static_cast<size_t>(std::lround(n * 1.3)) + 2, max_length);
            out[i].resize(len);
            for (auto& v : out[i]) v = id(rng);
            out[i].front() = 101;
            out[i].back() = 102;
        }
    }
    *seconds = seconds_since(start);
    return out;
}

// FLOPs of one encoder pass over [batch, tokens]: the six weight matmuls plus the two attention
// products per layer (multiply-add = 2 FLOPs).
double encoder_flops(int64_t batch, int64_t tokens, int64_t layers, int64_t hidden, int64_t intermediate) {
    const double bt = static_cast<double>(batch) * tokens;
    const double per_layer = 2.0 * bt * (4.0 * hidden * hidden + 2.0 * hidden * intermediate) +
                             2.0 * 2.0 * batch * static_cast<double>(tokens) * tokens * hidden;
    return per_layer * layers;
}

// Waits for the device's queued work (a no-op on the CPU).
void sync(c10::Device device) {
    if (device.is_cuda()) (void)torch::zeros({1}, torch::TensorOptions().device(device)).to(torch::kCPU);
}

double matmul_gflops(int64_t m, int64_t k, int64_t n, at::ScalarType dtype, c10::Device device) {
    auto a = torch::randn({m, k}).to(device, dtype);
    auto b = torch::randn({k, n}).to(device, dtype);
    for (int i = 0; i < 3; ++i) (void)torch::matmul(a, b);
    sync(device);
    int reps = 0;
    const auto start = Clock::now();
    while (seconds_since(start) < 1.5 || reps < 5) {
        for (int i = 0; i < 10; ++i) (void)torch::matmul(a, b);
        sync(device);
        reps += 10;
    }
    return 2.0 * m * k * n * reps / seconds_since(start) / 1e9;
}

struct Batch {
    at::Tensor ids, mask;
};

// Mean-pooled float32 rows of every batch, in batch order, and the seconds the encoder took.
// Inputs already on the device: only the model is timed, as hf_reference.py times it.
at::Tensor run_batches(syn::models::TextEncoder& encoder, const std::vector<Batch>& batches, double* seconds) {
    c10::InferenceMode inference;
    const c10::Device device = encoder.device();
    std::vector<Batch> on_device;
    for (const auto& b : batches) on_device.push_back({b.ids.to(device), b.mask.to(device)});
    {  // warm-up on a middle batch
        const auto& b = on_device[on_device.size() / 2];
        (void)encoder.forward(b.ids, b.mask);
        sync(device);
    }
    std::vector<at::Tensor> rows;
    const auto start = Clock::now();
    for (const auto& b : on_device) {
        const auto out = encoder.forward(b.ids, b.mask);
        rows.push_back(syn::models::pool(encoder, out, b.mask, {syn::models::Pooling::mean, false}));
    }
    at::Tensor all = at::cat(rows, 0).to(torch::kCPU);  // waits for the device
    *seconds = seconds_since(start);
    return all;
}

const char* dtype_label(at::ScalarType t) { return t == at::kBFloat16 ? "bfloat16" : "float32"; }

}  // namespace

int main(int argc, char** argv) {
    syn::prefer_passive_openmp_wait(argv);
    std::string path = shared_dir() + "/data/coco/captions_karpathy_test.json";
    size_t limit = 0;
    int64_t batch = 128, layers = 12;
    bool estimate = false;
    std::string dtypes = "both", device_name = "cpu", model = "bert-base";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--limit" && i + 1 < argc) limit = std::stoul(argv[++i]);
        else if (arg == "--batch" && i + 1 < argc) batch = std::stol(argv[++i]);
        else if (arg == "--layers" && i + 1 < argc) layers = std::stol(argv[++i]);
        else if (arg == "--dtype" && i + 1 < argc) dtypes = argv[++i];
        else if (arg == "--device" && i + 1 < argc) device_name = argv[++i];
        else if (arg == "--model" && i + 1 < argc) model = argv[++i];
        else if (arg == "--estimate") estimate = true;
        else if (arg.rfind("--", 0) != 0) path = arg;
        else {
            std::fprintf(stderr,
                         "usage: %s [captions.json] [--limit N] [--batch B] [--layers L] [--estimate]\n"
                         "          [--dtype float32|bfloat16|both]   (both: the two side by side + their agreement)\n"
                         "          [--device cpu|cuda[:N]] [--model bert-base|clip-l14]\n",
                         argv[0]);
            return 2;
        }
    }
    std::vector<at::ScalarType> runs;
    if (dtypes == "float32" || dtypes == "both") runs.push_back(at::kFloat);
    if (dtypes == "bfloat16" || dtypes == "both") runs.push_back(at::kBFloat16);
    if (runs.empty()) {
        std::fprintf(stderr, "--dtype: float32, bfloat16 or both\n");
        return 2;
    }
    if (model != "bert-base" && model != "clip-l14") {
        std::fprintf(stderr, "--model: bert-base or clip-l14\n");
        return 2;
    }
    const bool clip = model == "clip-l14";
    const c10::Device device(device_name);
    const int threads = syn::init_torch_runtime();
    std::vector<std::string> captions = read_captions(path);
    if (limit > 0 && limit < captions.size()) captions.resize(limit);

    double tokenise_s = 0;
    std::string how;
    auto ids = tokenise(captions, estimate, clip ? 77 : 512, &tokenise_s, &how);
    std::vector<size_t> order(ids.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
    size_t real_tokens = 0;
    for (const auto& v : ids) real_tokens += v.size();

    // BERT-base: 12 layers, 768 hidden, 12 heads, 3072 intermediate (transformers' defaults); CLIP
    // ViT-L/14's text tower has the same widths, causal attention and 77 positions.
    const int64_t hidden = 768, intermediate = 3072;
    const nlohmann::json config =
        clip ? nlohmann::json{{"model_type", "clip_text_model"}, {"num_hidden_layers", layers}, {"hidden_size", 768},
                              {"intermediate_size", 3072}, {"num_attention_heads", 12}, {"max_position_embeddings", 77},
                              {"vocab_size", 49408}, {"projection_dim", 768}}
             : nlohmann::json{{"model_type", "bert"}, {"num_hidden_layers", layers}};
    auto encoder = syn::models::build_text_encoder(syn::HfConfig(config, model + " (random)"));
    encoder->to(torch::kCPU, torch::kFloat);

    // Pre-build the padded batches so that only the model is timed.
    std::vector<Batch> batches;
    double flops = 0;
    size_t padded_tokens = 0;
    for (size_t start = 0; start < order.size(); start += batch) {
        const size_t end = std::min(order.size(), start + static_cast<size_t>(batch));
        const int64_t t = static_cast<int64_t>(ids[order[end - 1]].size());
        auto b_ids = torch::zeros({static_cast<int64_t>(end - start), t}, torch::kLong);
        auto b_mask = torch::zeros_like(b_ids);
        for (size_t r = start; r < end; ++r) {
            const auto& v = ids[order[r]];
            const int64_t row = static_cast<int64_t>(r - start);
            b_ids[row].slice(0, 0, v.size()).copy_(torch::tensor(v, torch::kLong));
            b_mask[row].slice(0, 0, v.size()).fill_(1);
        }
        flops += encoder_flops(b_ids.size(0), t, layers, hidden, intermediate);
        padded_tokens += static_cast<size_t>(b_ids.numel());
        batches.push_back({b_ids, b_mask});
    }

    const syn::CpuFeatures& cpu = syn::cpu_features();
    std::printf("%s-size encoder on %s (%d CPU threads, libtorch %s; CPU: %s)\n", model.c_str(),
                device.str().c_str(), threads, TORCH_VERSION, cpu.isa_summary().c_str());
    std::printf("  captions           %zu (%s)\n", captions.size(), path.c_str());
    std::printf("  tokens             %s: %zu real, %zu padded (%.1f%% padding), avg %.1f per caption\n", how.c_str(),
                real_tokens, padded_tokens, 100.0 * (padded_tokens - real_tokens) / padded_tokens,
                double(real_tokens) / captions.size());
    std::printf("  tokenisation       %.2f s (%.0f captions/s, one thread, not in the figures below)\n", tokenise_s,
                captions.size() / tokenise_s);
    std::printf("  batches            %zu of up to %lld, sorted by length, %lld layers\n", batches.size(),
                static_cast<long long>(batch), static_cast<long long>(layers));

    std::vector<std::pair<at::ScalarType, at::Tensor>> pooled;
    std::vector<double> rate;
    for (const at::ScalarType dtype : runs) {
        encoder->to(device, dtype);  // the same weights, rounded (LayerNorms stay float32)
        const double mm_square = matmul_gflops(2048, 768, 768, dtype, device);
        const double mm_ffn = matmul_gflops(2048, 768, 3072, dtype, device);
        double seconds = 0;
        pooled.emplace_back(dtype, run_batches(*encoder, batches, &seconds));
        const double achieved = flops / seconds / 1e9;
        rate.push_back(captions.size() / seconds);
        std::printf("  %-8s encoder   %.2f s -> %.1f captions/s, %.1f GFLOP/s (padded work, %.1f GFLOP)\n",
                    dtype_label(dtype), seconds, captions.size() / seconds, achieved, flops / 1e9);
        std::printf("  %-8s matmul    %.1f GFLOP/s (2048x768 @ 768x768), %.1f GFLOP/s (2048x768 @ 768x3072)\n",
                    dtype_label(dtype), mm_square, mm_ffn);
        std::printf("  %-8s ratio     %.0f%% of the 768x768 matmul rate, %.0f%% of the FFN-shape rate\n",
                    dtype_label(dtype), 100.0 * achieved / mm_square, 100.0 * achieved / mm_ffn);
        encoder->to(torch::kCPU, torch::kFloat);
    }
    if (pooled.size() == 2) {
        // Agreement of the two dtypes' embeddings, row by row (same texts, same weights).
        const at::Tensor a = pooled[0].second.to(at::kDouble), b = pooled[1].second.to(at::kDouble);
        const at::Tensor cos = (a * b).sum(1) / (a.norm(2, {1}) * b.norm(2, {1}));
        std::printf("  bfloat16 / float32 speed  %.2fx\n", rate[1] / rate[0]);
        std::printf("  row cosine bf16 vs fp32   mean %.5f, min %.5f (goal: mean >= 0.995)\n",
                    cos.mean().item<double>(), cos.min().item<double>());
        // Pairwise cosines of neighbouring rows (caption pairs), fp32 vs bf16: how much a similarity
        // score moves, which is what the STS correlations are computed from.
        const int64_t n = a.size(0) - 1;
        auto pair_cos = [n](const at::Tensor& x) {
            const at::Tensor u = x.narrow(0, 0, n), v = x.narrow(0, 1, n);
            return (u * v).sum(1) / (u.norm(2, {1}) * v.norm(2, {1}));
        };
        const at::Tensor pa = pair_cos(a), pb = pair_cos(b);
        std::printf("  pair cosine |bf16 - fp32| mean %.2e, max %.2e over %lld neighbouring pairs\n",
                    (pa - pb).abs().mean().item<double>(), (pa - pb).abs().max().item<double>(),
                    static_cast<long long>(n));
    }
    double checksum = 0;
    for (const auto& [dtype, rows] : pooled) checksum += rows.sum().item<double>();
    std::printf("  (checksum %.6g)\n", checksum);
    return 0;
}
