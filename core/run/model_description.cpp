#include "core/run/model_description.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <system_error>
#include <vector>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/safetensors.h"
#include "core/io/sentence_transformers.h"
#include "core/io/torch_checkpoint.h"
#include "models/bert.h"
#include "models/clip.h"
#include "models/registry.h"
#include "models/t5_encoder.h"

namespace fs = std::filesystem;

namespace syn::run {
namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

long long product(const std::vector<int64_t>& shape) {
    long long n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

// Hidden size, layers and positions through the models' own config readers, which validate every
// size and name the key (and the config file) when one is wrong.
void read_shape(const HfConfig& config, models::Family family, ModelDescription& d) {
    // BERT, CLIP and SigLIP configs name these three sizes alike.
    auto take = [&d](const auto& c) {
        d.hidden_size = c.hidden_size;
        d.layers = c.num_hidden_layers;
        d.max_positions = c.max_position_embeddings;
    };
    switch (family) {
        case models::Family::bert:
        case models::Family::roberta: take(models::BertConfig::from_hf(config, family == models::Family::roberta)); return;
        case models::Family::clip_text: take(models::ClipTextConfig::from_hf(config)); return;
        case models::Family::siglip_text: take(models::SiglipTextConfig::from_hf(config)); return;
        case models::Family::t5: {
            const auto c = models::T5Config::from_hf(config);
            d.hidden_size = c.d_model;
            d.layers = c.num_layers;
            d.max_positions = 0;  // relative position buckets
            return;
        }
    }
}

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

// The checkpoint of a folder, in load_checkpoint's order (model.safetensors, the sharded index,
// pytorch_model.bin), then other *.safetensors (test fixtures' golden*.safetensors excluded) and *.ckpt.
// Text-tower parameters from its header(s); nothing is loaded.
void count_params(const fs::path& folder, ModelDescription& d) {
    auto add = [&](const std::string& name, const std::vector<int64_t>& shape) {
        if (is_text_tower_tensor(name)) d.params += product(shape);
    };
    auto count_safetensors = [&](const fs::path& file) {
        const SafetensorsFile f = read_safetensors(file.string());
        for (const auto& [name, tensor] : f.tensors) add(name, tensor.shape);
    };
    auto count_torch = [&](const fs::path& file) {
        // The lenient tree: tensor references with their sizes, no storage read.
        const pickle::Document doc = read_torch_checkpoint_tree(file.string());
        for (const StateDictEntry& e : select_state_dict(doc, file.string())) add(e.name, e.tensor->size);
    };
    if (is_file(folder / "model.safetensors")) {
        d.weights_file = (folder / "model.safetensors").string();
        count_safetensors(folder / "model.safetensors");
        return;
    }
    if (is_file(folder / "model.safetensors.index.json")) {
        d.weights_file = (folder / "model.safetensors.index.json").string();
        for (const auto& [name, tensor] : read_safetensors_index(d.weights_file)) add(name, tensor.shape);
        return;
    }
    if (is_file(folder / "pytorch_model.bin")) {
        d.weights_file = (folder / "pytorch_model.bin").string();
        count_torch(folder / "pytorch_model.bin");
        return;
    }
    std::vector<fs::path> safetensors, ckpt;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(folder, ec)) {
        if (!entry.is_regular_file(ec)) continue;
        const std::string name = entry.path().filename().string();
        if (entry.path().extension() == ".safetensors" && !starts_with(name, "golden")) safetensors.push_back(entry.path());
        else if (entry.path().extension() == ".ckpt") ckpt.push_back(entry.path());
    }
    if (!safetensors.empty()) {  // shards without an index: every file counts
        std::sort(safetensors.begin(), safetensors.end());
        d.weights_file = safetensors.front().string();
        for (const auto& f : safetensors) count_safetensors(f);
    } else if (!ckpt.empty()) {
        std::sort(ckpt.begin(), ckpt.end());
        d.weights_file = ckpt.front().string();
        count_torch(ckpt.front());
    }
}

}  // namespace

void ModelDescription::throw_if_error() const {
    if (!error.empty()) throw Error(error);
}

std::string style_of_family(const std::string& family) {
    if (family == "bert" || family == "roberta") return "bert";
    if (family == "clip" || family == "clip_text" || family == "siglip" || family == "siglip_text") return "clip";
    if (family == "lexical") return "lexical";
    return "other";
}

std::string group_of_style(const std::string& style) {
    if (style == "bert") return "BERT-style";
    if (style == "clip") return "CLIP-style";
    if (style == "lexical") return "Lexical";
    if (style == "other") return "Other";
    return style;
}

bool is_text_tower_tensor(const std::string& name) {
    for (const char* prefix : {"vision_model.", "visual_projection.", "logit_scale", "logit_bias", "decoder.",
                               "lm_head.", "cls.", "lm_loss."})
        if (starts_with(name, prefix)) return false;
    return true;
}

ModelDescription describe_model(const std::string& folder) {
    ModelDescription d;
    d.folder = folder;
    d.style = "other";
    std::error_code ec;
    if (!fs::exists(folder, ec)) {
        d.error = folder + ": does not exist";
        return d;
    }
    if (!fs::is_directory(folder, ec)) {
        d.error = folder + ": is not a folder (choose the folder that holds config.json and the weights)";
        return d;
    }
    try {
        fs::path model_folder = folder;
        if (st::is_sentence_transformers_folder(folder)) {
            d.sentence_transformers = true;
            const st::SentenceTransformerConfig stc = st::read_sentence_transformers(folder);
            const st::SentenceTransformerSummary summary = st::summarize_sentence_transformers(stc);
            d.st_pooling = summary.pooling;
            d.st_details = summary.details;
            model_folder = stc.transformer_folder;
        }
        if (!is_file(model_folder / "config.json")) {
            d.error = model_folder.string() +
                      ": not a model folder: no config.json (a Hugging Face model folder holds config.json, the "
                      "weights and the tokenizer files)";
            return d;
        }
        const HfConfig config = HfConfig::load(model_folder.string());
        d.config_file = config.source();
        d.model_type = config.model_type();
        const models::Family family = models::detect_family(config);
        d.family = models::family_name(family);
        d.style = style_of_family(d.family);
        read_shape(config, family, d);
        count_params(model_folder, d);
    } catch (const std::exception& e) {
        d.error = e.what();
    }
    return d;
}

}  // namespace syn::run
