// taming project YAML -> VQGANConfig + GPTConfig, and loading a whole taming model.
#include "models/taming_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/io/checkpoint.h"
#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/torch/strict_loader.h"

namespace fs = std::filesystem;

namespace syn::models {

namespace {

constexpr const char* kNet2Net = "taming.models.cond_transformer.Net2NetTransformer";
constexpr const char* kGPT = "taming.modules.transformer.mingpt.GPT";
constexpr const char* kVQModel = "taming.models.vqgan.VQModel";
constexpr const char* kIdentityPermuter = "taming.modules.transformer.permuter.Identity";

// Reads nodes with messages "<file>:<line>: <path>: ..."; yaml-cpp marks are 0-based.
struct Reader {
    std::string source;

    Error fail(const YAML::Node& at, const std::string& path, const std::string& what) const {
        const auto mark = at.Mark();
        const std::string where = mark.line >= 0 ? ":" + std::to_string(mark.line + 1) : std::string();
        return file_error(source + where, path + ": " + what);
    }

    YAML::Node child(const YAML::Node& parent, const std::string& path, const std::string& key) const {
        if (!parent.IsMap()) throw fail(parent, path, "expected a mapping");
        YAML::Node node = parent[key];
        if (!node) throw fail(parent, path, "key '" + key + "' is missing");
        return node;
    }

    // parent[key], or an invalid node when absent. yaml-cpp throws its own BadSubscript when
    // `parent` is a scalar or a list ("ddconfig: 3"): that is refused here by file, line and path.
    YAML::Node optional(const YAML::Node& parent, const std::string& path, const std::string& key) const {
        if (!parent.IsMap()) throw fail(parent, path, "expected a mapping (holding '" + key + "'), got " + kind(parent));
        return parent[key];
    }

    int64_t get_int(const YAML::Node& parent, const std::string& path, const std::string& key, int64_t fallback,
                    bool required = false) const {
        const YAML::Node node = optional(parent, path, key);
        if (!node) {
            if (required) throw fail(parent, path, "key '" + key + "' is missing");
            return fallback;
        }
        try {
            return node.as<int64_t>();
        } catch (const YAML::Exception&) {
            throw fail(node, path + "." + key, "expected an integer, got '" + scalar(node) + "'");
        }
    }

    bool get_bool(const YAML::Node& parent, const std::string& path, const std::string& key, bool fallback) const {
        const YAML::Node node = optional(parent, path, key);
        if (!node) return fallback;
        try {
            return node.as<bool>();
        } catch (const YAML::Exception&) {
            throw fail(node, path + "." + key, "expected true/false, got '" + scalar(node) + "'");
        }
    }

    std::vector<int64_t> get_list(const YAML::Node& parent, const std::string& path, const std::string& key,
                                  std::vector<int64_t> fallback) const {
        YAML::Node node = optional(parent, path, key);
        if (!node) return fallback;
        if (!node.IsSequence()) throw fail(node, path + "." + key, "expected a list of integers");
        std::vector<int64_t> out;
        for (const auto& item : node) {
            try {
                out.push_back(item.as<int64_t>());
            } catch (const YAML::Exception&) {
                throw fail(item, path + "." + key, "expected integers, got '" + scalar(item) + "'");
            }
        }
        return out;
    }

    static std::string scalar(const YAML::Node& node) { return node.IsScalar() ? node.Scalar() : std::string("<not a scalar>"); }
    static std::string kind(const YAML::Node& node) {
        if (node.IsScalar()) return "'" + node.Scalar() + "'";
        if (node.IsSequence()) return "a list";
        if (node.IsNull()) return "nothing";
        return "a mapping";
    }

