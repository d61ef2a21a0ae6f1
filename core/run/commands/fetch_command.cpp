#include "core/run/commands/fetch_command.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "core/io/errors.h"
#include "core/io/model_store.h"
#include "core/io/quote.h"
#include "core/io/strings.h"
#include "core/run/catalog.h"

namespace fs = std::filesystem;

namespace syn::run {
namespace {

const char* const kMmCelebaId = "mm-celeba-hq";

void add_unique(std::vector<std::string>& v, const std::string& s) {
    if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

std::string known_dataset_ids() {
    std::string s;
    for (const auto& e : datasets::study_datasets()) s += e.id + ", ";
    return s + kMmCelebaId;
}

std::string human_size(long long bytes) {
    char buf[32];
    if (bytes >= (1LL << 30)) std::snprintf(buf, sizeof buf, "%.2f GB", bytes / double(1LL << 30));
    else std::snprintf(buf, sizeof buf, "%.1f MB", bytes / double(1LL << 20));
    return buf;
}

}  // namespace

std::string table2_hint(const std::string& data_dir) {
    std::string models;
    for (const auto& e : load_catalog())  // the catalog's paper_label rows are Table 2's encoders
        if (!e.paper_label.empty()) models += " " + shell_word(e.id);
    const std::string d = data_dir.empty() ? datasets::default_data_dir() : data_dir;
    return "Table 2 (the study's eight encoders and the lexical baselines):\n  synesthesia sts --cxc " +
           shell_word(d + "/cxc/sts_test.csv") + " --captions " +
           shell_word(d + "/coco/annotations/captions_val2014.json") +
           " \\\n    --models lexical/jaccard lexical/tfidf" + models + " --out results/table2\n";
}

FetchPlan plan_fetch(const FetchOptions& o) {
    FetchPlan p;
    p.revision = o.revision.empty() ? "main" : o.revision;
    p.data_dir = o.data_dir.empty() ? datasets::default_data_dir() : o.data_dir;
    for (const auto& r : o.repos) {
        if (!looks_like_hub_id(r)) throw Error("'" + r + "' is not a Hugging Face hub id (expected org/name)");
        add_unique(p.models, r);
    }
    if (o.study) {
        for (const auto& e : load_catalog())
            if (!e.is_lexical()) add_unique(p.models, e.id);
        add_unique(p.models, datasets::kClipScoringModel);
        for (const auto& e : datasets::study_datasets()) p.data.push_back(&e);
        p.mm_celeba_hq = true;
    }
    for (const auto& id : o.datasets) {
        if (id == kMmCelebaId) {
            p.mm_celeba_hq = true;
            continue;
        }
        const datasets::DatasetEntry* e = datasets::find_dataset(id);
        if (!e) throw Error("unknown dataset '" + id + "'; known: " + known_dataset_ids());
        if (std::find(p.data.begin(), p.data.end(), e) == p.data.end()) p.data.push_back(e);
    }
    if (p.models.empty() && p.data.empty() && !p.mm_celeba_hq && !o.list)
        throw Error("nothing to fetch: give hub ids, --study, or --data <ids> (" + known_dataset_ids() + ")");
    if (p.models.empty() && p.data.empty() && !p.mm_celeba_hq && o.list) {  // plain --list: the study's plan
        FetchOptions all = o;
        all.study = true;
        all.list = false;
        return plan_fetch(all);
    }
    return p;
}

std::string describe_plan(const FetchPlan& plan, const hub::HubOptions& hub) {
    std::string s;
    if (!plan.models.empty()) {
        s += "Models (revision " + plan.revision + ") from " + hub.endpoint + (hub.offline ? " [HF_HUB_OFFLINE: no downloads]" : "") +
             "\n  into the Hugging Face cache " + hub.cache_dir + " (HF_HUB_CACHE / HF_HOME):\n";
        for (const auto& m : plan.models) {
            bool have = hub::cached_model(m, plan.revision, hub.cache_dir).has_value();
            char line[512];
            std::snprintf(line, sizeof line, "  %-48s %s\n", m.c_str(),
                          have ? "in the cache" : ("to download -> " + hf_cache_repo_folder_name(m)).c_str());
            s += line;
        }
        s += "  (config.json, tokenizer files, and model.safetensors — sharded via its index — or pytorch_model.bin)\n";
    }
    if (!plan.data.empty()) {
        s += "Data into " + plan.data_dir + " (SYNESTHESIA_DATA):\n";
        for (const auto* e : plan.data) {
            s += "  " + e->id + ": " + e->title + " [" + e->used_for + "]\n      source: " + e->source + "\n";
            for (const auto& f : e->files) {
                s += "      " + f.url + "\n        -> " + datasets::local_path(f, plan.data_dir) +
                     (datasets::file_present(f, plan.data_dir) ? "  (present)" : "") +
                     (f.extract ? "  (extracted from the zip)" : "") + "\n";
            }
        }
    }
    if (plan.mm_celeba_hq) {
        std::error_code ec;
        bool present = fs::is_directory(fs::path(plan.data_dir) / "mm-celeba-hq" / "text", ec);
        s += std::string("Not fetchable automatically") + (present ? " (found)" : "") + ":\n" +
             datasets::mm_celeba_hq_instructions(plan.data_dir);
    }
    return s;
}

FetchOutcome run_fetch(const FetchPlan& plan, const hub::HubOptions& hub_in, const ProgressSink& progress,
                       CancelToken* cancel) {
    FetchOutcome out;
    hub::HubOptions hub = hub_in;
    if (cancel) hub.transfer.cancelled = [cancel] { return cancel->cancelled(); };
    if (progress)
        hub.progress = [progress](const std::string& file, long long done, long long total) {
            progress({Stage::downloading, file, done, total});
        };
    for (const auto& m : plan.models) {
        throw_if_cancelled(cancel, "fetch");
        try {
            hub::SnapshotResult r = hub::download_model(m, plan.revision, hub);
            out.done.push_back(m + ": " + std::to_string(r.files.size()) + " files (" + std::to_string(r.downloaded) +
                               " downloaded) in " + r.folder);
        } catch (const net::TransferCancelled&) {
            throw Cancelled{"the download of " + m};
        } catch (const std::exception& e) {
            out.failures.push_back(e.what());
        }
    }
    for (const auto* e : plan.data) {
        throw_if_cancelled(cancel, "fetch");
        try {
            if (hub.offline) {
                bool all = std::all_of(e->files.begin(), e->files.end(),
                                       [&](const auto& f) { return datasets::file_present(f, plan.data_dir); });
                if (!all)
                    throw Error(e->id + ": HF_HUB_OFFLINE is set, so nothing is downloaded; missing files:\n" + [&] {
                        std::string s;
                        for (const auto& f : e->files)
                            if (!datasets::file_present(f, plan.data_dir))
                                s += "  " + f.url + " -> " + (fs::path(plan.data_dir) / f.relpath).string() + "\n";
                        return s;
                    }());
                out.done.push_back(e->id + ": present in " + plan.data_dir);
                continue;
            }
            auto r = datasets::fetch_dataset(*e, plan.data_dir, hub.transfer,
                                             [&progress](const std::string& file, long long done, long long total) {
                                                 if (progress) progress({Stage::downloading, file, done, total});
                                             });
            out.done.push_back(e->id + ": " + std::to_string(r.downloaded) + " downloaded, " +
                               std::to_string(r.present) + " already present (" + plan.data_dir + ")");
        } catch (const net::TransferCancelled&) {
            throw Cancelled{"the download of " + e->id};
        } catch (const std::exception& ex) {
            out.failures.push_back(ex.what());
        }
    }
    return out;
}

void add_fetch_command(CLI::App& app) {
    // The options live as long as the app's callback that uses them.
    auto opts = std::make_shared<FetchOptions>();
    auto* fetch = app.add_subcommand(
        "fetch", "Download hub models (into the Hugging Face cache) and the study's data, resumable and verified");
    fetch->add_option("ids", opts->repos, "Hugging Face hub ids (org/name)");
    fetch->add_option("--revision", opts->revision, "Branch, tag or commit")->capture_default_str();
    fetch->add_flag("--study", opts->study, "Everything Tables 1-3 need: the catalog's models and the data");
    fetch->add_flag("--list", opts->list, "Print what would be fetched and where it goes; download nothing");
    fetch->add_option("--data", opts->datasets, "Datasets: " + known_dataset_ids())->delimiter(',');
    fetch->add_option("--data-dir", opts->data_dir, "Data folder (default $SYNESTHESIA_DATA or ~/.local/share/synesthesia)");
    fetch->callback([opts] {
        FetchPlan plan = plan_fetch(*opts);
        hub::HubOptions hub = hub::HubOptions::from_environment();
        if (opts->list) {
            std::printf("%s", describe_plan(plan, hub).c_str());
            return;
        }
        CancelToken cancel;
        TerminalProgress bar;
        auto sink = bar.sink();
        ProgressSink sized = [&sink](const Progress& p) {
            Progress shown = p;
            if (p.total > 0) shown.subject += " (" + human_size(p.total) + ")";
            sink(shown);
        };
        install_interrupt_handler(&cancel);
        FetchOutcome out;
        try {
            out = run_fetch(plan, hub, sized, &cancel);
        } catch (...) {
            install_interrupt_handler(nullptr);
            throw;
        }
        install_interrupt_handler(nullptr);
        for (const auto& line : out.done) std::printf("%s\n", line.c_str());
        if (plan.mm_celeba_hq) std::printf("\n%s", datasets::mm_celeba_hq_instructions(plan.data_dir).c_str());
        if (opts->study && out.failures.empty()) std::printf("\n%s", table2_hint(plan.data_dir).c_str());
        if (!out.failures.empty())
            throw Error(std::to_string(out.failures.size()) + " item(s) could not be fetched:\n" + join(out.failures, "\n\n"));
    });
}

}  // namespace syn::run
