// The text-to-image jobs of the workbench (declared in jobs.h): a pair of faces for one prompt, one
// from a mapping trained on a CLIP-style encoder and one from a mapping trained on a BERT-style
// encoder, each scored with CLIP-S; and mapping training. The only ui/ translation unit that
// includes torch headers (the CLIP vision tower); its interface (jobs.h) stays torch-free.
#include <ATen/ATen.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>

#include "core/io/errors.h"
#include "core/io/model_store.h"
#include "core/run/jobs/clip_score.h"
#include "core/run/device_choice.h"
#include "core/run/jobs/embed_job.h"
#include "models/clip_image.h"
#include "models/registry.h"
#include "ui/compute/jobs.h"

namespace fs = std::filesystem;

namespace syn::ui {
namespace {

bool exists(const std::string& path) {
    std::error_code ec;
    return !path.empty() && fs::exists(path, ec);
}

// The CLIP scorer's folder: a local folder, or a hub / catalog id found in the Hugging Face cache.
// Returns "" with `why` set when it cannot be found.
std::string find_clip_folder(const std::string& model, std::string* why) {
    if (model.empty()) {
        *why = "a CLIP model for CLIP-S (e.g. " + std::string(kDefaultClipScorer) + ", or a CLIP model folder)";
        return {};
    }
    try {
        if (auto resolved = resolve_model(model)) return resolved->folder;
        *why = "a CLIP model for CLIP-S that is on this machine: '" + model +
               "' is not in the Hugging Face cache (" + hf_hub_cache_dir() +
               "); download it in the Models panel or pick a CLIP model folder";
    } catch (const std::exception& e) {
        *why = "a CLIP model folder for CLIP-S that exists (" + std::string(e.what()) + ")";
    }
    return {};
}

// Stages of one side's run_generate, their subject naming the side so the progress line says which face.
syn::run::ProgressSink for_side(const syn::run::ProgressSink& progress, const std::string& side) {
    if (!progress) return {};
    return [progress, side](const syn::run::Progress& p) {
        syn::run::Progress named = p;
        named.subject = (p.subject.empty() ? "" : p.subject + " ") + "(" + side + ")";
        progress(named);
    };
}

GeneratedSide generate_side(const FacePairRequest& request, const std::string& mapping, const std::string& side,
                            const syn::run::ProgressSink& progress, const syn::run::CancelToken* cancel,
                            syn::run::ModelSession* session) {
    syn::run::GenerateJobOptions options;
    options.generator = request.generator;
    options.mapping = mapping;
    options.prompts = {request.prompt};
    options.seeds = {request.seed};
    options.sampling.num_tokens = 0;  // the generator's own h * w
    options.sampling.top_k = request.top_k;
    options.sampling.temperature = request.temperature;
    options.batch = 1;
    options.device = request.device;
    options.out_dir.clear();  // in memory only: the GUI shows the faces, "Add to figure" keeps them
    options.session = session;
    syn::run::GenerateJobResult generated = syn::run::run_generate(options, for_side(progress, side), cancel);
    if (generated.faces.size() != 1)
        throw syn::Error(side + " mapping " + mapping + ": expected one face for one prompt and one seed, got " +
                         std::to_string(generated.faces.size()));
    syn::run::GeneratedFace& face = generated.faces.front();
    if (face.width <= 0 || face.height <= 0 ||
        face.rgb.size() != static_cast<std::size_t>(face.width) * static_cast<std::size_t>(face.height) * 3)
        throw syn::Error(side + " mapping " + mapping + ": the generated face has " + std::to_string(face.rgb.size()) +
                         " bytes for " + std::to_string(face.width) + " x " + std::to_string(face.height) + " RGB");
    GeneratedSide out;
    out.mapping = generated.mapping.empty() ? mapping : generated.mapping;
    out.encoder = generated.encoder;
    out.pooling = generated.pooling;
    out.face.width = face.width;
    out.face.height = face.height;
    out.face.rgb = std::move(face.rgb);
    return out;
}

}  // namespace

std::string face_pair_missing_inputs(const FacePairRequest& request) {
    std::vector<std::string> missing;
    if (request.prompt.empty()) missing.push_back("a prompt (type it in the box above)");
    if (request.generator.empty())
        missing.push_back("the generator folder (taming: config.json or *project.yaml with model.safetensors or last.ckpt)");
    else if (!exists(request.generator))
        missing.push_back("a generator folder that exists ('" + request.generator + "' does not)");
    auto mapping = [&](const std::string& path, const char* kind) {
        if (path.empty())
            missing.push_back(std::string("the mapping trained on a ") + kind +
                              "-style encoder (mapping.safetensors from train-mapping)");
        else if (!exists(path))
            missing.push_back(std::string("a ") + kind + "-side mapping that exists ('" + path + "' does not)");
    };
    mapping(request.clip_mapping, "CLIP");
    mapping(request.bert_mapping, "BERT");
    std::string why;
    if (find_clip_folder(request.clip_scorer, &why).empty()) missing.push_back(why);
    if (request.top_k < 0) missing.push_back("a top-k of 0 (off) or more");
    if (!(request.temperature >= 0.0)) missing.push_back("a temperature of 0 (greedy) or more");
    if (missing.empty()) return {};
    std::string text = "To generate faces, pick ";
    for (std::size_t i = 0; i < missing.size(); ++i) {
        if (i) text += i + 1 == missing.size() ? "; and " : "; ";
        text += missing[i];
    }
    return text + ".";
}

std::vector<double> clip_scores(const std::vector<RgbFace>& images, const std::vector<std::string>& texts,
                                const std::string& clip_model, const std::string& device,
                                const syn::run::ProgressSink& progress, const syn::run::CancelToken* cancel,
                                syn::run::ModelSession* session) {
    if (images.size() != texts.size())
        throw syn::Error("CLIP-S: " + std::to_string(images.size()) + " images but " + std::to_string(texts.size()) +
                         " texts");
    if (images.empty()) return {};
    std::string why;
    const std::string folder = find_clip_folder(clip_model, &why);
    if (folder.empty()) throw syn::Error("CLIP-S needs " + why);

    std::vector<models::RgbImage> rgb(images.size());
    for (std::size_t i = 0; i < images.size(); ++i) {
        const RgbFace& f = images[i];
        if (f.width <= 0 || f.height <= 0 ||
            f.rgb.size() != static_cast<std::size_t>(f.width) * static_cast<std::size_t>(f.height) * 3)
            throw syn::Error("CLIP-S: image " + std::to_string(i) + " is not " + std::to_string(f.width) + " x " +
                             std::to_string(f.height) + " RGB (" + std::to_string(f.rgb.size()) + " bytes)");
        rgb[i].width = f.width;
        rgb[i].height = f.height;
        rgb[i].pixels = f.rgb;
    }
    // Cheap with a session: both towers stay resident between Generate clicks.
    const auto scorer = std::make_shared<syn::run::ClipScorer>(folder, device, session);
    const auto n = static_cast<long long>(texts.size());
    if (progress) progress({syn::run::Stage::scoring, "CLIP-S", 0, n});
    const std::vector<double> scores = scorer->score_pairs(rgb, texts, syn::run::ClipScoreKind::cos100, progress, cancel);
    if (progress) progress({syn::run::Stage::scoring, "CLIP-S", n, n});
    return scores;
}

FacePairResult generate_face_pair(const FacePairRequest& request, const syn::run::ProgressSink& progress,
                                  const syn::run::CancelToken* cancel, syn::run::ModelSession* session) {
    const std::string missing = face_pair_missing_inputs(request);
    if (!missing.empty()) throw syn::Error(missing);
    const auto t0 = std::chrono::steady_clock::now();
    FacePairResult result;
    result.prompt = request.prompt;
    result.seed = request.seed;
    result.clip_scorer = request.clip_scorer;
    result.clip = generate_side(request, request.clip_mapping, "CLIP side", progress, cancel, session);
    syn::run::throw_if_cancelled(cancel, "face generation");
    result.bert = generate_side(request, request.bert_mapping, "BERT side", progress, cancel, session);
    syn::run::throw_if_cancelled(cancel, "face generation");
    const std::vector<double> scores = clip_scores({result.clip.face, result.bert.face},
                                                   {request.prompt, request.prompt}, request.clip_scorer,
                                                   request.device, for_side(progress, "CLIP-S"), cancel, session);
    result.clip.clip_score = scores.at(0);
    result.bert.clip_score = scores.at(1);
    result.device = syn::run::choose_device(request.device, "float32").device.str();
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

MappingTrainingOutcome train_mapping(const syn::run::TrainMappingJobOptions& options,
                                     const syn::run::ProgressSink& progress, const syn::run::CancelToken* cancel) {
    MappingTrainingOutcome outcome;
    // What a resumed run continues from (the job itself decides whether the checkpoint fits).
    const fs::path checkpoint = fs::path(options.out_dir) / "mapping.safetensors";
    int64_t before = 0;
    if (options.resume && !options.out_dir.empty() && exists(checkpoint.string())) {
        try {
            before = syn::run::read_mapping_info(checkpoint.string()).epochs_done;
        } catch (const std::exception&) {
            before = 0;  // unreadable: run_train_mapping reports it properly
        }
    }
    outcome.result = syn::run::run_train_mapping(options, progress, cancel);
    if (outcome.result.resumed) outcome.resumed_from_epoch = before;
    else outcome.replaced_epochs = before;
    return outcome;
}

}  // namespace syn::ui
