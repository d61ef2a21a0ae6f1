// The text-to-image probe's jobs: train the prefix map, generate faces.
#include "core/run/session.h"
#include "core/run/jobs/t2i_job.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

#include "core/data/mm_celeba_hq.h"
#include "core/io/atomic_file.h"
#include "core/io/output_folder.h"
#include "core/io/errors.h"
#include "core/io/image_header.h"
#include "core/io/safetensors.h"
#include "core/io/sha256.h"
#include "core/io/torch/strict_loader.h"
#include "core/io/torch/tensor_bridge.h"
#include "core/run/catalog.h"
#include "core/run/device_choice.h"
#include "core/run/distributed.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/embedding_cache.h"
#include "core/run/jobs/generate.h"
#include "core/run/jobs/train_mapping.h"
#include "core/run/reports/text_formats.h"
#include "models/clip_image.h"
#include "models/prefix_mapping.h"
#include "models/taming_config.h"

namespace syn::run {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int64_t kCodesChunk = 256;  // images per codes-cache file (the unit of resumption)
constexpr const char* kMappingFile = "mapping.safetensors";

// Path, size and modification time: what identifies a file's version for the caches without
// reading it (the checkpoint of the real generator is 3.5 GB).
std::string file_stamp(const std::string& path) {
    std::error_code ec;
    const auto canonical = fs::weakly_canonical(path, ec);
    const auto size = fs::file_size(path, ec);
    const auto time = fs::last_write_time(path, ec).time_since_epoch().count();
    return (ec ? path : canonical.string()) + "|" + std::to_string(size) + "|" + std::to_string(time);
}

}  // namespace

std::string generator_fingerprint(const std::string& config_path, const std::string& checkpoint_path) {
    return sha256_hex(file_stamp(config_path) + "\n" + file_stamp(checkpoint_path)).substr(0, 32);
}

namespace {

std::string generator_fingerprint(const models::TamingModel& model) {
    return syn::run::generator_fingerprint(model.config.source, model.checkpoint);
}

// An RGB face -> [3, R, R] float in [-1, 1] as taming's data pipeline: shortest side scaled to R
// (area averaging when shrinking, bicubic when enlarging), centre crop.
at::Tensor face_tensor(const models::RgbImage& image, int64_t resolution) {
    cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.pixels.data()));
    const double scale = double(resolution) / double(std::min(image.width, image.height));
    const int w = std::max<int>(resolution, int(std::lround(image.width * scale)));
    const int h = std::max<int>(resolution, int(std::lround(image.height * scale)));
    cv::Mat resized;
    cv::resize(rgb, resized, cv::Size(w, h), 0, 0, scale < 1.0 ? cv::INTER_AREA : cv::INTER_CUBIC);
    cv::Mat crop = resized(cv::Rect((w - int(resolution)) / 2, (h - int(resolution)) / 2, int(resolution), int(resolution)))
                       .clone();
    auto t = at::from_blob(crop.data, {resolution, resolution, 3}, at::kByte).clone();
    return t.permute({2, 0, 1}).to(at::kFloat).div(127.5).sub(1.0);
}

struct FaceCodes {
    at::Tensor codes;           // [I, L] of the usable images
    std::vector<int64_t> rows;  // dataset sample index of each row of `codes`
    std::size_t skipped = 0, from_cache = 0;
};

