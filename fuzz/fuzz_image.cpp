// libFuzzer target for the image path of `score` / `train-mapping`: the header reader that decides,
// before decoding, whether an image is small enough (core/io/image_header), then (when OpenCV is
// found) the decoder the project uses, cv::imdecode with IMREAD_COLOR as cv::imread does, on the
// images the header check lets through. A header that claims a size the decoder does not produce
// is fine (the decoder fails); a decoder that allocates past the header's size is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/io/image_header.h"

#ifdef SYN_FUZZ_WITH_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto header = syn::parse_image_header(bytes);
    if (!header) return 0;
    if (header->width < 0 || header->height < 0) std::abort();
    // The job's limit is 64 Mi pixels; the fuzzer decodes at most 1 Mi so that it stays fast.
    if (header->width == 0 || header->height == 0 || header->width > (1 << 20) || header->height > (1 << 20) ||
        header->width * header->height > (int64_t{1} << 20))
        return 0;
#ifdef SYN_FUZZ_WITH_OPENCV
    try {
        const cv::Mat buffer(1, static_cast<int>(size), CV_8UC1, const_cast<uint8_t*>(data));
        const cv::Mat image = cv::imdecode(buffer, cv::IMREAD_COLOR);
        if (!image.empty() && static_cast<int64_t>(image.total()) > (int64_t{1} << 26)) std::abort();
    } catch (const cv::Exception&) {
        // A rejected image: what read_rgb_image reports as "cannot read the image".
    }
#endif
    return 0;
}
