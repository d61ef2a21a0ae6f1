#include "core/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/io/errors.h"
#include "core/io/file_checks.h"

namespace syn {

void write_all(int fd, const void* data, size_t size, const std::string& path) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw file_error(path, std::string("write failed: ") + std::strerror(errno));
        }
        p += n;
        size -= static_cast<size_t>(n);
    }
}

void write_file_atomically(const std::string& path, const std::function<void(int fd)>& write) {
    std::string tmpl = path + ".tmp.XXXXXX";
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) throw file_error(path, std::string("cannot create a temporary file: ") + std::strerror(errno));
    try {
        write(fd);
        if (::fsync(fd) != 0) throw file_error(path, std::string("fsync failed: ") + std::strerror(errno));
        // mkstemp creates 0600; results are ordinary files.
        ::fchmod(fd, 0644);
        if (::close(fd) != 0) {
            fd = -1;
            throw file_error(path, std::string("close failed: ") + std::strerror(errno));
        }
        fd = -1;
        if (::rename(tmpl.c_str(), path.c_str()) != 0)
            throw file_error(path, std::string("rename failed: ") + std::strerror(errno));
        // The rename itself lives in the folder: without this a power cut can lose it.
        fsync_parent_directory(path);
    } catch (...) {
        if (fd >= 0) ::close(fd);
        ::unlink(tmpl.c_str());
        throw;
    }
}

void write_file_atomically(const std::string& path, std::string_view content) {
    write_file_atomically(path, [&](int fd) { write_all(fd, content.data(), content.size(), path); });
}

std::string read_file(const std::string& path) {
    std::ifstream in = open_input_file(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw file_error(path, "read failed");
    return ss.str();
}

}  // namespace syn
