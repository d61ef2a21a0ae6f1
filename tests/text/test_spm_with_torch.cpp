// SentencePiece and libtorch in ONE process: the isolation test.
//
// Without isolation this executable never reaches main(). Linking Debian's libsentencepiece (which
// exports the protobuf-lite it embeds) next to libtorch (which links libprotobuf.so.32) makes the
// two protobufs interpose: libprotobuf's static initialiser (DescriptorPool::InternalAddGeneratedFile
// -> EncodedDescriptorDatabase::Add) calls MergeFromImpl, which resolves into libsentencepiece's
// copy, and that calls back into libprotobuf's ReflectionOps::FindInitializationErrors on an object
// it does not understand: SIGSEGV in _dl_init, before main (checked with gdb on a 10-line program
// linking -ltorch -ltorch_cpu -lsentencepiece, exit status 139). Here libsentencepiece is only in
// libsyn_spm_shim.so, loaded with dlmopen(LM_ID_NEWLM) into its own link namespace.
#include <gtest/gtest.h>

#include <link.h>

#include <cstring>
#include <string>

#include <torch/torch.h>

#include "core/text/sentencepiece_tokenizer.h"
#include "tests/support/shared_paths.h"

namespace {

bool library_mapped(const char* fragment) {
    struct Query {
        const char* fragment;
        bool found;
    } q{fragment, false};
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) -> int {
            auto* query = static_cast<Query*>(data);
            if (info->dlpi_name && std::strstr(info->dlpi_name, query->fragment)) {
                query->found = true;
                return 1;
            }
            return 0;
        },
        &q);
    return q.found;
}

}  // namespace

TEST(SpmWithTorch, TorchModelAndSentencePieceInOneProcess) {
    SYN_REQUIRE_SHARED();
    torch::manual_seed(0);
    torch::nn::Linear linear(8, 4);
    torch::nn::Embedding embedding(32128, 8);
    const auto before = linear->forward(torch::ones({2, 8}));
    ASSERT_EQ(before.sizes(), (std::vector<int64_t>{2, 4}));
    ASSERT_TRUE(library_mapped("libtorch")) << "this test must run with libtorch loaded";

    const std::string dir = syn::test::fixtures_dir() + "/tokenizers/t5";
    auto tok = syn::text::load_sentencepiece_tokenizer(dir + "/spiece.model", dir);
    const auto shim = syn::text::sentencepiece_shim_description();
    std::printf("shim: %s; libprotobuf mapped: %s\n", shim.c_str(),
                library_mapped("libprotobuf") ? "yes" : "no");
    EXPECT_NE(shim.find("(dlmopen)"), std::string::npos) << shim;

    const auto enc = tok->encode("A man is flying a kite in a field");
    EXPECT_EQ(enc.ids, (std::vector<int32_t>{71, 388, 19, 7070, 3, 9, 3650, 15, 16, 3, 9, 1057, 1}));

    // The ids feed a torch module in the same process, and torch still works afterwards.
    const auto ids = torch::tensor(std::vector<int64_t>(enc.ids.begin(), enc.ids.end()), torch::kLong);
    const auto out = linear->forward(embedding->forward(ids));
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{13, 4}));
    EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
    EXPECT_TRUE(torch::allclose(linear->forward(torch::ones({2, 8})), before));
}
