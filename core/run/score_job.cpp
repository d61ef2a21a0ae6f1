// `synesthesia score`: CLIP-S and IS of generated faces, grouped by encoder style, Table 3.
#include "core/run/score_job.h"

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <unordered_map>

#include "core/data/mm_celeba_hq.h"
#include "core/eval/significance.h"
#include "core/io/atomic_file.h"
#include "core/io/output_folder.h"
#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/image_header.h"
#include "core/io/model_store.h"
#include "core/run/catalog.h"
#include "core/run/clip_score.h"
#include "core/run/device_choice.h"
#include "core/run/embed_job.h"
#include "core/run/glue_command.h"
#include "core/run/model_description.h"
#include "core/run/session.h"
#include "core/run/t2i_job.h"
#include "core/run/text_formats.h"
#include "core/run/versions.h"
#include "core/eval/inception_score.h"
#include "models/clip_image.h"
#include "models/inception_v3.h"
#include "models/registry.h"

namespace syn::run {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kSkippedNamedInTable = 5;  // the first few skipped files the footnote names

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
                            std::vector<SkippedImage>& skipped, const std::string& stage,
                            const ProgressSink& progress, const CancelToken* cancel) {
    const std::size_t step = static_cast<std::size_t>(std::max<int64_t>(1, batch));
    for (std::size_t begin = 0; begin < paths.size(); begin += step) {
        throw_if_cancelled(cancel, "score");
        const std::size_t end = std::min(paths.size(), begin + step);
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
        if (progress) progress(stage, static_cast<long long>(end), static_cast<long long>(paths.size()));
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
                       const std::string& stage, const ProgressSink& progress, const CancelToken* cancel) {
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
        skipped, stage, progress, cancel);
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

// --- formatting --------------------------------------------------------------------------------

std::string fixed(double v, int decimals) {
    if (!finite(v)) return "n/a";
    std::ostringstream s;
    s << std::fixed << std::setprecision(decimals) << v;
    return s.str();
}

std::string p_text(double p) {
    if (!finite(p)) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, p < 1e-3 ? "%.2e" : "%.3f", p);
    return buf;
}

std::string number_csv(double v) {
    if (!finite(v)) return "";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    return buf;
}

std::string mean_pm(const MeanSd& m, int decimals, int sd_decimals, const std::string& pm) {
    if (m.n == 0) return "n/a";
    std::string s = fixed(m.mean, decimals);
    if (m.n > 1) s += " " + pm + " " + fixed(m.sd, sd_decimals);
    return s;
}

const char* kNotComputed = "not computed";

struct TableRow {
    std::string label, group, seeds, images, is, clip_s;
};

struct TestRow {
    std::string label, metric, n, t, df, p_ours, p_paper;
};

bool is_computed_anywhere(const ScoreJobResult& r) { return !r.inception_weights.empty(); }

std::vector<TableRow> table_rows(const ScoreJobResult& r, const std::string& pm) {
    std::vector<TableRow> rows;
    const bool is_on = is_computed_anywhere(r);
    for (const auto& e : r.encoders)
        rows.push_back({e.label + " (ours)", e.group, std::to_string(e.seeds.size()), std::to_string(e.images),
                        is_on ? mean_pm(e.is, 2, 3, pm) : kNotComputed, mean_pm(e.clip_s, 2, 3, pm)});
    if (r.ground_truth.computed)
        rows.push_back({"Ground-truth pairs (ours)", "", "", std::to_string(r.ground_truth.images.size()), "–",
                        fixed(r.ground_truth.clip_s, 2)});
    for (const auto& g : r.groups)
        rows.push_back({g.group + ", grouped (ours)", g.group, std::to_string(g.clip_s_values.size()) + " values", "",
                        is_on ? mean_pm(g.is, 2, 3, pm) : kNotComputed, mean_pm(g.clip_s, 3, 3, pm)});
    const std::string paper_suffix = r.kind == "hessel" ? " (paper, 100 x cos)" : " (paper)";
    for (const auto& p : paper_t2i_rows()) {
        const bool gt = std::string(p.id).empty();
        rows.push_back({std::string(p.label) + paper_suffix, p.group, gt ? "" : "3", "",
                        finite(p.is) ? fixed(p.is, 2) : "", fixed(p.clip_s, 2)});
    }
    for (const auto& g : paper_t2i_groups())
        rows.push_back({std::string(g.group) + ", grouped" + paper_suffix, g.group, "", "", "",
                        fixed(g.mean, 3) + " " + pm + " " + fixed(g.sd, 3)});
    return rows;
}

