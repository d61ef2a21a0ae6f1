#pragma once
// The text-to-image probe (PAPER.md section 3) as jobs, shared by the CLI (`train-mapping`,
// `generate`) and the workbench's prompt box. No torch types here (the GUI includes it).
//
// train-mapping: the training faces are encoded to VQGAN code indices once (cached on disk in
// chunks, keyed by the generator's weights and each image file's path, size and time), the
// captions are embedded once (the embedding cache), then only the prefix map is trained. A
// checkpoint after every epoch (mapping.safetensors + optimizer state + state.json) lets an
// interrupted run resume where it stopped with the same losses as an uninterrupted one.
// generate: prompts -> mapped prefix -> sampled codes -> decoded faces, one PNG per (prompt, seed)
// and an images.jsonl manifest that `synesthesia score` reads.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/run/progress.h"
#include "core/run/jobs/t2i_options.h"

namespace syn::run {

class ModelSession;
class DataParallel;

// The random-embedding baseline: the map is fed random N(0, 1) vectors instead of text embeddings.
inline constexpr const char* kRandomEncoder = "random";

struct TrainMappingJobOptions {
    std::string generator;      // taming folder (config.json or *project.yaml + last.ckpt or model.safetensors)
    std::string data_dir;       // Multi-Modal CelebA-HQ layout (core/data/mm_celeba_hq.h)
    std::string split = "train";
    std::size_t max_images = 0;  // 0: all
    std::string encoder;         // model folder / hub id / catalog id, or kRandomEncoder
    std::string pooling;         // "" = default_pooling(encoder, "t2i") (embed_job.h)
    int64_t random_dim = 768;    // width of the random baseline's vectors
    // One random caption per image per epoch (as the MM-CelebA-HQ loaders draw them), or every
    // (image, caption) pair each epoch.
    bool all_captions = false;
    std::string out_dir;         // mapping.safetensors, optimizer.pt, state.json, losses.csv
    MappingTrainOptions train;
    std::string device = "auto";
    bool mixed_precision = true;  // bfloat16 autocast of the frozen GPT on CUDA; float32 on CPU
    bool resume = true;
    std::string cache_root;       // "" = default_cache_root()
    int stop_after_epochs = 0;    // stop after this many epochs in this call (tests); 0 = run to the end
    std::function<void(const std::string&)> log;
    std::function<void(int64_t step, double loss)> on_step;  // every optimiser step (live loss curves)
    // Data-parallel training over these processes (train_mapping.h): train.batch_size is the global
    // batch; every rank reads the data and a saved state itself, only rank 0 writes to out_dir.
    // nullptr: one process.
    std::shared_ptr<DataParallel> dist;
};

// What a mapping checkpoint records of its generator (metadata "generator"): path, size and
// modification time of the taming config and weights, hashed (not the 3.5 GB of weights).
std::string generator_fingerprint(const std::string& config_path, const std::string& checkpoint_path);

struct TrainMappingJobResult {
    std::string checkpoint;       // <out>/mapping.safetensors
    MappingTrainReport report;    // every step and epoch so far, resumed ones included
    std::size_t images = 0, captions = 0;
    std::size_t skipped_images = 0;       // unreadable / corrupt image files (counted, not fatal)
    std::size_t empty_caption_lines = 0;  // skipped
    std::size_t codes_from_cache = 0;     // images whose codes came from the cache
    int64_t text_dim = 0, gpt_width = 0;
    std::string encoder, pooling, device, precision;
    bool resumed = false;   // continued from a checkpoint in out_dir
    bool finished = false;  // all epochs (or max_steps) done
    double seconds = 0.0;
};

// Progress stages: "images" (encoding faces to codes), "embedding", "training".
TrainMappingJobResult run_train_mapping(const TrainMappingJobOptions& options, const ProgressSink& progress = {},
                                        const CancelToken* cancel = nullptr);

// What a mapping checkpoint says about itself (its safetensors metadata).
struct MappingInfo {
    std::string path, encoder, pooling, generator_fingerprint;
    int64_t text_dim = 0, gpt_width = 0, epochs_done = 0;
    bool finished = false;
};
MappingInfo read_mapping_info(const std::string& checkpoint);

struct GenerateJobOptions {
    std::string generator;   // the taming folder the mapping was trained against
    std::string mapping;     // a train-mapping checkpoint (it names its encoder and pooling)
    std::string encoder;     // "" = the one the checkpoint names (override: the same model elsewhere)
    std::vector<std::string> prompts;
    std::vector<uint64_t> seeds = {0};  // every prompt is generated once per seed
    SamplingOptions sampling;           // num_tokens 0 = the VQGAN's h * w
    int64_t batch = 16;                 // images sampled together
    std::string device = "auto";
    std::string dtype = "auto";         // GPT dtype: auto (see device_choice.h), float32, bfloat16, float16 (CUDA)
    std::string out_dir;                // PNGs + images.jsonl; "" = keep in memory only
    ModelSession* session = nullptr;    // keeps the generator and encoder resident (session.h); null = load here
    // Shard i of n (0-based; 1 = not sharded): every n-th sampling batch of the unsharded run, so
    // the shards' faces are the unsharded run's; out_dir then gets those faces, their
    // images.jsonl lines and shard.json, and merge_generation_shards joins the n folders.
    int shard_index = 0;
    int shard_count = 1;
};

struct GeneratedFace {
    std::string prompt;
    uint64_t seed = 0;
    int width = 0, height = 0;
    std::vector<uint8_t> rgb;  // interleaved 8-bit RGB, row-major
    std::vector<int64_t> codes;  // the sampled VQGAN code indices (h * w, row-major)
    std::string path;          // PNG written ("" when out_dir is empty)
};

struct GenerateJobResult {
    std::vector<GeneratedFace> faces;  // prompt-major: for each prompt, its seeds in order
    std::string encoder, pooling, mapping, device, dtype;
    std::string manifest;              // <out>/images.jsonl
    std::vector<std::string> warnings;  // e.g. the mapping was trained against another generator file
    double seconds = 0.0;
};

// Joins the out folders of `generate --shard i/n` into `out_dir` (staged: all or nothing): the PNGs
// and images.jsonl of the unsharded run, byte for byte. Refused by name: a folder without
// shard.json, shards of another run, a shard missing or given twice, a face missing. Returns the faces.
std::size_t merge_generation_shards(const std::vector<std::string>& shard_dirs, const std::string& out_dir);

// Progress stages: "embedding", "sampling", "decoding".
GenerateJobResult run_generate(const GenerateJobOptions& options, const ProgressSink& progress = {},
                               const CancelToken* cancel = nullptr);

}  // namespace syn::run
