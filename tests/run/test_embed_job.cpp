// The embedding job with the tiny fixture models: the same code path real checkpoints take.
// Batched = one at a time, sorted = unsorted, cached = fresh (within 1e-5), and the cache resumes.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/io/errors.h"
#include "core/run/embed_job.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using namespace syn::run;

namespace {

const std::vector<std::string>& texts() {
    static const std::vector<std::string> t = {
        "A man is flying a kite in a field",
        "A woman flying a kite in a blue sky.",
        "a",
        "A computer desk holding a monitor and keyboard in front of blinds, next to a window with a view of the city",
        "A man is flying a kite in a field",  // a duplicate: embedded once
        "Two dogs play in the snow near a red fence, while a child watches from the porch of an old house"};
    return t;
}

fs::path fresh_cache(const std::string& name) {
    fs::path d = fs::temp_directory_path() / ("syn_embed_cache_" + name);
    fs::remove_all(d);
    return d;
}

void expect_rows_near(const EmbedResult& a, const EmbedResult& b, double tol) {
    ASSERT_EQ(a.dim, b.dim);
    ASSERT_EQ(a.rows.size(), b.rows.size());
    for (size_t i = 0; i < a.rows.size(); ++i) ASSERT_NEAR(a.rows[i], b.rows[i], tol) << "value " << i;
}

struct Case {
    const char* model;
    const char* pooling;
};

}  // namespace

class EmbedJob : public ::testing::TestWithParam<Case> {};

TEST_P(EmbedJob, BatchedEqualsOneAtATimeAndCachedEqualsFresh) {
    SYN_REQUIRE_SHARED();
    const std::string folder = syn::test::fixtures_dir() + "/models/" + GetParam().model;
    EmbedOptions o;
    o.model = folder;
    o.pooling = GetParam().pooling;
    o.use_cache = false;
    EmbedResult batched = embed_texts(texts(), o);
    EXPECT_EQ(batched.unique_texts, 5u);
    EXPECT_EQ(batched.computed, 5u);
    ASSERT_GT(batched.dim, 0);
    // Duplicates get identical rows.
    for (int64_t k = 0; k < batched.dim; ++k) EXPECT_EQ(batched.rows[k], batched.rows[4 * batched.dim + k]);

    EmbedOptions single = o;
    single.max_batch = 1;  // one text per forward pass, no padding at all
    expect_rows_near(batched, embed_texts(texts(), single), 1e-5);

    std::vector<std::string> reversed(texts().rbegin(), texts().rend());
    EmbedResult rev = embed_texts(reversed, o);
    for (size_t i = 0; i < texts().size(); ++i)
        for (int64_t k = 0; k < batched.dim; ++k)
            ASSERT_NEAR(batched.rows[i * batched.dim + k], rev.rows[(texts().size() - 1 - i) * batched.dim + k], 1e-5);

    EmbedOptions cached = o;
    cached.use_cache = true;
    cached.cache_root = fresh_cache(GetParam().model).string();
    cached.chunk_texts = 2;  // several shards
    EmbedResult first = embed_texts(texts(), cached);
    EXPECT_EQ(first.from_cache, 0u);
    EmbedResult second = embed_texts(texts(), cached);
    EXPECT_EQ(second.from_cache, 5u);
    EXPECT_EQ(second.computed, 0u);
    expect_rows_near(batched, second, 1e-5);
    EXPECT_EQ(second.fingerprint.size(), 64u);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, EmbedJob,
                         ::testing::Values(Case{"tiny-bert", "mean"}, Case{"tiny-bert", "pooler+l2"},
                                           Case{"tiny-roberta", "cls"}, Case{"tiny-clip", "projected"},
                                           Case{"tiny-t5-encoder", "mean"}, Case{"tiny-siglip", "mean"}),
                         [](const auto& info) {
                             std::string n = std::string(info.param.model) + "_" + info.param.pooling;
                             for (char& c : n)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return n;
                         });

TEST(EmbedJobErrors, CancelLeavesACompleteCache) {
    SYN_REQUIRE_SHARED();
    EmbedOptions o;
    o.model = syn::test::fixtures_dir() + "/models/tiny-bert";
    o.pooling = "mean";
    o.cache_root = fresh_cache("cancel").string();
    o.max_batch = 1;
    o.chunk_texts = 1;
    CancelToken cancel;
    long long reports = 0;
    auto progress = [&](const std::string& stage, long long done, long long) {
        if (stage.rfind("embedding", 0) == 0 && ++reports == 2 && done > 0) cancel.cancel();
    };
    EXPECT_THROW(embed_texts(texts(), o, progress, &cancel), Cancelled);
    // What was stored is whole and reused; the rest is computed.
    EmbedResult resumed = embed_texts(texts(), o);
    EXPECT_EQ(resumed.from_cache + resumed.computed, 5u);
    EXPECT_GE(resumed.from_cache, 1u);
    EXPECT_LT(resumed.from_cache, 5u);
    o.use_cache = false;
    expect_rows_near(embed_texts(texts(), o), resumed, 1e-5);
}

TEST(EmbedJobErrors, ClearMessages) {
    SYN_REQUIRE_SHARED();
    EmbedOptions o;
    o.use_cache = false;
    o.model = "some-org/not-downloaded-model";
    try {
        embed_texts(texts(), o);
        FAIL();
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("not in the local Hugging Face cache"), std::string::npos) << e.what();
    }
    o.model = syn::test::fixtures_dir() + "/models/tiny-roberta";
    o.pooling = "projected";  // RoBERTa has no projection: refused, naming the family
    EXPECT_THROW(embed_texts(texts(), o), syn::Error);
    o.pooling = "median";
    EXPECT_THROW(embed_texts(texts(), o), syn::Error);
    o.pooling = "mean";
    o.dtype = "bfloat16";
    o.device = "cpu";
    EXPECT_THROW(embed_texts(texts(), o), syn::Error);  // half types: CUDA only
}
