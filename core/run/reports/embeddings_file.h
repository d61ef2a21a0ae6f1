#pragma once
// `synesthesia embed`'s output file and the merge of its shards. A safetensors file with
// 'embeddings' [N, D] float32 in the order of the input lines and metadata naming the model (and
// its fingerprint), pooling, dtype, device and source. A shard's file (embed --shard i/n) holds its
// rows only, 'positions' [k] int64 (their input lines) and the metadata "shard" = "i/n" and
// "total_texts" = N; merging the n shard files gives the unsharded run's file, byte for byte.
#include <cstddef>
#include <string>
#include <vector>

#include "core/run/jobs/embed_job.h"

namespace syn::run {

// `shard` is "" for an unsharded run, else "i/n" (then r.positions says where the rows belong).
void write_embeddings_file(const std::string& path, const EmbedResult& r, std::size_t total_texts,
                           const std::string& source, const std::string& shard);

// Joins the shard files of one `embed --shard` run into `out`. Refused by name: a file that is no
// shard file, shards of other runs (model fingerprint, pooling, dtype, source, N or n differ), a
// shard missing or given twice, positions that overlap, leave a line out or lie beyond N, rows of
// another width. Returns N.
std::size_t merge_embedding_shards(const std::vector<std::string>& shard_files, const std::string& out);

}  // namespace syn::run
