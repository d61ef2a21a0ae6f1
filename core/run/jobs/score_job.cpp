// `synesthesia score`, the job: CLIP-S and IS of generated faces, grouped by encoder style (Table 3).
// Its statistics are in core/eval/significance.h, its tables in score_report.cpp, its command line
// in score_command.cpp, the paper's numbers in paper_tables.cpp.
#include "core/run/jobs/score_job.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "core/data/mm_celeba_hq.h"
#include "core/eval/significance.h"
#include "core/io/errors.h"
#include "core/io/image_header.h"
#include "core/io/model_store.h"
#include "core/run/catalog.h"
#include "core/run/jobs/clip_score.h"
#include "core/run/device_choice.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/reports/paper_tables.h"
#include "core/run/model_description.h"
#include "core/run/session.h"
#include "core/run/jobs/t2i_job.h"
#include "core/eval/inception_score.h"
#include "models/clip_image.h"
#include "models/inception_v3.h"
#include "models/registry.h"

namespace syn::run {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string>& manifest_keys() {
    static const std::vector<std::string> keys = {"file",    "prompt",  "seed",  "encoder",
                                                  "pooling", "mapping", "width", "height"};
    return keys;
}

std::string where(const std::string& file, std::size_t line) { return file + ":" + std::to_string(line); }

// --- manifest reading --------------------------------------------------------------------------

std::string string_key(const json& j, const std::string& key, const std::string& at) {
    if (!j.at(key).is_string()) throw Error(at + ": key '" + key + "' must be a string");
    return j.at(key).get<std::string>();
}

int64_t integer_key(const json& j, const std::string& key, const std::string& at, bool non_negative) {
    const json& v = j.at(key);
    if (!v.is_number_integer()) throw Error(at + ": key '" + key + "' must be an integer");
    if (non_negative && !v.is_number_unsigned() && v.get<int64_t>() < 0)
        throw Error(at + ": key '" + key + "' must not be negative");
    return v.is_number_unsigned() ? static_cast<int64_t>(v.get<uint64_t>()) : v.get<int64_t>();
}

// A generation folder, or its images.jsonl named directly.
std::string manifest_path_of(const std::string& dir_or_file) {
    const fs::path p(dir_or_file);
    if (p.extension() == ".jsonl" && !fs::is_directory(p)) return p.string();
    return (p / "images.jsonl").string();
}

// --- statistics helpers ------------------------------------------------------------------------

bool finite(double v) { return std::isfinite(v); }

// --- grouping ----------------------------------------------------------------------------------

// Groups in the paper's order first, then the others in order of appearance.
int group_rank(const std::string& group) {
    if (group == "BERT-style") return 0;
    if (group == "CLIP-style") return 1;
    if (group == "Random") return 2;
    return 3;
}

// --- images ------------------------------------------------------------------------------------

// Decodes the images of `paths` in batches of `batch`; calls `on_batch(indices, images)` with the
// ones that decoded (indices into `paths`). Unreadable files are recorded in `skipped`, not fatal.
void for_each_decoded_batch(const std::vector<std::string>& paths, int64_t batch,
                            const std::function<void(const std::vector<std::size_t>&,
                                                     const std::vector<models::RgbImage>&)>& on_batch,
                            std::vector<SkippedImage>& skipped, const std::string& subject,
                            const ProgressSink& progress, const CancelToken* cancel, int shard_index = 0,
                            int shard_count = 1) {
    const std::size_t step = static_cast<std::size_t>(std::max<int64_t>(1, batch));
    for (std::size_t begin = 0; begin < paths.size(); begin += step) {
        throw_if_cancelled(cancel, "score");
        const std::size_t end = std::min(paths.size(), begin + step);
        // A shard: every shard_count-th batch of the unsharded run's.
        if ((begin / step) % static_cast<std::size_t>(shard_count) != static_cast<std::size_t>(shard_index)) continue;
        std::vector<std::size_t> indices;
        std::vector<models::RgbImage> images;
        for (std::size_t i = begin; i < end; ++i) {
            try {
                check_image_pixels(paths[i]);  // the size from the header, before decoding
                images.push_back(models::read_rgb_image(paths[i]));
                indices.push_back(i);
            } catch (const std::exception& e) {
                // read_rgb_image names the file; a corrupt PNG is the generator's or the disk's
                // fault, not a reason to lose the whole table.
                skipped.push_back({paths[i], e.what()});
            }
        }
        if (!images.empty()) on_batch(indices, images);
        if (progress) progress({Stage::scoring, subject, static_cast<long long>(end), static_cast<long long>(paths.size())});
    }
}

ClipScoreKind parse_kind(const std::string& kind) {
    check_score_kind(kind);
    return kind == "hessel" ? ClipScoreKind::hessel : ClipScoreKind::cos100;
}

// Scores images (each against text row `text_row[i]`) in batches; fills `scores[i]` (NaN when skipped).
void score_image_files(ClipScorer& clip, const std::vector<std::string>& paths, const at::Tensor& text_embeds,
                       const std::vector<int64_t>& text_row, ClipScoreKind kind, int64_t batch,
                       std::vector<double>& scores, std::vector<SkippedImage>& skipped,
                       const std::function<void(const std::vector<std::size_t>&,
                                                const std::vector<models::RgbImage>&)>& also,
                       const std::string& subject, const ProgressSink& progress, const CancelToken* cancel,
                       int shard_index, int shard_count) {
    scores.assign(paths.size(), std::numeric_limits<double>::quiet_NaN());
    for_each_decoded_batch(
        paths, batch,
        [&](const std::vector<std::size_t>& indices, const std::vector<models::RgbImage>& images) {
            auto image_embeds = clip.image_embeds(images);
            std::vector<int64_t> rows;
            for (std::size_t i : indices) rows.push_back(text_row[i]);
            auto texts = text_embeds.index_select(0, torch::tensor(rows, torch::kLong));
            auto s = clip_score_pairs(image_embeds, texts, kind).to(at::kDouble).contiguous();
            for (std::size_t k = 0; k < indices.size(); ++k) scores[indices[k]] = s[k].item<double>();
            if (also) also(indices, images);
        },
        skipped, subject, progress, cancel, shard_index, shard_count);
}

std::string encoder_seed_key(const std::string& label, uint64_t seed) { return label + "\n" + std::to_string(seed); }

// Encoders run with several poolings get the pooling in their label.
std::map<std::string, std::set<std::string>> poolings_by_encoder(const std::vector<ImageScore>& images) {
    std::map<std::string, std::set<std::string>> poolings;
    for (const auto& img : images) poolings[img.encoder].insert(img.pooling);
    return poolings;
}

std::string encoder_label(const std::string& encoder, const std::string& pooling,
                          const std::map<std::string, std::set<std::string>>& poolings) {
    auto it = poolings.find(encoder);
    return it != poolings.end() && it->second.size() > 1 ? encoder + " [" + pooling + "]" : encoder;
}

// IS splits for n images: as asked, but each split holds at least two images (a split of one image
// scores exactly 1 whatever it shows).
int splits_for(int64_t asked, std::size_t images) {
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(asked, static_cast<int64_t>(images / 2))));
}

