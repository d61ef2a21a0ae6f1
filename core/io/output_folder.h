#pragma once
// All outputs of one run appear together or not at all. They are written into a hidden sibling
// folder "<parent>/.<name>.partial-<pid>", and commit() puts it in place with one rename (an
// atomic exchange when <out> already holds a previous run's outputs, which are then removed).
// An interrupted or failed run leaves <out> as it was; stale partial folders of dead processes
// are removed by the next run.
//
// Only an output folder may be replaced: <out> must be absent, empty, or hold the marker file
// written into every committed folder (or results.json, from runs before the marker existed).
// Anything else is refused before any work, so a user's own folder is never swapped away.
#include <string>

namespace syn {

// The marker written into every committed output folder.
inline constexpr const char* kOutputMarker = ".synesthesia-output";

// Checks, before any work, that `out` can be created or replaced: its parent is creatable and
// writable, and `out` is not a file nor a folder of someone else's. Leaves nothing behind except
// the parent folders. syn::Error naming the path otherwise.
void check_output_folder(const std::string& out);

// The same check for a single output file (written atomically by its writer): not a folder, and
// its parent creatable and writable.
void check_output_file(const std::string& path);

class StagedOutputFolder {
public:
    // check_output_folder(out), then creates the staging folder.
    explicit StagedOutputFolder(const std::string& out);
    ~StagedOutputFolder();  // removes the staging folder unless committed
    StagedOutputFolder(const StagedOutputFolder&) = delete;
    StagedOutputFolder& operator=(const StagedOutputFolder&) = delete;

    // Where to write the files now.
    const std::string& path() const { return staging_; }
    // Where they will be after commit().
    const std::string& final_path() const { return out_; }
    // `file` under path() -> the same file under final_path().
    std::string final_path_of(const std::string& file) const;

    // Writes the marker, fsyncs and moves the staging folder to final_path().
    void commit();

private:
    std::string out_, staging_;
    bool committed_ = false;
};

}  // namespace syn
