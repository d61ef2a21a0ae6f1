#pragma once
// Lexical baselines that need no download, listed in the catalog as encoders so the main job runs
// on a fresh machine: token-overlap Jaccard and TF-IDF cosine. Tokens: lower-cased runs of ASCII
// letters and digits (bytes >= 0x80 count as letters, so non-ASCII words stay whole).
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace syn::run {

std::vector<std::string> lexical_tokens(const std::string& text);

// |A ∩ B| / |A ∪ B| over token sets; 1 for two texts with no tokens at all, as both are empty.
double jaccard_similarity(const std::string& a, const std::string& b);

// TF-IDF with scikit-learn's defaults (raw counts, smooth idf = ln((1+N)/(1+df)) + 1, L2-normalised
// rows), fitted on the texts given; cosine of two texts (0 when either has no known token).
class TfidfModel {
public:
    explicit TfidfModel(const std::vector<std::string>& documents);
    double cosine(const std::string& a, const std::string& b) const;
    size_t vocabulary_size() const { return idf_.size(); }

private:
    std::vector<std::pair<int, double>> vectorize(const std::string& text) const;  // sorted by term id
    std::unordered_map<std::string, int> term_ids_;
    std::vector<double> idf_;
};

// True for "lexical/jaccard" and "lexical/tfidf".
bool is_lexical_model(const std::string& id);

// Scores pairs with a lexical model (TF-IDF is fitted on the unique texts of the pairs).
// Throws syn::Error for an unknown lexical id.
std::vector<double> lexical_pair_scores(const std::string& id,
                                        const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace syn::run