// Inception v3 logits_unbiased of decoded images, one row per image (images of one size are
// forwarded together).
void inception_logits(models::InceptionV3& net, const std::vector<std::size_t>& indices,
                      const std::vector<models::RgbImage>& images, std::vector<std::vector<float>>& rows) {
    std::map<std::pair<int, int>, std::vector<std::size_t>> by_size;
    for (std::size_t k = 0; k < images.size(); ++k) by_size[{images[k].height, images[k].width}].push_back(k);
    for (const auto& [size, ks] : by_size) {
        auto batch = torch::empty({static_cast<int64_t>(ks.size()), size.first, size.second, 3}, torch::kByte);
        for (std::size_t j = 0; j < ks.size(); ++j)
            std::memcpy(batch[static_cast<int64_t>(j)].data_ptr<uint8_t>(), images[ks[j]].pixels.data(),
                        images[ks[j]].pixels.size());
        auto logits = net.forward(batch, models::ImageLayout::NHWC).logits_unbiased.to(at::kCPU, at::kFloat).contiguous();
        for (std::size_t j = 0; j < ks.size(); ++j) {
            const float* row = logits[static_cast<int64_t>(j)].data_ptr<float>();
            rows[indices[ks[j]]].assign(row, row + logits.size(1));
        }
    }
}

