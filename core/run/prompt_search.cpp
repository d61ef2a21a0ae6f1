#include "core/run/prompt_search.h"

#include <algorithm>
#include <cmath>

#include "core/run/embed_job.h"
#include "core/run/lexical_encoders.h"

namespace syn::run {

std::vector<Neighbour> top_k(const std::vector<double>& scores, std::size_t k) {
    std::vector<Neighbour> all;
    all.reserve(scores.size());
    for (std::size_t i = 0; i < scores.size(); ++i)
        if (std::isfinite(scores[i])) all.push_back({scores[i], i});
    const std::size_t n = std::min(k, all.size());
    auto better = [](const Neighbour& a, const Neighbour& b) {
        return a.score != b.score ? a.score > b.score : a.text < b.text;
    };
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(), better);
    all.resize(n);
    return all;
}

PromptResult nearest_captions(const std::string& prompt, const std::vector<std::string>& captions,
                              const std::vector<PromptModel>& models, std::size_t k, const ProgressSink& progress,
                              const CancelToken* cancel, ModelSession* session) {
    PromptResult result;
    result.prompt = prompt;
    result.texts = captions;
    long long step = 0;
    for (const auto& m : models) {
        throw_if_cancelled(cancel, "prompt search");
        if (progress) progress("nearest captions: " + m.label, step++, static_cast<long long>(models.size()));
        EncoderNeighbours out{m.model, m.label, {}, {}};
        try {
            std::vector<double> scores(captions.size());
            if (is_lexical_model(m.model)) {
                if (m.model == "lexical/tfidf") {
                    std::vector<std::string> docs = captions;
                    docs.push_back(prompt);  // fitted on the searched captions plus the prompt
                    const TfidfModel tfidf(docs);
                    for (std::size_t i = 0; i < captions.size(); ++i) scores[i] = tfidf.cosine(prompt, captions[i]);
                } else {
                    for (std::size_t i = 0; i < captions.size(); ++i) scores[i] = jaccard_similarity(prompt, captions[i]);
                }
            } else {
                std::vector<std::string> texts;
                texts.reserve(captions.size() + 1);
                texts.push_back(prompt);
                texts.insert(texts.end(), captions.begin(), captions.end());
                EmbedOptions options;
                options.model = m.model;
                options.pooling = m.pooling;
                if (!m.dtype.empty()) options.dtype = m.dtype;
                if (!m.device.empty()) options.device = m.device;
                options.session = session;
                const auto emb = embed_texts(texts, options, progress, cancel);
                for (std::size_t i = 0; i < captions.size(); ++i) scores[i] = cosine_rows(emb.rows, emb.dim, 0, i + 1);
            }
            out.neighbours = top_k(scores, k);
        } catch (const Cancelled&) {
            throw;
        } catch (const std::exception& e) {
            out.error = e.what();
        }
        result.encoders.push_back(std::move(out));
    }
    if (progress) progress("nearest captions", static_cast<long long>(models.size()), static_cast<long long>(models.size()));
    return result;
}

}  // namespace syn::run
