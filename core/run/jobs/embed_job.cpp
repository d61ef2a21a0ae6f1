#include "core/run/jobs/embed_job.h"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "core/io/errors.h"
#include "core/io/hf_config.h"
#include "core/io/model_store.h"
#include "core/io/quote.h"
#include "core/io/torch/torch_compat.h"
#include "core/run/catalog.h"
#include "core/run/device_choice.h"
#include "core/run/embedding_cache.h"
#include "core/run/jobs/sentence_transformers_embed.h"
#include "core/run/session.h"
#include "core/text/tokenizer.h"
#include "models/pooling.h"
#include "models/registry.h"
#include "models/sentence_pipeline.h"
#include "models/text_encoder.h"

namespace syn::run {
namespace {

std::string resolve_folder(const std::string& model, std::string* revision) {
    auto resolved = resolve_model(model);
    if (!resolved)
        throw Error("model " + quote_excerpt(model) + " is not in the local Hugging Face cache (" + hf_hub_cache_dir() +
                    ") and is no folder; download it with `synesthesia fetch " + escape_excerpt(model, 120) +
                    "` (or huggingface-cli), or pass the model folder");
    *revision = resolved->revision;
    return resolved->folder;
}

// Tokenises texts on all cores; returns encodings in input order.
std::vector<text::Encoding> tokenize_parallel(const text::Tokenizer& tokenizer, const std::vector<std::string>& texts,
                                              const text::EncodeOptions& options) {
    std::vector<text::Encoding> out(texts.size());
    const unsigned threads = std::max(1u, std::min<unsigned>(static_cast<unsigned>(at::get_num_threads()), 16));
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(threads);
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            try {
                for (size_t i = t; i < texts.size(); i += threads) out[i] = tokenizer.encode(texts[i], options);
            } catch (...) {
                errors[t] = std::current_exception();
            }
        });
    }
    for (auto& th : pool) th.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
    return out;
}

}  // namespace

ModelSpec parse_model_spec(const std::string& spec) {
    std::error_code ec;
    const size_t colon = spec.rfind(':');
    if (colon == std::string::npos || std::filesystem::exists(spec, ec)) return {spec, ""};
    ModelSpec out{spec.substr(0, colon), spec.substr(colon + 1)};
    if (out.model.empty()) throw Error("model entry '" + spec + "': no model before ':'");
    try {
        models::parse_pooling_choice(out.pooling);
    } catch (const Error& e) {
        throw Error("model entry '" + spec + "': " + e.what());
    }
    return out;
}

double cosine_rows(const std::vector<float>& rows, int64_t dim, std::size_t a, std::size_t b) {
    const float* x = rows.data() + a * dim;
    const float* y = rows.data() + b * dim;
    double dot = 0, nx = 0, ny = 0;
    for (int64_t i = 0; i < dim; ++i) {
        dot += static_cast<double>(x[i]) * y[i];
        nx += static_cast<double>(x[i]) * x[i];
        ny += static_cast<double>(y[i]) * y[i];
    }
    if (nx == 0 || ny == 0) return 0.0;
    return dot / std::sqrt(nx * ny);
}

std::string default_pooling(const std::string& model, const std::string& experiment) {
    if (auto entry = find_catalog_entry(model)) {
        auto it = entry->pooling.find(experiment);
        if (it != entry->pooling.end()) return it->second;
    }
    if (experiment == "t2i") {
        // The study's text-to-image recipe: CLIP-style encoders give text_embeds (the projected
        // end-of-text token), BERT-style ones masked mean pooling; so also for folders outside the catalog.
        if (auto resolved = resolve_model(model)) {
            const models::Family family = models::detect_family(HfConfig::load(resolved->folder));
            if (family == models::Family::clip_text || family == models::Family::siglip_text) return "projected";
        }
    }
    return "mean";
}

std::pair<int, int> parse_shard(const std::string& text) {
    const auto slash = text.find('/');
    auto number = [&](const std::string& part) {
        if (part.empty() || part.size() > 6 || part.find_first_not_of("0123456789") != std::string::npos)
            throw Error("--shard " + quote_excerpt(text) + ": expected i/n with 0 <= i < n, e.g. 0/4");
        return std::stoi(part);
    };
    if (slash == std::string::npos) number("");
    const int i = number(text.substr(0, slash)), n = number(text.substr(slash + 1));
    if (n < 1 || i >= n) throw Error("--shard " + quote_excerpt(text) + ": expected i/n with 0 <= i < n, e.g. 0/4");
    return {i, n};
}

