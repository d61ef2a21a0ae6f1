#include "tests/support/torch_save_writer.h"

#include <gtest/gtest.h>
#include <zip.h>

#include <cstdlib>
#include <cstring>

namespace syn::test {

void write_zip(const std::string& path, const Entries& entries) {
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    ASSERT_NE(z, nullptr) << "zip_open failed: " << err;
    for (const auto& [name, data] : entries) {
        // libzip reads the buffer at zip_close, so hand it a copy it frees itself.
        void* copy = std::malloc(data.size() + 1);
        std::memcpy(copy, data.data(), data.size());
        zip_source_t* src = zip_source_buffer(z, copy, data.size(), 1);
        ASSERT_NE(src, nullptr);
        const zip_int64_t index = zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8);
        ASSERT_GE(index, 0) << zip_strerror(z);
        zip_set_file_compression(z, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
    }
    ASSERT_EQ(zip_close(z), 0);
}


namespace {

const char* storage_type(DType dtype) {
    switch (dtype) {
        case DType::F64: return "DoubleStorage";
        case DType::F32: return "FloatStorage";
        case DType::F16: return "HalfStorage";
        case DType::BF16: return "BFloat16Storage";
        case DType::I64: return "LongStorage";
        case DType::I32: return "IntStorage";
        case DType::I16: return "ShortStorage";
        case DType::I8: return "CharStorage";
        case DType::U8: return "ByteStorage";
        case DType::BOOL: return "BoolStorage";
    }
    return "FloatStorage";
}

}  // namespace

void write_torch_state_dict(const std::string& path, const TensorMap& tensors, const std::string& archive_name) {
    PickleWriter w;
    w.global("collections", "OrderedDict").empty_tuple().reduce();
    w.mark();
    Entries entries;
    int key = 0;
    for (const auto& [name, t] : tensors) {
        std::vector<int64_t> stride(t.shape.size(), 1);
        for (int i = static_cast<int>(t.shape.size()) - 2; i >= 0; --i) stride[i] = stride[i + 1] * t.shape[i + 1];
        const std::string storage = std::to_string(key++);
        w.str(name).tensor(storage_type(t.dtype), storage, t.numel(), 0, t.shape, stride);
        entries.emplace_back(archive_name + "/data/" + storage,
                             std::string(reinterpret_cast<const char*>(t.data), t.nbytes));
    }
    w.setitems();
    // OrderedDict state: {'_metadata': OrderedDict({'': {'version': 1}})}, as transformers' files have.
    w.empty_dict().str("_metadata").global("collections", "OrderedDict").empty_tuple().reduce();
    w.str("").empty_dict().str("version").integer(1).setitem().setitem();
    w.setitem().build();
    Entries all = {{archive_name + "/data.pkl", w.stop().bytes()},
                   {archive_name + "/byteorder", "little"},
                   {archive_name + "/version", "3\n"}};
    all.insert(all.end(), entries.begin(), entries.end());
    write_zip(path, all);
}

}  // namespace syn::test
