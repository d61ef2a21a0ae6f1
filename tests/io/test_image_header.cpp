// Image sizes read from the header before decoding (issue "Hostile and oversized inputs"): a
// 30000 x 30000 PNG is refused with its size named, before OpenCV allocates 2.7 GB for it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <string>

#include "core/io/errors.h"
#include "core/io/image_header.h"
#include "tests/support/shared_paths.h"

namespace fs = std::filesystem;

namespace {

std::string be32(uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// The first bytes of a PNG of the given size (signature + IHDR), as a decoder sees them.
std::string png_head(uint32_t width, uint32_t height) {
    return std::string("\x89PNG\r\n\x1a\n", 8) + be32(13) + "IHDR" + be32(width) + be32(height) +
           std::string("\x08\x02\x00\x00\x00", 5) + be32(0);
}

// A JPEG whose frame header follows a 60 KB APP1 segment (as EXIF thumbnails make it).
std::string jpeg_head(uint16_t width, uint16_t height) {
    std::string s("\xFF\xD8", 2);
    s += std::string("\xFF\xE1", 2) + static_cast<char>(0xEA) + static_cast<char>(0x62);  // length 60002
    s += std::string(60000, 'E');
    s += std::string("\xFF\xFF\xC2\x00\x11\x08", 6);  // a fill byte, then SOF2 (progressive), length 17, 8 bits
    s += static_cast<char>(height >> 8);
    s += static_cast<char>(height & 0xFF);
    s += static_cast<char>(width >> 8);
    s += static_cast<char>(width & 0xFF);
    s += std::string(12, '\0');
    return s;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const syn::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "no syn::Error";
    return {};
}

struct Scratch {
    fs::path dir = fs::temp_directory_path() / ("syn_image_header_" + std::to_string(::getpid()));
    Scratch() { fs::create_directories(dir); }
    ~Scratch() { fs::remove_all(dir); }
    std::string write(const std::string& name, const std::string& bytes) const {
        std::ofstream(dir / name, std::ios::binary) << bytes;
        return (dir / name).string();
    }
};

}  // namespace

TEST(ImageHeader, SizesOfEveryFormatFromTheHeaderAlone) {
    auto png = syn::parse_image_header(png_head(640, 480));
    ASSERT_TRUE(png);
    EXPECT_EQ(png->format, "PNG");
    EXPECT_EQ(png->width, 640);
    EXPECT_EQ(png->height, 480);
    auto jpeg = syn::parse_image_header(jpeg_head(1024, 768));
    ASSERT_TRUE(jpeg);
    EXPECT_EQ(jpeg->format, "JPEG");
    EXPECT_EQ(jpeg->width, 1024);
    EXPECT_EQ(jpeg->height, 768);
    auto pnm = syn::parse_image_header("P6\n# a comment\n 300 200\n255\n");
    ASSERT_TRUE(pnm);
    EXPECT_EQ(pnm->width, 300);
    EXPECT_EQ(pnm->height, 200);
    std::string bmp = "BM" + std::string(12, '\0') + std::string("\x28\0\0\0", 4) + std::string("\x10\0\0\0", 4) +
                      std::string("\xF0\xFF\xFF\xFF", 4);  // 16 x -16 (top-down)
    auto b = syn::parse_image_header(bmp);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->width, 16);
    EXPECT_EQ(b->height, 16);
    const std::string gif = std::string("GIF89a") + std::string("\x20\x00\x10\x00", 4);
    EXPECT_EQ(syn::parse_image_header(gif)->width, 32);
    const std::string tiff = std::string("II*\0\x08\0\0\0", 8) + std::string("\x02\0", 2) +
                             std::string("\x00\x01\x03\x00\x01\x00\x00\x00\x40\x00\x00\x00", 12) +
                             std::string("\x01\x01\x04\x00\x01\x00\x00\x00\x20\x00\x00\x00", 12);
    auto t = syn::parse_image_header(tiff);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->width, 64);
    EXPECT_EQ(t->height, 32);
    // Truncated or unknown: no answer, never a read past the end.
    EXPECT_FALSE(syn::parse_image_header(png_head(1, 1).substr(0, 20)));
    EXPECT_FALSE(syn::parse_image_header(jpeg_head(1, 1).substr(0, 30000)));
    EXPECT_FALSE(syn::parse_image_header("GIF89a"));
    EXPECT_FALSE(syn::parse_image_header("not an image at all"));
    EXPECT_FALSE(syn::parse_image_header(""));
}