std::vector<TestRow> test_rows(const ScoreJobResult& r) {
    std::vector<TestRow> rows;
    for (const auto& t : r.tests) {
        const double paper = t.metric == "CLIP-S" && r.kind == "cos100" ? paper_t2i_p(t.a, t.b)
                                                                        : std::numeric_limits<double>::quiet_NaN();
        rows.push_back({t.a + " vs " + t.b, t.metric,
                        std::to_string(t.test.n_a) + " / " + std::to_string(t.test.n_b), fixed(t.test.t, 2),
                        fixed(t.test.df, 0), t.test.undefined_reason.empty() ? p_text(t.test.p) : "n/a (" + t.test.undefined_reason + ")",
                        finite(paper) ? p_text(paper) : "–"});
    }
    return rows;
}

std::vector<std::string> footnotes(const ScoreJobResult& r) {
    std::vector<std::string> notes;
    notes.push_back(r.kind == "hessel"
                        ? "CLIP-S = 2.5 x max(cos, 0) (Hessel et al.) of the " + r.clip_model +
                              " image and text embeddings; the paper's CLIP-S values are 100 x cos, not on this scale."
                        : "CLIP-S = 100 x cos(image embedding, text embedding) of " + r.clip_model +
                              ", each image against its own prompt (the study's metric).");
    notes.push_back("Ours: per (encoder, seed) the mean over its images; per encoder mean ± sample sd over seeds; "
                    "grouped: mean ± sd over all (model, seed) values; p: pooled two-sample Student t-test "
                    "(equal variances, as scipy.stats.ttest_ind).");
    if (is_computed_anywhere(r))
        notes.push_back("IS: Inception v3 (" + r.inception_weights + "), " + std::to_string(r.is_splits_asked) +
                        " splits (fewer when a seed has fewer than two images per split), computed on the real generated images. The "
                        "paper's IS of 1.01 comes from images cast to uint8 from [0,1] floats (near-black images); "
                        "ours are the real images.");
    else
        notes.push_back("IS: not computed (no --inception-weights given). The paper's IS of 1.01 comes from images "
                        "cast to uint8 from [0,1] floats (near-black images); ours would be the real images.");
    if (!r.skipped.empty()) {
        std::string names;
        for (std::size_t i = 0; i < r.skipped.size() && i < kSkippedNamedInTable; ++i)
            names += (i ? ", " : "") + r.skipped[i].path;
        if (r.skipped.size() > kSkippedNamedInTable) names += ", ...";
        notes.push_back("Skipped " + std::to_string(r.skipped.size()) + " unreadable image file(s): " + names +
                        " (all listed in score_manifest.json).");
    }
    if (r.ground_truth.computed)
        notes.push_back("Ground truth: " + std::to_string(r.ground_truth.images.size()) + " images of split '" +
                        r.ground_truth.split + "', mean over all " + std::to_string(r.ground_truth.pairs) +
                        " (image, caption) pairs" +
                        (r.ground_truth.skipped.empty()
                             ? std::string()
                             : "; " + std::to_string(r.ground_truth.skipped.size()) + " unreadable images skipped") +
                        ".");
    if (r.duplicate_images) notes.push_back(std::to_string(r.duplicate_images) + " image file(s) listed twice were scored once.");
    if (r.truncated_prompts)
        notes.push_back(std::to_string(r.truncated_prompts) + " prompt(s) longer than CLIP's context were truncated.");
    return notes;
}

}  // namespace

// --- public: statistics ------------------------------------------------------------------------

MeanSd mean_sd(const std::vector<double>& values) {
    MeanSd m;
    m.n = values.size();
    if (values.empty()) return m;
    double sum = 0.0;
    for (double v : values) sum += v;
    m.mean = sum / static_cast<double>(values.size());
    if (values.size() > 1) {
        double ss = 0.0;
        for (double v : values) ss += (v - m.mean) * (v - m.mean);
        m.sd = std::sqrt(ss / static_cast<double>(values.size() - 1));
    }
    return m;
}

