#pragma once
// Hand-made caption pairs and scores for the UI tests (no files, no engine run needed).
#include <cmath>
#include <memory>
#include <vector>

#include "core/data/sts_dataset.h"
#include "core/run/jobs/sts_job.h"
#include "ui/models/pair_table_model.h"

namespace syn::test {

inline std::shared_ptr<syn::data::StsDataset> make_dataset(int n) {
    auto ds = std::make_shared<syn::data::StsDataset>();
    const char* subjects[] = {"a dog", "a cat", "a man", "two women", "a red bus", "a surfer"};
    const char* actions[] = {"runs on the beach", "sleeps on a sofa", "rides a wave", "eats pizza", "crosses a street"};
    for (int i = 0; i < n; ++i) {
        syn::data::StsPair p;
        p.caption_id1 = 1000 + 2 * i;
        p.caption_id2 = 1001 + 2 * i;
        p.image_id1 = 10 + i;
        p.sts_v = (i % 3 == 0) ? 1.0 : 0.0;
        p.image_id2 = p.sts_v > 0.5 ? p.image_id1 : 500 + i;
        p.text1 = std::string(subjects[i % 6]) + " " + actions[i % 5];
        p.text2 = std::string(subjects[(i * 7 + 1) % 6]) + " " + actions[(i * 3) % 5];
        p.sts_l = std::fmod(i * 0.37, 5.0);
        p.sampling_method = p.sts_v > 0.5 ? "c2c_cocaption" : "c2c_isim";
        p.csv_line = static_cast<std::size_t>(i + 2);
        ds->pairs.push_back(p);
    }
    return ds;
}

// Deterministic, distinct scores that correlate imperfectly with STS-L.
inline std::vector<double> make_scores(const syn::data::StsDataset& ds, double phase) {
    std::vector<double> s;
    for (std::size_t i = 0; i < ds.pairs.size(); ++i)
        s.push_back(0.5 + 0.08 * ds.pairs[i].sts_l + 0.2 * std::sin(phase + 1.7 * static_cast<double>(i)));
    return s;
}

inline syn::eval::CorrelationEstimate estimate(double v, double lo, double hi) {
    syn::eval::CorrelationEstimate e;
    e.point.value = v;
    e.point.n = 100;
    e.ci.estimate = v;
    e.ci.lower = lo;
    e.ci.upper = hi;
    e.ci.replicates = 1000;
    return e;
}

// An StsResult as run_sts would return it, for the plots and the window (no models run).
inline std::shared_ptr<syn::run::StsResult> make_result(int n) {
    auto r = std::make_shared<syn::run::StsResult>();
    r->dataset = *make_dataset(n);
    const char* labels[] = {"CLIP ViT-B/32", "BERT-base", "lexical/jaccard"};
    const char* styles[] = {"clip", "bert", "lexical"};
    for (int e = 0; e < 3; ++e) {
        syn::run::EncoderRun run;
        run.model = labels[e];
        run.label = labels[e];
        run.style = styles[e];
        run.family = styles[e];
        run.pooling = "mean";
        run.scores = make_scores(r->dataset, 0.9 * e);
        run.all.sts_l_spearman = estimate(0.5 - 0.1 * e, 0.45 - 0.1 * e, 0.55 - 0.1 * e);
        run.all.sts_l_pearson = estimate(0.48 - 0.1 * e, 0.42 - 0.1 * e, 0.53 - 0.1 * e);
        run.all.sts_v_spearman = estimate(0.3 - 0.05 * e, 0.25 - 0.05 * e, 0.36 - 0.05 * e);
        run.all.sts_v_pearson = estimate(0.31 - 0.05 * e, 0.26 - 0.05 * e, 0.37 - 0.05 * e);
        r->encoders.push_back(run);
    }
    return r;
}

}  // namespace syn::test
