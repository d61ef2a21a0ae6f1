# All third-party dependencies, found once here. Debian 12 packages by default; an upstream
# libtorch 2.x with CUDA is used instead when -DTorch_DIR=<libtorch>/share/cmake/Torch is given.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(ZLIB REQUIRED)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
# SentencePiece is linked only into the isolated shim (core/text/spm_shim), never into a torch process.
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)

# syn_io downloads with libcurl: found for the fuzz build too.
find_package(CURL REQUIRED)
if(SYN_BUILD_FUZZERS)
  return()
endif()

find_package(Boost 1.74 REQUIRED)          # header-only Boost.Math
find_package(CLI11 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)
find_package(Torch REQUIRED)
message(STATUS "libtorch ${Torch_VERSION} from ${Torch_DIR}")
# Torch's exported flags carry the C++ ABI choice; every target that links torch gets them through
# the imported target, so nothing is added globally here.

if(SYN_BUILD_UI)
  find_package(Qt6 REQUIRED COMPONENTS Core Gui Widgets Concurrent Svg PrintSupport Test)
  find_package(QCustomPlotQt6 REQUIRED)
endif()

if(SYN_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