StudentTTest pooled_t_test(const std::vector<double>& a, const std::vector<double>& b) {
    StudentTTest t;
    t.n_a = a.size();
    t.n_b = b.size();
    for (double v : a)
        if (!finite(v)) throw Error("t-test: the first sample holds a value that is not finite");
    for (double v : b)
        if (!finite(v)) throw Error("t-test: the second sample holds a value that is not finite");
    const MeanSd ma = mean_sd(a), mb = mean_sd(b);
    t.mean_a = ma.mean;
    t.mean_b = mb.mean;
    if (a.empty() || b.empty() || a.size() + b.size() < 3) {
        t.undefined_reason = "needs a value in each sample and three in all";
        return t;
    }
    auto sum_sq = [](const std::vector<double>& x, double mean) {
        double ss = 0.0;
        for (double v : x) ss += (v - mean) * (v - mean);
        return ss;
    };
    t.df = static_cast<double>(a.size() + b.size() - 2);
    const double pooled_var = (sum_sq(a, ma.mean) + sum_sq(b, mb.mean)) / t.df;
    const double se = std::sqrt(pooled_var * (1.0 / double(a.size()) + 1.0 / double(b.size())));
    if (!(se > 0.0)) {
        t.undefined_reason = "no variance in either sample";
        return t;
    }
    t.t = (ma.mean - mb.mean) / se;
    t.p = eval::t_two_sided_p(t.t, t.df);
    return t;
}

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

ScoreJobResult run_score(const ScoreJobOptions& options, const ProgressSink& progress, const CancelToken* cancel) {
    const auto start = std::chrono::steady_clock::now();
    const ClipScoreKind kind = parse_kind(options.kind);
    if (options.generation_dirs.empty() && options.data_dir.empty())
        throw Error("score: nothing to score (give generation folders and/or --data)");
    auto log = [&](const std::string& line) {
        if (options.log) options.log(line);
    };
    ScoreJobResult result;
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

    std::map<std::string, InceptionScoreValue> is_by_encoder_seed;
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
        const at::Tensor text_embeds =
            clip.text_embeds(prompts, options.use_cache, options.cache_root, &result.truncated_prompts, progress, cancel);
        std::vector<double> scores;
        std::vector<std::vector<float>> logits(inception ? paths.size() : 0);
        std::function<void(const std::vector<std::size_t>&, const std::vector<models::RgbImage>&)> with_inception;
        if (inception)
            with_inception = [&](const std::vector<std::size_t>& indices, const std::vector<models::RgbImage>& images) {
                inception_logits(*inception, indices, images, logits);
            };
        score_image_files(clip, paths, text_embeds, text_row, kind, options.batch, scores, result.skipped,
                          with_inception, "images", progress, cancel);
        // Skipped images leave the scored list (they are named in `skipped`).
        std::vector<ImageScore> kept;
        std::vector<std::vector<float>> kept_logits;
        for (std::size_t i = 0; i < result.images.size(); ++i) {
            if (!finite(scores[i])) continue;
            result.images[i].clip_s = scores[i];
            kept.push_back(std::move(result.images[i]));
            if (inception) kept_logits.push_back(std::move(logits[i]));
        }
        result.images = std::move(kept);
        if (!result.skipped.empty())
            log("skipped " + std::to_string(result.skipped.size()) + " unreadable image file(s), first: " +
                result.skipped.front().path);
        if (result.images.empty()) throw Error("score: no readable image in the generation folders");
        if (inception) is_by_encoder_seed = inception_scores(result.images, kept_logits, options.is_splits);
    }
    aggregate_scores(result, options.group_overrides, is_by_encoder_seed);

    if (!options.data_dir.empty()) result.ground_truth = score_ground_truth(clip, options, kind, progress, cancel);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
}

// --- public: the paper's numbers ---------------------------------------------------------------

