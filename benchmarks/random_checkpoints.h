#pragma once
// Random-weight checkpoints at the real sizes of the study's models, written as the folders the
// workbench reads, for the benchmarks (bench_session, bench_generate_session,
// bench_gui_responsiveness). Folders are kept between runs (written once, reused when present).
//
//   text encoders  hub-style folders: config.json (transformers' real config of the model),
//                  model.safetensors (the encoder's random initialisation), the real vocabulary
//                  files from $SYNESTHESIA_SHARED/vocab;
//   generator      a taming folder (config.json holding the project yaml's tree, as the
//                  tiny-taming fixture, + model.safetensors with first_stage_model.* and
//                  transformer.*) at celebahq_transformer's sizes (PAPER.md section 3);
//   mapping        a train-mapping checkpoint (mapping.safetensors with its metadata) of random
//                  weights, for run_generate.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace syn::bench {

// $SYNESTHESIA_SHARED, else the shared folder beside the repository (compiled in).
// The value after option argv[i] (advancing i); exits with status 2 naming the option when absent.
std::string option_value(int argc, char** argv, int& i);

std::string shared_dir();

struct RandomModel {
    std::string name;
    nlohmann::json config;
    std::vector<std::pair<std::string, std::string>> vocab_files;  // shared/vocab file -> name in the folder
};

// transformers' configs of bert-base-uncased, roberta-base, CLIP ViT-B/32's text tower.
std::vector<RandomModel> base_size_models();
// transformers' openai/clip-vit-large-patch14 text_config (hidden 768, 12 layers, 12 heads,
// intermediate 3072, projection 768, 77 positions), as a CLIPTextModelWithProjection folder.
RandomModel clip_large_text_model();
// "base": the three base-size encoders; "large": BERT-base, RoBERTa-base and CLIP L/14's text
// tower; "all": the four. Anything else throws std::invalid_argument.
std::vector<RandomModel> model_set(const std::string& set);

// Writes <work>/<name>/ (config.json, random weights, the vocabulary) unless it has its weights.
std::string write_model(const RandomModel& m, const std::filesystem::path& work);

// celebahq_transformer's project configuration as the JSON tree of its yaml (PAPER.md section 3:
// GPT vocab 1024, block 256, 24 layers, 16 heads, width 1664; VQGAN 256 px, 16 x 16 codes,
// codebook 1024 x 256, ch 128, ch_mult 1,1,2,2,4, 2 res blocks, attention at 16; z_channels 256).
nlohmann::json celebahq_taming_config();

// Writes <folder>/config.json + model.safetensors of `config` (a taming project tree) with random
// weights unless the weights are there; returns the folder. `log` lines say what takes the time.
std::string write_taming(const nlohmann::json& config, const std::filesystem::path& folder);

// Writes a train-mapping checkpoint (Linear text_dim -> gpt_width, random) at `path` that names
// `encoder` and `pooling`, with the generator fingerprint run_generate expects for `generator`
// (written after the generator, so no "trained against another generator" warning). Rewritten
// every call (cheap).
std::string write_mapping(const std::string& path, const std::string& encoder, const std::string& pooling,
                          int64_t text_dim, int64_t gpt_width, const std::string& generator);

// Width of `encoder`'s embeddings under `pooling` (one short text embedded, no cache kept).
int64_t embedding_width(const std::string& encoder, const std::string& pooling);

}  // namespace syn::bench
