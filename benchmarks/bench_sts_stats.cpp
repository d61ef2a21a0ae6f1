// Times the STS statistics on the real CxC test split (44,045 pairs): load + join, then all four
// correlations with 1000-replicate bootstrap intervals (overall and per sampling_method), then a
// paired comparison of two encoders. The "encoders" are two cheap lexical baselines (token Jaccard
// overlap, and negative length difference) so that the benchmark needs no model.
//
// usage: bench_sts_stats [shared_dir] [replicates]   (shared_dir defaults to $SYNESTHESIA_SHARED, then ../shared)
//        bench_sts_stats --encoders N [--batch] [--dump FILE] [--threads T] [shared_dir] [replicates]
//   The sts job's statistics for N lexical "encoders" (2 <= N <= 6): evaluate_sts for each (overall +
//   per sampling_method), then compare_encoders_sts for each of the N(N-1)/2 pairs (overall), timed as
//   a whole; with --batch the same numbers from one evaluate_sts_encoders call (one set of resamples
//   for all encoders). --dump writes every estimate, CI bound, standard error and p-value (%.17g) to
//   FILE, so that two builds (or the two ways) can be compared number by number. The issue-20 figure
//   is --encoders 6 with 1000 replicates.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "core/data/sts_dataset.h"
#include "core/eval/sts_metrics.h"

namespace {

std::set<std::string> tokens(const std::string& text) {
    std::set<std::string> out;
    std::string word;
    for (char c : text + " ") {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        } else if (!word.empty()) {
            out.insert(word);
            word.clear();
        }
    }
    return out;
}

