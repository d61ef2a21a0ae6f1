// The prompt box's search as the workbench runs it, with and without the resident model session
// (core/run/session.h): three encoders with random weights at their real sizes, written as
// hub-style folders (config.json, model.safetensors, the real vocabularies from
// $SYNESTHESIA_SHARED/vocab; benchmarks/random_checkpoints.h), searched over the unique captions of
// the real CxC test split.
//
//   bench_session [--set base|large|all] [--captions N] [--work DIR] [--dtype auto|float32|bfloat16]
//                 [--searches K]
//
// --set base (default): BERT-base, RoBERTa-base, CLIP ViT-B/32's text tower; large: CLIP ViT-L/14's
// text tower (hidden 768, 12 layers, projection 768) in place of B/32's; all: the four.
// --work defaults to /work/bench-work when /work exists (outside the repository), else the temp dir.
//
// 1. fills the embedding cache with every caption (once, not timed: the state after STS has run);
// 2. "before": K searches without a session, each loading every encoder and indexing its cache;
// 3. "after": one search with a session (the first: loads the encoders and keeps the captions'
//    unit-length embeddings), then K more (only the new prompt embedded).
// Every search has a new prompt, so none is answered from the embedding cache alone.
// Prints seconds per search and the ratio. Speed is measured here, never in tests.
#include <torch/torch.h>

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "benchmarks/random_checkpoints.h"
#include "core/data/sts_dataset.h"
#include "core/io/torch/torch_runtime.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/jobs/prompt_search.h"
#include "core/run/session.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

using syn::bench::shared_dir;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
    std::size_t max_captions = 0;  // 0 = every unique caption of the split
    int searches = 3;
    std::string dtype = "auto";
    std::string set = "base";
    fs::path work = fs::is_directory("/work") ? fs::path("/work/bench-work") : fs::temp_directory_path() / "syn_bench";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&] { return syn::bench::option_value(argc, argv, i); };
        if (a == "--captions") max_captions = std::stoul(value());
        else if (a == "--searches") searches = std::stoi(value());
        else if (a == "--dtype") dtype = value();
        else if (a == "--work") work = value();
        else if (a == "--set") set = value();
        else {
            std::fprintf(stderr,
                         "usage: bench_session [--set base|large|all] [--captions N] [--searches K] [--dtype D] "
                         "[--work DIR]\n");
            return 2;
        }
    }
    const int threads = syn::init_torch_runtime();
    const std::string cxc = shared_dir() + "/data/cxc/sts_test.csv";
    const std::string coco = shared_dir() + "/data/coco/captions_karpathy_test.json";
    if (!fs::exists(cxc) || !fs::exists(coco)) {
        std::fprintf(stderr, "bench_session: %s or %s not found: set SYNESTHESIA_SHARED\n", cxc.c_str(), coco.c_str());
        return 2;
    }
    std::vector<std::string> captions = syn::data::unique_texts(syn::data::load_sts_dataset(cxc, coco)).texts;
    if (max_captions > 0 && captions.size() > max_captions) captions.resize(max_captions);

    fs::create_directories(work);
    const std::string cache = (work / "cache").string();
    ::setenv("SYN_CACHE_DIR", cache.c_str(), 1);  // the search's embed_texts use the default root
    std::vector<syn::run::PromptModel> models;
    std::vector<syn::bench::RandomModel> set_models;
    try {
        set_models = syn::bench::model_set(set);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "--set: %s\n", e.what());
        return 2;
    }
    for (const auto& m : set_models) {
        const auto t = Clock::now();
        const std::string folder = syn::bench::write_model(m, work);
        models.push_back({folder, m.name, "mean", dtype, "cpu"});
        std::printf("model %-28s %s (%.1f s to write)\n", m.name.c_str(), folder.c_str(), seconds_since(t));
    }
    std::printf("%zu unique captions of the CxC test split, %d CPU threads, dtype %s, libtorch %s\n", captions.size(),
                threads, dtype.c_str(), TORCH_VERSION);

    // 1. The cache after STS: every caption embedded once (not timed as a search).
    {
        const auto t = Clock::now();
        for (const auto& m : models) {
            syn::run::EmbedOptions o;
            o.model = m.model;
            o.pooling = m.pooling;
            o.dtype = m.dtype;
            o.device = m.device;
            const auto r = syn::run::embed_texts(captions, o);
            std::printf("  cache %-28s %zu computed, %zu cached\n", m.label.c_str(), r.computed, r.from_cache);
        }
        std::printf("filling the cache: %.1f s\n", seconds_since(t));
    }

    // A new prompt for every search (a prompt searched before would come from the embedding cache).
    const std::vector<std::string> prompts = {
        "a man riding a wave on a surfboard", "a giraffe eating leaves", "two dogs playing in the snow",
        "a plate of food on a table",         "a red bus on a city street", "a woman holding an umbrella",
        "a cat sleeping on a laptop",         "a kite flying over the beach", "an old clock tower in the rain",
        "children playing soccer in a park",  "a bowl of oranges and bananas", "a train crossing a bridge"};
    if (2 * searches + 1 > static_cast<int>(prompts.size())) {
        std::fprintf(stderr, "--searches: at most %zu\n", (prompts.size() - 1) / 2);
        return 2;
    }
    const std::string nonce = std::to_string(::getpid()) + "." + std::to_string(std::time(nullptr));
    auto search = [&](int k, syn::run::ModelSession* session) {
        const auto t = Clock::now();
        // The run's nonce keeps a prompt of an earlier run out of the embedding cache.
        const std::string prompt = prompts[k % prompts.size()] + " (" + nonce + ")";
        const auto r = syn::run::nearest_captions(prompt, captions, models, 10, {}, nullptr, session);
        const double s = seconds_since(t);
        for (const auto& e : r.encoders)
            if (!e.error.empty()) std::printf("  %s failed: %s\n", e.label.c_str(), e.error.c_str());
        return s;
    };

    // 2. Before: every search loads each encoder and indexes its cache.
    double before = 0;
    for (int k = 0; k < searches; ++k) {
        const double s = search(k, nullptr);
        std::printf("  without session, search %d: %.3f s\n", k + 1, s);
        before += s;
    }
    before /= searches;

    // 3. After: the first search loads, the next ones find everything resident.
    syn::run::ModelSession session;
    const double first = search(searches, &session);
    std::printf("  with session, first search:  %.3f s (loads %zu)\n", first, session.stats().loads);
    double after = 0;
    for (int k = searches + 1; k <= 2 * searches; ++k) {
        const double s = search(k, &session);
        std::printf("  with session, search %d:      %.3f s\n", k - searches + 1, s);
        after += s;
    }
    after /= searches;
    const auto stats = session.stats();
    std::printf("prompt search, %zu encoders (set %s), %zu cached captions:\n", models.size(), set.c_str(),
                captions.size());
    std::printf("  before (no session)     %.3f s per search\n", before);
    std::printf("  after  (resident)       %.3f s per search  (%.1fx faster; loads %zu, hits %zu, resident %.0f MB)\n",
                after, before / after, stats.loads, stats.hits, stats.resident_bytes / 1048576.0);
    std::printf("  first search with a session (loads the encoders and the captions' matrix): %.3f s\n", first);
    return 0;
}
