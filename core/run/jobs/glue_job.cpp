#include "core/run/jobs/glue_job.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <sstream>

#include "core/eval/classification_metrics.h"
#include "core/eval/correlation.h"
#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/model_store.h"
#include "core/io/safetensors.h"
#include "core/io/torch/autocast.h"
#include "core/io/torch/tensor_bridge.h"
#include "core/run/device_choice.h"
#include "core/run/distributed.h"
#include "core/text/tokenizer.h"
#include "models/classification_heads.h"

namespace syn::run {
namespace fs = std::filesystem;
using data::GlueTask;

namespace {

struct Encoded {
    std::vector<text::Encoding> items;
    std::vector<double> targets;  // class id or score
};

Encoded encode_split(const data::GlueSplit& split, const text::Tokenizer& tokenizer, int max_length, std::size_t limit) {
    Encoded out;
    const data::GlueTaskInfo& info = data::glue_task_info(split.task);
    text::EncodeOptions eo;
    eo.max_length = max_length;
    eo.return_tokens = false;
    const std::size_t n = limit ? std::min(limit, split.examples.size()) : split.examples.size();
    for (std::size_t i = 0; i < n; ++i) {
        const auto& e = split.examples[i];
        out.items.push_back(info.pair ? tokenizer.encode_pair(e.text_a, e.text_b, eo) : tokenizer.encode(e.text_a, eo));
        out.targets.push_back(info.regression() ? e.score : double(e.label));
    }
    if (out.items.empty()) throw file_error(split.path, "no examples");
    return out;
}

struct TensorBatch {
    at::Tensor ids, mask, types, targets;
};

TensorBatch make_batch(const Encoded& data, const std::vector<std::size_t>& rows, int32_t pad_id, bool regression,
                       c10::Device device) {
    std::size_t t = 0;
    for (auto r : rows) t = std::max(t, data.items[r].ids.size());
    const int64_t b = rows.size(), tl = t;
    std::vector<int64_t> ids(b * tl, pad_id), mask(b * tl, 0), types(b * tl, 0);
    std::vector<double> targets;
    for (int64_t i = 0; i < b; ++i) {
        const auto& e = data.items[rows[i]];
        for (std::size_t j = 0; j < e.ids.size(); ++j) {
            ids[i * tl + j] = e.ids[j];
            mask[i * tl + j] = e.attention_mask.empty() ? 1 : e.attention_mask[j];
            types[i * tl + j] = e.type_ids.empty() ? 0 : e.type_ids[j];
        }
        targets.push_back(data.targets[rows[i]]);
    }
    auto opts = torch::TensorOptions().dtype(torch::kLong);
    TensorBatch out;
    out.ids = torch::from_blob(ids.data(), {b, tl}, opts).clone().to(device);
    out.mask = torch::from_blob(mask.data(), {b, tl}, opts).clone().to(device);
    out.types = torch::from_blob(types.data(), {b, tl}, opts).clone().to(device);
    auto t64 = torch::from_blob(targets.data(), {b}, torch::kDouble).clone();
    out.targets = (regression ? t64.to(torch::kFloat) : t64.to(torch::kLong)).to(device);
    return out;
}

// Fisher-Yates with the raw 64-bit draws (std::shuffle's distribution is implementation-defined;
// this order is the same with every standard library).
std::vector<std::size_t> epoch_order(std::size_t n, uint64_t seed, int epoch) {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed * 1000003ULL + uint64_t(epoch));
    for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
    return order;
}

double linear_schedule(int64_t step, int64_t total, int64_t warmup) {
    // transformers' get_linear_schedule_with_warmup
    if (step < warmup) return double(step) / double(std::max<int64_t>(1, warmup));
    return std::max(0.0, double(total - step) / double(std::max<int64_t>(1, total - warmup)));
}

std::vector<double> predict(models::SequenceClassifier& model, const Encoded& data, int32_t pad_id, int batch_size,
                            bool autocast) {
    torch::NoGradGuard no_grad;
    model.train(false);
    std::vector<double> out;
    const c10::Device device = model.encoder().device();
    for (std::size_t start = 0; start < data.items.size(); start += batch_size) {
        std::vector<std::size_t> rows;
        for (std::size_t i = start; i < std::min(data.items.size(), start + batch_size); ++i) rows.push_back(i);
        auto b = make_batch(data, rows, pad_id, model.regression(), device);
        at::Tensor logits;
        {
            compat::CudaAutocast ac(autocast);
            logits = model.forward(b.ids, b.mask, b.types);
        }
        logits = logits.to(torch::kCPU, torch::kDouble);
        auto pred = model.regression() ? logits.squeeze(-1) : logits.argmax(-1).to(torch::kDouble);
        for (int64_t i = 0; i < pred.size(0); ++i) out.push_back(pred[i].item<double>());
    }
    return out;
}

TensorMap named_weights(models::SequenceClassifier& model) {
    TensorMap out;
    for (const auto& p : model.module().named_parameters())
        out[p.key()] = from_torch(p.value().detach().to(torch::kCPU).contiguous());
    return out;
}

void load_weights(models::SequenceClassifier& model, const std::string& path) {
    const SafetensorsFile file = read_safetensors(path);
    torch::NoGradGuard no_grad;
    for (auto& p : model.module().named_parameters()) {
        auto it = file.tensors.find(p.key());
        if (it == file.tensors.end()) throw file_error(path, "checkpoint lacks '" + p.key() + "'");
        auto t = to_torch(it->second);
        if (t.sizes() != p.value().sizes()) throw file_error(path, "'" + p.key() + "' has another shape");
        p.value().copy_(t);
    }
}

// What a resumable state must agree on; a state written under other settings is not reused.
std::string run_fingerprint(const GlueJobOptions& o, const std::string& folder, int epochs, int max_length, uint64_t seed) {
    std::ostringstream s;
    s << data::glue_task_info(o.task).name << '|' << fs::weakly_canonical(folder).string() << '|' << o.learning_rate << '|'
      << o.batch_size << '|' << max_length << '|' << epochs << '|' << o.warmup_ratio << '|' << o.weight_decay << '|'
      << o.max_grad_norm << '|' << seed << '|' << o.linear_probe << '|' << o.max_train_examples << '|'
      << o.max_eval_examples;
    return s.str();
}

nlohmann::json epoch_json(const GlueEpoch& e) { return {{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"metrics", e.metrics}}; }

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw file_error(path, "cannot write");
}

}  // namespace

