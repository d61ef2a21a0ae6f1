// The shared helpers of hostile-input handling in core/io: a folder where a file is expected is
// named as such by every reader (read_file, config.json, safetensors, torch checkpoints), and
// quote_excerpt() is the one way input text enters a message.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/file_checks.h"
#include "core/io/hf_config.h"
#include "core/io/mapped_file.h"
#include "core/io/quote.h"
#include "core/io/safetensors.h"
#include "core/io/torch_checkpoint.h"

namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    ADD_FAILURE() << "no exception";
    return {};
}

struct ScratchDir {
    fs::path path = fs::temp_directory_path() / ("syn_file_checks_" + std::to_string(::getpid()));
    ScratchDir() { fs::create_directories(path); }
    ~ScratchDir() { fs::remove_all(path); }
};

}  // namespace

TEST(QuoteExcerpt, PrintableAsciiKeptOtherBytesEscapedLongTextCut) {
    EXPECT_EQ(syn::quote_excerpt("a man"), "'a man'");
    EXPECT_EQ(syn::quote_excerpt(std::string("a\0b", 3)), "'a\\x00b'");
    EXPECT_EQ(syn::quote_excerpt("\xff\xfe\n\t"), "'\\xff\\xfe\\x0a\\x09'");
    EXPECT_EQ(syn::quote_excerpt("caf\xc3\xa9"), "'caf\\xc3\\xa9'");
    EXPECT_EQ(syn::quote_excerpt("it's \\"), "'it\\'s \\\\'");
    const std::string huge(1 << 20, 'x');
    const std::string q = syn::quote_excerpt(huge);
    EXPECT_EQ(q, "'" + std::string(60, 'x') + "'...");
    // An escape is never cut in the middle, and text that itself ends in "..." is not mistaken for a cut.
    EXPECT_EQ(syn::quote_excerpt(std::string(59, 'x') + "\x01"), "'" + std::string(59, 'x') + "'...");
    EXPECT_EQ(syn::quote_excerpt("wait..."), "'wait...'");
    EXPECT_EQ(syn::escape_excerpt("last read: '\xff'", 300), "last read: '\\xff'");
    EXPECT_EQ(syn::message_excerpt(huge).size(), 303u);
}

TEST(FileChecks, DirectoryWhereAFileIsExpectedIsNamedByEveryReader) {
    ScratchDir tmp;
    const std::string dir = (tmp.path / "model.safetensors").string();
    fs::create_directories(dir);
    const std::string expected = dir + ": is a directory, not a file";
    EXPECT_EQ(error_of([&] { syn::require_not_directory(dir); }), expected);
    EXPECT_NO_THROW(syn::require_not_directory((tmp.path / "absent").string()));
    EXPECT_EQ(error_of([&] { syn::read_file(dir); }), expected);
    EXPECT_EQ(error_of([&] { syn::open_input_file(dir); }), expected);
    EXPECT_EQ(error_of([&] { syn::map_file(dir); }), expected);
    EXPECT_EQ(error_of([&] { syn::read_safetensors(dir); }), expected);
    EXPECT_EQ(error_of([&] { syn::read_torch_checkpoint(dir); }), expected);
    // config.json that is itself a folder.
    fs::create_directories(tmp.path / "model" / "config.json");
    const std::string config = (tmp.path / "model" / "config.json").string();
    EXPECT_EQ(error_of([&] { syn::HfConfig::load((tmp.path / "model").string()); }), config + ": is a directory, not a file");
}

TEST(FileChecks, JsonErrorsDoNotEchoRawBytes) {
    ScratchDir tmp;
    const std::string path = (tmp.path / "config.json").string();
    syn::write_file_atomically(path, "{\"model_type\": \"" + std::string(200000, 'z') + "\xff\x01\"}");
    const std::string message = error_of([&] { syn::HfConfig::load(path); });
    EXPECT_LT(message.size(), 600u);
    for (unsigned char c : message) ASSERT_TRUE(c >= 0x20 && c < 0x7f) << message;
    EXPECT_NE(message.find(path + ": invalid JSON"), std::string::npos) << message;
}

// A number too large for a double: nlohmann::json throws out_of_range, which must become a syn::Error.
TEST(FileChecks, JsonNumberOverflowIsASynError) {
    ScratchDir tmp;
    const std::string path = (tmp.path / "config.json").string();
    syn::write_file_atomically(path, "{\"hidden_size\": 1e999999}");
    try {
        syn::HfConfig::load(path);
        ADD_FAILURE() << "no error";
    } catch (const syn::Error& e) {
        EXPECT_NE(std::string(e.what()).find(path + ": invalid JSON"), std::string::npos) << e.what();
    }
}

TEST(FileChecks, AtomicWriteSyncsTheFolder) {
    ScratchDir tmp;
    EXPECT_TRUE(syn::fsync_parent_directory((tmp.path / "x").string()));
    EXPECT_FALSE(syn::fsync_parent_directory("/nonexistent/folder/x"));
    syn::write_file_atomically((tmp.path / "x").string(), "x");
    EXPECT_EQ(syn::read_file((tmp.path / "x").string()), "x");
}
