// The code sampler of the text-to-image probe.
#include "core/run/jobs/generate.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <limits>
#include <string>

#include "core/io/errors.h"
#include "models/mingpt.h"
#include "models/vqgan.h"

namespace syn::run {

namespace {

void check_options(const models::MinGPT& gpt, const SamplingOptions& o) {
    const auto& c = gpt.config();
    if (o.num_tokens <= 0 || o.num_tokens > c.block_size)
        throw Error("sampling: num_tokens = " + std::to_string(o.num_tokens) + " must be in 1.." +
                    std::to_string(c.block_size) + " (the GPT's block_size)");
    if (!(o.temperature >= 0.0)) throw Error("sampling: temperature must be >= 0");
    if (o.top_k < 0) throw Error("sampling: top_k must be >= 0 (0 = off)");
    if (!(o.top_p > 0.0 && o.top_p <= 1.0)) throw Error("sampling: top_p must be in (0, 1]");
    if (o.sos_token < 0 || o.sos_token >= c.vocab_size)
        throw Error("sampling: sos_token " + std::to_string(o.sos_token) + " outside the vocabulary");
}

// [B, N] uniforms in (0, 1], row r from its own generator seeded with seeds[r]. Drawn on the CPU
// up front: the same on every device, and no generator calls inside the decoding loop.
at::Tensor row_uniforms(const std::vector<uint64_t>& seeds, int64_t rows, int64_t steps) {
    if (seeds.empty() || (seeds.size() != 1 && static_cast<int64_t>(seeds.size()) != rows))
        throw Error("sampling: give one seed per image (" + std::to_string(rows) + ") or a single seed, got " +
                    std::to_string(seeds.size()));
    auto u = at::empty({rows, steps}, at::kDouble);
    for (int64_t r = 0; r < rows; ++r) {
        const uint64_t seed = seeds.size() == 1 ? seeds[0] + static_cast<uint64_t>(r) : seeds[r];
        auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
        u[r].copy_(1.0 - at::rand({steps}, generator, at::TensorOptions().dtype(at::kDouble)));
    }
    return u;
}

}  // namespace

at::Tensor filter_logits(const at::Tensor& logits, const SamplingOptions& o) {
    auto x = logits.to(at::kFloat);
    if (o.temperature > 0.0 && o.temperature != 1.0) x = x / o.temperature;
    const int64_t vocab = x.size(-1);
    const float minus_inf = -std::numeric_limits<float>::infinity();
    if (o.top_k > 0 && o.top_k < vocab) {
        auto kth = std::get<0>(at::topk(x, o.top_k, -1)).narrow(-1, o.top_k - 1, 1);
        x = x.masked_fill(x < kth, minus_inf);
    }
    if (o.top_p < 1.0) {
        auto sorted = at::sort(x, -1, /*descending=*/true);
        auto probs = at::softmax(std::get<0>(sorted), -1);
        // Drop a token when the mass before it already reaches p (the first one always stays).
        auto drop_sorted = (at::cumsum(probs, -1) - probs) >= o.top_p;
        auto drop = at::zeros_like(drop_sorted).scatter(-1, std::get<1>(sorted), drop_sorted);
        x = x.masked_fill(drop, minus_inf);
    }
    return x;
}

at::Tensor draw_from(const at::Tensor& probs, const at::Tensor& u) {
    auto cdf = at::cumsum(probs.to(at::kDouble), -1);
    auto target = u.to(cdf.device(), at::kDouble).unsqueeze(1) * cdf.narrow(-1, cdf.size(-1) - 1, 1);
    return (cdf < target).sum(-1).clamp_max(probs.size(-1) - 1);
}

at::Tensor sample_codes(models::MinGPT& gpt, const SampleRequest& request, const SamplingOptions& options,
                        const CancelToken* cancel, const ProgressSink& progress, const StepObserver& observer) {
    torch::NoGradGuard no_grad;
    check_options(gpt, options);
    const int64_t rows = request.prefix.defined() ? request.prefix.size(0) : request.batch;
    if (rows <= 0) throw Error("sampling: no images requested");
    const int64_t prefix_length = request.prefix.defined() ? request.prefix.size(1) : 0;
    const int64_t steps = options.num_tokens;
    auto u = row_uniforms(request.seeds, rows, steps).to(gpt.device());
    auto long_options = at::TensorOptions().device(gpt.device()).dtype(at::kLong);
    auto codes = at::empty({rows, steps}, long_options);
    auto tokens = at::full({rows, 1}, options.sos_token, long_options);
    // SOS + steps - 1 codes go through the GPT: the last code needs no forward pass.
    auto cache = gpt.make_cache(rows, prefix_length + steps);
    for (int64_t s = 0; s < steps; ++s) {
        throw_if_cancelled(cancel, "sampling");
        auto logits = gpt.step(cache, tokens, s == 0 ? request.prefix : at::Tensor()).select(1, 0);
        at::Tensor next;
        if (options.temperature == 0.0) {
            next = at::argmax(logits, -1);
        } else {
            next = draw_from(at::softmax(filter_logits(logits, options), -1), u.select(1, s));
        }
        codes.select(1, s).copy_(next);
        tokens = next.unsqueeze(1);
        if (observer) observer(s, logits, next);
        if (progress) progress({Stage::sampling, "", s + 1, steps});
    }
    return codes;
}

GeneratedImages generate_images(models::MinGPT& gpt, models::VQGAN& vqgan, const SampleRequest& request,
                                const SamplingOptions& options, const CancelToken* cancel, const ProgressSink& progress) {
    const int64_t side = vqgan.config().latent_size();
    if (options.num_tokens != side * side)
        throw Error("generate: num_tokens = " + std::to_string(options.num_tokens) + ", the VQGAN decodes " +
                    std::to_string(side) + "x" + std::to_string(side) + " = " + std::to_string(side * side) + " codes");
    if (gpt.config().vocab_size < vqgan.config().n_embed)
        throw Error("generate: the GPT's vocabulary is smaller than the VQGAN codebook");
    GeneratedImages out;
    out.codes = sample_codes(gpt, request, options, cancel, progress);
    // The GPT may predict ids beyond the codebook when its vocabulary is larger: refuse clearly
    // (decode_codes checks the range).
    const int64_t rows = out.codes.size(0);
    const int64_t chunk = 16;  // decoder activations at 256 px are large: decode a few at a time
    std::vector<at::Tensor> parts;
    for (int64_t i = 0; i < rows; i += chunk) {
        throw_if_cancelled(cancel, "decoding");
        parts.push_back(vqgan.decode_codes(out.codes.narrow(0, i, std::min(chunk, rows - i))));
        if (progress) progress({Stage::decoding, "", std::min(rows, i + chunk), rows});
    }
    out.images = at::cat(parts, 0);
    out.rgb = models::images_to_uint8(out.images);
    return out;
}

}  // namespace syn::run
