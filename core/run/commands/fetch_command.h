#pragma once
// `synesthesia fetch`: models from the Hugging Face hub (into the cache Python shares) and the
// study's data (into the data folder), with progress, resume and Ctrl-C. The GUI's download
// manager calls plan_fetch / run_fetch the same way.
#include <cstdio>
#include <string>
#include <vector>

#include "core/io/dataset_fetch.h"
#include "core/io/hub_download.h"
#include "core/run/progress.h"

namespace CLI {
class App;
}

namespace syn::run {

struct FetchOptions {
    std::vector<std::string> repos;      // hub ids
    std::string revision = "main";
    bool study = false;                  // the catalog's models + every dataset of Tables 1-3
    bool list = false;                   // print the plan only
    std::vector<std::string> datasets;   // dataset ids (see datasets::study_datasets), or "mm-celeba-hq"
    std::string data_dir;                // "" = datasets::default_data_dir()
};

struct FetchPlan {
    std::vector<std::string> models;
    std::string revision = "main";
    std::vector<const datasets::DatasetEntry*> data;
    bool mm_celeba_hq = false;  // print the by-hand steps
    std::string data_dir;
};

// Throws syn::Error for an unknown dataset id or an empty request.
FetchPlan plan_fetch(const FetchOptions& options);

// What would be fetched, from where, to where, and what is already present (`--list`).
std::string describe_plan(const FetchPlan& plan, const hub::HubOptions& hub);

struct FetchOutcome {
    std::vector<std::string> done;      // one line per model / dataset
    std::vector<std::string> failures;  // one message per failed item; the others still ran
};

// Fetches everything in the plan, continuing past a failed item. Throws Cancelled when `cancel`
// is set (the partial file stays for resuming).
FetchOutcome run_fetch(const FetchPlan& plan, const hub::HubOptions& hub, const ProgressSink& progress,
                       CancelToken* cancel);

// The command that runs Table 2 on what `fetch --study` wrote into `data_dir` (printed after it):
// space-separated model ids (the catalog's Table 2 rows), the test split and its captions.
std::string table2_hint(const std::string& data_dir);

// Registers the `fetch` subcommand on the `synesthesia` app.
void add_fetch_command(CLI::App& app);

}  // namespace syn::run
