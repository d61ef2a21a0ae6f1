#pragma once
// The main job (the study's Table 2): CxC caption pairs -> per-encoder cosine scores -> Spearman
// and Pearson against STS-L and STS-V with bootstrap CIs, paired comparisons between encoders,
// breakdown by sampling method; written as table.md / table.tex / results.json / pairs.csv (+
// figures through an injected writer, since figures need Qt and the engine builds without it).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/data/sts_dataset.h"
#include "core/eval/bootstrap.h"
#include "core/run/progress.h"

namespace syn::run {

class ModelSession;

struct StsJobOptions {
    std::string cxc_csv;
    std::string captions_json;
    // Catalog ids, hub ids, folders, or lexical/jaccard, lexical/tfidf; each may end in ":<pooling>"
    // (roberta-base:cls, roberta-base:random_pooler@0), which wins over `pooling` for that model.
    std::vector<std::string> models;
    std::string pooling;              // "" = each model's catalog default for STS (else "mean")
    std::string device = "auto";
    std::string dtype = "auto";  // see EmbedOptions::dtype
    std::string devices;         // several devices, one replica each (EmbedOptions::devices); "" = `device`
    std::size_t bootstrap = 1000;
    std::uint64_t seed = 20240229;
    std::size_t max_pairs = 0;        // 0 = all; else N evenly spaced pairs (quick looks, tests)
    int64_t token_budget = 0;         // padded tokens per batch; 0 = EmbedOptions' default. The shards of a
                                      // run and the run after them must use the same budget (same batches)
    bool use_cache = true;
    std::string cache_root;
    // Keeps encoders and cache indexes resident for the next job (the workbench's compute worker's
    // session.h); null = loaded for this run only.
    ModelSession* session = nullptr;
};

// The embedding phase of STS for shard i of n (EmbedOptions::shard_index): every neural model of
// `options` embeds its share of the unique captions into the embedding cache; nothing is scored.
// Once all shards ran, run_sts over the same options computes nothing and gives the unsharded
// run's numbers. Returns one line per model ("model: k computed, m from cache" or the failure).
struct StsShardOutcome {
    std::vector<std::string> lines;
    std::size_t failed = 0;
};
StsShardOutcome run_sts_embedding_shard(const StsJobOptions& options, int shard_index, int shard_count,
                                        const ProgressSink& progress = {}, const CancelToken* cancel = nullptr);

// The four correlations of Table 2 for one encoder, each with its bootstrap CI.
struct StsCorrelations {
    eval::CorrelationEstimate sts_l_spearman, sts_l_pearson, sts_v_spearman, sts_v_pearson;
};

struct EncoderRun {
    std::string model;       // as given
    std::string label;       // paper label or model id
    std::string family, style;  // style: bert / clip / lexical / other
    std::string pooling, dtype, device, folder, fingerprint;
    std::string dtype_reason, pooling_reason;
    std::vector<double> scores;  // one per pair
    StsCorrelations all;
    std::vector<std::pair<std::string, StsCorrelations>> by_method;  // per sampling_method
    std::size_t computed = 0, from_cache = 0, truncated_texts = 0;
    double seconds = 0;
};

// Encoder a vs encoder b on the same pairs, for one of the four metrics.
struct PairedComparison {
    std::string a, b, metric;     // metric: "STS-L Spearman", ...
    double r_a = 0, r_b = 0, r_ab = 0;  // r_ab: correlation between the two encoders' scores
    double steiger_z = 0, steiger_p = 0;
    eval::BootstrapInterval difference;  // r_a - r_b, paired bootstrap
    double bootstrap_p = 0;
};

// A model that could not be evaluated (not in the cache, a pooling it cannot give, a broken
// checkpoint, out of memory, ...): the run goes on with the others and the tables say why.
struct FailedEncoder {
    std::string model, label, pooling;  // pooling: as requested ("" = the default)
    std::string reason;
};

struct StsResult {
    data::StsDataset dataset;
    std::vector<EncoderRun> encoders;  // the models that were evaluated, in the order given
    std::vector<FailedEncoder> failed;
    std::vector<PairedComparison> comparisons;
    nlohmann::json manifest;  // models + hashes, pooling, dtype, device, versions, seed, data hashes
};

// A model that fails is recorded in `failed` and the run goes on; throws syn::Error only when no
// model at all could be evaluated (naming each and why), and Cancelled on cancellation.
StsResult run_sts(const StsJobOptions& options, const ProgressSink& progress = {},
                  const CancelToken* cancel = nullptr);

}  // namespace syn::run
