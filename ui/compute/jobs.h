#pragma once
// The workbench's heavy actions as plain functions that run on the ComputeWorker's thread (never on
// the GUI thread): loading the CxC / COCO data, the STS run over the selected encoders, the prompt
// box's nearest-caption search, a model check, and the text-to-image probe (faces, mapping
// training). They take and return plain structs; no Qt widgets, no tensors in their interface.
#include <QString>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/data/sts_dataset.h"
#include "core/run/progress.h"
#include "core/run/jobs/prompt_search.h"
#include "core/run/jobs/sts_job.h"
#include "core/run/jobs/sts_models.h"
#include "core/run/jobs/t2i_job.h"

namespace syn::ui {

// The STS run over the ticked encoders and the data loading live in core/run (sts_models.h).
using syn::run::load_sts_data;
using syn::run::run_sts_models;
using syn::run::StsModelOutcome;
using syn::run::StsModelRequest;
using syn::run::StsRunOutcome;
using syn::run::StsRunRequest;

// The prompt box's search lives in core/run (prompt_search.h); the panels use its types.
using syn::run::EncoderNeighbours;
using syn::run::Neighbour;
using syn::run::PromptModel;
using syn::run::PromptResult;
using syn::run::nearest_captions;
using syn::run::top_k;

// --- text-to-image probe (PAPER.md section 3, Figure 1) ------------------------------------------
// The prompt box's face generation and the mapping training panel. Implemented in t2i_jobs.cpp (the
// one ui/ translation unit that includes torch headers: CLIP-S needs the vision tower).

inline constexpr const char* kDefaultClipScorer = "openai/clip-vit-base-patch16";  // the study's CLIP-S model

// An 8-bit RGB image crossing from the compute thread to the GUI (interleaved, row-major).
struct RgbFace {
    int width = 0, height = 0;
    std::vector<uint8_t> rgb;  // width * height * 3
};

struct FacePairRequest {
    std::string generator;     // taming folder
    std::string clip_mapping;  // mapping checkpoint trained on a CLIP-style encoder
    std::string bert_mapping;  // mapping checkpoint trained on a BERT-style encoder
    std::string clip_scorer = kDefaultClipScorer;  // CLIP model for CLIP-S: catalog / hub id or folder
    std::string prompt;
    uint64_t seed = 0;
    int64_t top_k = 250;
    double temperature = 1.0;
    std::string device = "auto";
};

struct GeneratedSide {
    std::string mapping, encoder, pooling;
    RgbFace face;
    double clip_score = 0.0;  // 100 x cos(image embed, text embed) of the scorer
};

struct FacePairResult {
    std::string prompt, clip_scorer, device;
    uint64_t seed = 0;
    GeneratedSide clip, bert;  // in the request's order: CLIP-side mapping, BERT-side mapping
    double seconds = 0.0;
};

// What the user still has to pick before generating ("" when nothing is missing). Cheap (only
// looks at the file system), so the GUI thread calls it before submitting the job.
std::string face_pair_missing_inputs(const FacePairRequest& request);

// run_generate for both mappings with the same prompt and seed, then CLIP-S of each face against
// the prompt. Progress stages are prefixed with the side ("CLIP side: sampling", ...). `session`
// (the compute worker's; may be null) keeps the generator, encoders and CLIP towers resident: the
// two sides share one generator load, and the next click loads nothing.
FacePairResult generate_face_pair(const FacePairRequest& request, const syn::run::ProgressSink& progress,
                                  const syn::run::CancelToken* cancel, syn::run::ModelSession* session = nullptr);

// CLIP-S (100 x cosine, the study's metric) of image i against text i with one CLIP model (catalog
// / hub id in the Hugging Face cache, or a folder): text_embeds through the embedding job with
// "projected" pooling, image_embeds through CLIP's preprocessing and vision tower.
std::vector<double> clip_scores(const std::vector<RgbFace>& images, const std::vector<std::string>& texts,
                                const std::string& clip_model, const std::string& device,
                                const syn::run::ProgressSink& progress, const syn::run::CancelToken* cancel,
                                syn::run::ModelSession* session = nullptr);

struct MappingTrainingOutcome {
    syn::run::TrainMappingJobResult result;
    int64_t resumed_from_epoch = 0;  // epochs the out dir's checkpoint held before this run (0: fresh start)
    // Epochs of a checkpoint in out_dir that was NOT continued because it was trained with other
    // settings (run_train_mapping resumes only an identical run); this run started afresh over it.
    int64_t replaced_epochs = 0;
};
// run_train_mapping, noting first how many epochs an existing checkpoint in out_dir held.
MappingTrainingOutcome train_mapping(const syn::run::TrainMappingJobOptions& options,
                                     const syn::run::ProgressSink& progress, const syn::run::CancelToken* cancel);

}  // namespace syn::ui