double jaccard(const std::string& a, const std::string& b) {
    const auto ta = tokens(a), tb = tokens(b);
    std::size_t common = 0;
    for (const auto& t : ta) common += tb.count(t);
    const std::size_t total = ta.size() + tb.size() - common;
    return total == 0 ? 0.0 : static_cast<double>(common) / static_cast<double>(total);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void print_row(const syn::eval::StsScores& s) {
    auto cell = [](const syn::eval::CorrelationEstimate& e) {
        char buf[64];
        if (!e.point.defined()) return std::string("   undefined          ");
        std::snprintf(buf, sizeof buf, "%6.2f [%6.2f,%6.2f]", 100 * e.point.value, 100 * e.ci.lower, 100 * e.ci.upper);
        return std::string(buf);
    };
    std::printf("  %-14s n=%6zu  STS-L Sp %s  P %s  STS-V Sp %s  P %s\n", s.group.c_str(), s.n,
                cell(s.spearman_l).c_str(), cell(s.pearson_l).c_str(), cell(s.spearman_v).c_str(),
                cell(s.pearson_v).c_str());
}

std::set<std::string> trigrams(const std::string& text) {
    std::set<std::string> out;
    for (std::size_t i = 0; i + 3 <= text.size(); ++i) out.insert(text.substr(i, 3));
    return out;
}

double set_jaccard(const std::set<std::string>& a, const std::set<std::string>& b) {
    std::size_t common = 0;
    for (const auto& t : a) common += b.count(t);
    const std::size_t total = a.size() + b.size() - common;
    return total == 0 ? 0.0 : static_cast<double>(common) / static_cast<double>(total);
}

// Six cheap lexical "encoders" with different tie structures (continuous, many ties, integer).
std::vector<std::vector<double>> lexical_encoders(const syn::data::StsDataset& data, std::size_t count) {
    std::vector<std::vector<double>> out(6);
    std::uint64_t state = 0x9e3779b97f4a7c15ull;
    for (const auto& p : data.pairs) {
        const auto ta = tokens(p.text1), tb = tokens(p.text2);
        std::size_t common = 0;
        for (const auto& t : ta) common += tb.count(t);
        const double jac = set_jaccard(ta, tb);
        out[0].push_back(jac);
        out[1].push_back(-std::abs(static_cast<double>(p.text1.size()) - static_cast<double>(p.text2.size())));
        const std::size_t smaller = std::min(ta.size(), tb.size());
        out[2].push_back(smaller == 0 ? 0.0 : static_cast<double>(common) / static_cast<double>(smaller));
        out[3].push_back(set_jaccard(trigrams(p.text1), trigrams(p.text2)));
        out[4].push_back(static_cast<double>(common));
        state = state * 6364136223846793005ull + 1442695040888963407ull;  // fixed LCG: no ties
        out[5].push_back(jac + static_cast<double>(state >> 11) * 0x1.0p-53 * 0.2);
    }
    out.resize(count);
    return out;
}

// The statistics an sts job with N encoders computes (see core/run/jobs/sts_job.cpp), timed as a whole.
int run_encoders(const std::string& shared, std::size_t replicates, std::size_t count, unsigned threads,
                 bool batch, const std::string& dump_path) {
    const auto data = syn::data::load_sts_dataset(shared + "/data/cxc/sts_test.csv",
                                                  shared + "/data/coco/captions_karpathy_test.json");
    const auto encoders = lexical_encoders(data, count);
    const auto sts_l = data.sts_l_values();
    const auto sts_v = data.sts_v_values();
    const auto methods = data.sampling_methods();
    const syn::eval::BootstrapOptions options{replicates, 20240229, 0.95, threads};

    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t cpu0 = std::clock();
    std::vector<syn::eval::StsEvaluation> evaluations;
    std::vector<std::vector<syn::eval::StsComparisonRow>> comparisons;
    double t_eval = 0;
    if (batch) {
        std::vector<const std::vector<double>*> scores;
        for (const auto& e : encoders) scores.push_back(&e);
        auto all = syn::eval::evaluate_sts_encoders(scores, sts_l, sts_v, methods, options);
        evaluations = std::move(all.encoders);
        for (auto& c : all.comparisons) comparisons.push_back(std::move(c.rows));
    } else {
        for (const auto& scores : encoders)
            evaluations.push_back(syn::eval::evaluate_sts(scores, sts_l, sts_v, methods, options));
        t_eval = seconds_since(t0);
        for (std::size_t a = 0; a < count; ++a)
            for (std::size_t b = a + 1; b < count; ++b)
                comparisons.push_back(syn::eval::compare_encoders_sts(encoders[a], encoders[b], sts_l, sts_v, {}, options));
    }
    const double wall = seconds_since(t0);
    const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
    if (batch)
        std::printf("%zu encoders x %zu pairs x %zu replicates, threads=%u (%u used), one evaluate_sts_encoders call "
                    "(all intervals + %zu paired comparisons): wall %.3f s, cpu %.3f s\n",
                    count, data.pairs.size(), replicates, threads, syn::eval::resolve_threads(threads),
                    comparisons.size(), wall, cpu);
    else
        std::printf("%zu encoders x %zu pairs x %zu replicates, threads=%u (%u used), separate calls: per-encoder "
                    "statistics %.3f s, %zu paired comparisons %.3f s, total wall %.3f s, cpu %.3f s\n",
                    count, data.pairs.size(), replicates, threads, syn::eval::resolve_threads(threads), t_eval,
                    comparisons.size(), wall - t_eval, wall, cpu);

    if (!dump_path.empty()) {
        std::FILE* f = std::fopen(dump_path.c_str(), "w");
        if (!f) throw std::runtime_error("cannot write " + dump_path);
        auto interval = [&](const std::string& what, const syn::eval::BootstrapInterval& ci) {
            std::fprintf(f, "%s ci %.17g %.17g %.17g %.17g se %.17g undefined %zu/%zu\n", what.c_str(), ci.estimate,
                         ci.lower, ci.upper, ci.level, ci.standard_error, ci.undefined_replicates, ci.replicates);
        };
        for (std::size_t e = 0; e < evaluations.size(); ++e) {
            std::vector<const syn::eval::StsScores*> groups{&evaluations[e].all};
            for (const auto& g : evaluations[e].by_method) groups.push_back(&g);
            for (const auto* g : groups) {
                const std::string key = "enc" + std::to_string(e) + " " + g->group + " n=" + std::to_string(g->n) + " ";
                interval(key + "spearman_l", g->spearman_l.ci);
                interval(key + "pearson_l", g->pearson_l.ci);
                interval(key + "spearman_v", g->spearman_v.ci);
                interval(key + "pearson_v", g->pearson_v.ci);
            }
        }
        std::size_t k = 0;
        for (std::size_t a = 0; a < count; ++a)
            for (std::size_t b = a + 1; b < count; ++b, ++k)
                for (const auto& r : comparisons[k]) {
                    const auto& c = r.comparison;
                    const std::string key = "cmp" + std::to_string(a) + "-" + std::to_string(b) + " " + r.group + " " +
                                            r.target + " " + syn::eval::to_string(c.kind) + " ";
                    std::fprintf(f, "%sr %.17g %.17g %.17g steiger %.17g %.17g williams %.17g %.17g p_boot %.17g\n",
                                 key.c_str(), c.a.value, c.b.value, c.a_vs_b.value, c.parametric.steiger_z,
                                 c.parametric.steiger_p, c.parametric.williams_t, c.parametric.williams_p,
                                 c.bootstrap.p_two_sided);
                    interval(key + "diff", c.bootstrap.ci);
                }
        std::fclose(f);
        std::printf("wrote %s\n", dump_path.c_str());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t encoder_count = 0;
    bool batch = false;
    unsigned encoder_threads = 0;
    std::string dump_path;
    std::vector<std::string> positional;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
            return argv[++i];
        };
        try {
            if (arg == "--encoders") encoder_count = std::stoul(value());
            else if (arg == "--dump") dump_path = value();
            else if (arg == "--batch") batch = true;
            else if (arg == "--threads") encoder_threads = static_cast<unsigned>(std::stoul(value()));
            else positional.push_back(arg);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_sts_stats: %s\n", e.what());
            return 2;
        }
    }
    std::string shared = positional.size() > 0 ? positional[0]
                         : (std::getenv("SYNESTHESIA_SHARED") ? std::getenv("SYNESTHESIA_SHARED") : "../shared");
    const std::size_t replicates = positional.size() > 1 ? std::stoul(positional[1]) : 1000;
    if (encoder_count != 0) {
        if (encoder_count < 2 || encoder_count > 6) {
            std::fprintf(stderr, "bench_sts_stats: --encoders takes 2 to 6\n");
            return 2;
        }
        try {
            return run_encoders(shared, replicates, encoder_count, encoder_threads, batch, dump_path);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_sts_stats: %s\n", e.what());
            return 1;
        }
    }
    try {
        auto t0 = std::chrono::steady_clock::now();
        const auto data = syn::data::load_sts_dataset(shared + "/data/cxc/sts_test.csv",
                                                      shared + "/data/coco/captions_karpathy_test.json");
        std::printf("load + join: %.3f s\n%s\n", seconds_since(t0), data.summary().c_str());

        std::vector<double> overlap, length;
        for (const auto& p : data.pairs) {
            overlap.push_back(jaccard(p.text1, p.text2));
            length.push_back(-std::abs(static_cast<double>(p.text1.size()) - static_cast<double>(p.text2.size())));
        }
        const auto sts_l = data.sts_l_values();
        const auto sts_v = data.sts_v_values();
        const auto methods = data.sampling_methods();

        std::printf("hardware threads: %u\n", std::thread::hardware_concurrency());
        for (unsigned threads : {1u, 2u, 0u}) {
            const syn::eval::BootstrapOptions options{replicates, 20240229, 0.95, threads};
            const std::clock_t cpu0 = std::clock();
            const auto e = syn::eval::evaluate_sts(overlap, sts_l, sts_v, methods, options);
            const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
            // CPU time beside wall time: on a loaded machine the wall time says little.
            std::printf("evaluate_sts (4 correlations x %zu replicates, overall + %zu methods), threads=%u (%u used): "
                        "wall %.3f s, cpu %.3f s\n",
                        replicates, e.by_method.size(), threads, syn::eval::resolve_threads(threads), e.seconds, cpu);
            if (threads == 0) {
                std::printf("token-Jaccard baseline, x100 with 95%% bootstrap CI:\n");
                print_row(e.all);
                for (const auto& m : e.by_method) print_row(m);
            }
        }
        t0 = std::chrono::steady_clock::now();
        const std::clock_t cpu0 = std::clock();
        const auto rows = syn::eval::compare_encoders_sts(overlap, length, sts_l, sts_v, methods,
                                                          {replicates, 20240229, 0.95, 0});
        std::printf("compare_encoders_sts (12 comparisons x %zu replicates): wall %.3f s, cpu %.3f s\n", replicates,
                    seconds_since(t0), static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC);
        for (const auto& r : rows) {
            const auto& c = r.comparison;
            std::printf("  %-14s %s %-8s A=%.4f B=%.4f diff=%+.4f CI [%+.4f,%+.4f] p_boot=%.4g  Steiger z=%.2f p=%.3g  Williams t=%.2f p=%.3g\n",
                        r.group.c_str(), r.target.c_str(), syn::eval::to_string(c.kind), c.a.value, c.b.value,
                        c.bootstrap.difference, c.bootstrap.ci.lower, c.bootstrap.ci.upper, c.bootstrap.p_two_sided,
                        c.parametric.steiger_z, c.parametric.steiger_p, c.parametric.williams_t, c.parametric.williams_p);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_sts_stats: %s\n", e.what());
        return 1;
    }
    return 0;
}
