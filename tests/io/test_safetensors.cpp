// Safetensors reader/writer: round trips of every dtype, one test per malformed-input rule (each
// checks that the message names the file and the problem), the reference fixtures (data-driven
// over ../shared/fixtures/models), and sharded checkpoints with their index.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/mapped_file.h"
#include "core/io/safetensors.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;
using syn::DType;
using syn::RawTensor;
using syn::TensorMap;

namespace {

const DType kAllDtypes[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                            DType::I32, DType::I16, DType::I8,  DType::U8,   DType::BOOL};

// A fresh folder per test, removed afterwards.
class SafetensorsTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = fs::temp_directory_path() /
               ("syn_st_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(::getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string path(const std::string& name) const { return (dir_ / name).string(); }

    // A file with a hand-written header (not padded) and `data_bytes` bytes of data.
    std::string write_raw(const std::string& name, const std::string& header, size_t data_bytes) const {
        std::string bytes(8, '\0');
        uint64_t n = header.size();
        for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(n >> (8 * i));
        bytes += header;
        bytes.append(data_bytes, '\x5a');
        return write_bytes(name, bytes);
    }

    std::string write_bytes(const std::string& name, const std::string& bytes) const {
        std::string p = path(name);
        std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return p;
    }

    fs::path dir_;
};

// Runs `read` and checks that it throws syn::Error whose message starts with "<file>: " and
// contains every fragment of `problem`.
void expect_error(const std::function<void()>& read, const std::string& file, std::vector<std::string> problem) {
    try {
        read();
    } catch (const syn::Error& e) {
        const std::string msg = e.what();
        EXPECT_EQ(msg.rfind(file + ": ", 0), 0u) << "message does not start with the file name: " << msg;
        for (const auto& fragment : problem)
            EXPECT_NE(msg.find(fragment), std::string::npos) << "missing '" << fragment << "' in: " << msg;
        return;
    }
    ADD_FAILURE() << "no syn::Error for " << file;
}

void expect_read_error(const std::string& file, std::vector<std::string> problem) {
    expect_error([&] { syn::read_safetensors(file); }, file, std::move(problem));
}

// A tensor of `dtype` and `shape` whose bytes are a pattern depending on `seed`.
RawTensor patterned(DType dtype, std::vector<int64_t> shape, int seed) {
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    std::vector<uint8_t> bytes(static_cast<size_t>(numel) * syn::dtype_size(dtype));
    for (size_t i = 0; i < bytes.size(); ++i)
        bytes[i] = dtype == DType::BOOL ? static_cast<uint8_t>((i + seed) % 2)
                                        : static_cast<uint8_t>((i * 131 + seed * 17 + 7) & 0xff);
    return syn::make_owned_tensor(dtype, std::move(shape), std::move(bytes));
}

std::vector<uint8_t> bytes_of(const RawTensor& t) { return std::vector<uint8_t>(t.data, t.data + t.nbytes); }

bool inside_mapping(const RawTensor& t) {
    const auto* mapping = static_cast<const syn::MappedFile*>(t.owner.get());
    return mapping != nullptr && t.data >= mapping->data() && t.data + t.nbytes <= mapping->data() + mapping->size();
}

std::string dtype_header(const std::string& name, const std::string& body) {
    return "{\"" + name + "\":" + body + "}";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Round trips

TEST_F(SafetensorsTest, RoundTripEveryDtypeZeroCopy) {
    TensorMap tensors;
    std::vector<std::string> names;
    int seed = 0;
    for (DType d : kAllDtypes) {
        std::string name = std::string("layer.") + syn::dtype_name(d) + ".weight";
        tensors[name] = patterned(d, {3, 5, 2}, seed++);
        names.insert(names.begin(), name);  // reverse of the map order, to see that order is kept
    }
    const std::map<std::string, std::string> metadata{{"format", "pt"}, {"note", "round trip"}};
    const std::string file = path("all.safetensors");
    syn::write_safetensors(file, tensors, metadata, names);

    syn::SafetensorsFile st = syn::read_safetensors(file);
    EXPECT_EQ(st.path, file);
    EXPECT_EQ(st.names, names);
    EXPECT_EQ(st.metadata, metadata);
    ASSERT_EQ(st.tensors.size(), tensors.size());
    for (const auto& [name, want] : tensors) {
        SCOPED_TRACE(name);
        const RawTensor& got = st.tensors.at(name);
        EXPECT_EQ(got.dtype, want.dtype);
        EXPECT_EQ(got.shape, want.shape);
        EXPECT_EQ(bytes_of(got), bytes_of(want));
        EXPECT_TRUE(inside_mapping(got)) << "tensor bytes are not inside the file mapping";
    }
}

TEST_F(SafetensorsTest, RoundTripScalarsEmptyTensorsAndMapOrder) {
    TensorMap tensors;
    tensors["b.scalar"] = patterned(DType::F64, {}, 1);
    tensors["a.empty"] = patterned(DType::F32, {0, 7}, 2);
    tensors["c.vector"] = patterned(DType::BF16, {9}, 3);
    const std::string file = path("small.safetensors");
    syn::write_safetensors(file, tensors);

    syn::SafetensorsFile st = syn::read_safetensors(file);
    EXPECT_EQ(st.names, (std::vector<std::string>{"a.empty", "b.scalar", "c.vector"}));
    EXPECT_TRUE(st.metadata.empty());
    EXPECT_EQ(st.tensors.at("b.scalar").shape, std::vector<int64_t>{});
    EXPECT_EQ(st.tensors.at("b.scalar").nbytes, 8u);
    EXPECT_EQ(st.tensors.at("a.empty").nbytes, 0u);
    EXPECT_EQ(bytes_of(st.tensors.at("c.vector")), bytes_of(tensors["c.vector"]));
}

TEST_F(SafetensorsTest, EmptyCheckpointRoundTrips) {
    const std::string file = path("none.safetensors");
    syn::write_safetensors(file, {}, {{"k", "v"}});
    syn::SafetensorsFile st = syn::read_safetensors(file);
    EXPECT_TRUE(st.tensors.empty());
    EXPECT_EQ(st.metadata.at("k"), "v");
}

TEST_F(SafetensorsTest, WriterLayoutMatchesHuggingFace) {
    TensorMap tensors;
    tensors["w"] = patterned(DType::F32, {2}, 0);
    const std::string file = path("layout.safetensors");
    syn::write_safetensors(file, tensors, {{"format", "pt"}});
    const std::string bytes = syn::read_file(file);
    const std::string json = R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
    const size_t padded = (json.size() + 7) / 8 * 8;
    ASSERT_EQ(bytes.size(), 8 + padded + 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<uint8_t>(bytes[i]);
    EXPECT_EQ(n, padded);
    EXPECT_EQ(bytes.substr(8, padded), json + std::string(padded - json.size(), ' '));
    EXPECT_EQ(bytes.substr(8 + padded), std::string(reinterpret_cast<const char*>(tensors["w"].data), 8));
}

TEST_F(SafetensorsTest, WriterRejectsInconsistentInputAndLeavesNoFile) {
    const std::string file = path("bad.safetensors");
    TensorMap tensors;
    tensors["a"] = patterned(DType::F32, {2}, 0);
    RawTensor lying = tensors["a"];
    lying.shape = {3};
    TensorMap bad{{"a", lying}};
    expect_error([&] { syn::write_safetensors(file, bad); }, file, {"'a'", "12 bytes", "8"});
    expect_error([&] { syn::write_safetensors(file, tensors, {}, {"a", "b"}); }, file, {"'b'", "not in the tensors"});
    TensorMap two{{"a", tensors["a"]}, {"b", tensors["a"]}};
    expect_error([&] { syn::write_safetensors(file, two, {}, {"a"}); }, file, {"'b'", "missing from the name list"});
    TensorMap reserved{{"__metadata__", tensors["a"]}};
    expect_error([&] { syn::write_safetensors(file, reserved); }, file, {"reserved"});
    EXPECT_FALSE(fs::exists(file));
    EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 0);
}

// ---------------------------------------------------------------------------------------------
// Malformed files: one rule per test

TEST_F(SafetensorsTest, MissingFile) { expect_read_error(path("absent.safetensors"), {"cannot open"}); }

TEST_F(SafetensorsTest, EmptyFile) { expect_read_error(write_bytes("empty.safetensors", ""), {"empty"}); }

TEST_F(SafetensorsTest, ShorterThanEightBytes) {
    expect_read_error(write_bytes("short.safetensors", std::string("\x02\0\0\0\0", 5)), {"truncated", "5 bytes"});
}

TEST_F(SafetensorsTest, HeaderLengthPastEndOfFile) {
    std::string bytes(8, '\0');
    bytes[0] = 100;
    bytes += "{}";
    expect_read_error(write_bytes("long_header.safetensors", bytes), {"header length 100", "past the end"});
}

TEST_F(SafetensorsTest, InvalidJson) {
    expect_read_error(write_raw("bad_json.safetensors", "{\"a\": {\"dtype\": ", 0), {"not valid JSON"});
}

TEST_F(SafetensorsTest, InvalidUtf8InHeader) {
    expect_read_error(write_raw("bad_utf8.safetensors", "{\"\xff\xfe\":{}}", 0), {"not valid JSON"});
}

TEST_F(SafetensorsTest, HeaderNotAnObject) {
    expect_read_error(write_raw("array.safetensors", "[1, 2, 3]", 0), {"not a JSON object", "array"});
}

TEST_F(SafetensorsTest, EntryNotAnObject) {
    expect_read_error(write_raw("entry.safetensors", dtype_header("w", "[1]"), 0), {"'w'", "not a JSON object"});
}

TEST_F(SafetensorsTest, MissingDtype) {
    expect_read_error(write_raw("no_dtype.safetensors", dtype_header("w", R"({"shape":[1],"data_offsets":[0,4]})"), 4),
                      {"'w'", "missing \"dtype\""});
}

TEST_F(SafetensorsTest, MissingShape) {
    expect_read_error(write_raw("no_shape.safetensors", dtype_header("w", R"({"dtype":"F32","data_offsets":[0,4]})"), 4),
                      {"'w'", "missing \"shape\""});
}

TEST_F(SafetensorsTest, MissingDataOffsets) {
    expect_read_error(write_raw("no_offsets.safetensors", dtype_header("w", R"({"dtype":"F32","shape":[1]})"), 4),
                      {"'w'", "missing \"data_offsets\""});
}

TEST_F(SafetensorsTest, UnknownDtypeIsNamed) {
    expect_read_error(
        write_raw("f8.safetensors", dtype_header("w", R"({"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]})"), 4),
        {"'w'", "unknown dtype 'F8_E4M3'"});
}

TEST_F(SafetensorsTest, NegativeShapeDimension) {
    expect_read_error(
        write_raw("neg.safetensors", dtype_header("w", R"({"dtype":"F32","shape":[2,-3],"data_offsets":[0,4]})"), 4),
        {"'w'", "shape dimension 1", "negative", "-3"});
}

TEST_F(SafetensorsTest, NonIntegerShapeDimension) {
    expect_read_error(
        write_raw("frac.safetensors", dtype_header("w", R"({"dtype":"F32","shape":[1.5],"data_offsets":[0,4]})"), 4),
        {"'w'", "shape dimension 0", "not an integer"});
}

TEST_F(SafetensorsTest, ShapeDimensionNotANumber) {
    expect_read_error(
        write_raw("str.safetensors", dtype_header("w", R"({"dtype":"F32","shape":["1"],"data_offsets":[0,4]})"), 4),
        {"'w'", "shape dimension 0", "not a number"});
}

TEST_F(SafetensorsTest, ShapeProductOverflows) {
    // 2^32 * 2^32 elements overflow 64 bits before the dtype size is even applied.
    expect_read_error(write_raw("overflow.safetensors",
                                dtype_header("w", R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]})"),
                                4),
                      {"'w'", "overflows"});
}

