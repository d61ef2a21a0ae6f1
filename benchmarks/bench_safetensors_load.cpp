// How close is loading a safetensors checkpoint to reading its bytes? Writes a ~500 MB file shaped
// like a 12-layer, 1024-wide encoder (half the layers F32, half BF16, BF16 embeddings; ~200
// tensors), then times, several times each, with the file in the page cache:
//   (a) read_safetensors + memcpy of every tensor into a preallocated buffer of the data size
//       (what loading into module parameters does), mapping released at the end;
//   (a') the same with a pre-faulted mapping (MAP_POPULATE), to check that the reader's lazily
//       faulted mapping loses nothing by it;
//   (b) one plain read() of the whole file into a preallocated buffer.
// Prints the median of the warm runs (the first run of each is discarded as a warm-up) and the
// ratio a / b; the target is <= 1.2.
//
// Usage: bench_safetensors_load [file.safetensors] [runs]
// The file is created (and removed afterwards) when it does not exist.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/io/errors.h"
#include "core/io/mapped_file.h"
#include "core/io/safetensors.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// The tensors of a BERT-large-width encoder, all pointing at one shared pool of pseudo-random bytes
// (content does not matter for the timing, and this keeps the generator's memory small).
syn::TensorMap make_checkpoint(std::vector<std::string>* names, std::shared_ptr<std::vector<uint8_t>>* pool) {
    const int64_t hidden = 1024, ffn = 4096, vocab = 30522, positions = 512, layers = 12;
    *pool = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(vocab * hidden * 4));
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (auto& b : **pool) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b = static_cast<uint8_t>(x);
    }
    syn::TensorMap tensors;
    auto add = [&](const std::string& name, syn::DType dtype, std::vector<int64_t> shape) {
        syn::RawTensor t;
        t.dtype = dtype;
        t.shape = std::move(shape);
        t.nbytes = static_cast<size_t>(t.numel()) * syn::dtype_size(dtype);
        t.data = (*pool)->data();
        t.owner = *pool;
        tensors[name] = std::move(t);
        names->push_back(name);
    };
    add("embeddings.word_embeddings.weight", syn::DType::BF16, {vocab, hidden});
    add("embeddings.position_embeddings.weight", syn::DType::BF16, {positions, hidden});
    add("embeddings.LayerNorm.weight", syn::DType::F32, {hidden});
    add("embeddings.LayerNorm.bias", syn::DType::F32, {hidden});
    for (int64_t l = 0; l < layers; ++l) {
        const syn::DType d = l % 2 == 0 ? syn::DType::F32 : syn::DType::BF16;
        const std::string p = "encoder.layer." + std::to_string(l) + ".";
        for (const char* m : {"attention.self.query", "attention.self.key", "attention.self.value",
                              "attention.output.dense"}) {
            add(p + m + ".weight", d, {hidden, hidden});
            add(p + m + ".bias", d, {hidden});
        }
        add(p + "attention.output.LayerNorm.weight", d, {hidden});
        add(p + "attention.output.LayerNorm.bias", d, {hidden});
        add(p + "intermediate.dense.weight", d, {ffn, hidden});
        add(p + "intermediate.dense.bias", d, {ffn});
        add(p + "output.dense.weight", d, {hidden, ffn});
        add(p + "output.dense.bias", d, {hidden});
        add(p + "output.LayerNorm.weight", d, {hidden});
        add(p + "output.LayerNorm.bias", d, {hidden});
    }
    return tensors;
}

// (a) / (a'): parse + copy every tensor into `dst`; returns the number of bytes copied.
size_t load_into(const std::string& path, bool populate, std::vector<uint8_t>& dst) {
    size_t offset = 0;
    {
        auto mapping = syn::map_file(path, populate);
        syn::SafetensorsFile st = syn::parse_safetensors(mapping->data(), mapping->size(), path, mapping);
        for (const std::string& name : st.names) {
            const syn::RawTensor& t = st.tensors.at(name);
            std::memcpy(dst.data() + offset, t.data, t.nbytes);
            offset += t.nbytes;
        }
    }  // mapping released here, inside the timed region
    return offset;
}

