#include "core/io/image_header.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

#include "core/io/errors.h"
#include "core/io/file_checks.h"

namespace syn {
namespace {

// Reads up to n bytes at an offset (fewer at the end of the data).
using ReadAt = std::function<std::string(uint64_t offset, size_t n)>;

uint32_t be16(const std::string& s, size_t at) {
    return (static_cast<uint32_t>(static_cast<uint8_t>(s[at])) << 8) | static_cast<uint8_t>(s[at + 1]);
}
uint32_t be32(const std::string& s, size_t at) { return (be16(s, at) << 16) | be16(s, at + 2); }
uint32_t le16(const std::string& s, size_t at) {
    return (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 8) | static_cast<uint8_t>(s[at]);
}
uint32_t le32(const std::string& s, size_t at) { return (le16(s, at + 2) << 16) | le16(s, at); }
uint32_t le24(const std::string& s, size_t at) {
    return le16(s, at) | (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 16);
}

std::optional<ImageHeader> make(const char* format, int64_t width, int64_t height) {
    return ImageHeader{format, width, height};
}

std::optional<ImageHeader> parse_png(const std::string& head) {
    // Signature, then the first chunk must be IHDR (length 13): width, height as big-endian u32.
    if (head.size() < 24 || head.compare(12, 4, "IHDR") != 0) return std::nullopt;
    return make("PNG", be32(head, 16), be32(head, 20));
}

// Walks the marker segments up to the first SOFn (frame header: precision, height, width).
std::optional<ImageHeader> parse_jpeg(const ReadAt& read) {
    uint64_t pos = 2;
    for (int steps = 0; steps < (1 << 20); ++steps) {
        std::string m = read(pos, 2);
        if (m.size() < 2) return std::nullopt;
        if (static_cast<uint8_t>(m[0]) != 0xFF) {  // libjpeg skips extraneous bytes before a marker
            ++pos;
            continue;
        }
        const uint8_t marker = static_cast<uint8_t>(m[1]);
        if (marker == 0xFF) {  // fill byte
            ++pos;
            continue;
        }
        pos += 2;
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length
        if (marker == 0xD9 || marker == 0xDA) return std::nullopt;             // EOI / SOS before a frame
        const std::string len_bytes = read(pos, 2);
        if (len_bytes.size() < 2) return std::nullopt;
        const uint32_t length = be16(len_bytes, 0);
        if (length < 2) return std::nullopt;
        const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof) {
            const std::string frame = read(pos, 7);
            if (frame.size() < 7 || length < 7) return std::nullopt;
            return make("JPEG", be16(frame, 5), be16(frame, 3));
        }
        pos += length;
    }
    return std::nullopt;
}

std::optional<ImageHeader> parse_bmp(const std::string& head) {
    if (head.size() < 26) return std::nullopt;
    const uint32_t dib = le32(head, 14);
    if (dib == 12) return make("BMP", le16(head, 18), le16(head, 20));  // OS/2 BITMAPCOREHEADER
    if (dib < 40 || dib > 1024) return std::nullopt;
    const int64_t width = static_cast<int32_t>(le32(head, 18));
    const int64_t height = static_cast<int32_t>(le32(head, 22));  // negative: top-down rows
    if (width < 0) return std::nullopt;
    return make("BMP", width, height < 0 ? -height : height);
}

std::optional<ImageHeader> parse_webp(const std::string& head) {
    if (head.size() < 30) return std::nullopt;
    if (head.compare(12, 4, "VP8 ") == 0) {
        if (static_cast<uint8_t>(head[23]) != 0x9D || static_cast<uint8_t>(head[24]) != 0x01 ||
            static_cast<uint8_t>(head[25]) != 0x2A)
            return std::nullopt;
        return make("WebP", le16(head, 26) & 0x3FFF, le16(head, 28) & 0x3FFF);
    }
    if (head.compare(12, 4, "VP8L") == 0) {
        if (static_cast<uint8_t>(head[20]) != 0x2F) return std::nullopt;
        const uint32_t bits = le32(head, 21);
        return make("WebP", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
    }
    if (head.compare(12, 4, "VP8X") == 0)
        return make("WebP", int64_t{le24(head, 24)} + 1, int64_t{le24(head, 27)} + 1);
    return std::nullopt;
}

// Netpbm P1-P6: magic, then ASCII numbers read exactly as OpenCV's decoder (grfmt_pxm.cpp
// ReadNumber) reads them: whitespace and "#...EOL" comments before a number, and the one byte after
// its digits consumed as its terminator, so that "882#888882" is 882 then 888882 there too (a
// reader that took "#888882" for a comment let a 784-megapixel image through; found by fuzz_image).
// PAM (P7) is not accepted: its header syntax is not checked here.
std::optional<ImageHeader> parse_pnm(const std::string& head) {
    if (head[1] < '1' || head[1] > '6') return std::nullopt;
    size_t pos = 2;
    auto next = [&](unsigned char& code) {
        if (pos >= head.size()) return false;
        code = static_cast<unsigned char>(head[pos++]);
        return true;
    };
    auto is_space = [](unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    auto read_number = [&](int64_t& out) {
        unsigned char code = 0;
        if (!next(code)) return false;
        while (!(code >= '0' && code <= '9')) {
            if (code == '#') {
                do {
                    if (!next(code)) return false;
                } while (code != '\n' && code != '\r');
                if (!next(code)) return false;
            } else if (is_space(code)) {
                while (is_space(code))
                    if (!next(code)) return false;
            } else {
                return false;
            }
        }
        int64_t value = 0;
        int digits = 0;
        do {
            if (++digits > 12) return false;
            value = value * 10 + (code - '0');
            if (!next(code)) return false;  // the terminator (OpenCV needs one too)
        } while (code >= '0' && code <= '9');
        out = value;
        return true;
    };
    int64_t width = 0, height = 0;
    if (!read_number(width) || !read_number(height)) return std::nullopt;
    return make("PNM", width, height);
}

// Classic TIFF: the first IFD's ImageWidth (256) and ImageLength (257) entries.
std::optional<ImageHeader> parse_tiff(const ReadAt& read, bool little) {
    auto u16 = [&](const std::string& s, size_t at) { return little ? le16(s, at) : be16(s, at); };
    auto u32 = [&](const std::string& s, size_t at) { return little ? le32(s, at) : be32(s, at); };
    const std::string head = read(0, 8);
    if (head.size() < 8) return std::nullopt;
    const uint64_t ifd = u32(head, 4);
    const std::string count_bytes = read(ifd, 2);
    if (count_bytes.size() < 2) return std::nullopt;
    const uint32_t count = u16(count_bytes, 0);
    const std::string entries = read(ifd + 2, static_cast<size_t>(count) * 12);
    if (entries.size() < static_cast<size_t>(count) * 12) return std::nullopt;
    int64_t width = -1, height = -1;
    for (uint32_t i = 0; i < count; ++i) {
        const size_t at = static_cast<size_t>(i) * 12;
        const uint32_t tag = u16(entries, at), type = u16(entries, at + 2);
        int64_t value = -1;
        if (type == 3) value = u16(entries, at + 8);  // SHORT, left-justified in the value field
        else if (type == 4) value = u32(entries, at + 8);  // LONG
        if ((tag == 256 && width >= 0) || (tag == 257 && height >= 0)) return std::nullopt;  // given twice
        if (tag == 256) width = value;
        if (tag == 257) height = value;
    }
    if (width < 0 || height < 0) return std::nullopt;
    return make("TIFF", width, height);
}

std::optional<ImageHeader> parse(const ReadAt& read) {
    const std::string head = read(0, 4096);
    if (head.size() >= 8 && head.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) return parse_png(head);
    if (head.size() >= 3 && head.compare(0, 3, "\xFF\xD8\xFF") == 0) return parse_jpeg(read);
    if (head.size() >= 2 && head.compare(0, 2, "BM") == 0) return parse_bmp(head);
    if (head.size() >= 10 && (head.compare(0, 6, "GIF87a") == 0 || head.compare(0, 6, "GIF89a") == 0))
        return make("GIF", le16(head, 6), le16(head, 8));
    if (head.size() >= 16 && head.compare(0, 4, "RIFF") == 0 && head.compare(8, 4, "WEBP") == 0) return parse_webp(head);
    if (head.size() >= 4 && head.compare(0, 4, "II*\0", 4) == 0) return parse_tiff(read, true);
    if (head.size() >= 4 && head.compare(0, 4, "MM\0*", 4) == 0) return parse_tiff(read, false);
    if (head.size() >= 3 && head[0] == 'P' && head[1] >= '1' && head[1] <= '6') return parse_pnm(head);
    return std::nullopt;
}

}  // namespace

std::optional<ImageHeader> parse_image_header(std::string_view bytes) {
    return parse([bytes](uint64_t offset, size_t n) -> std::string {
        if (offset >= bytes.size()) return {};
        return std::string(bytes.substr(static_cast<size_t>(offset), n));
    });
}

ImageHeader read_image_header(const std::string& path) {
    require_not_directory(path);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw file_error(path, std::string("cannot open the image: ") + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    auto header = parse([fd](uint64_t offset, size_t n) -> std::string {
        if (n > (size_t{1} << 20)) n = size_t{1} << 20;  // a TIFF directory of 65535 entries is 786 KB
        std::string out(n, '\0');
        size_t got = 0;
        while (got < n) {
            const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(offset + got));
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += static_cast<size_t>(r);
        }
        out.resize(got);
        return out;
    });
    if (!header)
        throw file_error(path, "not a PNG, JPEG, BMP, GIF, WebP, TIFF or PNM image, or its header is damaged "
                               "(its size cannot be checked before decoding)");
    return *header;
}

ImageHeader check_image_pixels(const std::string& path, int64_t max_pixels) {
    const ImageHeader h = read_image_header(path);
    const std::string size = std::to_string(h.width) + " x " + std::to_string(h.height);
    if (h.width <= 0 || h.height <= 0) throw file_error(path, h.format + " image of size " + size + ": nothing to decode");
    if (h.width > max_pixels || h.height > max_pixels || h.width * h.height > max_pixels) {
        char megapixels[64];
        std::snprintf(megapixels, sizeof megapixels, "%.1f", static_cast<double>(h.width) * h.height / 1e6);
        char limit[64];
        std::snprintf(limit, sizeof limit, "%.1f", static_cast<double>(max_pixels) / 1e6);
        throw file_error(path, h.format + " image of " + size + " pixels (" + megapixels +
                                   " megapixels) is over the limit of " + limit +
                                   " megapixels; refusing to decode it");
    }
    return h;
}

}  // namespace syn
