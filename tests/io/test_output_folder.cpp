// All outputs of a run appear together or not at all (issue 19, item 3): staged in a hidden
// sibling folder, committed by one rename; a user's own folder is never replaced.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/io/output_folder.h"
#include "tests/data/temp_dir.h"
#include "tests/support/error_text.h"

namespace fs = std::filesystem;
using syn::StagedOutputFolder;

using syn::test::error_of;

namespace {

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
    return out;
}

}  // namespace

TEST(OutputFolder, NewFolderAppearsWithAllFilesAndMarker) {
    syn::test::TempDir tmp;
    const fs::path out = tmp.path() / "results" / "table2";
    {
        StagedOutputFolder staged(out.string());
        EXPECT_FALSE(fs::exists(out));
        syn::write_file_atomically((fs::path(staged.path()) / "table.md").string(), "new table\n");
        syn::write_file_atomically((fs::path(staged.path()) / "results.json").string(), "{}\n");
        EXPECT_FALSE(fs::exists(out)) << "nothing is visible before commit";
        staged.commit();
        EXPECT_EQ(staged.final_path_of((fs::path(staged.path()) / "table.md").string()), (out / "table.md").string());
    }
    EXPECT_EQ(names_in(out), (std::set<std::string>{"table.md", "results.json", syn::kOutputMarker}));
    EXPECT_EQ(names_in(out.parent_path()), (std::set<std::string>{"table2"})) << "no staging folder left";
}

TEST(OutputFolder, ReplacesAPreviousRunWhole) {
    syn::test::TempDir tmp;
    const fs::path out = tmp.path() / "run";
    fs::create_directories(out);
    std::ofstream(out / "results.json") << "{\"old\": true}";
    std::ofstream(out / "old_figure.png") << "old";
    {
        StagedOutputFolder staged(out.string());
        syn::write_file_atomically((fs::path(staged.path()) / "results.json").string(), "{\"new\": true}");
        EXPECT_EQ(syn::read_file((out / "results.json").string()), "{\"old\": true}") << "old outputs untouched until commit";
        staged.commit();
    }
    EXPECT_EQ(names_in(out), (std::set<std::string>{"results.json", syn::kOutputMarker})) << "no old figure beside new results";
    EXPECT_EQ(syn::read_file((out / "results.json").string()), "{\"new\": true}");
    EXPECT_EQ(names_in(tmp.path()), (std::set<std::string>{"run"}));
}

TEST(OutputFolder, AFailedRunLeavesThePreviousOutputs) {
    syn::test::TempDir tmp;
    const fs::path out = tmp.path() / "run";
    fs::create_directories(out);
    std::ofstream(out / syn::kOutputMarker) << "";
    std::ofstream(out / "table.md") << "old";
    try {
        StagedOutputFolder staged(out.string());
        syn::write_file_atomically((fs::path(staged.path()) / "table.md").string(), "half");
        throw std::runtime_error("figure rendering failed");
    } catch (const std::runtime_error&) {
    }
    EXPECT_EQ(syn::read_file((out / "table.md").string()), "old");
    EXPECT_EQ(names_in(tmp.path()), (std::set<std::string>{"run"})) << "the staging folder is removed";
}

TEST(OutputFolder, AKilledRunLeavesNothingVisibleAndIsCleanedNextTime) {
    syn::test::TempDir tmp;
    const fs::path out = tmp.path() / "run";
    fs::create_directories(out);
    std::ofstream(out / "results.json") << "old";
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {  // stages, writes half of the outputs, dies without unwinding (kill -9)
        StagedOutputFolder staged(out.string());
        std::ofstream(fs::path(staged.path()) / "table.md") << "half";
        ::_exit(9);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 9);
    EXPECT_EQ(names_in(out), (std::set<std::string>{"results.json"}));
    EXPECT_EQ(syn::read_file((out / "results.json").string()), "old");
    const std::string stale = ".run.partial-" + std::to_string(child);
    EXPECT_TRUE(fs::exists(tmp.path() / stale)) << "the dead run's staging folder is hidden, not in place";
    {
        StagedOutputFolder next(out.string());
        EXPECT_FALSE(fs::exists(tmp.path() / stale)) << "a dead process's staging folder is removed";
    }
}

TEST(OutputFolder, RefusesAFolderThatIsNotAnOutputFolder) {
    syn::test::TempDir tmp;
    const fs::path mine = tmp.path() / "Documents";
    fs::create_directories(mine);
    std::ofstream(mine / "thesis.tex") << "precious";
    const std::string message = error_of([&] { StagedOutputFolder staged(mine.string()); });
    EXPECT_NE(message.find("Documents"), std::string::npos) << message;
    EXPECT_NE(message.find("not a synesthesia output folder"), std::string::npos) << message;
    EXPECT_NE(message.find("thesis.tex"), std::string::npos) << message;
    EXPECT_EQ(names_in(mine), (std::set<std::string>{"thesis.tex"}));
    EXPECT_EQ(names_in(tmp.path()), (std::set<std::string>{"Documents"}));
    // An empty folder is fine, and so is a trailing slash.
    const fs::path empty = tmp.path() / "empty";
    fs::create_directories(empty);
    EXPECT_EQ(error_of([&] { syn::check_output_folder(empty.string() + "/"); }), "");
}

TEST(OutputFolder, FilesAndUnwritableParentsAreRefusedBeforeAnyWork) {
    syn::test::TempDir tmp;
    const std::string file = tmp.write("out.txt", "x");
    EXPECT_NE(error_of([&] { syn::check_output_folder(file); }).find("not a folder"), std::string::npos);
    EXPECT_NE(error_of([&] { syn::check_output_file(tmp.path().string()); }).find("is a folder"), std::string::npos);
    EXPECT_NE(error_of([&] { syn::check_output_folder(file + "/sub"); }), "") << "a parent that is a file";
    if (::geteuid() != 0) {  // root writes anywhere
        const fs::path locked = tmp.path() / "locked";
        fs::create_directories(locked);
        fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
        EXPECT_NE(error_of([&] { syn::check_output_folder((locked / "out").string()); }).find("cannot write"), std::string::npos);
        fs::permissions(locked, fs::perms::owner_all);
    }
}
