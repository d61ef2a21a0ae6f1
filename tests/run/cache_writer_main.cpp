// Test helper for EmbeddingCache.ConcurrentWritersShareOneCache (issue 15): one writer process.
//   cache_writer <root> <tag> <shards> <rows per shard> <dim>
// opens the cache of key {kCacheWriterModel, "mean", "float32"} under <root> twice (two objects
// in one process, as a resident session and a job may hold) and stores <shards> shards of the
// texts cache_writer_text(tag, s, r), rows cache_writer_row(text), alternating the two objects
// and refreshing the other one after each store. <shards> = 0: store forever (to be killed).
// Exit 0 when all were stored and both objects find every row; 1 with a line on stderr otherwise.
// A separate program rather than fork() in the test: the gtest binary links libtorch, and forking
// a process that may have started threads can deadlock the child.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "core/run/embedding_cache.h"
#include "tests/run/cache_writer_rows.h"

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: cache_writer <root> <tag> <shards (0 = forever)> <rows per shard> <dim>\n");
        return 2;
    }
    const std::string root = argv[1], tag = argv[2];
    const int shards = std::atoi(argv[3]), rows = std::atoi(argv[4]);
    const int64_t dim = std::atoll(argv[5]);
    try {
        const syn::run::EmbeddingCacheKey key{syn::test::kCacheWriterModel, "mean", "float32"};
        syn::run::EmbeddingCache a(root, key), b(root, key);
        for (int s = 0; shards == 0 || s < shards; ++s) {
            std::vector<std::string> texts;
            std::vector<float> values;
            for (int r = 0; r < rows; ++r) {
                texts.push_back(syn::test::cache_writer_text(tag, s, r));
                const std::vector<float> row = syn::test::cache_writer_row(texts.back(), dim);
                values.insert(values.end(), row.begin(), row.end());
            }
            syn::run::EmbeddingCache& writer = s % 2 ? b : a;
            syn::run::EmbeddingCache& reader = s % 2 ? a : b;
            writer.store(texts, values, dim);
            reader.refresh();
        }
        for (syn::run::EmbeddingCache* c : {&a, &b}) {
            c->refresh();
            if (!c->set_aside().empty()) {
                std::fprintf(stderr, "cache_writer %s: set aside %s\n", tag.c_str(), c->set_aside()[0].c_str());
                return 1;
            }
            for (int s = 0; s < shards; ++s)
                for (int r = 0; r < rows; ++r) {
                    const std::string text = syn::test::cache_writer_text(tag, s, r);
                    const auto row = c->find(text);
                    if (!row || *row != syn::test::cache_writer_row(text, dim)) {
                        std::fprintf(stderr, "cache_writer %s: %s %s\n", tag.c_str(), text.c_str(),
                                     row ? "has a wrong row" : "is missing");
                        return 1;
                    }
                }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "cache_writer %s: %s\n", tag.c_str(), e.what());
        return 1;
    }
    return 0;
}