TEST_F(SafetensorsTest, DataOffsetsOutOfRange) {
    expect_read_error(
        write_raw("range.safetensors", dtype_header("w", R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})"), 8),
        {"'w'", "[0, 16]", "past the end of the data section (8 bytes)"});
}

TEST_F(SafetensorsTest, DataOffsetsBeginAfterEnd) {
    expect_read_error(
        write_raw("reversed.safetensors", dtype_header("w", R"({"dtype":"F32","shape":[1],"data_offsets":[8,4]})"), 8),
        {"'w'", "begin 8 is after end 4"});
}

TEST_F(SafetensorsTest, DataOffsetsNotAPair) {
    expect_read_error(
        write_raw("triple.safetensors", dtype_header("w", R"({"dtype":"F32","shape":[1],"data_offsets":[0,4,8]})"), 4),
        {"'w'", "data_offsets", "two integers"});
}

TEST_F(SafetensorsTest, NegativeDataOffset) {
    expect_read_error(
        write_raw("negoff.safetensors", dtype_header("w", R"({"dtype":"U8","shape":[4],"data_offsets":[-4,0]})"), 4),
        {"'w'", "data_offsets begin", "negative"});
}

TEST_F(SafetensorsTest, OverlappingTensors) {
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})";
    expect_read_error(write_raw("overlap.safetensors", header, 24), {"'a'", "'b'", "overlap"});
}