std::string glue_primary_metric(GlueTask task) {
    switch (task) {
        case GlueTask::cola: return "mcc";
        case GlueTask::mrpc:
        case GlueTask::qqp: return "f1";
        case GlueTask::stsb: return "spearman";
        default: return "accuracy";
    }
}

int glue_default_epochs(GlueTask task) { return task == GlueTask::mrpc || task == GlueTask::wnli ? 5 : 3; }

std::map<std::string, double> glue_metrics(GlueTask task, const std::vector<double>& predicted,
                                           const std::vector<double>& truth) {
    std::map<std::string, double> m;
    if (task == GlueTask::stsb) {
        m["spearman"] = eval::spearman(predicted, truth).value;
        m["pearson"] = eval::pearson(predicted, truth).value;
        return m;
    }
    std::vector<int> p(predicted.begin(), predicted.end()), t(truth.begin(), truth.end());
    m["accuracy"] = eval::accuracy(t, p);
    if (task == GlueTask::cola) m["mcc"] = eval::matthews_corrcoef(t, p);
    if (task == GlueTask::mrpc || task == GlueTask::qqp) m["f1"] = eval::f1_binary(t, p, 1);
    return m;
}

GlueTaskResult run_glue_task(const GlueJobOptions& o) {
    auto log = [&](const std::string& line) {
        if (o.log) o.log(line);
    };
    const data::GlueTaskInfo& info = data::glue_task_info(o.task);
    if (o.batch_size < 1) throw Error("glue: batch size must be at least 1");
    if (o.seeds.empty()) throw Error("glue: no seeds");
    if (!(o.learning_rate > 0)) throw Error("glue: learning rate must be positive");
    DataParallel* const dist = o.dist.get();
    if (dist) dist->require_batch_for_world(o.batch_size, "glue");
    const bool writer = !dist || dist->is_main();  // only rank 0 writes checkpoints and state

    const auto resolved = resolve_model(o.model);
    if (!resolved) throw Error("glue: model '" + o.model + "' is neither a folder nor in the local Hugging Face cache");
    const DeviceChoice dc = choose_device(o.device, "float32");
    const bool autocast = o.mixed_precision && dc.device.is_cuda();

    data::GlueSplit train = data::read_glue_tsv(o.task, data::glue_split_path(o.glue_dir, o.task, "train"));
    data::require_labeled(train, "training");
    data::GlueSplit dev = data::read_glue_tsv(o.task, data::glue_split_path(o.glue_dir, o.task, "dev"));
    data::require_labeled(dev, "evaluation");
    std::optional<data::GlueSplit> dev_mm;
    if (o.task == GlueTask::mnli) {
        dev_mm = data::read_glue_tsv(o.task, data::glue_split_path(o.glue_dir, o.task, "dev_mismatched"));
        data::require_labeled(*dev_mm, "evaluation");
    }
    if (!train.skipped_lines.empty())
        log(train.path + ": skipped " + std::to_string(train.skipped_lines.size()) + " malformed lines");

    auto tokenizer = text::load_tokenizer(resolved->folder);
    GlueTaskResult result;
    result.task = o.task;
    result.primary_metric = glue_primary_metric(o.task);
    result.model_folder = resolved->folder;
    result.device = dc.device.str();
    result.precision = autocast ? "bfloat16 autocast" : "float32";
    result.epochs = o.epochs > 0 ? o.epochs : glue_default_epochs(o.task);
    result.skipped_train_lines = train.skipped_lines.size();

    for (uint64_t seed : o.seeds) {
        torch::manual_seed(seed);
        models::ClassifierOptions co;
        co.num_outputs = info.num_outputs();
        co.freeze_encoder = o.linear_probe;
        auto model = models::SequenceClassifier::load(resolved->folder, co, dc.device, c10::kFloat);
        int max_length = o.max_length;
        if (model->encoder().max_tokens() > 0) max_length = std::min<int>(max_length, model->encoder().max_tokens());
        if (tokenizer->model_max_length() > 0) max_length = std::min(max_length, tokenizer->model_max_length());
        result.max_length = max_length;
        result.encoder_parameters = 0;
        for (const auto& p : model->encoder().module().parameters()) result.encoder_parameters += p.numel();
        const Encoded train_data = encode_split(train, *tokenizer, max_length, o.max_train_examples);
        const Encoded dev_data = encode_split(dev, *tokenizer, max_length, o.max_eval_examples);
        std::optional<Encoded> dev_mm_data;
        if (dev_mm) dev_mm_data = encode_split(*dev_mm, *tokenizer, max_length, o.max_eval_examples);
        result.train_examples = train_data.items.size();
        result.eval_examples = dev_data.items.size();
        const int32_t pad = tokenizer->pad_id();

        torch::optim::AdamW optimizer(model->trainable_parameters(),
                                      torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay));
        const int64_t steps_per_epoch = (int64_t(train_data.items.size()) + o.batch_size - 1) / o.batch_size;
        const int64_t total_steps = steps_per_epoch * result.epochs;
        const int64_t warmup = int64_t(std::llround(o.warmup_ratio * double(total_steps)));

        const std::string run_dir = (fs::path(o.out_dir) / info.name / ("seed" + std::to_string(seed))).string();
        const std::string state_path = run_dir + "/state.json";
        const std::string fingerprint = run_fingerprint(o, resolved->folder, result.epochs, max_length, seed);
        if (o.save_checkpoints && writer) fs::create_directories(run_dir);

        GlueRun run;
        run.seed = seed;
        double best = -std::numeric_limits<double>::infinity();
        int start_epoch = 1;
        if (o.resume && o.save_checkpoints && fs::exists(state_path)) {
            std::ifstream in(state_path);
            nlohmann::json state = nlohmann::json::parse(in, nullptr, false);
            if (state.is_object() && state.value("fingerprint", "") == fingerprint) {
                load_weights(*model, run_dir + "/last.safetensors");
                torch::load(optimizer, run_dir + "/optimizer.pt");
                for (const auto& e : state["epochs"]) {
                    GlueEpoch ge;
                    ge.epoch = e["epoch"];
                    ge.train_loss = e["train_loss"];
                    ge.metrics = e["metrics"].get<std::map<std::string, double>>();
                    run.epochs.push_back(ge);
                }
                run.step_losses = state["step_losses"].get<std::vector<double>>();
                run.best_epoch = state["best_epoch"];
                run.best_metrics = state["best_metrics"].get<std::map<std::string, double>>();
                run.processes = state.value("processes", 1);
                best = state["best"];
                start_epoch = int(run.epochs.size()) + 1;
                log(run_dir + ": resuming after epoch " + std::to_string(run.epochs.size()));
            } else {
                log(run_dir + ": state.json was written with other settings; starting afresh");
            }
        }
        if (dist) {
            // Every rank must start from the same epoch (each read the state itself: a shared folder).
            const auto m = dist->allreduce_max({double(start_epoch), -double(start_epoch)});
            if (m[0] != -m[1])
                throw Error("glue: the processes found different saved states in " + run_dir + " (this is rank " +
                            std::to_string(dist->rank()) + ", starting at epoch " + std::to_string(start_epoch) +
                            "): give every rank the same --out folder on a shared file system, or pass --no-resume");
            dist->broadcast_parameters(model->module().parameters());  // identical replicas to start from
        }

        int epochs_this_call = 0;
        for (int epoch = start_epoch; epoch <= result.epochs; ++epoch) {
            if (o.stop_after_epochs > 0 && epochs_this_call >= o.stop_after_epochs) break;
            torch::manual_seed(seed * 1000003ULL + uint64_t(epoch));  // dropout masks of this epoch
            const auto order = epoch_order(train_data.items.size(), seed, epoch);
            model->train(true);
            run.processes = dist ? dist->world_size() : 1;
            double loss_sum = 0;
            bool agreed_cancel = false;  // distributed: every rank stops at the same step
            for (int64_t s = 0; s < steps_per_epoch; ++s) {
                if (dist ? agreed_cancel : (o.cancel && o.cancel->cancelled()))
                    throw Cancelled{"GLUE training (" + data::glue_task_info(o.task).name + ", seed " +
                                    std::to_string(seed) + ", epoch " + std::to_string(epoch) + ")"};
                const int64_t step = int64_t(epoch - 1) * steps_per_epoch + s;
                std::vector<std::size_t> rows(order.begin() + s * o.batch_size,
                                              order.begin() + std::min<std::size_t>(order.size(), (s + 1) * o.batch_size));
                optimizer.zero_grad();
                double l = 0.0;
                // This rank's contiguous slice of the global batch (all of it in one process).
                const auto [lo, hi] = dist ? rank_slice(int64_t(rows.size()), dist->rank(), dist->world_size())
                                           : std::pair<int64_t, int64_t>(0, int64_t(rows.size()));
                if (hi > lo) {
                    const std::vector<std::size_t> mine(rows.begin() + lo, rows.begin() + hi);
                    auto b = make_batch(train_data, mine, pad, model->regression(), dc.device);
                    at::Tensor loss;
                    {
                        compat::CudaAutocast ac(autocast);
                        auto logits = model->forward(b.ids, b.mask, b.types);
                        loss = model->loss(logits.to(torch::kFloat), b.targets);
                    }
                    // The mean over the slice weighted by its share: the ranks' sum is the batch mean.
                    if (dist) loss = loss * (double(hi - lo) / double(rows.size()));
                    loss.backward();
                    l = loss.item<double>();
                }
                if (dist) {
                    dist->allreduce_gradients(model->trainable_parameters());
                    const auto v = dist->allreduce_sum({l, o.cancel && o.cancel->cancelled() ? 1.0 : 0.0});
                    l = v[0];
                    agreed_cancel = v[1] > 0;
                }
                if (o.max_grad_norm > 0) torch::nn::utils::clip_grad_norm_(model->trainable_parameters(), o.max_grad_norm);
                const double lr = o.learning_rate * linear_schedule(step, total_steps, warmup);
                for (auto& group : optimizer.param_groups())
                    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
                optimizer.step();
                if (!std::isfinite(l))
                    throw Error("glue: " + info.display + " seed " + std::to_string(seed) + ": loss became " +
                                std::to_string(l) + " at step " + std::to_string(step + 1) + " (lower the learning rate)");
                run.step_losses.push_back(l);
                loss_sum += l;
            }
            GlueEpoch ge;
            ge.epoch = epoch;
            ge.train_loss = loss_sum / double(steps_per_epoch);
            ge.metrics = glue_metrics(o.task, predict(*model, dev_data, pad, o.batch_size * 2, autocast), dev_data.targets);
            if (dev_mm_data) {
                for (const auto& [k, v] : glue_metrics(o.task, predict(*model, *dev_mm_data, pad, o.batch_size * 2, autocast),
                                                        dev_mm_data->targets))
                    ge.metrics[k + "_mm"] = v;
            }
            run.epochs.push_back(ge);
            ++epochs_this_call;
            const double primary = ge.metrics.at(result.primary_metric);
            std::ostringstream line;
            line << info.display << " seed " << seed << " epoch " << epoch << "/" << result.epochs << ": loss "
                 << ge.train_loss << ", " << result.primary_metric << " " << primary;
            log(line.str());
            const bool improved = !(primary <= best);  // NaN (undefined correlation) counts once, at first
            if (improved) {
                best = std::isnan(primary) ? -std::numeric_limits<double>::infinity() : primary;
                run.best_epoch = epoch;
                run.best_metrics = ge.metrics;
            }
            if (o.save_checkpoints && writer) {
                const std::map<std::string, std::string> meta = {
                    {"task", info.name}, {"seed", std::to_string(seed)}, {"epoch", std::to_string(epoch)}};
                const TensorMap weights = named_weights(*model);
                if (improved) write_safetensors(run_dir + "/best.safetensors", weights, meta);
                write_safetensors(run_dir + "/last.safetensors", weights, meta);
                torch::save(optimizer, run_dir + "/optimizer.pt");
                nlohmann::json state = {{"fingerprint", fingerprint}, {"best", best}, {"best_epoch", run.best_epoch},
                                        {"best_metrics", run.best_metrics}, {"step_losses", run.step_losses},
                                        {"processes", run.processes},
                                        {"epochs", nlohmann::json::array()}};
                for (const auto& e : run.epochs) state["epochs"].push_back(epoch_json(e));
                write_text(state_path + ".tmp", state.dump(1));
                fs::rename(state_path + ".tmp", state_path);
            }
        }
        run.finished = int(run.epochs.size()) == result.epochs;
        if (o.save_checkpoints && run.best_epoch > 0) run.best_checkpoint = run_dir + "/best.safetensors";
        result.runs.push_back(std::move(run));
    }

    // Mean and sample sd over the seeds' best epochs.
    std::map<std::string, std::vector<double>> values;
    for (const auto& r : result.runs)
        for (const auto& [k, v] : r.best_metrics) values[k].push_back(v);
    for (const auto& [k, vs] : values) {
        const double mean = std::accumulate(vs.begin(), vs.end(), 0.0) / double(vs.size());
        double ss = 0;
        for (double v : vs) ss += (v - mean) * (v - mean);
        result.mean[k] = mean;
        result.sd[k] = vs.size() > 1 ? std::sqrt(ss / double(vs.size() - 1)) : 0.0;
    }
    return result;
}

}  // namespace syn::run
