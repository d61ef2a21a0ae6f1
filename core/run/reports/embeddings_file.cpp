#include "core/run/reports/embeddings_file.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "core/io/errors.h"
#include "core/io/safetensors.h"

namespace syn::run {
namespace {

// The metadata an unsharded file carries; a shard's adds "shard" and "total_texts".
const char* const kRunKeys[] = {"model", "model_fingerprint_sha256", "pooling", "pooling_reason", "dtype", "device",
                                "source"};

RawTensor float_rows(const std::vector<float>& rows, int64_t n, int64_t dim) {
    std::vector<uint8_t> bytes(rows.size() * sizeof(float));
    if (!bytes.empty()) std::memcpy(bytes.data(), rows.data(), bytes.size());
    return make_owned_tensor(DType::F32, {n, dim}, std::move(bytes));
}

}  // namespace

void write_embeddings_file(const std::string& path, const EmbedResult& r, std::size_t total_texts,
                           const std::string& source, const std::string& shard) {
    std::map<std::string, std::string> meta = {{"model", r.model_id},     {"model_fingerprint_sha256", r.fingerprint},
                                               {"pooling", r.pooling},    {"pooling_reason", r.pooling_reason},
                                               {"dtype", r.dtype},        {"device", r.device},
                                               {"source", source}};
    TensorMap out;
    const int64_t rows = r.dim > 0 ? static_cast<int64_t>(r.rows.size()) / r.dim
                                   : static_cast<int64_t>(shard.empty() ? total_texts : r.positions.size());
    out["embeddings"] = float_rows(r.rows, rows, r.dim);
    if (!shard.empty()) {
        meta["shard"] = shard;
        meta["total_texts"] = std::to_string(total_texts);
        std::vector<uint8_t> bytes(r.positions.size() * sizeof(int64_t));
        for (std::size_t k = 0; k < r.positions.size(); ++k) {
            const int64_t p = static_cast<int64_t>(r.positions[k]);
            std::memcpy(bytes.data() + k * sizeof(int64_t), &p, sizeof p);
        }
        out["positions"] = make_owned_tensor(DType::I64, {static_cast<int64_t>(r.positions.size())}, std::move(bytes));
    }
    write_safetensors(path, out, meta);
}

std::size_t merge_embedding_shards(const std::vector<std::string>& shard_files, const std::string& out) {
    if (shard_files.empty()) throw Error("merge: no shard files given");
    std::vector<SafetensorsFile> files;
    for (const auto& f : shard_files) files.push_back(read_safetensors(f));
    const SafetensorsFile& first = files.front();
    auto meta = [](const SafetensorsFile& f, const std::string& key) {
        auto it = f.metadata.find(key);
        if (it == f.metadata.end()) throw file_error(f.path, "not an `embed --shard` output: no metadata '" + key + "'");
        return it->second;
    };
    const std::pair<int, int> first_shard = parse_shard(meta(first, "shard"));
    const int count = first_shard.second;
    const std::string total_text = meta(first, "total_texts");
    if (total_text.empty() || total_text.size() > 15 || total_text.find_first_not_of("0123456789") != std::string::npos)
        throw file_error(first.path, "metadata 'total_texts' is not a count: " + total_text);
    const std::size_t total = std::stoull(total_text);
    if (static_cast<int>(files.size()) != count)
        throw Error("merge: " + std::to_string(files.size()) + " files given for a run of " + std::to_string(count) +
                    " shards (" + first.path + " is shard " + meta(first, "shard") + ")");
    std::vector<const SafetensorsFile*> by_index(count, nullptr);
    for (const auto& f : files) {
        for (const char* key : kRunKeys)
            if (meta(f, key) != meta(first, key))
                throw file_error(f.path, std::string("metadata '") + key + "' is '" + meta(f, key) + "', but " +
                                             first.path + " has '" + meta(first, key) + "': shards of other runs");
        if (meta(f, "total_texts") != total_text)
            throw file_error(f.path, "total_texts " + meta(f, "total_texts") + " differs from " + first.path + "'s " + total_text);
        const auto [index, n] = parse_shard(meta(f, "shard"));
        if (n != count) throw file_error(f.path, "is shard " + meta(f, "shard") + " of a run of " + std::to_string(n) +
                                                     " shards, not " + std::to_string(count));
        if (by_index[index]) throw file_error(f.path, "shard " + meta(f, "shard") + " is also " + by_index[index]->path);
        by_index[index] = &f;
    }
    // The sizes honestly held by the files bound what is allocated: their rows must add up to N
    // (a hostile total_texts allocates nothing).
    std::size_t rows_held = 0;
    int64_t width = -1;
    for (const auto& f : files) {
        if (auto p = f.tensors.find("positions"); p != f.tensors.end() && p->second.shape.size() == 1)
            rows_held += static_cast<std::size_t>(std::max<int64_t>(0, p->second.shape[0]));
        auto e = f.tensors.find("embeddings");
        if (e == f.tensors.end() || e->second.shape.size() != 2 || e->second.shape[0] == 0) continue;
        if (width >= 0 && e->second.shape[1] != width)
            throw file_error(f.path, "rows are " + std::to_string(e->second.shape[1]) + " wide, others " +
                                         std::to_string(width));
        width = e->second.shape[1];
    }
    if (rows_held != total)
        throw Error("merge: the shards hold " + std::to_string(rows_held) + " rows, but their run had " + total_text +
                    " texts (" + first.path + "): a shard is missing, truncated or from another run");
    const int64_t dim = std::max<int64_t>(width, 0);  // one width, checked above
    std::vector<char> seen(total, 0);
    std::vector<float> merged(total * static_cast<std::size_t>(dim));
    for (const auto& f : files) {
        auto e = f.tensors.find("embeddings");
        auto p = f.tensors.find("positions");
        if (e == f.tensors.end() || p == f.tensors.end())
            throw file_error(f.path, "not an `embed --shard` output: needs tensors 'embeddings' and 'positions'");
        const RawTensor& rows = e->second;
        const RawTensor& positions = p->second;
        if (rows.dtype != DType::F32 || rows.shape.size() != 2 || positions.dtype != DType::I64 ||
            positions.shape.size() != 1 || positions.shape[0] != rows.shape[0])
            throw file_error(f.path, "'embeddings' must be F32 [k, D] and 'positions' I64 [k]");
        for (int64_t k = 0; k < positions.shape[0]; ++k) {
            int64_t pos;
            std::memcpy(&pos, positions.data + k * sizeof(int64_t), sizeof pos);
            if (pos < 0 || static_cast<std::size_t>(pos) >= total)
                throw file_error(f.path, "position " + std::to_string(pos) + " is outside 0.." + std::to_string(total - 1));
            if (seen[pos]) throw file_error(f.path, "line " + std::to_string(pos + 1) + " is in two shards");
            seen[pos] = 1;
            std::memcpy(merged.data() + pos * dim, rows.data + k * dim * sizeof(float), dim * sizeof(float));
        }
    }
    for (std::size_t i = 0; i < total; ++i)
        if (!seen[i]) throw Error("merge: line " + std::to_string(i + 1) + " of " + meta(first, "source") + " is in no shard");
    EmbedResult whole;
    whole.model_id = meta(first, "model");
    whole.fingerprint = meta(first, "model_fingerprint_sha256");
    whole.pooling = meta(first, "pooling");
    whole.pooling_reason = meta(first, "pooling_reason");
    whole.dtype = meta(first, "dtype");
    whole.device = meta(first, "device");
    whole.dim = dim;
    whole.rows = std::move(merged);
    write_embeddings_file(out, whole, total, meta(first, "source"), "");
    return total;
}

}  // namespace syn::run