// Encodes the faces to code indices once: chunks of kCodesChunk images are cached as safetensors
// files ("codes" I64 [n, L], "ok" U8 [n]: 0 = the image could not be decoded), written atomically,
// so a cancelled run keeps the finished chunks and the cache stays consistent.
FaceCodes encode_faces(models::VQGAN& vqgan, const data::FaceDataset& faces, const std::string& cache_dir,
                       const std::function<void(const std::string&)>& log, const ProgressSink& progress,
                       const CancelToken* cancel) {
    const int64_t n = static_cast<int64_t>(faces.samples.size());
    const int64_t resolution = vqgan.config().resolution;
    const int64_t length = vqgan.config().latent_size() * vqgan.config().latent_size();
    fs::create_directories(cache_dir);
    FaceCodes out;
    std::vector<at::Tensor> parts;
    std::size_t problems_logged = 0;
    for (int64_t begin = 0; begin < n; begin += kCodesChunk) {
        throw_if_cancelled(cancel, "images");
        const int64_t count = std::min(kCodesChunk, n - begin);
        std::string key;
        for (int64_t i = begin; i < begin + count; ++i) key += file_stamp(faces.samples[i].image_path) + "\n";
        const std::string path = (fs::path(cache_dir) / (sha256_hex(key).substr(0, 40) + ".safetensors")).string();
        at::Tensor codes, ok;
        if (fs::exists(path)) {
            auto file = read_safetensors(path);
            codes = to_torch(file.tensors.at("codes"));
            ok = to_torch(file.tensors.at("ok"));
            if (codes.size(0) != count || codes.size(1) != length || ok.size(0) != count)
                throw Error(path + ": a codes cache file of the wrong shape (delete it)");
            out.from_cache += static_cast<std::size_t>(ok.sum().item<int64_t>());
        } else {
            codes = at::zeros({count, length}, at::kLong);
            ok = at::zeros({count}, at::kByte);
            std::vector<at::Tensor> batch;
            std::vector<int64_t> batch_rows;
            auto flush = [&] {
                if (batch.empty()) return;
                torch::NoGradGuard no_grad;
                auto images = at::stack(batch).to(vqgan.device(), vqgan.dtype());
                auto indices = vqgan.encode(images).indices.to(at::kCPU);
                for (std::size_t j = 0; j < batch_rows.size(); ++j) codes[batch_rows[j]].copy_(indices[int64_t(j)]);
                batch.clear();
                batch_rows.clear();
            };
            for (int64_t i = 0; i < count; ++i) {
                const auto& sample = faces.samples[begin + i];
                try {
                    check_image_pixels(sample.image_path);  // the size from the header, before decoding
                    batch.push_back(face_tensor(models::read_rgb_image(sample.image_path), resolution));
                    batch_rows.push_back(i);
                    ok[i] = 1;
                } catch (const Error& e) {
                    if (log && problems_logged++ < 10) log("skipping an unreadable image: " + std::string(e.what()));
                }
                if (batch.size() == 16) flush();
            }
            flush();
            write_safetensors(path, {{"codes", from_torch(codes)}, {"ok", from_torch(ok)}});
        }
        for (int64_t i = 0; i < count; ++i) {
            if (ok[i].item<uint8_t>()) out.rows.push_back(begin + i);
            else ++out.skipped;
        }
        parts.push_back(codes.index_select(0, ok.nonzero().reshape({-1})));
        if (progress) progress({Stage::encoding_images, "", begin + count, n});
    }
    out.codes = at::cat(parts, 0);
    return out;
}

json recipe_json(const MappingTrainOptions& o) {
    return {{"learning_rate", o.learning_rate}, {"beta1", o.beta1}, {"beta2", o.beta2},
            {"weight_decay", o.weight_decay}, {"batch_size", o.batch_size}, {"epochs", o.epochs},
            {"max_steps", o.max_steps}, {"sos_token", o.sos_token}, {"seed", o.seed},
            {"plateau_factor", o.plateau_factor}, {"plateau_patience", o.plateau_patience},
            {"plateau_threshold", o.plateau_threshold}};
}

// What must match for a saved run to be continued.
json run_signature(const TrainMappingJobOptions& o, const std::string& pooling, const std::string& generator,
                   std::size_t images) {
    return {{"encoder", o.encoder}, {"pooling", pooling}, {"generator", generator}, {"data_dir", o.data_dir},
            {"split", o.split}, {"images", images}, {"all_captions", o.all_captions},
            {"random_dim", o.encoder == kRandomEncoder ? o.random_dim : 0}, {"recipe", recipe_json(o.train)}};
}

