#pragma once
// GLUE fine-tuning / linear probing (the study's Table 1): one task, one model, several seeds.
// Recipe defaults follow the study: AdamW lr 2e-5, no weight decay, batch 32, max length 128 (77 for
// CLIP, i.e. capped by the model), 3 epochs (MRPC, WNLI 5), linear decay without warm-up, gradient
// clipping at 1.0, seed 42; evaluation on dev after every epoch, the best epoch's weights kept.
// Mixed precision only on CUDA (bfloat16 autocast: no loss scaler is needed, unlike the study's fp16);
// on CPU everything is float32. Determinism: torch::manual_seed(seed) before the head is built,
// torch::manual_seed(seed, epoch) before each epoch (dropout), the data order of each epoch from a
// std::mt19937_64 seeded with (seed, epoch): an interrupted run resumed at an epoch boundary gives
// the same losses as an uninterrupted one.
//
// Data-parallel (options.dist, distributed.h): every rank draws the same epoch order, takes its
// contiguous slice of each global batch of batch_size rows, scales its mean loss by its share of the
// batch and SUM-all-reduces the gradients before clipping, so the steps (and the logged, all-reduced
// losses) equal the single-process run's up to float rounding; dropout masks differ per rank. Every
// rank evaluates the whole dev set (identical metrics); only rank 0 writes checkpoints and state.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/data/glue.h"
#include "core/run/progress.h"

namespace syn::run {

class DataParallel;

struct GlueJobOptions {
    data::GlueTask task = data::GlueTask::rte;
    std::string glue_dir;  // the official GLUE download (<dir>/RTE/train.tsv, ...)
    std::string model;     // model folder, hub id in the local HF cache, or catalog id
    std::string out_dir;   // <out>/<task>/seed<k>/{best,last}.safetensors, optimizer.pt, state.json
    double learning_rate = 2e-5;
    int batch_size = 32;
    int max_length = 128;  // capped by the model's own maximum (77 for CLIP)
    int epochs = 0;        // 0: the study's (3; MRPC and WNLI 5)
    double warmup_ratio = 0.0;
    double weight_decay = 0.0;
    double max_grad_norm = 1.0;  // <= 0: no clipping
    std::vector<uint64_t> seeds = {42};
    bool linear_probe = false;  // freeze the encoder, train the head only
    std::string device = "auto";
    bool mixed_precision = true;  // honoured on CUDA only
    bool resume = true;           // continue from <out>/<task>/seed<k>/state.json when it matches
    bool save_checkpoints = true;
    std::size_t max_train_examples = 0;  // 0: all (first N otherwise: quick runs, tests)
    std::size_t max_eval_examples = 0;
    // Stop after this many epochs in this call (0: run to the end); the next call resumes. Tests use it.
    int stop_after_epochs = 0;
    std::function<void(const std::string&)> log;  // progress lines; may be empty
    // Checked between optimiser steps: a cancelled run stops (syn::run::Cancelled) with its state
    // as of the last finished epoch on disk, so the next run resumes from there.
    const CancelToken* cancel = nullptr;
    // Data-parallel training over these processes (batch_size is the global batch, at least the
    // world size); nullptr: one process.
    std::shared_ptr<DataParallel> dist;
};

struct GlueEpoch {
    int epoch = 0;  // 1-based
    double train_loss = 0.0;
    std::map<std::string, double> metrics;  // dev metrics (MNLI: also *_mm on dev_mismatched)
};

struct GlueRun {
    uint64_t seed = 0;
    std::vector<GlueEpoch> epochs;
    std::vector<double> step_losses;  // every optimiser step, in order
    int best_epoch = 0;
    std::map<std::string, double> best_metrics;
    std::string best_checkpoint;  // "" when checkpoints are off
    bool finished = false;        // false when stopped early by stop_after_epochs
    int processes = 1;            // data-parallel processes that trained its last epoch (state.json)
};

struct GlueTaskResult {
    data::GlueTask task = data::GlueTask::rte;
    std::string primary_metric;
    std::vector<GlueRun> runs;
    // Over the seeds' best epochs: mean and sample standard deviation (0 for one seed).
    std::map<std::string, double> mean, sd;
    std::string model_folder, device, precision;
    std::size_t train_examples = 0, eval_examples = 0, skipped_train_lines = 0;
    int epochs = 0, max_length = 0;
    int64_t encoder_parameters = 0;  // parameters of the encoder (the table's Params column)
};

// The study's metric per task: mcc (CoLA), f1 (MRPC, QQP), spearman (STS-B), accuracy otherwise.
std::string glue_primary_metric(data::GlueTask task);
// Metrics of a task from predictions (class ids, or scores for STS-B). CoLA: mcc, accuracy; MRPC/QQP:
// f1, accuracy; STS-B: spearman, pearson; others: accuracy. Values as fractions (x100 in tables).
std::map<std::string, double> glue_metrics(data::GlueTask task, const std::vector<double>& predicted,
                                           const std::vector<double>& truth);

// The study's epoch count: 5 for MRPC and WNLI, else 3.
int glue_default_epochs(data::GlueTask task);

GlueTaskResult run_glue_task(const GlueJobOptions& options);

}  // namespace syn::run
