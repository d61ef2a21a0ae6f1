#pragma once
// A read-only memory mapping of a whole file (RAII). Readers of large checkpoint files map them
// instead of reading them, so tensors can point straight into the page cache (zero-copy) and a
// file larger than the free RAM still opens.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace syn {

class MappedFile {
public:
    // Maps `path` read-only. Throws syn::Error("<path>: <problem>") when the file cannot be
    // opened or mapped, is not a regular file, or is empty (a zero-length mapping is impossible,
    // and no format we read is valid empty).
    // `populate`: pre-fault the whole mapping now (MAP_POPULATE), reading the whole file at once.
    // Off by default: the kernel's fault-around makes lazy faults cheap, and a caller that only
    // reads a header should not pay for the data.
    explicit MappedFile(const std::string& path, bool populate = false);
    ~MappedFile();

    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

// Convenience: a shared mapping, to be used as the `owner` of tensors that point into it.
std::shared_ptr<const MappedFile> map_file(const std::string& path, bool populate = false);

}  // namespace syn
