#include "core/io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/io/errors.h"
#include "core/io/file_checks.h"

namespace syn {

namespace {

std::string errno_text() { return std::strerror(errno); }

// Closes the descriptor on every path out of the constructor: the mapping stays valid after close.
struct FdGuard {
    int fd;
    ~FdGuard() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

MappedFile::MappedFile(const std::string& path, bool populate) : path_(path) {
    require_not_directory(path);
    FdGuard fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (fd.fd < 0) throw file_error(path, "cannot open: " + errno_text());

    struct stat st {};
    if (::fstat(fd.fd, &st) != 0) throw file_error(path, "cannot stat: " + errno_text());
    if (!S_ISREG(st.st_mode)) throw file_error(path, "not a regular file");
    if (st.st_size == 0) throw file_error(path, "file is empty");

    size_ = static_cast<size_t>(st.st_size);
    int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
    if (populate) flags |= MAP_POPULATE;
#else
    (void)populate;
#endif
    void* p = ::mmap(nullptr, size_, PROT_READ, flags, fd.fd, 0);
    if (p == MAP_FAILED) throw file_error(path, "cannot memory-map: " + errno_text());
    data_ = static_cast<const uint8_t*>(p);
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

std::shared_ptr<const MappedFile> map_file(const std::string& path, bool populate) {
    return std::make_shared<const MappedFile>(path, populate);
}

}  // namespace syn
