// The C ABI of spm_shim.h over sentencepiece::SentencePieceProcessor. Every entry point catches
// everything: an exception must never unwind into the loader, which may run another libstdc++.
#include "spm_shim.h"

#include <sentencepiece_processor.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <limits>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#define SYN_SPM_EXPORT extern "C" __attribute__((visibility("default")))

struct syn_spm_model {
    sentencepiece::SentencePieceProcessor processor;
};

struct syn_spm_result {
    std::vector<int32_t> ids;
    std::vector<std::string> pieces;
};

namespace {

void write_error(char* err, size_t err_size, const std::string& message) {
    if (err == nullptr || err_size == 0) return;
    const size_t n = message.size() < err_size - 1 ? message.size() : err_size - 1;
    std::memcpy(err, message.data(), n);
    err[n] = '\0';
}

std::string read_whole_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(std::string("cannot open file: ") + std::strerror(errno));
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) throw std::runtime_error("read error");
    return buffer.str();
}

// ModelProto.normalizer_spec is field 3 (length-delimited); NormalizerSpec.add_dummy_prefix is
// field 3 (varint). Protobuf merges a repeated embedded message into the earlier one, so appending
// this record overrides just that flag, as Hugging Face's SiglipTokenizer does with MergeFrom.
void append_add_dummy_prefix(std::string& serialized, bool value) {
    const char record[] = {0x1a, 0x02, 0x18, static_cast<char>(value ? 1 : 0)};
    serialized.append(record, sizeof record);
}

bool valid_id(const syn_spm_model* model, int32_t id) {
    return model != nullptr && id >= 0 && id < model->processor.GetPieceSize();
}

}  // namespace

SYN_SPM_EXPORT int syn_spm_abi_version(void) { return SYN_SPM_ABI_VERSION; }

SYN_SPM_EXPORT syn_spm_model* syn_spm_load(const char* path, int add_dummy_prefix, char* err,
                                           size_t err_size) {
    try {
        if (path == nullptr) throw std::runtime_error("no path given");
        std::string serialized = read_whole_file(path);
        if (serialized.empty()) throw std::runtime_error("file is empty");
        if (add_dummy_prefix == 0 || add_dummy_prefix == 1)
            append_add_dummy_prefix(serialized, add_dummy_prefix == 1);
        auto model = std::make_unique<syn_spm_model>();
        const auto status = model->processor.LoadFromSerializedProto(serialized);
        if (!status.ok())
            throw std::runtime_error("not a valid sentencepiece model (" + status.ToString() + ")");
        if (model->processor.GetPieceSize() <= 0) throw std::runtime_error("model has no pieces");
        return model.release();
    } catch (const std::exception& e) {
        write_error(err, err_size, e.what());
    } catch (...) {
        write_error(err, err_size, "unknown error");
    }
    return nullptr;
}

SYN_SPM_EXPORT void syn_spm_free(syn_spm_model* model) { delete model; }

SYN_SPM_EXPORT int32_t syn_spm_piece_size(const syn_spm_model* model) {
    return model ? model->processor.GetPieceSize() : 0;
}
SYN_SPM_EXPORT int32_t syn_spm_unk_id(const syn_spm_model* model) {
    return model ? model->processor.unk_id() : -1;
}
SYN_SPM_EXPORT int32_t syn_spm_bos_id(const syn_spm_model* model) {
    return model ? model->processor.bos_id() : -1;
}
SYN_SPM_EXPORT int32_t syn_spm_eos_id(const syn_spm_model* model) {
    return model ? model->processor.eos_id() : -1;
}
SYN_SPM_EXPORT int32_t syn_spm_pad_id(const syn_spm_model* model) {
    return model ? model->processor.pad_id() : -1;
}

SYN_SPM_EXPORT const char* syn_spm_id_to_piece(const syn_spm_model* model, int32_t id,
                                               size_t* len) {
    if (!valid_id(model, id)) return nullptr;
    try {
        const std::string& piece = model->processor.IdToPiece(id);
        if (len) *len = piece.size();
        return piece.c_str();
    } catch (...) {
        return nullptr;
    }
}

SYN_SPM_EXPORT int32_t syn_spm_piece_to_id(const syn_spm_model* model, const char* piece,
                                           size_t len) {
    if (model == nullptr) return -1;
    try {
        return model->processor.PieceToId(absl::string_view(piece ? piece : "", piece ? len : 0));
    } catch (...) {
        return model->processor.unk_id();
    }
}

SYN_SPM_EXPORT int syn_spm_piece_type(const syn_spm_model* model, int32_t id) {
    if (!valid_id(model, id)) return SYN_SPM_PIECE_INVALID;
    const auto& p = model->processor;
    if (p.IsUnknown(id)) return SYN_SPM_PIECE_UNKNOWN;
    if (p.IsControl(id)) return SYN_SPM_PIECE_CONTROL;
    if (p.IsUnused(id)) return SYN_SPM_PIECE_UNUSED;
    if (p.IsByte(id)) return SYN_SPM_PIECE_BYTE;
    return SYN_SPM_PIECE_NORMAL;  // user-defined pieces are not told apart by the public API
}

SYN_SPM_EXPORT syn_spm_result* syn_spm_encode(const syn_spm_model* model, const char* text,
                                              size_t len, char* err, size_t err_size) {
    try {
        if (model == nullptr) throw std::runtime_error("no model");
        // sentencepiece keeps byte offsets in 32-bit fields.
        if (len > static_cast<size_t>(std::numeric_limits<int32_t>::max() / 4))
            throw std::runtime_error("text too long for sentencepiece (" + std::to_string(len) +
                                     " bytes)");
        std::vector<int> ids;
        const auto status =
            model->processor.Encode(absl::string_view(text ? text : "", text ? len : 0), &ids);
        if (!status.ok()) throw std::runtime_error("encode failed: " + status.ToString());
        auto result = std::make_unique<syn_spm_result>();
        result->ids.assign(ids.begin(), ids.end());
        result->pieces.reserve(ids.size());
        // The vocabulary spelling (an unknown character reads "<unk>"), as Hugging Face reports.
        for (int id : ids) result->pieces.push_back(model->processor.IdToPiece(id));
        return result.release();
    } catch (const std::exception& e) {
        write_error(err, err_size, e.what());
    } catch (...) {
        write_error(err, err_size, "unknown error");
    }
    return nullptr;
}

SYN_SPM_EXPORT size_t syn_spm_result_size(const syn_spm_result* result) {
    return result ? result->ids.size() : 0;
}
SYN_SPM_EXPORT const int32_t* syn_spm_result_ids(const syn_spm_result* result) {
    return result ? result->ids.data() : nullptr;
}
SYN_SPM_EXPORT const char* syn_spm_result_piece(const syn_spm_result* result, size_t index,
                                                size_t* len) {
    if (result == nullptr || index >= result->pieces.size()) return nullptr;
    if (len) *len = result->pieces[index].size();
    return result->pieces[index].c_str();
}
SYN_SPM_EXPORT void syn_spm_result_free(syn_spm_result* result) { delete result; }
