#include "benchmarks/random_checkpoints.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "core/io/hf_config.h"
#include "core/io/safetensors.h"
#include "core/io/torch/tensor_bridge.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/jobs/t2i_job.h"
#include "models/mingpt.h"
#include "models/registry.h"
#include "models/taming_config.h"
#include "models/text_encoder.h"
#include "models/vqgan.h"

namespace fs = std::filesystem;

namespace syn::bench {

std::string option_value(int argc, char** argv, int& i) {
    if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", argv[i]);
        std::exit(2);
    }
    return argv[++i];
}

std::string shared_dir() {
    const char* v = std::getenv("SYNESTHESIA_SHARED");
    return v && *v ? v : SYN_DEFAULT_SHARED_DIR;
}

std::vector<RandomModel> base_size_models() {
    return {
        {"bert-base-uncased",
         {{"model_type", "bert"}, {"architectures", {"BertModel"}}, {"hidden_size", 768}, {"num_hidden_layers", 12},
          {"num_attention_heads", 12}, {"intermediate_size", 3072}, {"vocab_size", 30522},
          {"max_position_embeddings", 512}, {"type_vocab_size", 2}},
         {{"bert-base-uncased-vocab.txt", "vocab.txt"}}},
        {"roberta-base",
         {{"model_type", "roberta"}, {"architectures", {"RobertaModel"}}, {"hidden_size", 768},
          {"num_hidden_layers", 12}, {"num_attention_heads", 12}, {"intermediate_size", 3072}, {"vocab_size", 50265},
          {"max_position_embeddings", 514}, {"type_vocab_size", 1}, {"pad_token_id", 1}, {"layer_norm_eps", 1e-5}},
         {{"roberta-vocab-reconstructed.json", "vocab.json"}, {"roberta-merges.txt", "merges.txt"}}},
        {"clip-vit-base-patch32-text",
         {{"model_type", "clip_text_model"}, {"architectures", {"CLIPTextModel"}}, {"hidden_size", 512},
          {"num_hidden_layers", 12}, {"num_attention_heads", 8}, {"intermediate_size", 2048}, {"vocab_size", 49408},
          {"max_position_embeddings", 77}, {"bos_token_id", 49406}, {"eos_token_id", 49407}},
         {{"bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt.gz"}}},
    };
}

RandomModel clip_large_text_model() {
    return {"clip-vit-large-patch14-text",
            {{"model_type", "clip_text_model"}, {"architectures", {"CLIPTextModelWithProjection"}},
             {"hidden_size", 768}, {"num_hidden_layers", 12}, {"num_attention_heads", 12},
             {"intermediate_size", 3072}, {"projection_dim", 768}, {"vocab_size", 49408},
             {"max_position_embeddings", 77}, {"hidden_act", "quick_gelu"}, {"layer_norm_eps", 1e-5},
             {"bos_token_id", 49406}, {"eos_token_id", 49407}, {"pad_token_id", 1}},
            {{"bpe_simple_vocab_16e6.txt.gz", "bpe_simple_vocab_16e6.txt.gz"}}};
}

std::vector<RandomModel> model_set(const std::string& set) {
    auto models = base_size_models();
    if (set == "base") return models;
    if (set == "large") {
        models.back() = clip_large_text_model();
        return models;
    }
    if (set == "all") {
        models.push_back(clip_large_text_model());
        return models;
    }
    throw std::invalid_argument("model set '" + set + "': expected base, large or all");
}

namespace {

void add_state(TensorMap& state, torch::nn::Module& module, const std::string& prefix) {
    for (const auto& p : module.named_parameters())
        state[prefix + p.key()] = from_torch(p.value().detach().to(torch::kFloat).contiguous());
    for (const auto& b : module.named_buffers())
        state[prefix + b.key()] = from_torch(b.value().detach().contiguous());
}

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string taming_weights(const std::string& folder) {
    const fs::path dir(folder);
    for (const fs::path candidate : {dir / "model.safetensors", dir / "last.ckpt", dir / "checkpoints" / "last.ckpt"})
        if (fs::exists(candidate)) return candidate.string();
    throw std::runtime_error(folder + ": no taming weights");
}

}  // namespace