TEST_F(SafetensorsTest, GapBetweenTensors) {
    // The official crate requires contiguous offsets (InvalidOffset); so do we.
    const std::string header =
        R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})";
    expect_read_error(write_raw("gap.safetensors", header, 20), {"gap", "[8, 12)", "'b'"});
}

TEST_F(SafetensorsTest, BytesAfterTheLastTensor) {
    // ... and that the data section ends with the last tensor (MetadataIncompleteBuffer).
    expect_read_error(
        write_raw("tail.safetensors", dtype_header("w", R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})"), 12),
        {"4 bytes after the last tensor"});
}

TEST_F(SafetensorsTest, ShapeDoesNotMatchByteLength) {
    expect_read_error(
        write_raw("size.safetensors", dtype_header("w", R"({"dtype":"BF16","shape":[3,2],"data_offsets":[0,8]})"), 8),
        {"'w'", "12 bytes", "span 8 bytes"});
}

TEST_F(SafetensorsTest, MetadataValueNotAString) {
    const std::string header = R"({"__metadata__":{"format":"pt","epoch":3}})";
    expect_read_error(write_raw("meta.safetensors", header, 0), {"__metadata__", "'epoch'", "must be a string"});
}

TEST_F(SafetensorsTest, MetadataNotAnObject) {
    expect_read_error(write_raw("meta2.safetensors", R"({"__metadata__":["pt"]})", 0),
                      {"__metadata__", "object of strings"});
}