// Each (encoder, seed)'s IS over its images, in manifest order.
std::map<std::string, InceptionScoreValue> inception_scores(const std::vector<ImageScore>& images,
                                                            const std::vector<std::vector<float>>& logits,
                                                            int64_t splits_asked) {
    const auto poolings = poolings_by_encoder(images);
    std::map<std::string, std::vector<std::size_t>> members;
    for (std::size_t i = 0; i < images.size(); ++i)
        members[encoder_seed_key(encoder_label(images[i].encoder, images[i].pooling, poolings), images[i].seed)]
            .push_back(i);
    std::map<std::string, InceptionScoreValue> out;
    for (const auto& [key, idx] : members) {
        const int64_t classes = static_cast<int64_t>(logits[idx.front()].size());
        std::vector<float> rows;
        rows.reserve(idx.size() * classes);
        for (std::size_t i : idx) rows.insert(rows.end(), logits[i].begin(), logits[i].end());
        const int splits = splits_for(splits_asked, idx.size());
        const eval::InceptionScore is =
            eval::inception_score(rows, static_cast<int64_t>(idx.size()), classes, splits);
        InceptionScoreValue v;
        v.computed = true;
        v.mean = is.mean;
        v.sd = is.std;
        v.splits = is.splits;
        out[key] = v;
    }
    return out;
}

// --- ground truth ------------------------------------------------------------------------------

GroundTruthScore score_ground_truth(ClipScorer& clip, const ScoreJobOptions& options, ClipScoreKind kind,
                                    const ProgressSink& progress, const CancelToken* cancel) {
    GroundTruthScore gt;
    gt.data_dir = options.data_dir;
    gt.split = options.split;
    const data::FaceDataset ds = data::load_mm_celeba_hq(options.data_dir, options.split, options.max_gt_images);
    std::vector<std::string> texts;
    std::unordered_map<std::string, int64_t> text_index;
    std::vector<std::string> paths;
    for (const auto& s : ds.samples) {
        paths.push_back(s.image_path);
        for (const auto& c : s.captions)
            if (text_index.emplace(c, static_cast<int64_t>(texts.size())).second) texts.push_back(c);
    }
    const at::Tensor text_embeds =
        clip.text_embeds(texts, options.use_cache, options.cache_root, &gt.truncated_captions, progress, cancel);
    double sum = 0.0;
    for_each_decoded_batch(
        paths, options.batch,
        [&](const std::vector<std::size_t>& indices, const std::vector<models::RgbImage>& images) {
            auto image_embeds = clip.image_embeds(images);
            for (std::size_t k = 0; k < indices.size(); ++k) {
                const auto& sample = ds.samples[indices[k]];
                std::vector<int64_t> rows;
                for (const auto& c : sample.captions) rows.push_back(text_index.at(c));
                auto texts_k = text_embeds.index_select(0, torch::tensor(rows, torch::kLong));
                auto s = clip_score_matrix(image_embeds.narrow(0, static_cast<int64_t>(k), 1), texts_k, kind)
                             .to(at::kDouble)
                             .flatten()
                             .contiguous();
                GroundTruthImage gi{sample.id, sample.image_path, sample.captions, {}};
                for (int64_t c = 0; c < s.size(0); ++c) {
                    gi.clip_s.push_back(s[c].item<double>());
                    sum += gi.clip_s.back();
                    ++gt.pairs;
                }
                gt.images.push_back(std::move(gi));
            }
        },
        gt.skipped, "ground truth", progress, cancel);
    if (gt.pairs == 0)
        throw Error(options.data_dir + ": no readable ground-truth image in split '" + options.split + "'");
    gt.clip_s = sum / static_cast<double>(gt.pairs);
    gt.computed = true;
    return gt;
}

}  // namespace

