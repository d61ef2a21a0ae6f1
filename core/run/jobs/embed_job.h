#pragma once
// The embedding job: texts -> one vector per text with a given encoder and pooling. Used by the
// STS job, the prompt box and `synesthesia embed`. Unique texts only; tokenisation in parallel;
// batches bucketed by length under a token budget; inference mode; CPU or CUDA; fp32/bf16/fp16;
// on CUDA out-of-memory the batch is halved and retried; progress and cancellation between
// batches; an on-disk cache (embedding_cache.h) keyed by model fingerprint + pooling + dtype + text.
// No torch types in this header (the GUI includes it).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/run/progress.h"

namespace syn::run {

class ModelSession;

struct EmbedOptions {
    std::string model;            // a folder, a hub id in the HF cache, or a catalog id
    std::string pooling;          // "mean", "projected+l2", ...; "" = the catalog's STS default, else "mean"
    std::string device = "auto";  // "auto" (CUDA when available), "cpu", "cuda", "cuda:1"
    // "auto" (bfloat16 on CUDA and on CPUs with native bf16, else float32; see device_choice.h),
    // "float32", "bfloat16", "float16" (CUDA only).
    std::string dtype = "auto";
    int64_t token_budget = 16384;   // padded tokens per batch
    int64_t max_batch = 512;        // texts per batch, at most
    int64_t chunk_texts = 4096;     // texts per cache shard (the unit of resumption)
    bool use_cache = true;
    std::string cache_root;         // "" = default_cache_root()
    // Keeps the encoder and the cache index resident between calls (session.h); null = load for
    // this call only.
    ModelSession* session = nullptr;
    // Shard `shard_index` of `shard_count` (0-based; 1 = no sharding): the batch plan is the
    // unsharded run's (every unique text, longest first, the same token budget) and this shard
    // embeds every shard_count-th batch of it, so the shards' rows together are the unsharded run's
    // numbers to the bit (on CPU; a CUDA out-of-memory retry halves batches and changes the plan).
    // A sharded run always loads the encoder: the plan needs the tokenizer.
    int shard_index = 0;
    int shard_count = 1;
    // Several devices in one process (device_choice.h choose_devices): "" = `device` (and, without a
    // session, every visible GPU when `device` is auto or cuda and there are several), "all",
    // "cuda:0,cuda:1", "cpu,cpu". One model replica per device, one thread per replica, the batches
    // of the plan handed out in turn and their rows placed by position: the same numbers as one
    // device's (CPU replicas share the torch threads out).
    std::string devices;
    // Tests: called on each replica's thread before each of its batches with the replica's index
    // (several devices only); what it throws fails that replica.
    std::function<void(std::size_t replica)> before_replica_batch;
};

struct EmbedResult {
    // texts.size() x dim, row-major, float32, in the order of the input texts; a shard: the rows of
    // `positions` only, in that order.
    std::vector<float> rows;
    std::vector<std::size_t> positions;  // a shard's input positions (increasing); empty when not sharded
    int64_t dim = 0;
    std::size_t unique_texts = 0, from_cache = 0, computed = 0;
    std::size_t truncated_texts = 0;  // texts longer than the model's context, cut (counted, not hidden)
    std::string model_id, model_folder, fingerprint, family, pooling, dtype, device;
    std::vector<std::string> replicas;  // the devices of the replicas that computed ("cpu", "cpu"); one: one device
    std::string dtype_reason;  // why this dtype ("auto: the CPU has native bfloat16 ...", "asked for")
    // Why this pooling: "asked for", the catalog default, or a sentence-transformers folder's
    // modules.json pipeline ("st:mean+normalize") and what an explicit pooling replaced.
    std::string pooling_reason;
    double seconds = 0;
};

EmbedResult embed_texts(const std::vector<std::string>& texts, const EmbedOptions& options,
                        const ProgressSink& progress = {}, const CancelToken* cancel = nullptr);

// "i/n" -> (i, n) with 0 <= i < n; anything else -> syn::Error naming the value.
std::pair<int, int> parse_shard(const std::string& text);

// The pooling of `model` for an experiment ("sts", "t2i", "glue") when the user names none: the
// catalog's; else for "t2i" the study's recipe by family (CLIP / SigLIP: projected, others: mean);
// else mean.
std::string default_pooling(const std::string& model, const std::string& experiment = "sts");

// One entry of a model list: "roberta-base", "roberta-base:cls", "/models/x:random_pooler@1+l2".
// The part after the last ':' is a pooling when it parses as one (an existing folder whose name
// holds a ':' is taken whole); a ':' suffix that is no pooling is an error naming the choices.
struct ModelSpec {
    std::string model;
    std::string pooling;  // "" when the entry names none
};
ModelSpec parse_model_spec(const std::string& spec);

// Cosine similarity of rows a and b of a row-major matrix of width dim.
double cosine_rows(const std::vector<float>& rows, int64_t dim, std::size_t a, std::size_t b);

}  // namespace syn::run