EmbedResult embed_texts(const std::vector<std::string>& texts, const EmbedOptions& options,
                        const ProgressSink& progress, const CancelToken* cancel) {
    auto t0 = std::chrono::steady_clock::now();
    const bool sharded = options.shard_count > 1;
    if (options.shard_count < 1 || options.shard_index < 0 || options.shard_index >= options.shard_count)
        throw Error("embed: shard " + std::to_string(options.shard_index) + "/" + std::to_string(options.shard_count) +
                    " is not i/n with 0 <= i < n");
    EmbedResult result;
    result.model_id = options.model;
    std::string revision;
    result.model_folder = resolve_folder(options.model, &revision);
    const models::PoolingChoice pooling =
        models::parse_pooling_choice(options.pooling.empty() ? default_pooling(options.model) : options.pooling);
    result.pooling = pooling.describe();
    result.pooling_reason = options.pooling.empty() ? "the model's default (catalog, else mean)" : "asked for";
    // A sentence-transformers folder (modules.json): its pipeline is the default pooling.
    const auto st = sentence_transformers_embedding(result.model_folder, options.pooling);
    if (st) {
        result.pooling = st->pooling();
        result.pooling_reason = st->reason();
    }
    const std::string encoder_folder = st ? st->encoder_folder() : result.model_folder;
    // One device, or several with a replica each (a session keeps one resident model: without
    // --devices it stays on one device).
    const std::vector<DeviceChoice> dcs =
        choose_devices(options.devices, options.device, options.dtype, options.session == nullptr);
    const DeviceChoice dc = dcs.front();
    result.device = dc.device.str();
    for (const auto& d : dcs) {
        result.replicas.push_back(d.device.str());
        if (d.device.str() != dc.device.str() && result.device.find(d.device.str()) == std::string::npos)
            result.device += "," + d.device.str();
    }
    result.dtype = dc.dtype_name;
    result.dtype_reason = dc.reason;

    // Unique texts; rows are filled per unique text, then expanded to the input order.
    std::unordered_map<std::string, size_t> unique_index;
    std::vector<std::string> unique;
    std::vector<size_t> input_to_unique(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
        auto [it, inserted] = unique_index.emplace(texts[i], unique.size());
        if (inserted) unique.push_back(texts[i]);
        input_to_unique[i] = it->second;
    }
    result.unique_texts = unique.size();

    // The cache first: when every text is cached, nothing is loaded (a prompt search over cached
    // captions, a re-run of STS).
    result.fingerprint = model_fingerprint(encoder_folder);
    if (st) result.fingerprint = st->fingerprint(result.fingerprint);
    std::shared_ptr<EmbeddingCache> cache;
    if (options.use_cache) {
        const std::string root = options.cache_root.empty() ? default_cache_root() : options.cache_root;
        const EmbeddingCacheKey key{result.fingerprint, result.pooling, result.dtype};
        cache = options.session ? options.session->embedding_cache(root, key) : std::make_shared<EmbeddingCache>(root, key);
    }

    std::vector<std::vector<float>> unique_rows(unique.size());
    std::vector<size_t> todo;  // what the batch plan covers: the uncached texts; a shard: every text
    std::vector<char> cached(unique.size(), 0);
    for (size_t i = 0; i < unique.size(); ++i) {
        if (cache) {
            if (auto row = cache->find(unique[i])) {
                unique_rows[i] = std::move(*row);
                cached[i] = 1;
                if (!sharded) continue;
            }
        }
        todo.push_back(i);
    }
    if (!sharded) result.from_cache = unique.size() - todo.size();
    std::vector<char> in_shard(unique.size(), sharded ? 0 : 1);  // a shard: the texts of its batches

    std::shared_ptr<const ResidentTextModel> loaded;
    std::vector<std::shared_ptr<const ResidentTextModel>> replicas;  // beyond `loaded`, one per further device
    if (!todo.empty()) {
        if (progress) progress({Stage::loading_model, options.model, 0, 1});
        loaded = options.session ? options.session->text_model(encoder_folder, dc) : load_text_model(encoder_folder, dc);
        result.family = models::family_name(loaded->encoder->family());
        if (!st || !st->uses_pipeline()) models::check_pooling(*loaded->encoder, pooling.kind);
        if (st) st->bind(*loaded->encoder, *loaded->tokenizer);  // widths, Dense weights, token limit, prompt length
        if (st && st->pipeline() && dcs.size() > 1 && dc.device.is_cuda())
            throw Error("embed: the sentence-transformers pipeline of " + options.model +
                        " (Dense layers) runs on one GPU: pass --device instead of several --devices");
        // The other devices' replicas (device_choice.h choose_devices): loaded here, used by this call only.
        for (std::size_t k = 1; k < dcs.size(); ++k) replicas.push_back(load_text_model(encoder_folder, dcs[k]));
        if (progress) progress({Stage::loading_model, options.model, 1, 1});
    } else {  // nothing loaded: the family from config.json
        result.family = models::family_name(models::detect_family(HfConfig::load(encoder_folder)));
    }

    if (!todo.empty()) {
        models::TextEncoder* encoder = loaded->encoder.get();
        const text::Tokenizer* tokenizer = loaded->tokenizer.get();
        text::EncodeOptions eo;
        eo.add_special_tokens = true;
        // The encoder's positions, else (T5: relative positions) the tokenizer's model_max_length: never unbounded.
        int limit = static_cast<int>(encoder->max_tokens());
        if (tokenizer->model_max_length() > 0)
            limit = limit > 0 ? std::min(limit, tokenizer->model_max_length()) : tokenizer->model_max_length();
        eo.max_length = st ? st->max_length() : limit;
        std::vector<std::string> todo_texts;
        todo_texts.reserve(todo.size());
        for (size_t i : todo) todo_texts.push_back(st ? st->prepare_text(unique[i]) : unique[i]);
        if (progress) progress({Stage::tokenizing, options.model, 0, static_cast<long long>(todo.size())});
        std::vector<text::Encoding> enc = tokenize_parallel(*tokenizer, todo_texts, eo);
        if (progress) progress({Stage::tokenizing, options.model, static_cast<long long>(todo.size()), static_cast<long long>(todo.size())});
        for (const auto& e : enc) result.truncated_texts += e.truncated > 0;

        // Longest first: the first batch shows at once whether memory suffices.
        std::vector<size_t> order(todo.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return enc[a].ids.size() > enc[b].ids.size(); });

        const int64_t fixed_len = encoder->required_length();
        const int32_t pad_id = tokenizer->pad_id();
        // One forward pass over the texts order[p, p + n) with `model` (any replica): pooled rows
        // [n, D], float32 on the CPU.
        auto forward_batch = [&](models::TextEncoder& model, size_t p, int64_t n) {
            const int64_t T = fixed_len ? fixed_len : static_cast<int64_t>(enc[order[p]].ids.size());
            auto ids = torch::full({n, T}, pad_id, torch::kLong);
            auto mask = torch::zeros({n, T}, torch::kLong);
            auto ids_a = ids.accessor<int64_t, 2>();
            auto mask_a = mask.accessor<int64_t, 2>();
            for (int64_t b = 0; b < n; ++b) {
                const auto& e = enc[order[p + static_cast<size_t>(b)]];
                for (size_t t = 0; t < e.ids.size() && static_cast<int64_t>(t) < T; ++t) {
                    ids_a[b][t] = e.ids[t];
                    mask_a[b][t] = e.attention_mask.empty() ? 1 : e.attention_mask[t];
                }
            }
            models::EncoderOutput out = model.forward(ids, mask);
            return (st && st->pipeline() ? st->pipeline()->forward(out.last_hidden_state, mask, st->prompt_length())
                                         : models::pool(model, out, mask, pooling))
                .to(torch::kCPU, torch::kFloat)
                .contiguous();
        };
        int64_t batch_cap = std::max<int64_t>(1, options.max_batch);
        const long long total = static_cast<long long>(order.size());
        long long done = 0;
        torch::InferenceMode inference;

        size_t pos = 0;
        std::size_t batch_number = 0;
        std::vector<size_t> chunk_members;  // indices into todo since the last cache store
        auto flush_chunk = [&] {
            if (!cache || chunk_members.empty()) return;
            std::vector<std::string> names;
            std::vector<float> rows;
            int64_t dim = static_cast<int64_t>(unique_rows[todo[chunk_members[0]]].size());
            for (size_t k : chunk_members) {
                names.push_back(unique[todo[k]]);
                const auto& r = unique_rows[todo[k]];
                rows.insert(rows.end(), r.begin(), r.end());
            }
            cache->store(names, rows, dim);
            chunk_members.clear();
        };

        // The plan's batch at `at`: its size (the token budget over its longest text, at most
        // batch_cap) and whether this run skips it. A shard takes every shard_count-th batch and
        // skips the others; a batch of its own whose texts are all cached comes from the cache.
        auto next_batch = [&](size_t at) {
            const int64_t longest = fixed_len ? fixed_len : static_cast<int64_t>(enc[order[at]].ids.size());
            int64_t bsz = std::min<int64_t>(batch_cap, std::max<int64_t>(1, options.token_budget / std::max<int64_t>(1, longest)));
            bsz = std::min<int64_t>(bsz, static_cast<int64_t>(order.size() - at));
            bool skip = false;
            if (sharded) {
                const bool mine = batch_number++ % static_cast<std::size_t>(options.shard_count) ==
                                  static_cast<std::size_t>(options.shard_index);
                bool all_cached = true;
                for (int64_t b = 0; b < bsz; ++b) {
                    const size_t u = todo[order[at + static_cast<size_t>(b)]];
                    if (mine) in_shard[u] = 1;
                    all_cached = all_cached && cached[u];
                }
                skip = !mine || all_cached;
                if (mine && all_cached) result.from_cache += static_cast<std::size_t>(bsz);
            }
            return std::make_pair(bsz, skip);
        };

        while (replicas.empty() && pos < order.size()) {
            throw_if_cancelled(cancel, "embedding");
            const auto [bsz, skip] = next_batch(pos);
            if (skip) {
                pos += static_cast<size_t>(bsz);
                done += bsz;
                if (progress) progress({Stage::embedding, options.model, done, total});
                continue;
            }
            at::Tensor pooled;
            try {
                pooled = forward_batch(*encoder, pos, bsz);
            } catch (const std::exception& e) {
                if (compat::is_out_of_memory(e) && bsz > 1) {
                    compat::release_cached_device_memory();
                    batch_cap = std::max<int64_t>(1, bsz / 2);  // halve and retry the same texts
                    continue;
                }
                throw;
            }
            const int64_t dim = pooled.size(1);
            result.dim = dim;
            result.computed += static_cast<std::size_t>(bsz);
            const float* p = pooled.data_ptr<float>();
            for (int64_t b = 0; b < bsz; ++b) {
                unique_rows[todo[order[pos + b]]].assign(p + b * dim, p + (b + 1) * dim);
                chunk_members.push_back(order[pos + b]);
            }
            pos += static_cast<size_t>(bsz);
            done += bsz;
            if (static_cast<int64_t>(chunk_members.size()) >= options.chunk_texts) flush_chunk();
            if (progress) progress({Stage::embedding, options.model, done, total});
        }

        if (!replicas.empty()) {
            // Several replicas: the plan first (the same batches as one device's, a shard's share
            // of them), then one thread per replica takes the next batch in turn; rows land by
            // position, so the result is one device's. Only this thread reports progress, stores
            // into the cache and looks at `cancel`; a worker stops between batches once `stop` is set.
            struct Planned {
                size_t pos;
                int64_t bsz;
            };
            std::vector<Planned> plan;
            while (pos < order.size()) {
                const auto [bsz, skip] = next_batch(pos);
                if (skip) done += bsz;
                else plan.push_back({pos, bsz});
                pos += static_cast<size_t>(bsz);
            }
            if (progress) progress({Stage::embedding, options.model, done, total});

            std::vector<models::TextEncoder*> models_of = {encoder};
            for (const auto& r : replicas) models_of.push_back(r->encoder.get());
            const int threads_before = at::get_num_threads();
            const bool cpu_replicas = !dc.device.is_cuda();
            // CPU replicas share the torch threads out (at least one each); a CUDA replica's thread
            // keeps the count (its CPU work is small).
            const int threads_each =
                cpu_replicas ? std::max(1, threads_before / static_cast<int>(models_of.size())) : threads_before;
            std::atomic<size_t> next{0};
            std::atomic<bool> stop{false};
            std::mutex mutex;
            std::condition_variable wake;
            std::vector<Planned> finished;  // computed, not yet counted (guarded by mutex)
            std::size_t running = models_of.size();
            std::exception_ptr failure;
            std::string failed_device;
            auto worker = [&](std::size_t r) {
                try {
                    at::set_num_threads(threads_each);  // this thread's intra-op threads
                    torch::InferenceMode worker_inference;  // thread-local, like the grad mode
                    models::TextEncoder& model = *models_of[r];
                    // A CUDA out-of-memory halves this batch (and its halves) on this replica.
                    std::function<void(size_t, int64_t)> run = [&](size_t p, int64_t n) {
                        at::Tensor pooled;
                        try {
                            pooled = forward_batch(model, p, n);
                        } catch (const std::exception& e) {
                            if (compat::is_out_of_memory(e) && n > 1) {
                                compat::release_cached_device_memory();
                                run(p, n / 2);
                                run(p + static_cast<size_t>(n / 2), n - n / 2);
                                return;
                            }
                            throw;
                        }
                        const int64_t dim = pooled.size(1);
                        const float* rows = pooled.data_ptr<float>();
                        // Distinct texts per batch: no two threads write one row.
                        for (int64_t b = 0; b < n; ++b)
                            unique_rows[todo[order[p + static_cast<size_t>(b)]]].assign(rows + b * dim,
                                                                                        rows + (b + 1) * dim);
                    };
                    while (!stop.load()) {
                        const size_t k = next.fetch_add(1);
                        if (k >= plan.size()) break;
                        if (options.before_replica_batch) options.before_replica_batch(r);
                        run(plan[k].pos, plan[k].bsz);
                        {
                            std::lock_guard<std::mutex> lock(mutex);
                            finished.push_back(plan[k]);
                        }
                        wake.notify_one();
                    }
                } catch (...) {
                    std::lock_guard<std::mutex> lock(mutex);
                    if (!failure) {
                        failure = std::current_exception();
                        failed_device = dcs[r].device.str() + " (replica " + std::to_string(r) + ")";
                    }
                    stop.store(true);
                }
                {
                    std::lock_guard<std::mutex> lock(mutex);
                    --running;
                }
                wake.notify_one();
            };
            std::vector<std::thread> pool;
            // Whatever happens here (a progress sink that throws included), the workers are
            // stopped and joined before this frame goes.
            struct Joiner {
                std::vector<std::thread>& threads;
                std::atomic<bool>& stop;
                int threads_before;
                ~Joiner() {
                    stop.store(true);
                    for (auto& t : threads)
                        if (t.joinable()) t.join();
                    at::set_num_threads(threads_before);  // the count new threads start from
                }
            } joiner{pool, stop, threads_before};
            for (std::size_t r = 0; r < models_of.size(); ++r) pool.emplace_back(worker, r);
            bool cancelled = false;
            while (true) {
                std::vector<Planned> batch;
                bool all_stopped;
                {
                    std::unique_lock<std::mutex> lock(mutex);
                    wake.wait_for(lock, std::chrono::milliseconds(50), [&] { return !finished.empty() || running == 0; });
                    batch.swap(finished);
                    all_stopped = running == 0;
                }
                for (const auto& b : batch) {
                    result.computed += static_cast<std::size_t>(b.bsz);
                    for (int64_t i = 0; i < b.bsz; ++i) chunk_members.push_back(order[b.pos + static_cast<size_t>(i)]);
                    done += b.bsz;
                    if (static_cast<int64_t>(chunk_members.size()) >= options.chunk_texts) flush_chunk();
                }
                if (!batch.empty() && progress) progress({Stage::embedding, options.model, done, total});
                if (cancel && cancel->cancelled() && !cancelled) {
                    cancelled = true;
                    stop.store(true);  // every replica stops after its current batch
                }
                if (all_stopped) {
                    std::lock_guard<std::mutex> lock(mutex);
                    if (finished.empty()) break;
                }
            }
            for (auto& t : pool) t.join();
            if (failure) {
                // What was computed before the failure is stored; the job fails naming the device.
                flush_chunk();
                try {
                    std::rethrow_exception(failure);
                } catch (const Cancelled&) {
                    throw;
                } catch (const std::exception& e) {
                    throw Error("embedding " + options.model + " on " + failed_device + ": " + e.what());
                }
            }
            if (cancelled) {
                flush_chunk();  // the finished batches are kept, as the one-device path keeps its chunks
                throw Cancelled{"embedding"};
            }
        }
        flush_chunk();
    }

    for (size_t u = 0; u < unique.size(); ++u)
        if (in_shard[u] && !unique_rows[u].empty()) result.dim = static_cast<int64_t>(unique_rows[u].size());
    for (size_t u = 0; u < unique.size(); ++u)
        if (in_shard[u] && static_cast<int64_t>(unique_rows[u].size()) != result.dim)
            throw Error("embedding cache for " + options.model + " holds vectors of another width: clear " +
                        (cache ? cache->folder() : std::string("the cache")));
    for (size_t i = 0; i < texts.size(); ++i)
        if (in_shard[input_to_unique[i]]) {
            if (sharded) result.positions.push_back(i);
            const auto& row = unique_rows[input_to_unique[i]];
            result.rows.insert(result.rows.end(), row.begin(), row.end());
        }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

}  // namespace syn::run