const std::vector<PaperT2iRow>& paper_t2i_rows() {
    static const std::vector<PaperT2iRow> rows = {
        {"bert-base-cased", "BERT-base", "BERT-style", 1.01, 22.46},
        {"bert-large-cased", "BERT-large", "BERT-style", 1.01, 22.43},
        {"roberta-base", "RoBERTa-base", "BERT-style", 1.01, 22.37},
        {"roberta-large", "RoBERTa-large", "BERT-style", 1.01, 22.41},
        {"openai/clip-vit-base-patch32", "CLIP ViT-B/32", "CLIP-style", 1.01, 22.57},
        {"openai/clip-vit-base-patch16", "CLIP ViT-B/16", "CLIP-style", 1.01, 22.59},
        {"openai/clip-vit-large-patch14", "CLIP ViT-L/14", "CLIP-style", 1.01, 22.70},
        {"openai/clip-vit-large-patch14-336", "CLIP ViT-L/14@336px", "CLIP-style", 1.01, 22.67},
        {"random", "Random", "Random", 1.01, 22.13},
        {"", "Ground-truth pairs", "", std::numeric_limits<double>::quiet_NaN(), 25.21},
    };
    return rows;
}

const std::vector<PaperT2iGroup>& paper_t2i_groups() {
    static const std::vector<PaperT2iGroup> groups = {
        {"BERT-style", 22.414, 0.041}, {"CLIP-style", 22.631, 0.066}, {"Random", 22.130, 0.029}};
    return groups;
}

double paper_t2i_p(const std::string& a, const std::string& b) {
    auto is = [&](const char* x, const char* y) { return (a == x && b == y) || (a == y && b == x); };
    if (is("BERT-style", "CLIP-style")) return 2.25e-9;
    if (is("BERT-style", "Random")) return 5.18e-8;
    if (is("CLIP-style", "Random")) return 1.18e-8;
    return std::numeric_limits<double>::quiet_NaN();
}

// --- public: tables ----------------------------------------------------------------------------

std::string score_table_markdown(const ScoreJobResult& r) {
    std::ostringstream s;
    s << "| Model | Group | Seeds | Images | IS | CLIP-S |\n|---|---|---|---|---|---|\n";
    for (const auto& row : table_rows(r, "±"))
        s << "| " << markdown_cell(row.label) << " | " << markdown_cell(row.group) << " | " << row.seeds << " | "
          << row.images << " | " << row.is << " | " << row.clip_s << " |\n";
    if (!r.tests.empty()) {
        s << "\n| Groups | Metric | n | t | df | p (ours) | p (paper) |\n|---|---|---|---|---|---|---|\n";
        for (const auto& t : test_rows(r))
            s << "| " << markdown_cell(t.label) << " | " << t.metric << " | " << t.n << " | " << t.t << " | " << t.df
              << " | " << markdown_cell(t.p_ours) << " | " << t.p_paper << " |\n";
    }
    s << '\n';
    for (const auto& note : footnotes(r)) s << markdown_cell(note) << "\n\n";
    return s.str();
}

std::string score_table_latex(const ScoreJobResult& r) {
    auto cell = [](const std::string& c) { return c == "–" ? std::string("--") : latex_escape(c); };
    auto pm_cell = [&](const std::string& c) {
        // "$\pm$" was inserted by table_rows and must not be escaped: split around it.
        const std::string pm = "$\\pm$";
        const auto at = c.find(pm);
        return at == std::string::npos ? cell(c) : cell(c.substr(0, at)) + pm + cell(c.substr(at + pm.size()));
    };
    std::ostringstream s;
    s << "\\begin{tabular}{l l r r r r}\n\\toprule\nModel & Group & Seeds & Images & IS & CLIP-S \\\\\n\\midrule\n";
    for (const auto& row : table_rows(r, "$\\pm$"))
        s << cell(row.label) << " & " << cell(row.group) << " & " << cell(row.seeds) << " & " << cell(row.images)
          << " & " << pm_cell(row.is) << " & " << pm_cell(row.clip_s) << " \\\\\n";
    s << "\\bottomrule\n\\end{tabular}\n\n";
    if (!r.tests.empty()) {
        s << "\\begin{tabular}{l l r r r r r}\n\\toprule\nGroups & Metric & n & t & df & p (ours) & p (paper) \\\\\n"
             "\\midrule\n";
        for (const auto& t : test_rows(r))
            s << cell(t.label) << " & " << cell(t.metric) << " & " << cell(t.n) << " & " << cell(t.t) << " & "
              << cell(t.df) << " & " << cell(t.p_ours) << " & " << cell(t.p_paper) << " \\\\\n";
        s << "\\bottomrule\n\\end{tabular}\n\n";
    }
    for (const auto& note : footnotes(r)) s << "\\par\\noindent{\\footnotesize " << latex_escape(note) << "}\n";
    return s.str();
}

