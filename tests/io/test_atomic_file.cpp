#include <gtest/gtest.h>

#include <filesystem>
#include <stdexcept>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"

namespace fs = std::filesystem;

TEST(AtomicFile, WritesAndReplaces) {
    fs::path dir = fs::temp_directory_path() / "syn_atomic_test";
    fs::create_directories(dir);
    std::string path = (dir / "out.txt").string();
    syn::write_file_atomically(path, "first");
    EXPECT_EQ(syn::read_file(path), "first");
    syn::write_file_atomically(path, "second");
    EXPECT_EQ(syn::read_file(path), "second");
    fs::remove_all(dir);
}

TEST(AtomicFile, FailedWriteLeavesOldFileAndNoTemporary) {
    fs::path dir = fs::temp_directory_path() / "syn_atomic_test2";
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string path = (dir / "out.txt").string();
    syn::write_file_atomically(path, "old");
    EXPECT_THROW(syn::write_file_atomically(path, [](int) { throw std::runtime_error("interrupted"); }),
                 std::runtime_error);
    EXPECT_EQ(syn::read_file(path), "old");
    int files = 0;
    for (auto& e : fs::directory_iterator(dir)) { (void)e; ++files; }
    EXPECT_EQ(files, 1);
    fs::remove_all(dir);
}

TEST(AtomicFile, MissingFileErrorNamesThePath) {
    try {
        syn::read_file("/nonexistent/dir/x.bin");
        FAIL();
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.bin"), std::string::npos);
    }
}
