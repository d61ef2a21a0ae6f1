#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "core/io/errors.h"
#include "core/run/jobs/lexical_encoders.h"

using namespace syn::run;

TEST(Lexical, Tokens) {
    EXPECT_EQ(lexical_tokens("A man, a PLAN: 2 canals!"),
              (std::vector<std::string>{"a", "man", "a", "plan", "2", "canals"}));
    EXPECT_TRUE(lexical_tokens(" ,.; ").empty());
    EXPECT_EQ(lexical_tokens("café au lait").size(), 3u);  // non-ASCII letters stay inside words
}

TEST(Lexical, JaccardTextbookValues) {
    EXPECT_DOUBLE_EQ(jaccard_similarity("a dog runs", "a dog runs"), 1.0);
    EXPECT_DOUBLE_EQ(jaccard_similarity("a dog", "the cat"), 0.0);
    // {a, dog, runs} vs {a, dog, sits}: 2 shared of 4 distinct.
    EXPECT_DOUBLE_EQ(jaccard_similarity("A dog runs", "a dog sits"), 0.5);
    // Sets, not multisets: repeated words count once.
    EXPECT_DOUBLE_EQ(jaccard_similarity("dog dog dog", "dog"), 1.0);
    EXPECT_DOUBLE_EQ(jaccard_similarity("", ""), 1.0);
    EXPECT_DOUBLE_EQ(jaccard_similarity("", "dog"), 0.0);
}

// An independent TF-IDF written out term by term, as in scikit-learn's documentation:
// idf = ln((1 + n) / (1 + df)) + 1, tf = counts, rows L2-normalised.
static double reference_tfidf_cosine(const std::vector<std::string>& docs, const std::string& a, const std::string& b) {
    std::map<std::string, double> df;
    for (const auto& d : docs) {
        auto t = lexical_tokens(d);
        for (const auto& w : std::set<std::string>(t.begin(), t.end())) df[w] += 1;
    }
    auto vec = [&](const std::string& s) {
        std::map<std::string, double> v;
        for (const auto& w : lexical_tokens(s))
            if (df.count(w)) v[w] += 1;
        double norm = 0;
        for (auto& [w, c] : v) {
            c *= std::log((1.0 + docs.size()) / (1.0 + df[w])) + 1.0;
            norm += c * c;
        }
        for (auto& [w, c] : v) c /= std::sqrt(norm);
        return v;
    };
    auto va = vec(a), vb = vec(b);
    double dot = 0;
    for (const auto& [w, c] : va)
        if (vb.count(w)) dot += c * vb[w];
    return dot;
}

TEST(Lexical, TfidfMatchesAnIndependentComputation) {
    std::vector<std::string> docs = {"a man riding a horse", "a horse in a field", "two dogs play in the snow",
                                     "a man and a dog", "snow covered field"};
    TfidfModel model(docs);
    EXPECT_EQ(model.vocabulary_size(), 14u);  // a man riding horse in field two dogs play the snow and dog covered
    for (const auto& a : docs)
        for (const auto& b : docs) EXPECT_NEAR(model.cosine(a, b), reference_tfidf_cosine(docs, a, b), 1e-12);
    EXPECT_NEAR(model.cosine(docs[0], docs[0]), 1.0, 1e-12);
    EXPECT_EQ(model.cosine("zebra", docs[0]), 0.0);  // unknown words carry no weight
}

TEST(Lexical, PairScoresAndUnknownIds) {
    std::vector<std::pair<std::string, std::string>> pairs = {{"a dog", "a dog"}, {"a cat", "the bird"}};
    auto j = lexical_pair_scores("lexical/jaccard", pairs);
    EXPECT_DOUBLE_EQ(j[0], 1.0);
    EXPECT_DOUBLE_EQ(j[1], 0.0);
    auto t = lexical_pair_scores("lexical/tfidf", pairs);
    EXPECT_NEAR(t[0], 1.0, 1e-12);
    EXPECT_THROW(lexical_pair_scores("lexical/bm25", pairs), syn::Error);
}
