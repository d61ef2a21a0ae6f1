#pragma once
// The prompt box's search: per encoder, the captions most similar to a prompt. The workbench runs
// it on its compute thread with its resident session, so a second search with cached captions
// embeds only the prompt.
#include <cstddef>
#include <string>
#include <vector>

#include "core/run/progress.h"

namespace syn::run {

class ModelSession;

struct Neighbour {
    double score = 0;
    std::size_t text = 0;  // index into PromptResult::texts
};
struct EncoderNeighbours {
    std::string model, label;
    std::string error;  // non-empty when this encoder failed
    std::vector<Neighbour> neighbours;
};
struct PromptResult {
    std::string prompt;
    std::vector<std::string> texts;  // the unique captions searched
    std::vector<EncoderNeighbours> encoders;
};
struct PromptModel {
    std::string model, label, pooling, dtype, device;
};

// Per encoder, the k captions most similar to `prompt` (cosine of embeddings; lexical encoders use
// their own similarity). One failing encoder does not stop the others. `session` (may be null)
// keeps encoders and cache indexes between searches.
PromptResult nearest_captions(const std::string& prompt, const std::vector<std::string>& captions,
                              const std::vector<PromptModel>& models, std::size_t k, const ProgressSink& progress,
                              const CancelToken* cancel, ModelSession* session = nullptr);

// The top k of scores (descending; ties by index), NaN scores skipped.
std::vector<Neighbour> top_k(const std::vector<double>& scores, std::size_t k);

}  // namespace syn::run