TEST_F(SafetensorsTest, DuplicateTensorName) {
    const std::string header =
        R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"w":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}})";
    expect_read_error(write_raw("dup.safetensors", header, 8), {"'w'", "twice"});
}

TEST_F(SafetensorsTest, ParseFromMemoryNamesTheSource) {
    const std::string bytes("\x03\0\0\0\0\0\0\0{}x", 11);  // 3-byte header "{}x"
    expect_error([&] {
        syn::parse_safetensors(reinterpret_cast<const uint8_t*>(bytes.data()), 11, "memory-buffer", nullptr);
    }, "memory-buffer", {"not valid JSON"});
}

TEST_F(SafetensorsTest, TruncatedDownloadOfAValidFileIsRejected) {
    TensorMap tensors;
    tensors["w"] = patterned(DType::F32, {64}, 5);
    const std::string file = path("full.safetensors");
    syn::write_safetensors(file, tensors);
    std::string bytes = syn::read_file(file);
    bytes.resize(bytes.size() - 10);
    expect_read_error(write_bytes("cut.safetensors", bytes), {"'w'", "past the end of the data section"});
}

// ---------------------------------------------------------------------------------------------
// The reference fixtures (written by the Hugging Face safetensors library)

TEST(SafetensorsFixtures, EveryFixtureLoadsAndRewritesByteIdentically) {
    SYN_REQUIRE_SHARED();
    const fs::path models = fs::path(syn::test::fixtures_dir()) / "models";
    ASSERT_TRUE(fs::is_directory(models)) << models;
    const fs::path out_dir = fs::temp_directory_path() / ("syn_st_fixtures_" + std::to_string(::getpid()));
    fs::create_directories(out_dir);
    int files = 0;
    for (const auto& model : fs::directory_iterator(models)) {
        for (const char* name : {"model.safetensors", "golden.safetensors"}) {
            const fs::path file = model.path() / name;
            if (!fs::exists(file)) continue;
            SCOPED_TRACE(file.string());
            ++files;
            syn::SafetensorsFile st = syn::read_safetensors(file.string());
            ASSERT_FALSE(st.tensors.empty());
            ASSERT_EQ(st.names.size(), st.tensors.size());
            for (const auto& [tname, t] : st.tensors) {
                EXPECT_EQ(static_cast<size_t>(t.numel()) * syn::dtype_size(t.dtype), t.nbytes) << tname;
                EXPECT_TRUE(inside_mapping(t)) << tname;
            }
            // The HF writer puts the data in header order; writing the same tensors back in that
            // order with the same metadata must reproduce the file byte for byte.
            const std::string copy = (out_dir / (model.path().filename().string() + "_" + name)).string();
            syn::write_safetensors(copy, st.tensors, st.metadata, st.names);
            EXPECT_TRUE(syn::read_file(copy) == syn::read_file(file.string())) << "rewrite differs from the original";
        }
    }
    fs::remove_all(out_dir);
    EXPECT_GE(files, 2) << "no fixture safetensors files under " << models;
}