    // {target: <expected>, params: {...}} -> params (an empty map when absent).
    YAML::Node expect_target(const YAML::Node& config, const std::string& path, const std::string& expected) const {
        YAML::Node target = child(config, path, "target");
        if (!target.IsScalar() || target.Scalar() != expected)
            throw fail(target, path + ".target",
                       "unknown target '" + scalar(target) + "' (supported: " + expected + ")");
        YAML::Node params = config["params"];
        if (!params) return YAML::Node(YAML::NodeType::Map);
        if (!params.IsMap()) throw fail(params, path + ".params", "expected a mapping");
        return params;
    }
};

VQGANConfig read_first_stage(const Reader& r, const YAML::Node& config) {
    const std::string path = "model.params.first_stage_config";
    YAML::Node params = r.expect_target(config, path, kVQModel);
    const std::string p = path + ".params";
    if (params["remap"] && !params["remap"].IsNull())
        throw r.fail(params["remap"], p + ".remap", "codebook remapping is not supported");
    VQGANConfig c;
    c.embed_dim = r.get_int(params, p, "embed_dim", 0, true);
    c.n_embed = r.get_int(params, p, "n_embed", 0, true);
    YAML::Node dd = r.child(params, p, "ddconfig");
    const std::string d = p + ".ddconfig";
    c.double_z = r.get_bool(dd, d, "double_z", true);
    c.z_channels = r.get_int(dd, d, "z_channels", 0, true);
    c.resolution = r.get_int(dd, d, "resolution", 0, true);
    c.in_channels = r.get_int(dd, d, "in_channels", 0, true);
    c.out_ch = r.get_int(dd, d, "out_ch", 0, true);
    c.ch = r.get_int(dd, d, "ch", 0, true);
    c.ch_mult = r.get_list(dd, d, "ch_mult", {1, 2, 4, 8});
    c.num_res_blocks = r.get_int(dd, d, "num_res_blocks", 0, true);
    c.attn_resolutions = r.get_list(dd, d, "attn_resolutions", {});
    if (c.double_z)  // VQModel feeds z_channels into quant_conv: a double_z encoder cannot load
        throw r.fail(dd, d, "double_z: true is not a VQModel encoder (expected false)");
    c.validate(r.source);
    return c;
}

GPTConfig read_transformer(const Reader& r, const YAML::Node& config) {
    const std::string path = "model.params.transformer_config";
    YAML::Node params = r.expect_target(config, path, kGPT);
    const std::string p = path + ".params";
    GPTConfig c;
    c.vocab_size = r.get_int(params, p, "vocab_size", 0, true);
    c.block_size = r.get_int(params, p, "block_size", 0, true);
    c.n_layer = r.get_int(params, p, "n_layer", 12);
    c.n_head = r.get_int(params, p, "n_head", 8);
    c.n_embd = r.get_int(params, p, "n_embd", 256);
    c.n_unmasked = r.get_int(params, p, "n_unmasked", 0);
    c.validate(r.source);
    return c;
}

}  // namespace

TamingConfig parse_taming_config(const std::string& text, const std::string& source) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw file_error(source + ":" + std::to_string(e.mark.line + 1), "not valid YAML/JSON: " + e.msg);
    }
    Reader r{source};
    if (!root || !root.IsMap()) throw file_error(source, "expected a mapping with a 'model' key");
    YAML::Node model = r.child(root, "", "model");
    YAML::Node params = r.expect_target(model, "model", kNet2Net);
    TamingConfig out;
    out.source = source;
    out.transformer = read_transformer(r, r.child(params, "model.params", "transformer_config"));
    out.first_stage = read_first_stage(r, r.child(params, "model.params", "first_stage_config"));
    YAML::Node cond = params["cond_stage_config"];
    if (!cond || !cond.IsScalar() || cond.Scalar() != "__is_unconditional__") {
        const std::string found = !cond ? "nothing" : cond.IsMap() && cond["target"] ? Reader::scalar(cond["target"])
                                                                                      : Reader::scalar(cond);
        throw r.fail(cond ? cond : params, "model.params.cond_stage_config",
                     "unknown target '" + found + "' (supported: __is_unconditional__, the study's unconditional GPT)");
    }
    if (YAML::Node permuter = params["permuter_config"]) r.expect_target(permuter, "model.params.permuter_config", kIdentityPermuter);
    out.sos_token = r.get_int(params, "model.params", "sos_token", 0);
    if (out.sos_token < 0 || out.sos_token >= out.transformer.vocab_size)
        throw r.fail(params["sos_token"], "model.params.sos_token", "outside the GPT vocabulary");
    if (out.first_stage.n_embed > out.transformer.vocab_size)
        throw r.fail(params, "model.params", "the codebook (n_embed " + std::to_string(out.first_stage.n_embed) +
                                                 ") is larger than the GPT vocabulary (" +
                                                 std::to_string(out.transformer.vocab_size) + ")");
    const int64_t side = out.first_stage.latent_size();
    if (side * side > out.transformer.block_size)
        throw r.fail(params, "model.params", "block_size " + std::to_string(out.transformer.block_size) +
                                                 " is shorter than the " + std::to_string(side * side) + " codes of an image");
    return out;
}

TamingConfig read_taming_config(const std::string& path) { return parse_taming_config(read_file(path), path); }

std::string find_taming_config(const std::string& folder) {
    std::error_code ec;
    if (fs::is_regular_file(folder, ec)) return folder;
    if (fs::exists(fs::path(folder) / "config.json")) return (fs::path(folder) / "config.json").string();
    std::vector<std::string> found;
    for (const fs::path dir : {fs::path(folder), fs::path(folder) / "configs"}) {
        if (!fs::is_directory(dir, ec)) continue;
        for (const auto& entry : fs::directory_iterator(dir, ec)) {
            const std::string name = entry.path().filename().string();
            if (name.size() >= 12 && name.compare(name.size() - 12, 12, "project.yaml") == 0)
                found.push_back(entry.path().string());
        }
    }
    if (found.empty()) throw file_error(folder, "no taming config (config.json or *project.yaml, also under configs/)");
    if (found.size() > 1) throw file_error(folder, "several *project.yaml files: pass the config file explicitly");
    return found.front();
}

TamingModel load_taming_files(const std::string& config_path, const std::string& checkpoint_path, c10::Device device,
                              c10::ScalarType dtype) {
    TamingModel out;
    out.config = read_taming_config(config_path);
    auto checkpoint = load_checkpoint(checkpoint_path);
    out.checkpoint = checkpoint.path;
    // Sizes are held against the checkpoint before the modules allocate them.
    out.config.first_stage.check_checkpoint(checkpoint.tensors, checkpoint.path, out.config.source);
    out.config.transformer.check_checkpoint(checkpoint.tensors, checkpoint.path, out.config.source);
    out.vqgan = std::make_unique<VQGAN>(out.config.first_stage);
    out.vqgan->load_weights(checkpoint.tensors, checkpoint.path);
    out.gpt = std::make_unique<MinGPT>(out.config.transformer);
    out.gpt->load_weights(checkpoint.tensors, checkpoint.path);
    out.vqgan->to(device, dtype);
    out.gpt->to(device, dtype);
    return out;
}

TamingModel load_taming(const std::string& folder, c10::Device device, c10::ScalarType dtype) {
    const std::string config = find_taming_config(folder);
    const fs::path dir = fs::is_directory(folder) ? fs::path(folder) : fs::path(folder).parent_path();
    for (const fs::path candidate : {dir / "model.safetensors", dir / "last.ckpt", dir / "checkpoints" / "last.ckpt"})
        if (fs::exists(candidate)) return load_taming_files(config, candidate.string(), device, dtype);
    throw file_error(dir.string(), "no taming weights (model.safetensors, last.ckpt or checkpoints/last.ckpt)");
}

}  // namespace syn::models