std::string score_table_csv(const ScoreJobResult& r) {
    std::ostringstream s;
    s << "section,label,group,seed,seeds,images,is_mean,is_sd,clip_s_mean,clip_s_sd,t,df,p\n";
    const bool is_on = is_computed_anywhere(r);
    auto is_cell = [&](bool computed, double v) { return is_on && computed ? number_csv(v) : std::string(kNotComputed); };
    auto line = [&](const std::vector<std::string>& cells) {
        for (std::size_t i = 0; i < cells.size(); ++i) s << (i ? "," : "") << csv_field(cells[i]);
        s << '\n';
    };
    for (const auto& e : r.encoders) {
        line({"ours_model", e.label, e.group, "", std::to_string(e.seeds.size()), std::to_string(e.images),
              is_cell(e.is.n > 0, e.is.mean), is_cell(e.is.n > 0, e.is.sd), number_csv(e.clip_s.mean),
              number_csv(e.clip_s.sd), "", "", ""});
        for (const auto& sd : e.seeds)
            line({"ours_seed", e.label, e.group, std::to_string(sd.seed), "1", std::to_string(sd.images),
                  is_cell(sd.is.computed, sd.is.mean), is_cell(sd.is.computed, sd.is.sd), number_csv(sd.clip_s), "",
                  "", "", ""});
    }
    if (r.ground_truth.computed)
        line({"ours_ground_truth", "Ground-truth pairs", "", "", "", std::to_string(r.ground_truth.images.size()), "",
              "", number_csv(r.ground_truth.clip_s), "", "", "", ""});
    for (const auto& g : r.groups)
        line({"ours_group", g.group, g.group, "", std::to_string(g.clip_s_values.size()), "",
              is_cell(g.is.n > 0, g.is.mean), is_cell(g.is.n > 0, g.is.sd), number_csv(g.clip_s.mean),
              number_csv(g.clip_s.sd), "", "", ""});
    for (const auto& t : r.tests)
        line({"ours_test", t.a + " vs " + t.b + " (" + t.metric + ")", "", "", "", "", "", "", "", "",
              number_csv(t.test.t), number_csv(t.test.df), number_csv(t.test.p)});
    for (const auto& p : paper_t2i_rows())
        line({std::string(p.id).empty() ? "paper_ground_truth" : "paper_model", p.label, p.group, "",
              std::string(p.id).empty() ? "" : "3", "", number_csv(p.is), "", number_csv(p.clip_s), "", "", "", ""});
    for (const auto& g : paper_t2i_groups())
        line({"paper_group", g.group, g.group, "", "", "", "", "", number_csv(g.mean), number_csv(g.sd), "", "", ""});
    const auto& groups = paper_t2i_groups();
    for (std::size_t i = 0; i < groups.size(); ++i)
        for (std::size_t j = i + 1; j < groups.size(); ++j)
            line({"paper_test", std::string(groups[i].group) + " vs " + groups[j].group + " (CLIP-S)", "", "", "", "",
                  "", "", "", "", "", "", number_csv(paper_t2i_p(groups[i].group, groups[j].group))});
    return s.str();
}

