#pragma once
// taming-transformers' project configuration (the "<date>-project.yaml" beside last.ckpt, or the
// same tree as JSON as in the tiny-taming fixture's config.json), read with yaml-cpp:
//   model.target  taming.models.cond_transformer.Net2NetTransformer
//   model.params.transformer_config   {target: taming.modules.transformer.mingpt.GPT, params}
//   model.params.first_stage_config   {target: taming.models.vqgan.VQModel, params: {embed_dim,
//                                      n_embed, ddconfig}}
//   model.params.cond_stage_config    __is_unconditional__ (the study's unconditional GPT)
// Any other target (or a remap / permuter the modules do not implement) is a syn::Error that names
// the file, the line and the target found.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <memory>
#include <string>

#include "models/mingpt.h"
#include "models/vqgan.h"

namespace syn::models {

struct TamingConfig {
    VQGANConfig first_stage;
    GPTConfig transformer;
    int64_t sos_token = 0;  // Net2NetTransformer's SOSProvider (sos_token param, default 0)
    std::string source;     // the file read
};

TamingConfig parse_taming_config(const std::string& text, const std::string& source);
TamingConfig read_taming_config(const std::string& path);

// The config file of a model folder: config.json, else the one *project.yaml (also under
// configs/). None or several -> syn::Error naming the folder.
std::string find_taming_config(const std::string& folder);

struct TamingModel {
    TamingConfig config;
    std::unique_ptr<VQGAN> vqgan;
    std::unique_ptr<MinGPT> gpt;
    std::string checkpoint;  // the weights file read
};

// A folder (config + model.safetensors or last.ckpt, also under checkpoints/) or explicit files;
// both parts go through the strict loader (missing keys -> syn::Error listing them).
TamingModel load_taming(const std::string& folder, c10::Device device = c10::Device(c10::kCPU),
                        c10::ScalarType dtype = c10::kFloat);
TamingModel load_taming_files(const std::string& config_path, const std::string& checkpoint_path,
                              c10::Device device = c10::Device(c10::kCPU), c10::ScalarType dtype = c10::kFloat);

}  // namespace syn::models