// --- public: manifests, groups -----------------------------------------------------------------

void check_score_kind(const std::string& kind) {
    if (kind != "cos100" && kind != "hessel")
        throw Error("CLIP-S kind '" + kind + "' is not known (choices: cos100, hessel)");
}

std::vector<ImageScore> read_generation_manifest(const std::string& manifest_path) {
    std::ifstream in(manifest_path, std::ios::binary);
    if (!in) throw file_error(manifest_path, "cannot open (a `synesthesia generate` folder holds images.jsonl)");
    const fs::path folder = fs::path(manifest_path).parent_path();
    std::vector<ImageScore> out;
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const std::string at = where(manifest_path, number);
        json j;
        try {
            j = json::parse(line);
        } catch (const json::exception& e) {
            throw Error(at + ": not valid JSON (" + e.what() + ")");
        }
        if (!j.is_object()) throw Error(at + ": expected a JSON object");
        for (const auto& key : manifest_keys())
            if (!j.contains(key)) throw Error(at + ": lacks key '" + key + "'");
        ImageScore s;
        s.manifest = manifest_path;
        s.file = string_key(j, "file", at);
        if (s.file.empty()) throw Error(at + ": key 'file' is empty");
        s.prompt = string_key(j, "prompt", at);
        s.encoder = string_key(j, "encoder", at);
        s.pooling = string_key(j, "pooling", at);
        s.mapping = string_key(j, "mapping", at);
        s.seed = static_cast<uint64_t>(integer_key(j, "seed", at, true));
        s.width = static_cast<int>(integer_key(j, "width", at, true));
        s.height = static_cast<int>(integer_key(j, "height", at, true));
        if (s.encoder.empty()) throw Error(at + ": key 'encoder' is empty");
        const fs::path f(s.file);
        s.path = (f.is_absolute() ? f : folder / f).lexically_normal().string();
        out.push_back(std::move(s));
    }
    if (in.bad()) throw file_error(manifest_path, "read error");
    if (out.empty()) throw file_error(manifest_path, "lists no images");
    return out;
}

std::string encoder_group(const std::string& encoder, const std::map<std::string, std::string>& overrides,
                          std::string* source) {
    auto set_source = [&](const char* s) {
        if (source) *source = s;
    };
    if (auto it = overrides.find(encoder); it != overrides.end()) {
        set_source("--group");
        return it->second;
    }
    if (encoder == kRandomEncoder) {
        set_source("random baseline");
        return "Random";
    }
    std::optional<ResolvedModel> resolved;
    if (!find_catalog_entry(encoder)) {
        try {
            resolved = resolve_model(encoder);
        } catch (const Error&) {
            resolved.reset();
        }
        if (!resolved)
            throw Error("encoder '" + encoder +
                        "' is neither in the catalog nor a model folder (or cached hub id) here, so its group is "
                        "unknown: pass --group '" + encoder + "=GROUP' (e.g. BERT-style, CLIP-style)");
    }
    // The catalog's style, else the one describe_model gives the folder (config.json model_type).
    const std::optional<CatalogEntry> entry = catalog_entry_or_folder(encoder, resolved ? resolved->folder : "");
    set_source(resolved ? "config.json model_type" : "catalog");
    return group_of_style(entry->style);
}