// The production path: read_safetensors itself (same as load_into(populate = false)).
size_t load_with_reader(const std::string& path, std::vector<uint8_t>& dst) {
    size_t offset = 0;
    {
        syn::SafetensorsFile st = syn::read_safetensors(path);
        for (const std::string& name : st.names) {
            const syn::RawTensor& t = st.tensors.at(name);
            std::memcpy(dst.data() + offset, t.data, t.nbytes);
            offset += t.nbytes;
        }
    }
    return offset;
}

// (b): one read() of the whole file.
size_t read_whole(const std::string& path, std::vector<uint8_t>& dst) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw syn::file_error(path, "cannot open");
    size_t done = 0;
    while (done < dst.size()) {
        ssize_t n = ::read(fd, dst.data() + done, dst.size() - done);
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
    ::close(fd);
    return done;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const bool own_file = argc < 2;
        const std::string path = own_file
            ? (std::filesystem::temp_directory_path() / ("syn_bench_load_" + std::to_string(::getpid()) + ".safetensors")).string()
            : argv[1];
        const int runs = argc > 2 ? std::max(2, std::atoi(argv[2])) : 8;

        if (!std::filesystem::exists(path)) {
            std::vector<std::string> names;
            std::shared_ptr<std::vector<uint8_t>> pool;
            syn::TensorMap tensors = make_checkpoint(&names, &pool);
            const auto t0 = Clock::now();
            syn::write_safetensors(path, tensors, {{"format", "pt"}}, names);
            std::printf("wrote %s (%zu tensors) in %.2f s\n", path.c_str(), tensors.size(), seconds_since(t0));
        }
        const size_t file_size = std::filesystem::file_size(path);
        size_t data_size = 0;
        {
            syn::SafetensorsFile st = syn::read_safetensors(path);
            for (const auto& kv : st.tensors) data_size += kv.second.nbytes;
            std::printf("file: %.1f MB, %zu tensors, %.1f MB of tensor data\n", file_size / 1e6, st.tensors.size(),
                        data_size / 1e6);
        }

        // Destination buffers allocated and touched once, so no run pays for first-touch faults.
        std::vector<uint8_t> params(data_size, 1), whole(file_size, 1);

        std::vector<double> t_load, t_populated, t_read;
        for (int r = 0; r < runs; ++r) {
            // Interleaved, so that drift (other processes, frequency) affects all three alike.
            auto t0 = Clock::now();
            if (load_with_reader(path, params) != data_size) throw syn::Error("short load");
            double a = seconds_since(t0);
            t0 = Clock::now();
            if (load_into(path, true, params) != data_size) throw syn::Error("short load");
            double populated = seconds_since(t0);
            t0 = Clock::now();
            if (read_whole(path, whole) != file_size) throw syn::Error("short read");
            double b = seconds_since(t0);
            if (r == 0) continue;  // warm-up: brings the file into the page cache
            t_load.push_back(a);
            t_populated.push_back(populated);
            t_read.push_back(b);
        }
        if (std::memcmp(params.data(), whole.data() + (file_size - data_size), data_size) != 0)
            throw syn::Error("loaded tensor bytes differ from the file's data section");

        const double a = median(t_load), populated = median(t_populated), b = median(t_read);
        std::printf("median of %d warm runs (file in the page cache; first run discarded):\n", runs - 1);
        std::printf("  (a)  read_safetensors + memcpy all tensors : %8.1f ms  (%.2f GB/s)\n", a * 1e3, data_size / a / 1e9);
        std::printf("  (a') same, pre-faulted mapping (POPULATE) : %8.1f ms  (%.2f GB/s)\n", populated * 1e3, data_size / populated / 1e9);
        std::printf("  (b)  one read() of the file                : %8.1f ms  (%.2f GB/s)\n", b * 1e3, file_size / b / 1e9);
        std::printf("  ratio (a)/(b) = %.2f  (target <= 1.2);  (a')/(b) = %.2f\n", a / b, populated / b);
        if (own_file) std::filesystem::remove(path);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_safetensors_load: %s\n", e.what());
        return 1;
    }
}
