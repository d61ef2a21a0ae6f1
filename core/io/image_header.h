#pragma once
// Image sizes from the header alone, before any decoder allocates the pixels: a 30000 x 30000 PNG
// is a few MB on disk and 2.7 GB decoded (8.1 GB in the float copies that follow). Every image a
// job decodes goes through check_image_pixels() first. Formats: PNG, JPEG (baseline, progressive,
// lossless), BMP, GIF, WebP (VP8, VP8L, VP8X), TIFF (classic), PNM (P1-P6), each read as OpenCV
// reads it; anything else is refused, since its size cannot be checked before decoding.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace syn {

struct ImageHeader {
    std::string format;  // "PNG", "JPEG", ...
    int64_t width = 0;
    int64_t height = 0;
};

// 8192 x 8192 (64 Mi pixels): four times a 4K frame; MM-CelebA-HQ faces are 1024 x 1024.
constexpr int64_t kMaxImagePixels = int64_t{1} << 26;

// The header of an image held in memory (the first bytes of a file are enough except for JPEG,
// whose size marker may follow large EXIF segments). nullopt when the format is not recognised or
// the header is truncated or inconsistent.
std::optional<ImageHeader> parse_image_header(std::string_view bytes);

// The header of an image file, reading only the bytes it needs. Throws syn::Error naming the file
// when it cannot be read, is a directory, or is not a recognised image.
ImageHeader read_image_header(const std::string& path);

// read_image_header(), then refuses (syn::Error naming the file and its size) an image of zero
// size or of more than `max_pixels` pixels. Returns the header.
ImageHeader check_image_pixels(const std::string& path, int64_t max_pixels = kMaxImagePixels);

}  // namespace syn