void aggregate_scores(ScoreJobResult& result, const std::map<std::string, std::string>& group_overrides,
                      const std::map<std::string, InceptionScoreValue>& is_by_encoder_seed) {
    result.encoders.clear();
    result.groups.clear();
    result.tests.clear();
    // (encoder, pooling) in order of first appearance; the pooling joins the label only when an
    // encoder was run with several.
    std::vector<std::pair<std::string, std::string>> keys;
    std::map<std::pair<std::string, std::string>, std::map<uint64_t, std::vector<double>>> values;
    for (const auto& img : result.images) {
        if (!finite(img.clip_s)) continue;
        const auto key = std::make_pair(img.encoder, img.pooling);
        if (!values.count(key)) keys.push_back(key);
        values[key][img.seed].push_back(img.clip_s);
    }
    const auto poolings = poolings_by_encoder(result.images);
    for (const auto& key : keys) {
        EncoderScore e;
        e.encoder = key.first;
        e.pooling = key.second;
        e.label = encoder_label(e.encoder, e.pooling, poolings);
        e.group = encoder_group(e.encoder, group_overrides, &e.group_source);
        paper_glue_row(e.encoder, &e.paper_label);  // the same eight models as Table 1
        std::vector<double> clip_means, is_means;
        for (const auto& [seed, scores] : values.at(key)) {
            SeedScore s;
            s.seed = seed;
            s.images = scores.size();
            s.clip_s = mean_sd(scores).mean;
            if (auto it = is_by_encoder_seed.find(encoder_seed_key(e.label, seed)); it != is_by_encoder_seed.end())
                s.is = it->second;
            clip_means.push_back(s.clip_s);
            if (s.is.computed) is_means.push_back(s.is.mean);
            e.images += s.images;
            e.seeds.push_back(s);
        }
        e.clip_s = mean_sd(clip_means);
        e.is = mean_sd(is_means);
        result.encoders.push_back(std::move(e));
    }
    // Groups: every (model, seed) value of the group's encoders.
    std::map<std::string, std::size_t> group_index;
    for (const auto& e : result.encoders) {
        auto [it, fresh] = group_index.emplace(e.group, result.groups.size());
        if (fresh) result.groups.push_back(GroupScore{e.group, {}, {}, {}, {}, {}});
        GroupScore& g = result.groups[it->second];
        g.encoders.push_back(e.label);
        for (const auto& s : e.seeds) {
            g.clip_s_values.push_back(s.clip_s);
            if (s.is.computed) g.is_values.push_back(s.is.mean);
        }
    }
    std::stable_sort(result.groups.begin(), result.groups.end(),
                     [](const GroupScore& a, const GroupScore& b) { return group_rank(a.group) < group_rank(b.group); });
    for (auto& g : result.groups) {
        g.clip_s = mean_sd(g.clip_s_values);
        g.is = mean_sd(g.is_values);
    }
    for (const char* metric : {"CLIP-S", "IS"})
        for (std::size_t i = 0; i < result.groups.size(); ++i)
            for (std::size_t j = i + 1; j < result.groups.size(); ++j) {
                const auto& a = result.groups[i];
                const auto& b = result.groups[j];
                const bool clip = std::string(metric) == "CLIP-S";
                if (!clip && (a.is_values.empty() || b.is_values.empty())) continue;
                result.tests.push_back({metric, a.group, b.group,
                                        pooled_t_test(clip ? a.clip_s_values : a.is_values,
                                                      clip ? b.clip_s_values : b.is_values)});
            }
}

// --- public: the job ---------------------------------------------------------------------------

