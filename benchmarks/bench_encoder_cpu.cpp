// CPU throughput of a BERT-base-size encoder (random weights) over the Karpathy test captions,
// next to the plain fp32 matrix-multiply rate measured in the same run.
//
//   bench_encoder_cpu [captions_karpathy_test.json] [--limit N] [--batch B] [--layers L] [--estimate]
//                     [--dtype float32|bfloat16|both]
//
// With both dtypes (the default) the same random weights run in float32 and in bfloat16 (rounded;
// LayerNorms stay float32), each beside its own GEMM rate, and the agreement of the two sets of
// embeddings is printed (row cosines, and how far pair similarities move).
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
std::vector<std::vector<int64_t>> tokenise(const std::vector<std::string>& captions, bool estimate, double* seconds,
                                           std::string* how) {
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
        options.max_length = 512;
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
            const size_t len = static_cast<size_t>(std::lround(n * 1.3)) + 2;
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

double matmul_gflops(int64_t m, int64_t k, int64_t n, at::ScalarType dtype) {
    auto a = torch::randn({m, k}).to(dtype);
    auto b = torch::randn({k, n}).to(dtype);
    for (int i = 0; i < 3; ++i) (void)torch::matmul(a, b);
    int reps = 0;
    const auto start = Clock::now();
    while (seconds_since(start) < 1.5 || reps < 5) {
        auto c = torch::matmul(a, b);
        ++reps;
    }
    return 2.0 * m * k * n * reps / seconds_since(start) / 1e9;
}

struct Batch {
    at::Tensor ids, mask;
};

// Mean-pooled float32 rows of every batch, in batch order, and the seconds the encoder took.
at::Tensor run_batches(syn::models::TextEncoder& encoder, const std::vector<Batch>& batches, double* seconds) {
    c10::InferenceMode inference;
    {  // warm-up on a middle batch
        const auto& b = batches[batches.size() / 2];
        (void)encoder.forward(b.ids, b.mask);
    }
    std::vector<at::Tensor> rows;
    const auto start = Clock::now();
    for (const auto& b : batches) {
        const auto out = encoder.forward(b.ids, b.mask);
        rows.push_back(syn::models::pool(encoder, out, b.mask, {syn::models::Pooling::mean, false}));
    }
    *seconds = seconds_since(start);
    return at::cat(rows, 0);
}

const char* dtype_label(at::ScalarType t) { return t == at::kBFloat16 ? "bfloat16" : "float32"; }

}  // namespace

int main(int argc, char** argv) {
    syn::prefer_passive_openmp_wait(argv);
    std::string path = shared_dir() + "/data/coco/captions_karpathy_test.json";
    size_t limit = 0;
    int64_t batch = 128, layers = 12;
    bool estimate = false;
    std::string dtypes = "both";
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--limit" && i + 1 < argc) limit = std::stoul(argv[++i]);
        else if (arg == "--batch" && i + 1 < argc) batch = std::stol(argv[++i]);
        else if (arg == "--layers" && i + 1 < argc) layers = std::stol(argv[++i]);
        else if (arg == "--dtype" && i + 1 < argc) dtypes = argv[++i];
        else if (arg == "--estimate") estimate = true;
        else if (arg.rfind("--", 0) != 0) path = arg;
        else {
            std::fprintf(stderr,
                         "usage: %s [captions.json] [--limit N] [--batch B] [--layers L] [--estimate]\n"
                         "          [--dtype float32|bfloat16|both]   (both: the two side by side + their agreement)\n",
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
    const int threads = syn::init_torch_runtime();
    std::vector<std::string> captions = read_captions(path);
    if (limit > 0 && limit < captions.size()) captions.resize(limit);

    double tokenise_s = 0;
    std::string how;
    auto ids = tokenise(captions, estimate, &tokenise_s, &how);
    std::vector<size_t> order(ids.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ids[a].size() < ids[b].size(); });
    size_t real_tokens = 0;
    for (const auto& v : ids) real_tokens += v.size();

    // BERT-base: 12 layers, 768 hidden, 12 heads, 3072 intermediate (transformers' defaults).
    const int64_t hidden = 768, intermediate = 3072;
    auto encoder = syn::models::build_text_encoder(
        syn::HfConfig(nlohmann::json{{"model_type", "bert"}, {"num_hidden_layers", layers}}, "bert-base (random)"));
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
    std::printf("BERT-base-size encoder on CPU (%d threads, libtorch %s; CPU: %s)\n", threads, TORCH_VERSION,
                cpu.isa_summary().c_str());
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
        encoder->to(torch::kCPU, dtype);  // the same weights, rounded (LayerNorms stay float32)
        const double mm_square = matmul_gflops(2048, 768, 768, dtype);
        const double mm_ffn = matmul_gflops(2048, 768, 3072, dtype);
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
