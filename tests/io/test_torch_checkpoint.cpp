// The restricted unpickler and the torch.save zip reader: a real Lightning checkpoint against its
// safetensors twin, and hand-built pickles / archives for every refusal and edge case.
#include <gtest/gtest.h>
#include <zip.h>

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "core/io/errors.h"
#include "core/io/pickle.h"
#include "core/io/safetensors.h"
#include "core/io/torch_checkpoint.h"
#include "tests/support/shared_paths.h"
#include "tests/support/torch_save_writer.h"

namespace fs = std::filesystem;
using namespace syn;
using syn::test::Entries;
using syn::test::PickleWriter;
using syn::test::write_zip;

namespace {

pickle::Document parse(const std::string& bytes, bool lenient = false) {
    pickle::Options options;
    options.allow_unknown_globals = lenient;
    return pickle::unpickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "test.pkl",
                            options);
}

// Runs `f` and returns the syn::Error message; fails the test when nothing (or something else) is thrown.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "expected syn::Error, got std::exception: " << e.what();
        return {};
    }
    ADD_FAILURE() << "expected syn::Error, nothing was thrown";
    return {};
}

// ---------------------------------------------------------------------------------------------
// Archives built with libzip in a temporary folder.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        path_ = fs::temp_directory_path() /
                ("syn_torch_ckpt_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

std::string floats(const std::vector<float>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

std::vector<float> as_floats(const RawTensor& t) {
    EXPECT_EQ(t.dtype, DType::F32);
    std::vector<float> out(t.nbytes / sizeof(float));
    std::memcpy(out.data(), t.data, t.nbytes);
    return out;
}

// A torch.save-like archive: <prefix>/data.pkl, byteorder, version, and the given storages.
void write_checkpoint(const std::string& path, const std::string& pkl, const Entries& storages,
                      const std::string& prefix = "archive") {
    Entries entries = {{prefix + "/data.pkl", pkl},
                       {prefix + "/byteorder", "little"},
                       {prefix + "/version", "3\n"}};
    for (const auto& [key, bytes] : storages) entries.emplace_back(prefix + "/data/" + key, bytes);
    write_zip(path, entries);
}

// {"w": tensor(storage '0', 6 floats, 2x3)} as a plain state dict.
std::string plain_state_dict_pickle() {
    PickleWriter w;
    w.global("collections", "OrderedDict").empty_tuple().reduce().put(0);
    w.mark();
    w.str("w").tensor("FloatStorage", "0", 6, 0, {2, 3}, {3, 1});
    w.str("b").tensor("FloatStorage", "1", 3, 0, {3}, {1});
    w.setitems();
    // OrderedDict state: {'_metadata': OrderedDict({'': {'version': 1}})}, as HF .bin files have.
    w.empty_dict().str("_metadata").global("collections", "OrderedDict").empty_tuple().reduce();
    w.str("").empty_dict().str("version").integer(1).setitem().setitem();
    w.setitem().build();
    return w.stop().bytes();
}

}  // namespace

// =============================================================================================
// The real fixture: a Lightning-style last.ckpt whose state_dict equals model.safetensors.

TEST(TorchCheckpoint, TinyTamingCkptEqualsSafetensorsBitForBit) {
    SYN_REQUIRE_SHARED();
    const std::string dir = syn::test::fixtures_dir() + "/models/tiny-taming/";
    const TorchCheckpoint ckpt = load_torch_checkpoint(dir + "last.ckpt");
    const SafetensorsFile st = read_safetensors(dir + "model.safetensors");

    EXPECT_TRUE(ckpt.lightning);
    EXPECT_EQ(ckpt.archive_prefix, "last");
    ASSERT_EQ(ckpt.tensors.size(), st.tensors.size());
    ASSERT_EQ(ckpt.names.size(), ckpt.tensors.size());
    for (const auto& [name, expected] : st.tensors) {
        SCOPED_TRACE(name);
        auto it = ckpt.tensors.find(name);
        ASSERT_NE(it, ckpt.tensors.end()) << "missing from last.ckpt";
        const RawTensor& got = it->second;
        EXPECT_EQ(got.dtype, expected.dtype);
        EXPECT_EQ(got.shape, expected.shape);
        ASSERT_EQ(got.nbytes, expected.nbytes);
        EXPECT_EQ(std::memcmp(got.data, expected.data, got.nbytes), 0) << "bytes differ";
    }
    // The whole tree is there too (Lightning bookkeeping outside the state dict).
    const pickle::Document tree = read_torch_checkpoint_tree(dir + "last.ckpt");
    const auto* root = tree.root().get<pickle::Dict>();
    ASSERT_NE(root, nullptr);
    const pickle::Value* step = root->find("global_step");
    ASSERT_NE(step, nullptr);
    EXPECT_EQ(*step->get<int64_t>(), 10);
}

// =============================================================================================
// Unpickler: refusals

TEST(Unpickler, DangerousGlobalsAreRefusedInEveryMode) {
    const std::vector<std::pair<std::string, std::string>> dangerous = {
        {"os", "system"},      {"builtins", "eval"}, {"builtins", "exec"}, {"posix", "system"},
        {"nt", "system"},      {"subprocess", "Popen"}, {"subprocess", "check_output"},
        {"torch.storage", "_load_from_bytes"}};
    for (const auto& [module, name] : dangerous) {
        for (bool lenient : {false, true}) {
            SCOPED_TRACE(module + "." + name + (lenient ? " lenient" : " strict"));
            // The classic payload: GLOBAL os system, ('echo pwned',), REDUCE.
            PickleWriter w;
            w.global(module, name).mark().str("echo pwned").tuple().reduce().stop();
            const std::string msg = error_of([&] { parse(w.bytes(), lenient); });
            EXPECT_NE(msg.find("refused global " + module + "." + name), std::string::npos) << msg;
            // The same through STACK_GLOBAL (protocol 4).
            PickleWriter w4(4);
            w4.stack_global(module, name).mark().str("x").tuple().reduce().stop();
            const std::string msg4 = error_of([&] { parse(w4.bytes(), lenient); });
            EXPECT_NE(msg4.find("refused global " + module + "." + name), std::string::npos) << msg4;
        }
    }
}

TEST(Unpickler, UnknownGlobalIsRefusedInStrictModeAndInertInLenientMode) {
    PickleWriter w;
    w.global("numpy.core.multiarray", "_reconstruct").mark().str("x").tuple().reduce();
    w.mark().none().str("state").tuple().build().stop();
    const std::string msg = error_of([&] { parse(w.bytes()); });
    EXPECT_NE(msg.find("refused global numpy.core.multiarray._reconstruct"), std::string::npos) << msg;
    EXPECT_NE(msg.find("test.pkl: byte 2"), std::string::npos) << msg;

    const pickle::Document doc = parse(w.bytes(), /*lenient=*/true);
    const auto* opaque = doc.root().get<pickle::Opaque>();
    ASSERT_NE(opaque, nullptr) << pickle::describe(doc.root());
    EXPECT_EQ(opaque->global, "numpy.core.multiarray._reconstruct");
    EXPECT_EQ(pickle::find_opaque(doc.root()), &doc.root());
}

TEST(Unpickler, OpaqueInsideTensorArgumentsIsRefused) {
    PickleWriter w;
    w.global("torch._utils", "_rebuild_tensor_v2").mark();
    w.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(4).tuple().op('Q');
    w.integer(0).int_tuple({4}).int_tuple({1}).boolean(false);
    w.global("evil", "Hook").empty_tuple().reduce();  // backward_hooks: an opaque object
    w.tuple().reduce().stop();
    const std::string msg = error_of([&] { parse(w.bytes(), true); });
    EXPECT_NE(msg.find("refused global evil.Hook"), std::string::npos) << msg;
}

// =============================================================================================
// Unpickler: malformed input

TEST(Unpickler, EveryTruncationIsAnError) {
    PickleWriter w;
    w.empty_dict().put(0).mark();
    w.str("a.weight").tensor("FloatStorage", "0", 6, 0, {2, 3}, {3, 1});
    w.str("n").integer(-123456789).str("f").op('G').le(0, 8).str("big").integer(int64_t{1} << 40);
    w.setitems().stop();
    const std::string full = w.bytes();
    ASSERT_NO_THROW(parse(full));
    for (size_t n = 0; n + 1 < full.size(); ++n) {
        SCOPED_TRACE(n);
        const std::string msg = error_of([&] { parse(full.substr(0, n)); });
        EXPECT_NE(msg.find("test.pkl: byte "), std::string::npos) << msg;
    }
}

TEST(Unpickler, BadOpcodeNamesTheOffset) {
    PickleWriter w;
    w.empty_dict().op(0xff).stop();
    const std::string msg = error_of([&] { parse(w.bytes()); });
    EXPECT_NE(msg.find("byte 3"), std::string::npos) << msg;
    EXPECT_NE(msg.find("0xff"), std::string::npos) << msg;
}

TEST(Unpickler, MemoIndexOutOfRange) {
    PickleWriter w;
    w.empty_list().put(0).get(5).stop();
    const std::string msg = error_of([&] { parse(w.bytes()); });
    EXPECT_NE(msg.find("memo index 5 is not defined"), std::string::npos) << msg;
}

TEST(Unpickler, StackUnderflowAndMissingMark) {
    EXPECT_NE(error_of([] { PickleWriter w; parse(w.op(0x86).stop().bytes()); }).find("stack underflow"),
              std::string::npos);
    EXPECT_NE(error_of([] { PickleWriter w; parse(w.integer(1).tuple().stop().bytes()); }).find("no MARK"),
              std::string::npos);
    // Items below a MARK are out of reach until the MARK is closed, as in CPython.
    EXPECT_NE(error_of([] { PickleWriter w; parse(w.empty_list().mark().append().stop().bytes()); })
                  .find("stack underflow"),
              std::string::npos);
}

TEST(Unpickler, DeepNestingIsBounded) {
    // 100000 nested MARKs (tuples within tuples) stop at the mark limit.
    PickleWriter marks;
    for (int i = 0; i < 100000; ++i) marks.mark();
    const std::string msg = error_of([&] { parse(marks.stop().bytes()); });
    EXPECT_NE(msg.find("nesting deeper than"), std::string::npos) << msg;

    // A 100000-deep list chain is built without recursion; walking it is depth-limited.
    PickleWriter chain;
    for (int i = 0; i < 100000; ++i) chain.empty_list();
    for (int i = 1; i < 100000; ++i) chain.append();
    const pickle::Document doc = parse(chain.stop().bytes());
    EXPECT_NE(error_of([&] { pickle::find_opaque(doc.root()); }).find("nested deeper than"),
              std::string::npos);
    EXPECT_FALSE(pickle::describe(doc.root()).empty());
}

TEST(Unpickler, CyclesAndSharingDoNotHang) {
    // l = []; l.append(l); then a DAG of 64 levels with each level pointing twice at the one below.
    PickleWriter w;
    w.empty_list().put(0).get(0).append();
    for (int i = 0; i < 64; ++i) w.mark().get(static_cast<uint8_t>(i)).get(static_cast<uint8_t>(i)).op('l').put(static_cast<uint8_t>(i + 1));
    w.stop();
    const pickle::Document doc = parse(w.bytes());
    // Each node is visited once (2^64 paths, 66 nodes), and the cycle ends the walk.
    EXPECT_EQ(pickle::find_opaque(doc.root(), 1000), nullptr);
    EXPECT_FALSE(pickle::describe(doc.root(), 100).empty());
}

// =============================================================================================
// Unpickler: values

TEST(Unpickler, ParsesScalarsContainersAndMemo) {
    PickleWriter w(4);
    w.op(0x95).le(0, 8);  // FRAME (a hint only)
    w.empty_dict().op(0x94);
    w.mark();
    w.short_str("neg").integer(-5);
    w.short_str("long").op(0x8a).byte(2).le(0xff00, 2);  // LONG1 0x00ff -> -256
    w.short_str("float").op('G');
    const double pi = 3.25;
    uint64_t bits;
    std::memcpy(&bits, &pi, 8);
    for (int i = 7; i >= 0; --i) w.byte(static_cast<uint8_t>(bits >> (8 * i)));
    w.short_str("bytes").op('C').byte(3).byte('a').byte('b').byte('c');
    w.short_str("list").empty_list().op(0x94).mark().none().boolean(true).op('e');
    w.integer(7).short_str("int key");
    w.short_str("neg").integer(42);  // a repeated key replaces the value in place
    w.op('u');
    w.stop();
    const pickle::Document doc = parse(w.bytes());
    const auto* d = doc.root().get<pickle::Dict>();
    ASSERT_NE(d, nullptr);
    ASSERT_EQ(d->items.size(), 6u) << pickle::describe(doc.root());
    EXPECT_EQ(*d->find("neg")->get<int64_t>(), 42);
    EXPECT_EQ(*d->items[0].first->get<std::string>(), "neg");
    EXPECT_EQ(*d->find("long")->get<int64_t>(), -256);
    EXPECT_EQ(*d->find("float")->get<double>(), 3.25);
    EXPECT_EQ(d->find("bytes")->get<pickle::Bytes>()->data, "abc");
    const auto* list = d->find("list")->get<pickle::List>();
    ASSERT_NE(list, nullptr);
    ASSERT_EQ(list->items.size(), 2u);
    EXPECT_TRUE(list->items[0]->is<pickle::None>());
    EXPECT_EQ(*d->items[5].first->get<int64_t>(), 7);
    EXPECT_EQ(*d->items[5].second->get<std::string>(), "int key");
}

TEST(Unpickler, TensorMetadataAndHooks) {
    // 7-argument form with a metadata dict (torch >= 2 writes it for e.g. conjugate views).
    PickleWriter w;
    w.global("torch._utils", "_rebuild_tensor_v2").mark();
    w.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(4).tuple().op('Q');
    w.integer(0).int_tuple({4}).int_tuple({1}).boolean(false);
    w.global("collections", "OrderedDict").empty_tuple().reduce();
    w.empty_dict().str("conj").boolean(false).setitem();
    w.tuple().reduce().stop();
    const pickle::Document doc = parse(w.bytes());
    EXPECT_TRUE(doc.root().is<pickle::TensorRef>()) << pickle::describe(doc.root());

    // Non-empty backward hooks: torch never writes them.
    PickleWriter h;
    h.global("torch._utils", "_rebuild_tensor_v2").mark();
    h.mark().str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(4).tuple().op('Q');
    h.integer(0).int_tuple({4}).int_tuple({1}).boolean(false);
    h.empty_dict().integer(1).none().setitem();
    h.tuple().reduce().stop();
    EXPECT_NE(error_of([&] { parse(h.bytes()); }).find("backward_hooks must be an empty dict"),
              std::string::npos);
}

TEST(Unpickler, RebuildsTensorReferences) {
    PickleWriter w;
    w.global("torch._utils", "_rebuild_parameter").mark();
    w.tensor("HalfStorage", "7", 24, 4, {2, 3, 2}, {1, 2, 6});
    w.boolean(true).global("collections", "OrderedDict").empty_tuple().reduce().tuple().reduce().stop();
    const pickle::Document doc = parse(w.bytes());
    const auto* t = doc.root().get<pickle::TensorRef>();
    ASSERT_NE(t, nullptr) << pickle::describe(doc.root());
    EXPECT_EQ(t->storage.key, "7");
    EXPECT_EQ(t->storage.dtype, DType::F16);
    EXPECT_EQ(t->storage.numel, 24);
    EXPECT_EQ(t->offset, 4);
    EXPECT_EQ(t->size, (std::vector<int64_t>{2, 3, 2}));
    EXPECT_EQ(t->stride, (std::vector<int64_t>{1, 2, 6}));
    EXPECT_TRUE(t->requires_grad);
}

// =============================================================================================
// Zip reader

TEST(TorchCheckpoint, PlainStateDictLikePytorchModelBin) {
    TempDir tmp;
    const std::string path = tmp.file("pytorch_model.bin");
    write_checkpoint(path, plain_state_dict_pickle(),
                     {{"0", floats({1, 2, 3, 4, 5, 6})}, {"1", floats({7, 8, 9})}});
    const TorchCheckpoint ckpt = load_torch_checkpoint(path);
    EXPECT_FALSE(ckpt.lightning);
    EXPECT_EQ(ckpt.archive_prefix, "archive");
    EXPECT_EQ(ckpt.names, (std::vector<std::string>{"w", "b"}));
    EXPECT_EQ(ckpt.tensors.at("w").shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(as_floats(ckpt.tensors.at("w")), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(as_floats(ckpt.tensors.at("b")), (std::vector<float>{7, 8, 9}));
    EXPECT_EQ(read_torch_checkpoint(path).size(), 2u);
}

TEST(TorchCheckpoint, NonContiguousAndSharedStoragesAreRebuilt) {
    // One storage 0..11 viewed three ways: transposed (stride permuted), offset slice, 3-d permute.
    PickleWriter w;
    w.empty_dict().mark();
    w.str("t").tensor("FloatStorage", "0", 12, 0, {3, 2}, {1, 3});           // (2x3)^T
    w.str("slice").tensor("FloatStorage", "0", 12, 5, {2, 2}, {4, 1});       // rows 5..6, 9..10
    w.str("p").tensor("FloatStorage", "0", 12, 0, {3, 2, 2}, {1, 6, 3});     // 2x2x3 permuted
    w.str("scalar").tensor("FloatStorage", "0", 12, 11, {}, {});
    w.str("empty").tensor("FloatStorage", "0", 12, 0, {0, 5}, {5, 1});
    w.setitems().stop();
    std::vector<float> s(12);
    for (int i = 0; i < 12; ++i) s[i] = static_cast<float>(i);
    TempDir tmp;
    const std::string path = tmp.file("views.pt");
    write_checkpoint(path, w.bytes(), {{"0", floats(s)}});
    const TensorMap m = read_torch_checkpoint(path);
    EXPECT_EQ(as_floats(m.at("t")), (std::vector<float>{0, 3, 1, 4, 2, 5}));
    EXPECT_EQ(as_floats(m.at("slice")), (std::vector<float>{5, 6, 9, 10}));
    EXPECT_EQ(as_floats(m.at("p")), (std::vector<float>{0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11}));
    EXPECT_EQ(as_floats(m.at("scalar")), (std::vector<float>{11}));
    EXPECT_TRUE(m.at("scalar").shape.empty());
    EXPECT_EQ(m.at("empty").nbytes, 0u);
    EXPECT_EQ(m.at("empty").shape, (std::vector<int64_t>{0, 5}));
}

TEST(TorchCheckpoint, OtherDtypes) {
    PickleWriter w;
    w.empty_dict().mark();
    w.str("ids").tensor("LongStorage", "a", 3, 0, {3}, {1});
    w.str("mask").tensor("BoolStorage", "b", 2, 0, {2}, {1});
    w.str("h").tensor("BFloat16Storage", "c", 2, 1, {1}, {1});
    w.setitems().stop();
    const std::vector<int64_t> ids = {-1, 2, int64_t{1} << 40};
    TempDir tmp;
    const std::string path = tmp.file("dtypes.pt");
    write_checkpoint(path, w.bytes(),
                     {{"a", std::string(reinterpret_cast<const char*>(ids.data()), 24)},
                      {"b", std::string("\x01\x00", 2)},
                      {"c", std::string("\x80\x3f\x00\x40", 4)}});
    const TensorMap m = read_torch_checkpoint(path);
    EXPECT_EQ(m.at("ids").dtype, DType::I64);
    EXPECT_EQ(std::memcmp(m.at("ids").data, ids.data(), 24), 0);
    EXPECT_EQ(m.at("mask").dtype, DType::BOOL);
    EXPECT_EQ(m.at("mask").data[0], 1);
    EXPECT_EQ(m.at("h").dtype, DType::BF16);
    ASSERT_EQ(m.at("h").nbytes, 2u);
    EXPECT_EQ(m.at("h").data[1], 0x40);
}

TEST(TorchCheckpoint, LightningCheckpointWithOpaqueObjectsOutsideStateDict) {
    PickleWriter w;
    w.empty_dict().mark();
    w.str("epoch").integer(3);
    w.str("state_dict").empty_dict().mark();
    w.str("model.w").tensor("FloatStorage", "0", 2, 0, {2}, {1});
    w.setitems();
    // hyper_parameters: an AttributeDict (unknown class) built with NEWOBJ + SETITEMS + BUILD.
    w.str("hyper_parameters").global("pytorch_lightning.utilities.parsing", "AttributeDict");
    w.empty_tuple().newobj().mark().str("lr").integer(1).setitems();
    w.empty_dict().str("x").integer(2).setitem().build();
    // callbacks: {"ModelCheckpoint": omegaconf object via REDUCE}
    w.str("callbacks").empty_dict().str("ModelCheckpoint");
    w.global("omegaconf.dictconfig", "DictConfig").mark().empty_dict().tuple().reduce().setitem();
    w.setitems().stop();
    TempDir tmp;
    const std::string path = tmp.file("last.ckpt");
    write_checkpoint(path, w.bytes(), {{"0", floats({1.5f, -2.5f})}}, "last");
    const TorchCheckpoint ckpt = load_torch_checkpoint(path);
    EXPECT_TRUE(ckpt.lightning);
    EXPECT_EQ(ckpt.archive_prefix, "last");
    ASSERT_EQ(ckpt.names, (std::vector<std::string>{"model.w"}));
    EXPECT_EQ(as_floats(ckpt.tensors.at("model.w")), (std::vector<float>{1.5f, -2.5f}));
}

TEST(TorchCheckpoint, OpaqueObjectInsideStateDictIsRefused) {
    PickleWriter w;
    w.empty_dict().str("state_dict").empty_dict().mark();
    w.str("model.w").tensor("FloatStorage", "0", 2, 0, {2}, {1});
    w.str("model.config").global("omegaconf.dictconfig", "DictConfig").empty_tuple().reduce();
    w.setitems().setitem().stop();
    TempDir tmp;
    const std::string path = tmp.file("bad.ckpt");
    write_checkpoint(path, w.bytes(), {{"0", floats({1, 2})}});
    const std::string msg = error_of([&] { read_torch_checkpoint(path); });
    EXPECT_NE(msg.find("refused global omegaconf.dictconfig.DictConfig"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.config"), std::string::npos) << msg;
}

TEST(TorchCheckpoint, DangerousGlobalOutsideStateDictIsStillRefused) {
    PickleWriter w;
    w.empty_dict().mark();
    w.str("state_dict").empty_dict();
    w.str("callbacks").global("os", "system").mark().str("rm -rf ~").tuple().reduce();
    w.setitems().stop();
    TempDir tmp;
    const std::string path = tmp.file("evil.ckpt");
    write_checkpoint(path, w.bytes(), {});
    const std::string msg = error_of([&] { read_torch_checkpoint(path); });
    EXPECT_NE(msg.find("refused global os.system"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
}

TEST(TorchCheckpoint, NestedModelDictListsTopLevelKeys) {
    PickleWriter w;
    w.empty_dict().mark();
    w.str("model").empty_dict().str("w").tensor("FloatStorage", "0", 2, 0, {2}, {1}).setitem();
    w.str("optimizer").empty_dict();
    w.setitems().stop();
    TempDir tmp;
    const std::string path = tmp.file("nested.pt");
    write_checkpoint(path, w.bytes(), {{"0", floats({1, 2})}});
    const std::string msg = error_of([&] { read_torch_checkpoint(path); });
    EXPECT_NE(msg.find("top-level keys: 'model', 'optimizer'"), std::string::npos) << msg;
}

TEST(TorchCheckpoint, EntryWithDotDotIsRefused) {
    TempDir tmp;
    const std::string path = tmp.file("traversal.pt");
    write_zip(path, {{"archive/data.pkl", plain_state_dict_pickle()},
                     {"archive/data/0", floats({1, 2, 3, 4, 5, 6})},
                     {"archive/data/1", floats({7, 8, 9})},
                     {"archive/../../etc/passwd", "x"}});
    const std::string msg = error_of([&] { read_torch_checkpoint(path); });
    EXPECT_NE(msg.find("refused zip entry 'archive/../../etc/passwd'"), std::string::npos) << msg;

    const std::string abs = tmp.file("absolute.pt");
    write_zip(abs, {{"archive/data.pkl", plain_state_dict_pickle()}, {"/tmp/x", "x"}});
    EXPECT_NE(error_of([&] { read_torch_checkpoint(abs); }).find("refused zip entry '/tmp/x'"),
              std::string::npos);
}

TEST(TorchCheckpoint, MissingDataPkl) {
    TempDir tmp;
    const std::string path = tmp.file("nopkl.pt");
    write_zip(path, {{"archive/data/0", floats({1})}, {"archive/version", "3"}});
    const std::string msg = error_of([&] { read_torch_checkpoint(path); });
    EXPECT_NE(msg.find("data.pkl"), std::string::npos) << msg;
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
}

TEST(TorchCheckpoint, MissingStorageEntry) {
    TempDir tmp;
    const std::string path = tmp.file("nostorage.pt");
    write_checkpoint(path, plain_state_dict_pickle(), {{"0", floats({1, 2, 3, 4, 5, 6})}});
    const std::string msg = error_of([&] { read_torch_checkpoint(path); });
    EXPECT_NE(msg.find("storage entry 'archive/data/1' is missing"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'b'"), std::string::npos) << msg;
}

TEST(TorchCheckpoint, StorageTooSmallForTheView) {
    // The storage holds 4 floats as declared, but a 2x3 view needs 6.
    PickleWriter w;
    w.empty_dict().str("w").tensor("FloatStorage", "0", 4, 0, {2, 3}, {3, 1}).setitem().stop();
    TempDir tmp;
    const std::string path = tmp.file("short.pt");
    write_checkpoint(path, w.bytes(), {{"0", floats({1, 2, 3, 4})}});
    const std::string msg = error_of([&] { read_torch_checkpoint(path); });
    EXPECT_NE(msg.find("reaches element 5 but storage '0' has 4 elements"), std::string::npos) << msg;

    // A stride that walks off the end, and an offset past it.
    PickleWriter w2;
    w2.empty_dict().str("w").tensor("FloatStorage", "0", 4, 0, {2}, {4}).setitem().stop();
    write_checkpoint(path, w2.bytes(), {{"0", floats({1, 2, 3, 4})}});
    EXPECT_NE(error_of([&] { read_torch_checkpoint(path); }).find("reaches element 4"), std::string::npos);
    PickleWriter w3;
    w3.empty_dict().str("w").tensor("FloatStorage", "0", 4, 9, {1}, {1}).setitem().stop();
    write_checkpoint(path, w3.bytes(), {{"0", floats({1, 2, 3, 4})}});
    EXPECT_NE(error_of([&] { read_torch_checkpoint(path); }).find("reaches element 9"), std::string::npos);

    // The entry itself shorter than the pickle declares.
    PickleWriter w4;
    w4.empty_dict().str("w").tensor("FloatStorage", "0", 6, 0, {2}, {1}).setitem().stop();
    write_checkpoint(path, w4.bytes(), {{"0", floats({1, 2, 3, 4})}});
    EXPECT_NE(error_of([&] { read_torch_checkpoint(path); }).find("declares 6 F32 elements"),
              std::string::npos);
}

TEST(TorchCheckpoint, LegacyFormatNotAZipAndBigEndian) {
    TempDir tmp;
    const std::string legacy = tmp.file("legacy.pt");
    {
        std::ofstream out(legacy, std::ios::binary);
        out << std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
    }
    // The legacy stream is read now (see the Legacy* tests); one that stops after the magic
    // number is truncated.
    std::string msg = error_of([&] { read_torch_checkpoint(legacy); });
    EXPECT_NE(msg.find("legacy torch.save stream ends before the protocol version"),
              std::string::npos) << msg;
    EXPECT_NE(msg.find(legacy), std::string::npos) << msg;

    // The pre-0.4 tar format is still refused with advice.
    const std::string tar = tmp.file("tar.pt");
    {
        std::string block(512, '\0');
        block.replace(257, 5, "ustar");
        std::ofstream(tar, std::ios::binary) << block;
    }
    msg = error_of([&] { read_torch_checkpoint(tar); });
    EXPECT_NE(msg.find("legacy tar torch.save format (torch < 0.4) not supported; re-save with torch>=1.6"),
              std::string::npos) << msg;

    const std::string text = tmp.file("text.pt");
    { std::ofstream(text) << "hello, not a checkpoint"; }
    EXPECT_NE(error_of([&] { read_torch_checkpoint(text); }).find("not a zip archive"), std::string::npos);
    EXPECT_NE(error_of([&] { read_torch_checkpoint(tmp.file("absent.pt")); }).find("cannot open"),
              std::string::npos);

    const std::string big = tmp.file("big.pt");
    write_zip(big, {{"archive/data.pkl", plain_state_dict_pickle()}, {"archive/byteorder", "big"}});
    msg = error_of([&] { read_torch_checkpoint(big); });
    EXPECT_NE(msg.find("big-endian"), std::string::npos) << msg;
}

// =============================================================================================
// The legacy (pre-1.6) stream, written byte by byte as torch's _legacy_save does: pickles of the
// magic number, the protocol version and sys_info, the object (6-field persistent ids), the list
// of storage keys, then per key an int64 element count and the raw bytes.

namespace {

std::string legacy_magic() {
    return std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.", 15);
}

std::string legacy_header(int64_t version = 1001, bool little_endian = true) {
    PickleWriter v;
    v.integer(version).stop();
    PickleWriter info;
    info.empty_dict().mark();
    info.str("protocol_version").integer(1001).str("little_endian").boolean(little_endian);
    info.str("type_sizes").empty_dict().mark().str("short").integer(2).str("int").integer(4);
    info.str("long").integer(4).setitems();
    info.setitems().stop();
    return legacy_magic() + v.bytes() + info.bytes();
}

// _rebuild_tensor_v2 over a legacy persistent id ('storage', type, key, 'cpu', numel, view),
// view = None or (view_key, offset, view_numel).
void legacy_tensor(PickleWriter& w, const std::string& storage_type, const std::string& key,
                   int64_t numel, int64_t offset, const std::vector<int64_t>& size,
                   const std::vector<int64_t>& stride, const std::vector<int64_t>& view = {}) {
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.mark();
    w.mark().str("storage").global("torch", storage_type).str(key).str("cpu").integer(numel);
    if (view.empty()) w.none();
    else w.mark().str(key + "_view").integer(view[0]).integer(view[1]).tuple();
    w.tuple().op('Q');
    w.integer(offset).int_tuple(size).int_tuple(stride).boolean(false);
    w.global("collections", "OrderedDict").empty_tuple().reduce();
    w.tuple().reduce();
}

std::string legacy_keys(const std::vector<std::string>& keys) {
    PickleWriter w;
    w.empty_list().mark();
    for (const auto& k : keys) w.str(k);
    return w.op('e').stop().bytes();  // APPENDS
}

// The int64 element count, then the bytes.
std::string legacy_storage(int64_t count, const std::string& bytes) {
    std::string out;
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(static_cast<uint64_t>(count) >> (8 * i)));
    return out + bytes;
}

std::string int64s(const std::vector<int64_t>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(int64_t));
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

// OrderedDict {"w": 2x3 view of storage A, "b": [3] at offset 3 of A (shared), "n": 2 int64s of B}.
std::string legacy_object_pickle() {
    PickleWriter w;
    w.global("collections", "OrderedDict").empty_tuple().reduce().put(0).mark();
    w.str("w");
    legacy_tensor(w, "FloatStorage", "94001", 6, 0, {2, 3}, {3, 1});
    w.str("b");
    legacy_tensor(w, "FloatStorage", "94001", 6, 3, {3}, {1});
    w.str("n");
    legacy_tensor(w, "LongStorage", "94002", 2, 0, {2}, {1});
    w.setitems();
    return w.stop().bytes();
}

std::string legacy_file(const std::string& header = legacy_header(),
                        const std::string& storages = legacy_storage(6, floats({1, 2, 3, 4, 5, 6})) +
                                                      legacy_storage(2, int64s({-7, 1LL << 40}))) {
    return header + legacy_object_pickle() + legacy_keys({"94001", "94002"}) + storages;
}

}  // namespace

TEST(TorchCheckpoint, LegacyStateDictIsRead) {
    TempDir tmp;
    const std::string path = tmp.file("legacy.pth");
    write_file(path, legacy_file());
    const TorchCheckpoint ckpt = load_torch_checkpoint(path);
    EXPECT_TRUE(ckpt.legacy);
    EXPECT_FALSE(ckpt.lightning);
    EXPECT_EQ(ckpt.names, (std::vector<std::string>{"w", "b", "n"}));
    const RawTensor& w = ckpt.tensors.at("w");
    EXPECT_EQ(w.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(as_floats(w), (std::vector<float>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(as_floats(ckpt.tensors.at("b")), (std::vector<float>{4, 5, 6}));
    const RawTensor& n = ckpt.tensors.at("n");
    ASSERT_EQ(n.dtype, DType::I64);
    std::vector<int64_t> ints(2);
    std::memcpy(ints.data(), n.data, 16);
    EXPECT_EQ(ints, (std::vector<int64_t>{-7, 1LL << 40}));

    // The tree is available too, and a protocol-4 magic pickle (with FRAME) is accepted.
    EXPECT_TRUE(read_torch_checkpoint_tree(path).root().is<pickle::Dict>());
    std::string framed = "\x80\x04\x95";
    framed += std::string("\x0c\0\0\0\0\0\0\0", 8) + legacy_magic().substr(2);
    write_file(path, legacy_file(framed + legacy_header().substr(legacy_magic().size())));
    EXPECT_EQ(as_floats(read_torch_checkpoint(path).at("b")), (std::vector<float>{4, 5, 6}));
}

TEST(TorchCheckpoint, LegacyStorageViewMetadata) {
    TempDir tmp;
    const std::string path = tmp.file("view.pt");
    PickleWriter w;
    w.empty_dict().str("v");
    // A view of 3 elements starting at element 2 of a 5-element root; tensor offset 1 inside it.
    legacy_tensor(w, "FloatStorage", "7", 5, 1, {2}, {1}, {2, 3});
    w.setitem().stop();
    write_file(path, legacy_header() + w.bytes() + legacy_keys({"7"}) +
                         legacy_storage(5, floats({10, 11, 12, 13, 14})));
    EXPECT_EQ(as_floats(read_torch_checkpoint(path).at("v")), (std::vector<float>{13, 14}));

    PickleWriter bad;
    bad.empty_dict().str("v");
    legacy_tensor(bad, "FloatStorage", "7", 5, 0, {2}, {1}, {4, 3});
    bad.setitem().stop();
    write_file(path, legacy_header() + bad.bytes() + legacy_keys({"7"}) +
                         legacy_storage(5, floats({10, 11, 12, 13, 14})));
    const std::string msg = error_of([&] { read_torch_checkpoint(path); });
    EXPECT_NE(msg.find("lies outside its root storage of 5 elements"), std::string::npos) << msg;
}

TEST(TorchCheckpoint, LegacyErrorsNameTheProblem) {
    TempDir tmp;
    const std::string path = tmp.file("bad.pth");
    auto message = [&](const std::string& bytes) {
        write_file(path, bytes);
        const std::string msg = error_of([&] { read_torch_checkpoint(path); });
        EXPECT_NE(msg.find(path), std::string::npos) << msg;
        return msg;
    };
    const std::string a = legacy_storage(6, floats({1, 2, 3, 4, 5, 6}));
    const std::string b = legacy_storage(2, int64s({1, 2}));

    EXPECT_NE(message(legacy_file(legacy_header(1000))).find("protocol version 1000, expected 1001"),
              std::string::npos);
    EXPECT_NE(message(legacy_file(legacy_header(1001, false))).find("big-endian"), std::string::npos);
    // Element count in the file differs from the pickle's.
    EXPECT_NE(message(legacy_file(legacy_header(), legacy_storage(5, floats({1, 2, 3, 4, 5, 6})) + b))
                  .find("storage '94001' holds 5 elements in the file, but the pickle declares 6 F32"),
              std::string::npos);
    // Bytes cut short, and the count itself cut short.
    const std::string full = legacy_file();
    EXPECT_NE(message(full.substr(0, full.size() - 3)).find("truncated: storage '94002' needs 16 bytes"),
              std::string::npos);
    EXPECT_NE(message(full.substr(0, full.size() - 16 - 4)).find("truncated: storage '94002' has no element count"),
              std::string::npos);
    // A key in the list that no tensor uses; a tensor whose storage is not in the list.
    const std::string body = legacy_header() + legacy_object_pickle();
    EXPECT_NE(message(body + legacy_keys({"94001", "94002", "5"}) + a + b).find("storage '5' is listed but no tensor"),
              std::string::npos);
    EXPECT_NE(message(body + legacy_keys({"94001"}) + a).find("storage '94002' is missing from the file's storage list"),
              std::string::npos);
    // No key list at all; a bare pickle that is not torch.save's.
    EXPECT_NE(message(body).find("ends before the storage key list"), std::string::npos);
    PickleWriter plain;
    plain.empty_dict().stop();
    EXPECT_NE(message(plain.bytes()).find("without torch.save's magic number"), std::string::npos);
    // A refused global inside the object pickle is still refused.
    PickleWriter evil;
    evil.global("os", "system").str("echo").op(0x85).reduce().stop();
    EXPECT_NE(message(legacy_header() + evil.bytes()).find("refused global os.system"), std::string::npos);
}

// =============================================================================================
// Decompression bombs: an entry is never inflated past an honest size. data.pkl may declare at
// most 1 GiB; a storage entry must declare exactly what the pickle says (numel x element size).
namespace {

// The uncompressed-size fields of `name` (local header and central directory) set to `size`.
void patch_declared_size(const std::string& path, const std::string& name, uint32_t size) {
    std::string bytes;
    {
        std::ifstream in(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto put32 = [&](size_t at, uint32_t v) {
        for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(v >> (8 * i));
    };
    int patched = 0;
    for (size_t pos = 0; (pos = bytes.find("PK", pos)) != std::string::npos; ++pos) {
        if (bytes.compare(pos + 2, 2, "\x03\x04") == 0 && bytes.compare(pos + 30, name.size(), name) == 0) {
            put32(pos + 22, size);
            ++patched;
        } else if (bytes.compare(pos + 2, 2, "\x01\x02") == 0 && bytes.compare(pos + 46, name.size(), name) == 0) {
            put32(pos + 24, size);
            ++patched;
        }
    }
    ASSERT_EQ(patched, 2) << name;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

TEST(TorchCheckpoint, DecompressionBombsAreRefusedBeforeInflating) {
    TempDir tmp;
    // data.pkl declaring 3 GiB uncompressed.
    const std::string pkl_bomb = tmp.file("pkl_bomb.bin");
    write_checkpoint(pkl_bomb, plain_state_dict_pickle(),
                     {{"0", floats({1, 2, 3, 4, 5, 6})}, {"1", floats({1, 2, 3})}});
    patch_declared_size(pkl_bomb, "archive/data.pkl", 3u << 30);
    std::string msg = error_of([&] { read_torch_checkpoint(pkl_bomb); });
    EXPECT_NE(msg.find(pkl_bomb + ": zip entry 'archive/data.pkl' declares 3221225472 bytes uncompressed"),
              std::string::npos) << msg;
    EXPECT_NE(msg.find("over the 1 GiB limit for a pickle"), std::string::npos) << msg;

    // A storage entry that is a real deflate bomb (64 MiB of zeros in ~64 KB) where the pickle
    // declares 6 floats: refused from its header, before inflating.
    const std::string storage_bomb = tmp.file("storage_bomb.bin");
    {
        int err = 0;
        zip_t* z = zip_open(storage_bomb.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
        ASSERT_NE(z, nullptr);
        const std::string pkl = plain_state_dict_pickle();
        const std::string small = floats({1, 2, 3});
        static std::string zeros(64u << 20, '\0');
        for (const auto& [name, data] : std::vector<std::pair<std::string, const std::string*>>{
                 {"archive/data.pkl", &pkl}, {"archive/data/0", &zeros}, {"archive/data/1", &small}}) {
            zip_source_t* src = zip_source_buffer(z, data->data(), data->size(), 0);
            ASSERT_NE(src, nullptr);
            const zip_int64_t index = zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8);
            ASSERT_GE(index, 0);
            zip_set_file_compression(z, static_cast<zip_uint64_t>(index), ZIP_CM_DEFLATE, 1);
        }
        ASSERT_EQ(zip_close(z), 0);
    }
    EXPECT_LT(fs::file_size(storage_bomb), 1u << 20);
    msg = error_of([&] { read_torch_checkpoint(storage_bomb); });
    EXPECT_NE(msg.find(storage_bomb + ": storage 'archive/data/0' has 67108864 bytes, but the pickle declares 6 F32 "
                       "elements (24 bytes)"),
              std::string::npos) << msg;

    // An entry whose header understates its size is cut one byte past it, never read to the end.
    const std::string liar = tmp.file("liar.bin");
    write_checkpoint(liar, plain_state_dict_pickle(), {{"0", floats({1, 2, 3, 4, 5, 6})}, {"1", floats({1, 2, 3})}});
    patch_declared_size(liar, "archive/data.pkl", 10);
    msg = error_of([&] { read_torch_checkpoint(liar); });
    EXPECT_NE(msg.find(liar + ": "), std::string::npos) << msg;
}