namespace {

// Everything before the aggregation: the manifests read, the models loaded, the prompts embedded and
// the images of this shard's batches (all of them when not sharded) scored.
struct ScoredImages {
    ScoreJobResult result;  // images: every image of the run; skipped: the unreadable ones scored here
    std::vector<double> scores;                // per image; NaN: skipped or in another shard
    std::vector<std::vector<float>> logits;    // per image when Inception weights are given
    bool inception = false;
};

ScoredImages score_images(const ScoreJobOptions& options, int shard_index, int shard_count, bool ground_truth,
                          const ProgressSink& progress, const CancelToken* cancel) {
    const ClipScoreKind kind = parse_kind(options.kind);
    if (options.generation_dirs.empty() && options.data_dir.empty())
        throw Error("score: nothing to score (give generation folders and/or --data)");
    auto log = [&](const std::string& line) {
        if (options.log) options.log(line);
    };
    ScoredImages out;
    ScoreJobResult& result = out.result;
    result.clip_model = options.clip_model;
    result.kind = options.kind;
    result.inception_weights = options.inception_weights;
    result.is_splits_asked = options.is_splits;
    if (!options.inception_weights.empty() && options.is_splits < 1)
        throw Error("score: --splits must be at least 1");

    // Manifests first: a bad line fails before any model is loaded.
    std::set<std::string> seen;
    for (const auto& dir : options.generation_dirs) {
        const std::string manifest = manifest_path_of(dir);
        if (!fs::exists(manifest)) throw file_error(manifest, "not found (expected the images.jsonl of a generate run)");
        result.manifests.push_back(manifest);
        for (auto& img : read_generation_manifest(manifest)) {
            std::error_code ec;
            fs::path canonical = fs::weakly_canonical(img.path, ec);
            if (!seen.insert(ec ? img.path : canonical.string()).second) {
                ++result.duplicate_images;
                continue;
            }
            result.images.push_back(std::move(img));
        }
    }

    // One session for the run: the CLIP text tower is loaded once for the captions and the prompts.
    ModelSession session;
    ClipScorer clip(options.clip_model, options.device, &session);
    result.clip_folder = clip.folder();
    result.device = clip.device();
    log("CLIP model " + clip.folder() + " on " + result.device);
    std::unique_ptr<models::InceptionV3> inception;
    if (!options.inception_weights.empty()) {
        inception = models::load_inception_v3(options.inception_weights);
        inception->to(choose_device(options.device, "float32").device);
        log("Inception v3 " + options.inception_weights);
    }
    out.inception = inception != nullptr;

    if (!result.images.empty()) {
        std::vector<std::string> prompts;
        std::unordered_map<std::string, int64_t> prompt_index;
        std::vector<int64_t> text_row;
        std::vector<std::string> paths;
        for (const auto& img : result.images) {
            auto [it, fresh] = prompt_index.emplace(img.prompt, static_cast<int64_t>(prompts.size()));
            if (fresh) prompts.push_back(img.prompt);
            text_row.push_back(it->second);
            paths.push_back(img.path);
        }
        // Every prompt, also in a shard: the text batches (and so the numbers) are the unsharded run's.
        const at::Tensor text_embeds =
            clip.text_embeds(prompts, options.use_cache, options.cache_root, &result.truncated_prompts, progress, cancel);
        out.logits.resize(inception ? paths.size() : 0);
        std::function<void(const std::vector<std::size_t>&, const std::vector<models::RgbImage>&)> with_inception;
        if (inception)
            with_inception = [&](const std::vector<std::size_t>& indices, const std::vector<models::RgbImage>& images) {
                inception_logits(*inception, indices, images, out.logits);
            };
        score_image_files(clip, paths, text_embeds, text_row, kind, options.batch, out.scores, result.skipped,
                          with_inception, "images", progress, cancel, shard_index, shard_count);
        if (!result.skipped.empty())
            log("skipped " + std::to_string(result.skipped.size()) + " unreadable image file(s), first: " +
                result.skipped.front().path);
    }
    if (ground_truth && !options.data_dir.empty())
        result.ground_truth = score_ground_truth(clip, options, kind, progress, cancel);
    return out;
}

}  // namespace