void save_torch_atomically(const std::string& path, const std::function<void(std::ostream&)>& save) {
    std::ostringstream buffer;
    save(buffer);
    write_file_atomically(path, buffer.str());
}

}  // namespace

MappingInfo read_mapping_info(const std::string& checkpoint) {
    auto file = read_safetensors(checkpoint);
    auto get = [&](const char* key) {
        auto it = file.metadata.find(key);
        if (it == file.metadata.end())
            throw Error(checkpoint + ": not a train-mapping checkpoint (metadata key '" + key + "' missing)");
        return it->second;
    };
    MappingInfo info;
    info.path = checkpoint;
    info.encoder = get("encoder");
    info.pooling = get("pooling");
    info.generator_fingerprint = get("generator");
    try {
        info.text_dim = std::stoll(get("text_dim"));
        info.gpt_width = std::stoll(get("gpt_width"));
        info.epochs_done = std::stoll(get("epochs_done"));
    } catch (const std::logic_error&) {
        throw Error(checkpoint + ": metadata text_dim / gpt_width / epochs_done are not integers");
    }
    info.finished = get("finished") == "true";
    return info;
}

TrainMappingJobResult run_train_mapping(const TrainMappingJobOptions& o, const ProgressSink& progress,
                                        const CancelToken* cancel) {
    const auto started = std::chrono::steady_clock::now();
    auto log = [&](const std::string& line) {
        if (o.log) o.log(line);
    };
    if (o.encoder.empty()) throw Error("train-mapping: no encoder given (a model, or \"random\" for the baseline)");
    if (o.out_dir.empty()) throw Error("train-mapping: no output folder given");
    const bool random = o.encoder == kRandomEncoder;
    if (random && o.random_dim <= 0) throw Error("train-mapping: random_dim must be positive");

    const DeviceChoice dc = choose_device(o.device, "float32");
    TrainMappingJobResult result;
    result.device = dc.device.str();
    const bool autocast = o.mixed_precision && dc.device.is_cuda();
    result.precision = autocast ? "bfloat16 autocast (GPT), float32 mapping" : "float32";

    auto faces = data::load_mm_celeba_hq(o.data_dir, o.split, o.max_images);
    result.empty_caption_lines = faces.empty_caption_lines;
    log("data: " + std::to_string(faces.samples.size()) + " faces from " + o.data_dir + " (" + o.split + "), " +
        std::to_string(faces.empty_caption_lines) + " empty caption lines skipped, " +
        std::to_string(faces.problem_count) + " problems");
    for (const auto& problem : faces.problems) log("  " + problem);

    auto model = models::load_taming(o.generator, dc.device, c10::kFloat);
    const std::string generator = generator_fingerprint(model);
    const std::string cache_root = o.cache_root.empty() ? default_cache_root() : o.cache_root;
    auto codes = encode_faces(*model.vqgan, faces, (fs::path(cache_root) / "t2i-codes" / generator).string(), o.log,
                              progress, cancel);
    model.vqgan.reset();  // only the codes are needed from here on
    result.images = codes.rows.size();
    result.skipped_images = codes.skipped;
    result.codes_from_cache = codes.from_cache;
    if (codes.rows.empty()) throw Error(o.data_dir + ": none of the " + std::to_string(faces.samples.size()) +
                                        " images could be read");
    log("codes: " + std::to_string(result.images) + " images (" + std::to_string(codes.from_cache) + " from the cache, " +
        std::to_string(codes.skipped) + " unreadable skipped)");

    MappingData data;
    data.codes = codes.codes.to(dc.device);
    data.all_captions = o.all_captions;
    result.encoder = o.encoder;
    result.pooling = random ? "random N(0,1)" : (o.pooling.empty() ? default_pooling(o.encoder, "t2i") : o.pooling);
    int64_t text_dim = o.random_dim;
    if (random) {
        data.random_dim = o.random_dim;
    } else {
        std::vector<std::string> texts;
        std::vector<int64_t> owner;
        for (std::size_t r = 0; r < codes.rows.size(); ++r)
            for (const auto& caption : faces.samples[codes.rows[r]].captions) {
                texts.push_back(caption);
                owner.push_back(static_cast<int64_t>(r));
            }
        EmbedOptions eo;
        eo.model = o.encoder;
        eo.pooling = result.pooling;
        eo.device = o.device;
        eo.cache_root = cache_root;
        auto embedded = embed_texts(texts, eo, progress, cancel);
        text_dim = embedded.dim;
        data.text = at::from_blob(embedded.rows.data(), {int64_t(texts.size()), embedded.dim}, at::kFloat)
                        .clone()
                        .to(dc.device);
        data.caption_image = at::tensor(owner, at::kLong);
        result.captions = texts.size();
        if (embedded.truncated_texts) log(std::to_string(embedded.truncated_texts) + " captions cut at the encoder's context");
    }
    result.text_dim = text_dim;
    result.gpt_width = model.gpt->config().n_embd;
    model.gpt->to(dc.device, c10::kFloat);

    torch::manual_seed(o.train.seed);
    models::PrefixMapping mapping(text_dim, result.gpt_width);
    mapping.to(dc.device, c10::kFloat);

    const bool writer = !o.dist || o.dist->is_main();  // only rank 0 writes to out_dir
    if (writer) fs::create_directories(o.out_dir);
    const std::string checkpoint = (fs::path(o.out_dir) / kMappingFile).string();
    const std::string state_path = (fs::path(o.out_dir) / "state.json").string();
    const std::string optimizer_path = (fs::path(o.out_dir) / "optimizer.pt").string();
    const json signature = run_signature(o, result.pooling, generator, result.images);
    const int64_t samples = mapping_samples_per_epoch(data);
    int64_t total = (samples + o.train.batch_size - 1) / o.train.batch_size * o.train.epochs;
    if (o.train.max_steps > 0) total = std::min(total, o.train.max_steps);

    MappingTrainState state;
    MappingTrainReport previous;
    if (o.resume && fs::exists(state_path)) {
        json saved;
        try {
            saved = json::parse(read_file(state_path));
        } catch (const json::exception& e) {
            throw Error(state_path + ": not valid JSON (" + e.what() + "); delete it to start afresh");
        }
        if (saved.value("signature", json()) != signature) {
            log(state_path + " was written with other settings; starting afresh");
        } else {
            const auto& s = saved.at("state");
            state.epochs_done = s.at("epochs_done");
            state.steps = s.at("steps");
            state.learning_rate = s.at("learning_rate");
            state.best_epoch_loss = s.at("best_epoch_loss");
            state.bad_epochs = s.at("bad_epochs");
            previous.step_losses = saved.at("step_losses").get<std::vector<double>>();
            previous.epoch_losses = saved.at("epoch_losses").get<std::vector<double>>();
            previous.learning_rates = saved.at("learning_rates").get<std::vector<double>>();
            previous.steps = state.steps;
            auto weights = read_safetensors(checkpoint);
            mapping.load_weights(weights.tensors, checkpoint);
            mapping.to(dc.device, c10::kFloat);
            result.resumed = true;
            log("resuming from epoch " + std::to_string(state.epochs_done) + " (step " + std::to_string(state.steps) + ")");
        }
    }

    if (o.dist) {
        // Every rank must start from the same epoch (each read the state itself: a shared folder).
        const auto m = o.dist->allreduce_max({double(state.epochs_done), -double(state.epochs_done)});
        if (m[0] != -m[1])
            throw Error("train-mapping: the processes found different saved states in " + o.out_dir + " (this is rank " +
                        std::to_string(o.dist->rank()) + ", resuming after epoch " + std::to_string(state.epochs_done) +
                        "): give every rank the same --out folder on a shared file system, or pass --no-resume");
    }

    auto save = [&](const MappingTrainState& s, const MappingTrainReport& report, torch::optim::Optimizer& optimizer) {
        if (!writer) return;
        const bool finished = s.epochs_done >= o.train.epochs || s.steps >= total;
        save_torch_atomically(optimizer_path, [&](std::ostream& out) { torch::save(optimizer, out); });
        write_safetensors(checkpoint, mapping.state_dict(),
                          {{"encoder", o.encoder},
                           {"pooling", result.pooling},
                           {"generator", generator},
                           {"text_dim", std::to_string(text_dim)},
                           {"gpt_width", std::to_string(result.gpt_width)},
                           {"epochs_done", std::to_string(s.epochs_done)},
                           {"finished", finished ? "true" : "false"},
                           {"recipe", recipe_json(o.train).dump()}});
        std::string csv = "step,loss\n";
        for (std::size_t i = 0; i < report.step_losses.size(); ++i)
            csv += std::to_string(i + 1) + "," + std::to_string(report.step_losses[i]) + "\n";
        write_file_atomically((fs::path(o.out_dir) / "losses.csv").string(), csv);
        // state.json last: it is what a resumed run trusts, so it only ever names files already written.
        json saved = {{"signature", signature},
                      {"state",
                       {{"epochs_done", s.epochs_done},
                        {"steps", s.steps},
                        {"learning_rate", s.learning_rate},
                        {"best_epoch_loss", s.best_epoch_loss},
                        {"bad_epochs", s.bad_epochs}}},
                      {"finished", finished},
                      {"step_losses", report.step_losses},
                      {"epoch_losses", report.epoch_losses},
                      {"learning_rates", report.learning_rates}};
        write_file_atomically(state_path, saved.dump(1) + "\n");
        log("epoch " + std::to_string(s.epochs_done) + ": loss " + std::to_string(report.epoch_losses.back()) +
            ", lr " + std::to_string(s.learning_rate));
    };

    MappingTrainHooks hooks;
    hooks.cancel = cancel;
    hooks.progress = progress;
    hooks.on_epoch_end = save;
    hooks.on_step = o.on_step;
    hooks.autocast = autocast;
    hooks.stop_after_epochs = o.stop_after_epochs;
    hooks.dist = o.dist.get();
    hooks.restore_optimizer = [&](torch::optim::Optimizer& optimizer) {
        std::istringstream in(read_file(optimizer_path));
        torch::load(optimizer, in);
    };
    const bool already_done = state.epochs_done >= o.train.epochs || (state.steps >= total && state.epochs_done > 0);
    result.report = already_done ? previous : train_mapping(mapping, *model.gpt, data, o.train, state, previous, hooks);
    result.finished = state.epochs_done >= o.train.epochs || state.steps >= total;
    result.checkpoint = checkpoint;
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
}

