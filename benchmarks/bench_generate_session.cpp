// The prompt box's Generate as the workbench runs it (core/run/jobs/t2i_job.h run_generate), with and
// without the resident model session (core/run/session.h), at the study's real sizes with random
// weights (benchmarks/random_checkpoints.h):
//   generator  celebahq_transformer: GPT 24 layers, 16 heads, width 1664, vocab 1024, block 256
//              (~800 M parameters, 3.2 GB float32 on disk); VQGAN 256 px, ch 128, ch_mult
//              1,1,2,2,4, 2 res blocks, attention at 16, codebook 1024 x 256 (PAPER.md section 3);
//   encoder    BERT-base (--encoder bert, default) or CLIP ViT-L/14's text tower (--encoder clip-large);
//   mapping    a random Linear(encoder width -> 1664) checkpoint naming that encoder.
//
//   bench_generate_session [--work DIR] [--encoder bert|clip-large] [--runs K] [--dtype D] [--tokens N]
//
// K runs (default 2) without a session (each loads the generator, the encoder and the mapping),
// then K with one session (the first loads, the next find everything resident). One prompt, a new
// one per run (none comes from the embedding cache), seed 0, top-k 250 as the study samples.
// Every run is split by the job's own progress stages into: load (from the call to the first
// encoder stage: reading the mapping's header, loading the generator), encoder (loading it,
// tokenizing, embedding the prompt), sampling (the GPT's 256 tokens) and decoding (the VQGAN; no PNGs
// written). --tokens N stops each run after N sampled tokens (through the job's cancel token: no
// decoding then) and extrapolates the sampling time to 256 tokens; the default samples all 256.
// Speed is measured here, never in tests.
#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "benchmarks/random_checkpoints.h"
#include "core/io/torch/torch_runtime.h"
#include "core/run/device_choice.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/jobs/t2i_job.h"
#include "core/run/progress.h"
#include "core/run/session.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using syn::run::Stage;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Timing {
    double load = 0, encoder = 0, sampling = 0, decoding = 0, total = 0;
    int64_t tokens = 0;     // sampled
    bool stopped = false;   // --tokens: cancelled after N tokens
    std::size_t loads = 0;  // session loads during the run (with a session)
};

}  // namespace