void finish_score(ScoreJobResult& result, const std::vector<double>& scores, std::vector<std::vector<float>> logits,
                  const ScoreJobOptions& options) {
    std::map<std::string, InceptionScoreValue> is_by_encoder_seed;
    if (!result.images.empty()) {
        if (scores.size() != result.images.size() || (!logits.empty() && logits.size() != result.images.size()))
            throw Error("score: " + std::to_string(scores.size()) + " scores for " +
                        std::to_string(result.images.size()) + " images");
        // Skipped images leave the scored list (they are named in `skipped`).
        std::vector<ImageScore> kept;
        std::vector<std::vector<float>> kept_logits;
        for (std::size_t i = 0; i < result.images.size(); ++i) {
            if (!finite(scores[i])) continue;
            result.images[i].clip_s = scores[i];
            kept.push_back(std::move(result.images[i]));
            if (!logits.empty()) kept_logits.push_back(std::move(logits[i]));
        }
        result.images = std::move(kept);
        if (result.images.empty()) throw Error("score: no readable image in the generation folders");
        if (!logits.empty()) is_by_encoder_seed = inception_scores(result.images, kept_logits, options.is_splits);
    }
    aggregate_scores(result, options.group_overrides, is_by_encoder_seed);
}

ScoreJobResult run_score(const ScoreJobOptions& options, const ProgressSink& progress, const CancelToken* cancel) {
    const auto start = std::chrono::steady_clock::now();
    if (options.shard_count != 1) throw Error("score: a sharded run is run_score_shard's");
    ScoredImages scored = score_images(options, 0, 1, true, progress, cancel);
    ScoreJobResult& result = scored.result;
    finish_score(result, scored.scores, std::move(scored.logits), options);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

ScoreShard run_score_shard(const ScoreJobOptions& options, const ProgressSink& progress, const CancelToken* cancel) {
    const auto start = std::chrono::steady_clock::now();
    if (options.shard_count < 1 || options.shard_index < 0 || options.shard_index >= options.shard_count)
        throw Error("score: shard " + std::to_string(options.shard_index) + "/" + std::to_string(options.shard_count) +
                    " is not i/n with 0 <= i < n");
    // Shard 0 computes the ground-truth row (the merge takes it from shard 0's output).
    ScoredImages scored =
        score_images(options, options.shard_index, options.shard_count, options.shard_index == 0, progress, cancel);
    ScoreShard shard;
    shard.index = options.shard_index;
    shard.count = options.shard_count;
    shard.run = std::move(scored.result);
    std::map<std::string, std::string> skipped;
    for (const auto& sk : shard.run.skipped) skipped.emplace(sk.path, sk.reason);
    const std::size_t step = static_cast<std::size_t>(std::max<int64_t>(1, options.batch));
    for (std::size_t i = 0; i < shard.run.images.size(); ++i) {
        if ((i / step) % static_cast<std::size_t>(shard.count) != static_cast<std::size_t>(shard.index)) continue;
        shard.positions.push_back(i);
        if (finite(scored.scores[i])) {
            shard.run.images[i].clip_s = scored.scores[i];
            shard.skip_reasons.emplace_back();
        } else {
            auto it = skipped.find(shard.run.images[i].path);
            shard.skip_reasons.push_back(it != skipped.end() ? it->second : "not scored");
        }
    }
    if (scored.inception) {
        for (std::size_t i : shard.positions)
            if (!scored.logits[i].empty()) shard.classes = static_cast<int64_t>(scored.logits[i].size());
        if (shard.classes == 0) shard.classes = 1;  // every image of the shard skipped: rows of zeros
        shard.logits.assign(shard.positions.size() * static_cast<std::size_t>(shard.classes), 0.0f);
        for (std::size_t k = 0; k < shard.positions.size(); ++k) {
            const auto& row = scored.logits[shard.positions[k]];
            if (row.empty()) continue;
            if (static_cast<int64_t>(row.size()) != shard.classes) throw Error("score: Inception logits of two widths");
            std::copy(row.begin(), row.end(), shard.logits.begin() + static_cast<std::ptrdiff_t>(k * shard.classes));
        }
    }
    shard.run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return shard;
}

}  // namespace syn::run
