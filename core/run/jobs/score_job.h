#pragma once
// `synesthesia score`: the text-to-image probe's metrics (PAPER.md section 3, Table 3) over the
// folders `synesthesia generate` writes (PNGs + images.jsonl). Per image: CLIP-S of the image
// against its own prompt. Per (encoder, seed): mean CLIP-S and the Inception Score of its images.
// Per encoder: mean ± sample sd over seeds. Per group (BERT-style / CLIP-style / Random): mean ± sd
// over all (model, seed) values, and pooled two-sample Student t-tests between groups (equal
// variances, as scipy.stats.ttest_ind). Optionally the ground-truth row: CLIP-S of the real
// Multi-Modal CelebA-HQ test images with their captions. The t-tests and means are core/eval's
// (significance.h); Table 3 in Markdown / LaTeX / CSV beside the paper's printed numbers
// (paper_tables.h) and the JSON manifest are score_report.h; the command line is score_command.h.
// No torch types here (the GUI includes it).
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/eval/significance.h"
#include "core/run/progress.h"

namespace syn::run {

inline constexpr double kScoreUndefined = std::numeric_limits<double>::quiet_NaN();

struct ScoreJobOptions {
    std::vector<std::string> generation_dirs;  // each holds images.jsonl
    std::string clip_model = "openai/clip-vit-base-patch16";  // catalog / hub id or folder
    std::string kind = "cos100";   // "cos100" (100 x cos, the study's) or "hessel" (2.5 x max(cos, 0))
    std::string inception_weights; // "" = IS not computed (reported so, never as a number)
    int64_t is_splits = 10;        // IS splits (capped by the number of images, and said so)
    std::string data_dir;          // Multi-Modal CelebA-HQ root: "" = no ground-truth row
    std::string split = "test";
    std::size_t max_gt_images = 0; // 0: the whole split
    std::map<std::string, std::string> group_overrides;  // encoder -> group name (--group model=GROUP)
    std::string device = "auto";
    int64_t batch = 32;            // images per forward pass
    bool use_cache = true;         // the embedding cache for the prompts' text embeddings
    std::string cache_root;        // "" = default_cache_root()
    // Shard `shard_index` of `shard_count` (0-based; 1 = not sharded; run_score_shard): the image
    // batches of the unsharded run (`batch` images each, in manifest order) and every
    // shard_count-th of them is this shard's. Shard 0 also computes the ground-truth row.
    int shard_index = 0;
    int shard_count = 1;
    std::function<void(const std::string&)> log;
};

// One line of images.jsonl, with its image's score.
struct ImageScore {
    std::string file;      // as the manifest lists it (relative to its folder)
    std::string path;      // resolved path
    std::string manifest;  // the images.jsonl it came from
    std::string prompt, encoder, pooling, mapping;
    uint64_t seed = 0;
    int width = 0, height = 0;
    double clip_s = kScoreUndefined;
};

struct SkippedImage {
    std::string path, reason;
};

// The statistics of the table (core/eval/significance.h), named here for the job's callers.
using eval::MeanSd;
using eval::mean_sd;
using eval::pooled_t_test;
using eval::StudentTTest;

struct InceptionScoreValue {
    bool computed = false;
    double mean = kScoreUndefined, sd = kScoreUndefined;  // over splits (the std the IS helper reports)
    int64_t splits = 0;
};

struct SeedScore {
    uint64_t seed = 0;
    std::size_t images = 0;
    double clip_s = kScoreUndefined;  // mean over the seed's images
    InceptionScoreValue is;
};

struct EncoderScore {
    std::string encoder;   // as the manifests name it ("random" for the baseline)
    std::string pooling;
    std::string label;     // the table's label: encoder, with " [pooling]" when it was run with several
    std::string group;     // "BERT-style", "CLIP-style", "Random", ...
    std::string group_source;  // "catalog", "config.json model_type", "--group", "random baseline"
    std::string paper_label;   // "BERT-base", ... when the study reports it
    std::vector<SeedScore> seeds;  // by seed
    MeanSd clip_s;                 // over seeds
    MeanSd is;                     // over seeds' IS means (n = 0 when not computed)
    std::size_t images = 0;
};

struct GroupScore {
    std::string group;
    std::vector<std::string> encoders;
    std::vector<double> clip_s_values;  // one per (model, seed)
    std::vector<double> is_values;      // one per (model, seed), when IS was computed
    MeanSd clip_s, is;
};

struct GroupTest {
    std::string metric;  // "CLIP-S" or "IS"
    std::string a, b;    // group names
    StudentTTest test;
};

struct GroundTruthImage {
    std::string id, path;
    std::vector<std::string> captions;
    std::vector<double> clip_s;  // one per caption
};

struct GroundTruthScore {
    bool computed = false;
    std::string data_dir, split;
    std::vector<GroundTruthImage> images;
    std::size_t pairs = 0;
    double clip_s = kScoreUndefined;  // mean over every (image, caption) pair
    std::vector<SkippedImage> skipped;
    std::size_t truncated_captions = 0;  // longer than CLIP's 77 tokens, cut
};

struct ScoreJobResult {
    std::string clip_model, clip_folder, clip_fingerprint, kind, device;
    std::string inception_weights;
    int64_t is_splits_asked = 0;
    std::vector<std::string> manifests;
    std::vector<ImageScore> images;       // scored images, in manifest order
    std::vector<SkippedImage> skipped;    // unreadable / corrupt / missing image files
    std::size_t duplicate_images = 0;     // the same file listed twice (scored once)
    std::size_t truncated_prompts = 0;
    std::vector<EncoderScore> encoders;   // in order of first appearance
    std::vector<GroupScore> groups;       // BERT-style, CLIP-style, Random, then the others
    std::vector<GroupTest> tests;         // every pair of groups, CLIP-S (and IS when computed)
    GroundTruthScore ground_truth;
    double seconds = 0.0;
};

// "cos100" / "hessel"; anything else -> syn::Error listing both.
void check_score_kind(const std::string& kind);

// Reads one images.jsonl; throws syn::Error "<file>:<line>: ..." for a line that is not JSON or
// lacks a key (file, prompt, seed, encoder, pooling, mapping, width, height) or has a wrong type.
std::vector<ImageScore> read_generation_manifest(const std::string& manifest_path);

// The group of an encoder: --group override, "random" -> Random, the catalog's style, else the
// family of the model folder's config.json. `source` receives where the answer came from.
std::string encoder_group(const std::string& encoder, const std::map<std::string, std::string>& overrides,
                          std::string* source = nullptr);

// Aggregation of scored images into encoders / groups / tests (no model needed; exposed for tests).
// `is_by_encoder_seed` (key: encoder label + "\n" + seed) holds each (encoder, seed)'s IS when computed.
void aggregate_scores(ScoreJobResult& result, const std::map<std::string, std::string>& group_overrides,
                      const std::map<std::string, InceptionScoreValue>& is_by_encoder_seed = {});

// Progress stages: "text", "images", "ground truth".
ScoreJobResult run_score(const ScoreJobOptions& options, const ProgressSink& progress = {},
                         const CancelToken* cancel = nullptr);

// What `score --shard i/n` computes (issue 15): the per-image values of its share of the images,
// which the merge (score_report.h) joins and hands to finish_score, the same aggregation as run_score's.
struct ScoreShard {
    int index = 0, count = 1;
    // The run: settings, manifests, duplicates, truncated prompts, the device, and every image of
    // the run in order (images outside this shard have clip_s NaN); the ground truth on shard 0.
    ScoreJobResult run;
    std::vector<std::size_t> positions;     // this shard's images (indices into run.images), increasing
    std::vector<std::string> skip_reasons;  // per position: "" = scored, else why the file was skipped
    int64_t classes = 0;                    // Inception logits per image (0: IS not computed)
    std::vector<float> logits;              // positions.size() x classes (a skipped image: zeros)
};

// options.shard_index / shard_count (n = 1: one shard holding every image); throws syn::Error for
// a shard index out of range.
ScoreShard run_score_shard(const ScoreJobOptions& options, const ProgressSink& progress = {},
                           const CancelToken* cancel = nullptr);

// The end of the job (run_score's own, and the merge's): `result.images` is every image of the run
// in order, `scores[i]` its CLIP-S (NaN: skipped, named in result.skipped), `logits[i]` its
// Inception logits (`logits` empty: IS not computed). Drops the skipped images, computes each
// (encoder, seed)'s IS and aggregates. Throws when no image is readable.
void finish_score(ScoreJobResult& result, const std::vector<double>& scores, std::vector<std::vector<float>> logits,
                  const ScoreJobOptions& options);

}  // namespace syn::run