std::vector<std::string> write_score_outputs(const ScoreJobResult& r, const ScoreJobOptions& o,
                                             const std::string& out_dir) {
    StagedOutputFolder staged(out_dir);  // all four files appear together (core/io/output_folder.h)
    auto number = [](double v) { return finite(v) ? json(v) : json(nullptr); };
    auto mean_sd_json = [&](const MeanSd& m) { return json{{"mean", number(m.mean)}, {"sd", number(m.sd)}, {"n", m.n}}; };
    auto is_json = [&](const InceptionScoreValue& v) {
        if (!v.computed) return json(kNotComputed);
        return json{{"mean", number(v.mean)}, {"std", number(v.sd)}, {"splits", v.splits}};
    };
    json m = {{"experiment", "Text-to-image probe (Table 3)"},
              {"clip_model", r.clip_model},
              {"clip_folder", r.clip_folder},
              {"kind", r.kind},
              {"device", r.device},
              {"inception_weights", r.inception_weights.empty() ? json(nullptr) : json(r.inception_weights)},
              {"is", r.inception_weights.empty() ? kNotComputed : "computed on the real generated images"},
              {"is_splits", r.is_splits_asked},
              {"batch", o.batch},
              {"group_overrides", o.group_overrides},
              {"manifests", r.manifests},
              {"duplicate_images", r.duplicate_images},
              {"truncated_prompts", r.truncated_prompts},
              {"seconds", r.seconds},
              {"versions", version_info()}};
    json images = json::array();
    for (const auto& i : r.images)
        images.push_back({{"file", i.file}, {"path", i.path}, {"manifest", i.manifest}, {"prompt", i.prompt},
                          {"seed", i.seed}, {"encoder", i.encoder}, {"pooling", i.pooling}, {"mapping", i.mapping},
                          {"width", i.width}, {"height", i.height}, {"clip_s", number(i.clip_s)}});
    m["images"] = images;
    json skipped = json::array();
    for (const auto& sk : r.skipped) skipped.push_back({{"path", sk.path}, {"reason", sk.reason}});
    m["skipped_images"] = skipped;
    json encoders = json::array();
    for (const auto& e : r.encoders) {
        json seeds = json::array();
        for (const auto& s : e.seeds)
            seeds.push_back({{"seed", s.seed}, {"images", s.images}, {"clip_s", number(s.clip_s)}, {"is", is_json(s.is)}});
        encoders.push_back({{"encoder", e.encoder}, {"pooling", e.pooling}, {"label", e.label}, {"group", e.group},
                            {"group_source", e.group_source}, {"paper_label", e.paper_label}, {"images", e.images},
                            {"clip_s", mean_sd_json(e.clip_s)},
                            {"is", e.is.n ? mean_sd_json(e.is) : json(kNotComputed)}, {"seeds", seeds}});
    }
    m["encoders"] = encoders;
    json groups = json::array();
    for (const auto& g : r.groups)
        groups.push_back({{"group", g.group}, {"encoders", g.encoders}, {"clip_s_values", g.clip_s_values},
                          {"clip_s", mean_sd_json(g.clip_s)}, {"is_values", g.is_values},
                          {"is", g.is.n ? mean_sd_json(g.is) : json(kNotComputed)}});
    m["groups"] = groups;
    json tests = json::array();
    for (const auto& t : r.tests)
        tests.push_back({{"metric", t.metric}, {"a", t.a}, {"b", t.b}, {"n_a", t.test.n_a}, {"n_b", t.test.n_b},
                         {"mean_a", number(t.test.mean_a)}, {"mean_b", number(t.test.mean_b)},
                         {"t", number(t.test.t)}, {"df", number(t.test.df)}, {"p", number(t.test.p)},
                         {"undefined_reason", t.test.undefined_reason},
                         {"test", "pooled two-sample Student t (equal variances), two-sided"}});
    m["tests"] = tests;
    if (r.ground_truth.computed) {
        json gi = json::array();
        for (const auto& g : r.ground_truth.images)
            gi.push_back({{"id", g.id}, {"path", g.path}, {"captions", g.captions}, {"clip_s", g.clip_s}});
        json gs = json::array();
        for (const auto& sk : r.ground_truth.skipped) gs.push_back({{"path", sk.path}, {"reason", sk.reason}});
        m["ground_truth"] = {{"data_dir", r.ground_truth.data_dir}, {"split", r.ground_truth.split},
                             {"pairs", r.ground_truth.pairs}, {"clip_s", number(r.ground_truth.clip_s)},
                             {"truncated_captions", r.ground_truth.truncated_captions},
                             {"skipped_images", gs}, {"images", gi}};
    }
    json paper_rows = json::array();
    for (const auto& p : paper_t2i_rows())
        paper_rows.push_back({{"id", p.id}, {"label", p.label}, {"group", p.group}, {"is", number(p.is)},
                              {"clip_s", p.clip_s}});
    json paper_groups = json::array();
    for (const auto& g : paper_t2i_groups()) paper_groups.push_back({{"group", g.group}, {"mean", g.mean}, {"sd", g.sd}});
    m["paper"] = {{"rows", paper_rows},
                  {"groups", paper_groups},
                  {"p", {{"BERT-style vs CLIP-style", 2.25e-9}, {"BERT-style vs Random", 5.18e-8},
                         {"CLIP-style vs Random", 1.18e-8}}},
                  {"note", "IS 1.01 from images cast to uint8 from [0,1] floats (near-black); ours are the real images"}};

    const std::vector<std::pair<std::string, std::string>> files = {{"table3.md", score_table_markdown(r)},
                                                                    {"table3.tex", score_table_latex(r)},
                                                                    {"table3.csv", score_table_csv(r)},
                                                                    {"score_manifest.json", m.dump(2) + "\n"}};
    std::vector<std::string> written;
    for (const auto& [name, text] : files)
        write_file_atomically((fs::path(staged.path()) / name).string(), text);
    staged.commit();
    for (const auto& file : files) written.push_back((fs::path(out_dir) / file.first).string());
    return written;
}

