#include "core/run/jobs/lexical_encoders.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_set>

#include "core/io/errors.h"

namespace syn::run {

std::vector<std::string> lexical_tokens(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    for (unsigned char c : text) {
        bool word = std::isalnum(c) || c >= 0x80;
        if (word) {
            cur.push_back(static_cast<char>(std::tolower(c)));
        } else if (!cur.empty()) {
            out.push_back(std::move(cur));
            cur.clear();
        }
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

double jaccard_similarity(const std::string& a, const std::string& b) {
    auto ta = lexical_tokens(a), tb = lexical_tokens(b);
    std::set<std::string> sa(ta.begin(), ta.end()), sb(tb.begin(), tb.end());
    if (sa.empty() && sb.empty()) return 1.0;
    size_t common = 0;
    for (const auto& t : sa) common += sb.count(t);
    return static_cast<double>(common) / static_cast<double>(sa.size() + sb.size() - common);
}

TfidfModel::TfidfModel(const std::vector<std::string>& documents) {
    std::vector<int> df;
    for (const auto& doc : documents) {
        auto tokens = lexical_tokens(doc);
        std::unordered_set<std::string> seen(tokens.begin(), tokens.end());
        for (const auto& t : seen) {
            auto [it, inserted] = term_ids_.emplace(t, static_cast<int>(df.size()));
            if (inserted) df.push_back(0);
            ++df[it->second];
        }
    }
    const double n = static_cast<double>(documents.size());
    idf_.resize(df.size());
    for (size_t i = 0; i < df.size(); ++i) idf_[i] = std::log((1.0 + n) / (1.0 + df[i])) + 1.0;
}

std::vector<std::pair<int, double>> TfidfModel::vectorize(const std::string& text) const {
    std::map<int, double> counts;
    for (const auto& t : lexical_tokens(text)) {
        auto it = term_ids_.find(t);
        if (it != term_ids_.end()) counts[it->second] += 1.0;
    }
    std::vector<std::pair<int, double>> v;
    double norm = 0;
    for (const auto& [id, c] : counts) {
        double w = c * idf_[id];
        v.emplace_back(id, w);
        norm += w * w;
    }
    norm = std::sqrt(norm);
    if (norm > 0)
        for (auto& p : v) p.second /= norm;
    return v;
}

double TfidfModel::cosine(const std::string& a, const std::string& b) const {
    auto va = vectorize(a), vb = vectorize(b);
    double dot = 0;
    size_t i = 0, j = 0;
    while (i < va.size() && j < vb.size()) {
        if (va[i].first == vb[j].first) dot += va[i++].second * vb[j++].second;
        else if (va[i].first < vb[j].first) ++i;
        else ++j;
    }
    return dot;
}

bool is_lexical_model(const std::string& id) { return id == "lexical/jaccard" || id == "lexical/tfidf"; }

std::vector<double> lexical_pair_scores(const std::string& id,
                                        const std::vector<std::pair<std::string, std::string>>& pairs) {
    std::vector<double> out;
    out.reserve(pairs.size());
    if (id == "lexical/jaccard") {
        for (const auto& [a, b] : pairs) out.push_back(jaccard_similarity(a, b));
        return out;
    }
    if (id == "lexical/tfidf") {
        std::unordered_set<std::string> unique;
        for (const auto& [a, b] : pairs) {
            unique.insert(a);
            unique.insert(b);
        }
        std::vector<std::string> docs(unique.begin(), unique.end());
        std::sort(docs.begin(), docs.end());  // fitting must not depend on hash order
        TfidfModel model(docs);
        for (const auto& [a, b] : pairs) out.push_back(model.cosine(a, b));
        return out;
    }
    throw Error("unknown lexical model '" + id + "' (known: lexical/jaccard, lexical/tfidf)");
}

}  // namespace syn::run