GenerateJobResult run_generate(const GenerateJobOptions& o, const ProgressSink& progress, const CancelToken* cancel) {
    const auto started = std::chrono::steady_clock::now();
    if (o.prompts.empty()) throw Error("generate: no prompts given");
    if (o.seeds.empty()) throw Error("generate: no seeds given");
    if (o.batch <= 0) throw Error("generate: batch must be positive");
    const bool sharded = o.shard_count > 1;
    if (o.shard_count < 1 || o.shard_index < 0 || o.shard_index >= o.shard_count)
        throw Error("generate: shard " + std::to_string(o.shard_index) + "/" + std::to_string(o.shard_count) +
                    " is not i/n with 0 <= i < n");
    const MappingInfo info = read_mapping_info(o.mapping);
    const DeviceChoice dc = choose_device(o.device, o.dtype);
    GenerateJobResult result;
    result.encoder = o.encoder.empty() ? info.encoder : o.encoder;
    result.pooling = info.pooling;
    result.mapping = o.mapping;
    result.device = dc.device.str();
    result.dtype = dc.dtype_name;

    // From the session: the second side of a face pair, or the next Generate, reuses the loaded
    // generator (the VQGAN in float32, the GPT in dc.dtype).
    std::shared_ptr<models::TamingModel> resident;
    if (o.session) {
        resident = o.session->taming(o.generator, dc);
    } else {
        resident = std::make_shared<models::TamingModel>(models::load_taming(o.generator, dc.device, c10::kFloat));
        resident->gpt->to(dc.device, dc.dtype);
    }
    models::TamingModel& model = *resident;
    if (generator_fingerprint(model) != info.generator_fingerprint)
        result.warnings.push_back(o.mapping + " was trained against another copy or version of the generator than " +
                                  o.generator + " (its checkpoint's path, size or time differ)");
    if (model.gpt->config().n_embd != info.gpt_width)
        throw Error(o.mapping + ": the mapping outputs " + std::to_string(info.gpt_width) + " wide vectors, the GPT of " +
                    o.generator + " is " + std::to_string(model.gpt->config().n_embd) + " wide");
    models::PrefixMapping mapping(info.text_dim, info.gpt_width);
    mapping.load_weights(read_safetensors(o.mapping).tensors, o.mapping);
    mapping.to(dc.device, c10::kFloat);
    mapping.module().eval();

    const int64_t prompts = static_cast<int64_t>(o.prompts.size());
    const bool random = result.encoder == kRandomEncoder;
    at::Tensor text;
    if (!random) {
        EmbedOptions eo;
        eo.model = result.encoder;
        eo.pooling = info.pooling;
        eo.device = o.device;
        eo.session = o.session;
        auto embedded = embed_texts(o.prompts, eo, progress, cancel);
        if (embedded.dim != info.text_dim)
            throw Error(o.mapping + ": the mapping takes " + std::to_string(info.text_dim) + " wide embeddings, " +
                        result.encoder + " gives " + std::to_string(embedded.dim));
        text = at::from_blob(embedded.rows.data(), {prompts, embedded.dim}, at::kFloat).clone();
    }

    SamplingOptions sampling = o.sampling;
    const int64_t side = model.vqgan->config().latent_size();
    if (sampling.num_tokens == 0) sampling.num_tokens = side * side;

    // Prompt-major output: faces[p * seeds + s].
    const int64_t seeds = static_cast<int64_t>(o.seeds.size());
    result.faces.resize(static_cast<std::size_t>(prompts * seeds));
    const int64_t total = prompts * seeds;
    int64_t done = 0;
    std::vector<char> made(static_cast<std::size_t>(total), sharded ? 0 : 1);
    std::size_t batch_number = 0;
    torch::NoGradGuard no_grad;
    for (int64_t s = 0; s < seeds; ++s) {
        const uint64_t seed = o.seeds[s];
        at::Tensor vectors = text;
        if (random) {  // the baseline's "text": N(0, 1) vectors drawn from the seed, one per prompt
            auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
            vectors = at::randn({prompts, info.text_dim}, generator, at::TensorOptions().dtype(at::kFloat));
        }
        for (int64_t begin = 0; begin < prompts; begin += o.batch) {
            const int64_t count = std::min(o.batch, prompts - begin);
            if (sharded && batch_number++ % static_cast<std::size_t>(o.shard_count) !=
                               static_cast<std::size_t>(o.shard_index)) {
                done += count;  // another shard's batch
                continue;
            }
            SampleRequest request;
            request.prefix = mapping.forward(vectors.narrow(0, begin, count).to(dc.device)).to(dc.dtype);
            // Every row draws from the same seed, so an image depends on its prompt and seed only.
            request.seeds.assign(static_cast<std::size_t>(count), seed);
            ProgressSink inner;
            if (progress)
                inner = [&](const Progress& p) {
                    if (p.stage == Stage::sampling)  // tokens
                        progress({p.stage, p.subject, done * p.total + p.done * count, total * p.total});
                    else progress({p.stage, p.subject, done + p.done, total});  // decoded images
                };
            auto images = generate_images(*model.gpt, *model.vqgan, request, sampling, cancel, inner);
            for (int64_t r = 0; r < count; ++r) {
                made[static_cast<std::size_t>((begin + r) * seeds + s)] = 1;
                GeneratedFace& face = result.faces[static_cast<std::size_t>((begin + r) * seeds + s)];
                face.prompt = o.prompts[begin + r];
                face.seed = seed;
                auto rgb = images.rgb[r].contiguous();
                face.height = static_cast<int>(rgb.size(0));
                face.width = static_cast<int>(rgb.size(1));
                face.rgb.assign(rgb.data_ptr<uint8_t>(), rgb.data_ptr<uint8_t>() + rgb.numel());
                auto codes = images.codes[r].to(at::kCPU).contiguous();
                face.codes.assign(codes.data_ptr<int64_t>(), codes.data_ptr<int64_t>() + codes.numel());
            }
            done += count;
        }
    }

    if (!o.out_dir.empty()) {
        // Every PNG and images.jsonl appear together (core/io/output_folder.h).
        StagedOutputFolder staged(o.out_dir);
        std::string manifest;
        for (std::size_t i = 0; i < result.faces.size(); ++i) {
            if (!made[i]) continue;
            GeneratedFace& face = result.faces[i];
            const std::string name = "p" + std::to_string(i / std::size_t(seeds)) + "_seed" + std::to_string(face.seed) + ".png";
            face.path = (fs::path(staged.path()) / name).string();
            cv::Mat rgb(face.height, face.width, CV_8UC3, face.rgb.data());
            cv::Mat bgr;
            cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
            std::vector<uint8_t> png;
            if (!cv::imencode(".png", bgr, png)) throw Error(face.path + ": PNG encoding failed");
            write_file_atomically(face.path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
            manifest += json{{"file", name},         {"prompt", face.prompt}, {"seed", face.seed},
                             {"encoder", result.encoder}, {"pooling", result.pooling}, {"mapping", o.mapping},
                             {"width", face.width},   {"height", face.height}}
                            .dump() +
                        "\n";
        }
        result.manifest = (fs::path(staged.path()) / "images.jsonl").string();
        write_file_atomically(result.manifest, manifest);
        if (sharded) {
            json shard = {{"shard", std::to_string(o.shard_index) + "/" + std::to_string(o.shard_count)},
                          {"faces", total}, {"seeds", o.seeds}, {"prompts", prompts},
                          {"encoder", result.encoder}, {"pooling", result.pooling}, {"mapping", o.mapping}};
            write_file_atomically((fs::path(staged.path()) / "shard.json").string(), shard.dump(2) + "\n");
        }
        staged.commit();
        result.manifest = staged.final_path_of(result.manifest);
        for (GeneratedFace& face : result.faces)
            if (!face.path.empty()) face.path = staged.final_path_of(face.path);
    }
    if (sharded) {  // only this shard's faces
        std::vector<GeneratedFace> mine;
        for (std::size_t i = 0; i < result.faces.size(); ++i)
            if (made[i]) mine.push_back(std::move(result.faces[i]));
        result.faces = std::move(mine);
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
}

std::size_t merge_generation_shards(const std::vector<std::string>& shard_dirs, const std::string& out_dir) {
    if (shard_dirs.empty()) throw Error("merge: no shard folders given");
    struct Shard {
        std::string dir;
        json meta;
        std::vector<std::string> lines;
    };
    std::vector<Shard> shards;
    for (const auto& dir : shard_dirs) {
        const std::string meta_path = (fs::path(dir) / "shard.json").string();
        if (!fs::is_regular_file(meta_path)) throw file_error(dir, "not a `generate --shard` folder: no shard.json");
        Shard sh{dir, json::parse(read_file(meta_path), nullptr, false), {}};
        if (!sh.meta.is_object() || !sh.meta.contains("shard") || !sh.meta["shard"].is_string() ||
            !sh.meta.contains("faces") || !sh.meta["faces"].is_number_unsigned())
            throw file_error(meta_path, "not a shard description (needs \"shard\": \"i/n\" and \"faces\")");
        sh.lines = read_text_lines((fs::path(dir) / "images.jsonl").string(), /*skip_blank=*/true);
        shards.push_back(std::move(sh));
    }
    const Shard& first = shards.front();
    const int count = parse_shard(first.meta["shard"].get<std::string>()).second;
    if (static_cast<int>(shards.size()) != count)
        throw Error("merge: " + std::to_string(shards.size()) + " folders given for a run of " + std::to_string(count) +
                    " shards (" + first.dir + " is shard " + first.meta["shard"].get<std::string>() + ")");
    const std::size_t total = first.meta["faces"].get<std::size_t>();
    std::size_t lines_held = 0;
    std::vector<const Shard*> by_index(count, nullptr);
    for (const auto& sh : shards) {
        for (const char* key : {"faces", "seeds", "prompts", "encoder", "pooling", "mapping"})
            if (sh.meta.value(key, json()) != first.meta.value(key, json()))
                throw file_error(sh.dir, std::string("shard.json '") + key + "' differs from " + first.dir +
                                             "'s: shards of other runs");
        const auto [index, n] = parse_shard(sh.meta["shard"].get<std::string>());
        if (n != count) throw file_error(sh.dir, "is a shard of a run of " + std::to_string(n) + " shards, not " + std::to_string(count));
        if (by_index[index]) throw file_error(sh.dir, "shard " + sh.meta["shard"].get<std::string>() + " is also " + by_index[index]->dir);
        by_index[index] = &sh;
        lines_held += sh.lines.size();
    }
    if (lines_held != total)
        throw Error("merge: the shards hold " + std::to_string(lines_held) + " faces, but their run made " +
                    std::to_string(total) + " (" + first.dir + "): a shard is missing, cut short or from another run");
    // Face i of the unsharded run is file p<i / seeds>_seed<seed>.png: its place in images.jsonl.
    std::vector<uint64_t> seeds;
    if (first.meta.contains("seeds") && first.meta["seeds"].is_array())
        for (const auto& s : first.meta["seeds"])
            if (s.is_number_unsigned()) seeds.push_back(s.get<uint64_t>());
    if (seeds.empty() || seeds.size() != first.meta["seeds"].size())
        throw file_error(first.dir, "shard.json: 'seeds' must be a non-empty list of seeds");
    std::map<std::string, std::size_t> index_of;
    for (std::size_t i = 0; i < total; ++i)
        index_of["p" + std::to_string(i / seeds.size()) + "_seed" + std::to_string(seeds[i % seeds.size()]) + ".png"] = i;
    struct Placed {
        const Shard* shard = nullptr;
        std::string file, line;
    };
    std::vector<Placed> ordered(total);
    std::vector<char> seen(total, 0);
    for (const auto& sh : shards) {
        for (const auto& line : sh.lines) {
            const json face = json::parse(line, nullptr, false);
            const std::string file =
                face.is_object() && face.contains("file") && face["file"].is_string() ? face["file"].get<std::string>() : "";
            auto it = index_of.find(file);
            if (it == index_of.end()) throw file_error(sh.dir, "images.jsonl names '" + file + "', no face of this run");
            if (seen[it->second]) throw file_error(sh.dir, file + " is in two shards");
            seen[it->second] = 1;
            ordered[it->second] = {&sh, file, line};
        }
    }
    StagedOutputFolder staged(out_dir);
    std::string manifest;
    for (const Placed& face : ordered) {
        fs::copy_file(fs::path(face.shard->dir) / face.file, fs::path(staged.path()) / face.file);
        manifest += face.line + "\n";
    }
    write_file_atomically((fs::path(staged.path()) / "images.jsonl").string(), manifest);
    staged.commit();
    return total;
}

}  // namespace syn::run
