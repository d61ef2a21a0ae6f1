#pragma once
// Sampling code sequences from taming's minGPT (unconditional, or under a mapped text prefix):
// incremental decoding against a preallocated key/value cache, temperature, top-k, top-p, one
// seed per image (same seed, same device -> same codes), batched, cancellable, with progress.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "core/run/progress.h"
#include "core/run/jobs/t2i_options.h"

namespace syn::models {
class MinGPT;
class VQGAN;
}  // namespace syn::models

namespace syn::run {

struct SampleRequest {
    int64_t batch = 1;      // rows when there is no prefix (else prefix.size(0))
    at::Tensor prefix;      // [B, P, n_embd] mapped text vectors, or undefined (unconditional)
    // One seed per row, or a single seed s for all rows (row r then uses s + r). Each row draws its
    // random numbers from its own generator, so an image does not depend on its batch neighbours'
    // seeds.
    std::vector<uint64_t> seeds{0};
};

// Called after each step with the raw logits [B, V] of that step (before temperature and
// filtering) and the codes chosen [B]; for tests and diagnostics.
using StepObserver = std::function<void(int64_t step, const at::Tensor& logits, const at::Tensor& codes)>;

// Returns the codes [B, num_tokens] (int64, on the GPT's device). Progress: ("sampling", step,
// num_tokens) after every step. Throws Cancelled when `cancel` is set (checked before each step)
// and syn::Error for bad options or a prefix of the wrong width.
at::Tensor sample_codes(models::MinGPT& gpt, const SampleRequest& request, const SamplingOptions& options,
                        const CancelToken* cancel = nullptr, const ProgressSink& progress = {},
                        const StepObserver& observer = {});

struct GeneratedImages {
    at::Tensor codes;   // [B, h * w] int64
    at::Tensor images;  // [B, 3, H, W] float in about [-1, 1], on the device
    at::Tensor rgb;     // [B, H, W, 3] uint8 on the CPU (taming's custom_to_pil conversion)
};

// Samples codes (options.num_tokens must be the VQGAN's h * w) and decodes them; progress
// ("sampling", ...) then ("decoding", done, B). Same seeds, same device -> same images.
GeneratedImages generate_images(models::MinGPT& gpt, models::VQGAN& vqgan, const SampleRequest& request,
                                const SamplingOptions& options, const CancelToken* cancel = nullptr,
                                const ProgressSink& progress = {});

// logits [B, V] -> temperature-scaled logits with the tokens outside top-k / top-p set to -inf
// (taming's top_k_logits; top-p keeps the smallest set whose probability reaches p, at least one).
at::Tensor filter_logits(const at::Tensor& logits, const SamplingOptions& options);

// Inverse-CDF draw: probs [B, V] (rows sum to ~1), u [B] in (0, 1] -> index [B] of the first
// token whose cumulative probability reaches u (never a zero-probability token).
at::Tensor draw_from(const at::Tensor& probs, const at::Tensor& u);

}  // namespace syn::run