int main(int argc, char** argv) {
    fs::path work = fs::is_directory("/work") ? fs::path("/work/bench-work") : fs::temp_directory_path() / "syn_bench";
    std::string encoder_choice = "bert";
    std::string dtype = "auto";
    int runs = 2;
    int64_t stop_tokens = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&] { return syn::bench::option_value(argc, argv, i); };
        if (a == "--work") work = value();
        else if (a == "--encoder") encoder_choice = value();
        else if (a == "--dtype") dtype = value();
        else if (a == "--runs") runs = std::stoi(value());
        else if (a == "--tokens") stop_tokens = std::stoll(value());
        else {
            std::fprintf(stderr,
                         "usage: bench_generate_session [--work DIR] [--encoder bert|clip-large] [--runs K] "
                         "[--dtype D] [--tokens N]\n");
            return 2;
        }
    }
    if (encoder_choice != "bert" && encoder_choice != "clip-large") {
        std::fprintf(stderr, "--encoder: bert or clip-large\n");
        return 2;
    }
    const int threads = syn::init_torch_runtime();
    fs::create_directories(work);
    const std::string cache = (work / "cache").string();
    ::setenv("SYN_CACHE_DIR", cache.c_str(), 1);

    auto t = Clock::now();
    const auto encoder_model = encoder_choice == "bert" ? syn::bench::base_size_models().front()
                                                         : syn::bench::clip_large_text_model();
    const std::string encoder = syn::bench::write_model(encoder_model, work);
    std::printf("encoder   %s (%.1f s to write or find)\n", encoder.c_str(), seconds_since(t));
    std::fflush(stdout);
    t = Clock::now();
    const std::string generator =
        syn::bench::write_taming(syn::bench::celebahq_taming_config(), work / "celebahq-transformer-random");
    std::printf("generator %s (%.1f s to write or find, %.2f GB)\n", generator.c_str(), seconds_since(t),
                fs::file_size(fs::path(generator) / "model.safetensors") / 1e9);
    const std::string pooling = syn::run::default_pooling(encoder, "t2i");
    const int64_t text_dim = syn::bench::embedding_width(encoder, pooling);
    const std::string mapping = syn::bench::write_mapping((work / "mapping-random" / (encoder_model.name + ".safetensors")).string(),
                                                          encoder, pooling, text_dim, 1664, generator);
    const auto dc = syn::run::choose_device("cpu", dtype);
    std::printf("mapping   %s (%s, %lld -> 1664)\n", mapping.c_str(), pooling.c_str(), static_cast<long long>(text_dim));
    std::printf("%d CPU threads, GPT dtype %s (%s), libtorch %s\n", threads, dc.dtype_name.c_str(), dc.reason.c_str(),
                TORCH_VERSION);
    if (stop_tokens > 0) std::printf("--tokens %lld: each run stops after that many sampled tokens (no decoding)\n",
                                     static_cast<long long>(stop_tokens));
    std::fflush(stdout);

    const std::vector<std::string> prompts = {
        "This woman has blond hair and a big smile.",   "This man has a beard and wears glasses.",
        "She has wavy brown hair and high cheekbones.", "He is young, with black hair and a slightly open mouth.",
        "This person has bangs and rosy cheeks.",       "The man has grey hair, bushy eyebrows and a double chin.",
        "She wears heavy makeup and lipstick.",         "This young woman has straight red hair.",
        "He has a receding hairline and a mustache.",   "The woman is smiling, with arched eyebrows.",
    };
    if (2 * runs > static_cast<int>(prompts.size())) {
        std::fprintf(stderr, "--runs: at most %zu\n", prompts.size() / 2);
        return 2;
    }
    const std::string nonce = std::to_string(::getpid()) + "." + std::to_string(std::time(nullptr));

    auto run = [&](int k, syn::run::ModelSession* session) {
        syn::run::GenerateJobOptions o;
        o.generator = generator;
        o.mapping = mapping;
        // The run's nonce keeps a prompt of an earlier run out of the embedding cache.
        o.prompts = {prompts[static_cast<std::size_t>(k)] + " (" + nonce + ")"};
        o.seeds = {0};
        o.sampling.top_k = 250;
        o.device = "cpu";
        o.dtype = dtype;
        o.session = session;
        std::map<Stage, Clock::time_point> first, last;
        syn::run::CancelToken cancel;
        Timing timing;
        const std::size_t loads_before = session ? session->stats().loads : 0;
        const auto start = Clock::now();
        auto progress = [&](const syn::run::Progress& p) {
            const auto now = Clock::now();
            first.emplace(p.stage, now);
            last[p.stage] = now;
            if (p.stage == Stage::sampling) {
                timing.tokens = p.done;  // one image: done counts tokens
                if (stop_tokens > 0 && p.done >= stop_tokens) cancel.cancel();
            }
        };
        std::vector<std::string> warnings;
        try {
            const auto r = syn::run::run_generate(o, progress, &cancel);
            warnings = r.warnings;
        } catch (const syn::run::Cancelled&) {
            timing.stopped = true;
        }
        const auto end = Clock::now();
        // Stage boundaries from the job's own events: the encoder's first (loading_model) and last
        // (embedding) events, the last sampled token, the last decoded chunk.
        auto at = [&](const std::map<Stage, Clock::time_point>& times, std::initializer_list<Stage> stages, bool earliest,
                      Clock::time_point otherwise) {
            bool found = false;
            auto best = otherwise;
            for (Stage s : stages)
                if (auto it = times.find(s); it != times.end()) {
                    if (!found || (earliest ? it->second < best : it->second > best)) best = it->second;
                    found = true;
                }
            return best;
        };
        auto span = [](Clock::time_point a, Clock::time_point b) {
            return std::max(0.0, std::chrono::duration<double>(b - a).count());
        };
        const std::initializer_list<Stage> encoder_stages = {Stage::loading_model, Stage::tokenizing, Stage::embedding};
        const auto encoder_start = at(first, encoder_stages, true, start);
        const auto encoder_end = at(last, encoder_stages, false, encoder_start);
        const auto sampling_end = at(last, {Stage::sampling}, false, end);
        timing.load = span(start, encoder_start);
        timing.encoder = span(encoder_start, encoder_end);
        timing.sampling = span(encoder_end, sampling_end);
        timing.decoding = span(sampling_end, end);  // VQGAN decode and the result's copy
        timing.total = span(start, end);
        if (session) timing.loads = session->stats().loads - loads_before;
        for (const auto& w : warnings) std::printf("    warning: %s\n", w.c_str());
        return timing;
    };
    auto print = [&](const char* what, int k, const Timing& t) {
        std::printf("  %-16s run %d: total %7.2f s = load %6.2f + encoder %5.2f + sampling %6.2f (%lld tokens, %.3f s/token)"
                    " + decoding %5.2f%s",
                    what, k, t.total, t.load, t.encoder, t.sampling, static_cast<long long>(t.tokens),
                    t.tokens > 0 ? t.sampling / double(t.tokens) : 0.0, t.decoding, t.stopped ? " [stopped]" : "");
        if (std::string(what) == "with session") std::printf("  (session loads %zu)", t.loads);
        std::printf("\n");
        std::fflush(stdout);
    };

    std::vector<Timing> before, after;
    for (int k = 0; k < runs; ++k) {
        before.push_back(run(k, nullptr));
        print("without session", k + 1, before.back());
    }
    syn::run::ModelSession session;
    for (int k = 0; k < runs; ++k) {
        after.push_back(run(runs + k, &session));
        print("with session", k + 1, after.back());
    }
    const auto stats = session.stats();

    auto mean = [](const std::vector<Timing>& v, std::size_t from, double Timing::*field) {
        double s = 0;
        for (std::size_t i = from; i < v.size(); ++i) s += v[i].*field;
        return v.size() > from ? s / double(v.size() - from) : 0.0;
    };
    // Per-token sampling, extrapolated to the 256 tokens of a face when runs were stopped early.
    auto full_sampling = [](const Timing& t) { return t.tokens > 0 ? t.sampling / double(t.tokens) * 256.0 : 0.0; };
    const double b_load = mean(before, 0, &Timing::load) + mean(before, 0, &Timing::encoder);
    const double a_load = runs > 1 ? mean(after, 1, &Timing::load) + mean(after, 1, &Timing::encoder) : 0.0;
    const double b_total = mean(before, 0, &Timing::total), a_total = runs > 1 ? mean(after, 1, &Timing::total) : 0.0;
    std::printf("Generate, one prompt, celebahq-size random generator, %s encoder:\n", encoder_model.name.c_str());
    std::printf("  before (no session)       %.2f s per Generate: load + embed %.2f s, sampling %.2f s, decoding %.2f s\n",
                b_total, b_load, mean(before, 0, &Timing::sampling), mean(before, 0, &Timing::decoding));
    if (runs > 1)
        std::printf("  after  (resident, 2nd+)   %.2f s per Generate: load + embed %.2f s, sampling %.2f s, decoding %.2f s"
                    "  (%.1fx faster overall; load + embed %.0fx less)\n",
                    a_total, a_load, mean(after, 1, &Timing::sampling), mean(after, 1, &Timing::decoding),
                    b_total / a_total, a_load > 0 ? b_load / a_load : 0.0);
    std::printf("  first Generate with a session (loads): %.2f s\n", after.front().total);
    std::printf("  session: loads %zu, hits %zu, resident %.0f MB\n", stats.loads, stats.hits,
                stats.resident_bytes / 1048576.0);
    if (stop_tokens > 0)
        std::printf("  (sampling stopped after %lld tokens: 256 tokens would take ~%.1f s without / ~%.1f s with a session)\n",
                    static_cast<long long>(stop_tokens), full_sampling(before.back()), full_sampling(after.back()));
    return 0;
}