TEST(SafetensorsFixtures, GoldenTensorsMatchGoldenJson) {
    SYN_REQUIRE_SHARED();
    // golden.json lists the texts fed in; the golden input_ids have one row per text.
    const fs::path models = fs::path(syn::test::fixtures_dir()) / "models";
    int checked = 0;
    for (const auto& model : fs::directory_iterator(models)) {
        const fs::path golden = model.path() / "golden.safetensors";
        const fs::path meta = model.path() / "golden.json";
        if (!fs::exists(golden) || !fs::exists(meta)) continue;
        SCOPED_TRACE(golden.string());
        const auto json = nlohmann::json::parse(syn::read_file(meta.string()));
        syn::SafetensorsFile st = syn::read_safetensors(golden.string());
        auto ids = st.tensors.find("input_ids");
        if (!json.contains("texts") || ids == st.tensors.end()) continue;
        ASSERT_EQ(ids->second.shape.size(), 2u);
        EXPECT_EQ(ids->second.shape[0], static_cast<int64_t>(json["texts"].size()));
        ++checked;
    }
    EXPECT_GE(checked, 1);
}

// ---------------------------------------------------------------------------------------------
// Sharded checkpoints

class SafetensorsIndexTest : public SafetensorsTest {
protected:
    // Two shards and an index mapping each tensor to its shard.
    void write_checkpoint() {
        shard1_["encoder.layer.0.weight"] = patterned(DType::F32, {4, 4}, 1);
        shard1_["encoder.layer.0.bias"] = patterned(DType::F32, {4}, 2);
        shard2_["encoder.layer.1.weight"] = patterned(DType::BF16, {4, 4}, 3);
        shard2_["embeddings.position_ids"] = patterned(DType::I64, {1, 8}, 4);
        syn::write_safetensors(path("model-00001-of-00002.safetensors"), shard1_);
        syn::write_safetensors(path("model-00002-of-00002.safetensors"), shard2_);
        nlohmann::json index{{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
        for (const auto& kv : shard1_) index["weight_map"][kv.first] = "model-00001-of-00002.safetensors";
        for (const auto& kv : shard2_) index["weight_map"][kv.first] = "model-00002-of-00002.safetensors";
        write_index(index);
    }
    void write_index(const nlohmann::json& index) {
        syn::write_file_atomically(index_path(), index.dump(2));
    }
    std::string index_path() const { return path("model.safetensors.index.json"); }
    nlohmann::json read_index() const { return nlohmann::json::parse(syn::read_file(index_path())); }

    TensorMap shard1_, shard2_;
};

TEST_F(SafetensorsIndexTest, LoadsEveryTensorFromItsShard) {
    write_checkpoint();
    TensorMap all = syn::read_safetensors_index(index_path());
    ASSERT_EQ(all.size(), 4u);
    for (const TensorMap* shard : {&shard1_, &shard2_}) {
        for (const auto& [name, want] : *shard) {
            SCOPED_TRACE(name);
            ASSERT_TRUE(all.count(name));
            EXPECT_EQ(all.at(name).dtype, want.dtype);
            EXPECT_EQ(all.at(name).shape, want.shape);
            EXPECT_EQ(bytes_of(all.at(name)), bytes_of(want));
            EXPECT_TRUE(inside_mapping(all.at(name)));
        }
    }
    // The two shards are two mappings, each shared by its tensors.
    EXPECT_EQ(all.at("encoder.layer.0.weight").owner, all.at("encoder.layer.0.bias").owner);
    EXPECT_NE(all.at("encoder.layer.0.weight").owner, all.at("encoder.layer.1.weight").owner);
}

TEST_F(SafetensorsIndexTest, MissingShardNamesIndexAndShard) {
    write_checkpoint();
    fs::remove(path("model-00002-of-00002.safetensors"));
    expect_error([&] { syn::read_safetensors_index(index_path()); }, index_path(),
                 {"model-00002-of-00002.safetensors", "not found"});
}

TEST_F(SafetensorsIndexTest, TensorMissingFromItsShard) {
    write_checkpoint();
    nlohmann::json index = read_index();
    index["weight_map"]["encoder.layer.9.weight"] = "model-00001-of-00002.safetensors";
    write_index(index);
    expect_error([&] { syn::read_safetensors_index(index_path()); }, index_path(),
                 {"'encoder.layer.9.weight'", "model-00001-of-00002.safetensors", "does not contain it"});
}

TEST_F(SafetensorsIndexTest, BrokenShardIsReportedWithItsOwnProblem) {
    write_checkpoint();
    write_bytes("model-00002-of-00002.safetensors", "garbage");
    expect_error([&] { syn::read_safetensors_index(index_path()); }, index_path(),
                 {"model-00002-of-00002.safetensors", "truncated"});
}

TEST_F(SafetensorsIndexTest, IndexNotJson) {
    syn::write_file_atomically(index_path(), "{\"weight_map\": ");
    expect_error([&] { syn::read_safetensors_index(index_path()); }, index_path(), {"not valid JSON"});
}

TEST_F(SafetensorsIndexTest, IndexWithoutWeightMap) {
    write_index({{"metadata", {{"total_size", 1}}}});
    expect_error([&] { syn::read_safetensors_index(index_path()); }, index_path(), {"missing \"weight_map\""});
}

TEST_F(SafetensorsIndexTest, WeightMapValueNotAString) {
    write_index({{"weight_map", {{"w", 3}}}});
    expect_error([&] { syn::read_safetensors_index(index_path()); }, index_path(), {"'w'", "not a file name"});
}

TEST_F(SafetensorsIndexTest, ShardPathOutsideTheFolderIsRefused) {
    write_index({{"weight_map", {{"w", "../../etc/passwd"}}}});
    expect_error([&] { syn::read_safetensors_index(index_path()); }, index_path(),
                 {"'w'", "'../../etc/passwd'", "relative to the index"});
}

TEST_F(SafetensorsIndexTest, MissingIndexFile) {
    expect_error([&] { syn::read_safetensors_index(path("nope.index.json")); }, path("nope.index.json"),
                 {"cannot open"});
}
