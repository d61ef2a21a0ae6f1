// Times the STS statistics on the real CxC test split (44,045 pairs): load + join, then all four
// correlations with 1000-replicate bootstrap intervals (overall and per sampling_method), then a
// paired comparison of two encoders. The "encoders" are two cheap lexical baselines (token Jaccard
// overlap, and negative length difference) so that the benchmark needs no model.
//
// usage: bench_sts_stats [shared_dir] [replicates]   (shared_dir defaults to $SYNESTHESIA_SHARED, then ../shared)
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

}  // namespace

int main(int argc, char** argv) {
    std::string shared = argc > 1 ? argv[1] : (std::getenv("SYNESTHESIA_SHARED") ? std::getenv("SYNESTHESIA_SHARED") : "../shared");
    const std::size_t replicates = argc > 2 ? std::stoul(argv[2]) : 1000;
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