// --- the subcommand ----------------------------------------------------------------------------

void add_score_command(CLI::App& app) {
    struct State {
        ScoreJobOptions options;
        std::vector<std::string> groups;
        std::string out;
        bool no_cache = false;
    };
    auto st = std::make_shared<State>();
    auto* cmd = app.add_subcommand("score", "CLIP-S and Inception Score of generated faces (the study's Table 3)");
    cmd->add_option("folders", st->options.generation_dirs, "Generation folders (each with images.jsonl)");
    cmd->add_option("--clip", st->options.clip_model, "CLIP model for CLIP-S: catalog / hub id or folder")
        ->capture_default_str();
    cmd->add_option("--kind", st->options.kind, "cos100 (100 x cos, the study's) or hessel (2.5 x max(cos, 0))")
        ->check(CLI::IsMember({"cos100", "hessel"}))
        ->capture_default_str();
    cmd->add_option("--inception-weights", st->options.inception_weights,
                    "Inception v3 weights file for IS (absent: IS is reported as not computed)");
    cmd->add_option("--splits", st->options.is_splits, "IS splits")->capture_default_str();
    cmd->add_option("--data", st->options.data_dir, "Multi-Modal CelebA-HQ folder: adds the ground-truth pairs row");
    cmd->add_option("--split", st->options.split, "Split of --data for the ground-truth row")->capture_default_str();
    cmd->add_option("--max-gt-images", st->options.max_gt_images, "Ground truth: the first N images (0 = all)");
    // One MODEL=GROUP per --group, so that folders may follow it on the command line.
    cmd->add_option("--group", st->groups, "MODEL=GROUP: put an encoder in a group (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("--out", st->out, "Output folder")->required();
    cmd->add_option("--device", st->options.device, "auto, cpu, cuda, cuda:N")->capture_default_str();
    cmd->add_option("--batch,--batch-size", st->options.batch, "Images per forward pass")->capture_default_str();
    cmd->add_flag("--no-cache", st->no_cache, "Do not use the embedding cache for the prompts");
    cmd->callback([st] {
        for (const auto& g : st->groups) {
            const auto eq = g.rfind('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == g.size())
                throw Error("--group '" + g + "': expected MODEL=GROUP");
            st->options.group_overrides[g.substr(0, eq)] = g.substr(eq + 1);
        }
        st->options.use_cache = !st->no_cache;
        st->options.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
        check_output_folder(st->out);  // before any work
        TerminalProgress bar;
        CancelToken cancel;
        install_interrupt_handler(&cancel);
        const ScoreJobResult result = run_score(st->options, bar.sink(), &cancel);
        install_interrupt_handler(nullptr);
        for (const auto& path : write_score_outputs(result, st->options, st->out))
            std::fprintf(stderr, "wrote %s\n", path.c_str());
        std::printf("%s", score_table_markdown(result).c_str());
    });
}

}  // namespace syn::run