TEST(ImageHeader, RealFixtureImagesAreRead) {
    SYN_REQUIRE_SHARED();
    const auto h = syn::check_image_pixels(syn::test::fixtures_dir() + "/models/tiny-clip/image0.png");
    EXPECT_EQ(h.format, "PNG");
    EXPECT_GT(h.width, 0);
    EXPECT_GT(h.height, 0);
}

TEST(ImageHeader, HugeImagesAreRefusedBeforeDecodingWithTheFileAndSizeNamed) {
    Scratch tmp;
    const std::string huge = tmp.write("huge.png", png_head(30000, 30000));
    EXPECT_EQ(error_of([&] { syn::check_image_pixels(huge); }),
              huge + ": PNG image of 30000 x 30000 pixels (900.0 megapixels) is over the limit of 67.1 megapixels; "
                     "refusing to decode it");
    const std::string wide = tmp.write("wide.jpg", jpeg_head(65535, 65535));
    EXPECT_NE(error_of([&] { syn::check_image_pixels(wide); }).find("JPEG image of 65535 x 65535 pixels"),
              std::string::npos);
    const std::string fine = tmp.write("fine.png", png_head(8192, 8192));
    EXPECT_EQ(syn::check_image_pixels(fine).width, 8192);
    const std::string empty = tmp.write("zero.png", png_head(0, 10));
    EXPECT_NE(error_of([&] { syn::check_image_pixels(empty); }).find("nothing to decode"), std::string::npos);
    const std::string text = tmp.write("notes.png", "hello");
    EXPECT_NE(error_of([&] { syn::check_image_pixels(text); }).find(text + ": not a PNG, JPEG"), std::string::npos);
    EXPECT_EQ(error_of([&] { syn::check_image_pixels(tmp.dir.string()); }),
              tmp.dir.string() + ": is a directory, not a file");
    EXPECT_NE(error_of([&] { syn::check_image_pixels((tmp.dir / "absent.png").string()); }).find("cannot open"),
              std::string::npos);
}

// Found by fuzz_image: OpenCV's PNM reader takes the byte after a number's digits as its terminator,
// so "882#888882" is 882 x 888882 there (a 2.35 GB allocation), not 882 and a comment. The header
// reader reads numbers the decoder's way.
TEST(ImageHeader, PnmNumbersAreReadAsTheDecoderReadsThem) {
    auto h = syn::parse_image_header(std::string("P1\n882#888882#88888\n\n3"));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->width, 882);
    EXPECT_EQ(h->height, 888882);
    Scratch tmp;
    const std::string bomb = tmp.write("bomb.pbm", "P1\n882#888882#88888\n\n3");
    EXPECT_NE(error_of([&] { syn::check_image_pixels(bomb); }).find("PNM image of 882 x 888882 pixels"), std::string::npos);
    // A comment where a number is expected is a comment.
    h = syn::parse_image_header(std::string("P5 #c\n7 #d\n9 255 "));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->width, 7);
    EXPECT_EQ(h->height, 9);
    // PAM is not accepted (its syntax is not checked); a JPEG with stray bytes before a marker is
    // read past them, as libjpeg does.
    EXPECT_FALSE(syn::parse_image_header("P7\nWIDTH 4\nHEIGHT 4\nENDHDR\n"));
    std::string jpeg = jpeg_head(640, 480);
    jpeg.insert(60006, "junk");  // after the APP1 segment, before the frame marker
    h = syn::parse_image_header(jpeg);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->width, 640);
}