std::string write_model(const RandomModel& m, const fs::path& work) {
    const fs::path folder = work / m.name;
    if (fs::exists(folder / "model.safetensors")) return folder.string();
    fs::create_directories(folder);
    std::ofstream(folder / "config.json") << m.config.dump(2);
    for (const auto& [from, to] : m.vocab_files)
        fs::copy_file(shared_dir() + "/vocab/" + from, folder / to, fs::copy_options::overwrite_existing);
    torch::manual_seed(1);
    auto encoder = models::build_text_encoder(HfConfig(m.config, m.name + " (random)"));
    TensorMap state;
    add_state(state, encoder->module(), "");
    write_safetensors((folder / "model.safetensors").string(), state, {{"format", "pt"}}, {});
    return folder.string();
}

nlohmann::json celebahq_taming_config() {
    using nlohmann::json;
    const json gpt = {{"vocab_size", 1024}, {"block_size", 256}, {"n_layer", 24}, {"n_head", 16}, {"n_embd", 1664}};
    const json ddconfig = {{"double_z", false},   {"z_channels", 256},   {"resolution", 256},
                           {"in_channels", 3},    {"out_ch", 3},         {"ch", 128},
                           {"ch_mult", {1, 1, 2, 2, 4}}, {"num_res_blocks", 2}, {"attn_resolutions", {16}},
                           {"dropout", 0.0}};
    return {{"model",
             {{"target", "taming.models.cond_transformer.Net2NetTransformer"},
              {"params",
               {{"transformer_config", {{"target", "taming.modules.transformer.mingpt.GPT"}, {"params", gpt}}},
                {"first_stage_config",
                 {{"target", "taming.models.vqgan.VQModel"},
                  {"params", {{"embed_dim", 256}, {"n_embed", 1024}, {"ddconfig", ddconfig}}}}},
                {"cond_stage_config", "__is_unconditional__"}}}}}};
}

std::string write_taming(const nlohmann::json& config, const fs::path& folder) {
    if (fs::exists(folder / "model.safetensors") && fs::exists(folder / "config.json")) return folder.string();
    fs::create_directories(folder);
    const std::string config_path = (folder / "config.json").string();
    std::ofstream(config_path) << config.dump(1);
    const auto parsed = models::read_taming_config(config_path);  // the workbench's own reading of it
    const auto t = std::chrono::steady_clock::now();
    torch::manual_seed(1);
    TensorMap state;
    {
        models::VQGAN vqgan(parsed.first_stage);
        add_state(state, vqgan.module(), "first_stage_model.");
    }
    {
        models::MinGPT gpt(parsed.transformer);
        add_state(state, gpt.module(), "transformer.");
    }
    std::printf("  generator: %zu tensors initialised in %.1f s (GPT %.0f M parameters), writing...\n", state.size(),
                seconds_since(t), parsed.transformer.parameter_count() / 1e6);
    std::fflush(stdout);
    write_safetensors((folder / "model.safetensors").string(), state, {{"format", "pt"}}, {});
    return folder.string();
}

std::string write_mapping(const std::string& path, const std::string& encoder, const std::string& pooling,
                          int64_t text_dim, int64_t gpt_width, const std::string& generator) {
    const std::string fingerprint = run::generator_fingerprint(models::find_taming_config(generator), taming_weights(generator));
    torch::manual_seed(2);
    torch::nn::Linear linear(text_dim, gpt_width);
    TensorMap state;
    add_state(state, *linear, "linear.");
    fs::create_directories(fs::path(path).parent_path());
    write_safetensors(path, state,
                      {{"encoder", encoder},
                       {"pooling", pooling},
                       {"generator", fingerprint},
                       {"text_dim", std::to_string(text_dim)},
                       {"gpt_width", std::to_string(gpt_width)},
                       {"epochs_done", "4"},
                       {"finished", "true"}});
    return path;
}

int64_t embedding_width(const std::string& encoder, const std::string& pooling) {
    run::EmbedOptions o;
    o.model = encoder;
    o.pooling = pooling;
    o.device = "cpu";
    o.use_cache = false;
    return run::embed_texts({"a face"}, o).dim;
}

}  // namespace syn::bench
