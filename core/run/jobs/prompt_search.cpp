#include "core/run/jobs/prompt_search.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/io/errors.h"
#include "core/io/model_store.h"
#include "core/io/sha256.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/jobs/lexical_encoders.h"
#include "core/run/session.h"

namespace syn::run {

namespace {

EmbedOptions embed_options(const PromptModel& m, ModelSession* session) {
    EmbedOptions options;
    options.model = m.model;
    options.pooling = m.pooling;
    if (!m.dtype.empty()) options.dtype = m.dtype;
    if (!m.device.empty()) options.device = m.device;
    options.session = session;
    return options;
}

// Rows scaled to unit length (zero rows stay zero: their cosine is 0, as cosine_rows gives).
std::vector<float> unit_rows(const std::vector<float>& rows, int64_t dim) {
    std::vector<float> out(rows.size());
    for (std::size_t r = 0; dim > 0 && r < rows.size() / static_cast<std::size_t>(dim); ++r) {
        const float* x = rows.data() + r * dim;
        double norm = 0;
        for (int64_t i = 0; i < dim; ++i) norm += static_cast<double>(x[i]) * x[i];
        const double scale = norm > 0 ? 1.0 / std::sqrt(norm) : 0.0;
        for (int64_t i = 0; i < dim; ++i) out[r * dim + i] = static_cast<float>(x[i] * scale);
    }
    return out;
}

struct CaptionMatrix {
    std::vector<float> unit;  // captions x dim, unit rows
    int64_t dim = 0;
};

// With a session, a search embeds the prompt only: the captions' unit-length embeddings are made
// once per (encoder, pooling, dtype, device, folder state, caption list) and kept in the session.
// The caption list's part of the key (one hash per search, shared by its encoders).
std::string captions_digest(const std::vector<std::string>& captions) {
    std::string all;  // length-prefixed, so that no two caption lists give the same bytes
    for (const auto& c : captions) all += std::to_string(c.size()) + ':' + c;
    return sha256_hex(all);
}

std::vector<double> resident_caption_scores(const std::string& prompt, const std::vector<std::string>& captions,
                                            const std::string& digest, const PromptModel& m, ModelSession& session,
                                            const ProgressSink& progress, const CancelToken* cancel) {
    const EmbedOptions options = embed_options(m, &session);
    std::string key = "caption-matrix\n" + m.model + "\n" + m.pooling + "\n" + m.dtype + "\n" + m.device + "\n";
    if (auto resolved = resolve_model(m.model)) key += folder_state(resolved->folder);
    key += digest;
    const auto matrix = std::static_pointer_cast<const CaptionMatrix>(session.derived(key, [&] {
        const EmbedResult embedded = embed_texts(captions, options, progress, cancel);
        auto made = std::make_shared<CaptionMatrix>();
        made->dim = embedded.dim;
        made->unit = unit_rows(embedded.rows, embedded.dim);
        return ModelSession::Derived{made, made->unit.size() * sizeof(float)};
    }));
    const EmbedResult p = embed_texts({prompt}, options, progress, cancel);
    if (p.dim != matrix->dim)
        throw Error(m.model + ": the prompt's embedding is " + std::to_string(p.dim) + " wide, the captions' " +
                    std::to_string(matrix->dim));
    const std::vector<float> q = unit_rows(p.rows, p.dim);
    std::vector<double> scores(captions.size());
    for (std::size_t r = 0; r < captions.size(); ++r) {
        const float* x = matrix->unit.data() + r * matrix->dim;
        double dot = 0;
        for (int64_t i = 0; i < matrix->dim; ++i) dot += static_cast<double>(x[i]) * q[i];
        scores[r] = dot;
    }
    return scores;
}

}  // namespace

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
    std::string digest;  // of the captions, made on first use
    for (const auto& m : models) {
        throw_if_cancelled(cancel, "prompt search");
        if (progress) progress({Stage::nearest_captions, m.label, step++, static_cast<long long>(models.size())});
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
            } else if (session) {
                if (digest.empty()) digest = captions_digest(captions);
                scores = resident_caption_scores(prompt, captions, digest, m, *session, progress, cancel);
            } else {
                std::vector<std::string> texts;
                texts.reserve(captions.size() + 1);
                texts.push_back(prompt);
                texts.insert(texts.end(), captions.begin(), captions.end());
                const EmbedOptions options = embed_options(m, nullptr);
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
    if (progress) progress({Stage::nearest_captions, "", static_cast<long long>(models.size()), static_cast<long long>(models.size())});
    return result;
}

}  // namespace syn::run
