#pragma once
// The study's data, fetched from the official addresses: a table of what Tables 1-3 need, where
// each file comes from and where it goes under the data folder, plus zip extraction (libzip) that
// refuses entries outside the target folder. Downloads go through net::download_verified: resumed,
// retried, verified where a checksum is known, renamed only when complete.
#include <functional>
#include <string>
#include <vector>

#include "core/io/http_client.h"

namespace syn::datasets {

struct RemoteFile {
    std::string url;
    std::string relpath;        // under the data folder
    std::string sha256;         // "" when the publisher gives none
    std::string sha256_prefix;  // "" or a hex prefix (torch hub file names carry one)
    bool extract = false;       // a zip: extracted into the folder of `relpath`, then deleted
    std::string marker;         // for archives: a file (under the data folder) the archive yields
};

struct DatasetEntry {
    std::string id;        // "cxc", "coco-captions", "glue", "taming-celebahq", "inception"
    std::string title;
    std::string used_for;  // "Table 2", ...
    std::string source;    // where the addresses come from
    std::vector<RemoteFile> files;
    bool format_mrpc = false;  // GLUE: build MRPC train/dev/test.tsv as GLUE's download script does
};

// The hub model the study scores images with (CLIP-S, Table 3).
inline constexpr const char* kClipScoringModel = "openai/clip-vit-base-patch16";

// Every fetchable dataset of the study, in a fixed order.
const std::vector<DatasetEntry>& study_datasets();
// nullptr when unknown.
const DatasetEntry* find_dataset(const std::string& id);

// $SYNESTHESIA_DATA, else $XDG_DATA_HOME/synesthesia, else ~/.local/share/synesthesia.
std::string default_data_dir();

// Where a file (or, for an archive, its marker) lives, and whether it is already there.
std::string local_path(const RemoteFile& file, const std::string& data_dir);
bool file_present(const RemoteFile& file, const std::string& data_dir);

struct FetchReport {
    int downloaded = 0, present = 0;
    std::vector<std::string> paths;
};

// Downloads (and extracts) every file of `entry` not yet present. A file that cannot be downloaded
// throws syn::Error naming the URL and the path to place it at by hand.
FetchReport fetch_dataset(const DatasetEntry& entry, const std::string& data_dir,
                          const net::TransferOptions& transfer,
                          const std::function<void(const std::string&, long long, long long)>& progress = {});

// Extracts a zip into `target_dir`. Every entry is checked first: an absolute path or a `..`
// component throws syn::Error naming the entry, and nothing is written. Files are written
// atomically; symlink entries are written as plain files.
void extract_zip(const std::string& zip_path, const std::string& target_dir);

// GLUE's MRPC from the SentEval files: train/dev split by dev_ids.tsv, as download_glue_data.py does.
void format_mrpc(const std::string& mrpc_dir);

// Multi-Modal CelebA-HQ cannot be fetched automatically (Google Drive folders, licence agreement):
// the steps, with the folder layout the workbench reads.
std::string mm_celeba_hq_instructions(const std::string& data_dir);

}  // namespace syn::datasets
