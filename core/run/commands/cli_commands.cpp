#include "core/run/commands/cli_commands.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/io/errors.h"
#include "core/io/model_store.h"
#include "core/io/output_folder.h"
#include "core/io/safetensors.h"
#include "core/io/sentence_transformers.h"
#include "core/io/hf_config.h"
#include "core/io/torch/cpu_features.h"
#include "core/io/torch/torch_runtime.h"
#include "core/run/catalog.h"
#include "core/run/device_choice.h"
#include "core/run/commands/celeba_captions_command.h"
#include "core/run/jobs/embed_job.h"
#include "core/run/jobs/t2i_job.h"
#include "core/run/commands/glue_command.h"
#include "core/run/commands/launch_command.h"
#include "core/run/model_description.h"
#include "core/run/commands/fetch_command.h"
#include "core/run/progress.h"
#include "core/run/commands/plan_command.h"
#include "core/run/commands/score_command.h"
#include "core/run/commands/t2i_command.h"
#include "core/run/reports/embeddings_file.h"
#include "core/run/reports/score_report.h"
#include "core/run/reports/text_formats.h"
#include "core/run/versions.h"

namespace syn::run {
namespace {

void print_models() {
    std::printf("%-48s %-8s %-7s %-12s %s\n", "model", "family", "style", "sts pooling", "status");
    for (const auto& e : load_catalog()) {
        std::string status;
        if (e.is_lexical()) status = "built in";
        else status = resolve_model(e.id) ? "in the local cache" : "not downloaded (" + hf_hub_cache_dir() + ")";
        auto p = e.pooling.find("sts");
        std::printf("%-48s %-8s %-7s %-12s %s\n", e.id.c_str(), e.family.c_str(), e.style.c_str(),
                    p == e.pooling.end() ? "-" : p->second.c_str(), status.c_str());
    }
}

// Folders and hub ids named on the command line, and every sentence-transformers model (modules.json)
// in the Hugging Face cache: family, the pooling used when none is asked for, details.
void print_local_models(const std::vector<std::string>& named) {
    struct Row {
        std::string label, folder;
    };
    std::vector<Row> rows;
    std::set<std::string> seen;
    for (const auto& id : named) {
        auto r = resolve_model(id);
        if (!r) {
            std::printf("\n%s: not a folder and not in the local Hugging Face cache (%s)\n", id.c_str(),
                        hf_hub_cache_dir().c_str());
            continue;
        }
        if (seen.insert(r->folder).second) rows.push_back({id, r->folder});
    }
    for (const auto& r : list_cached_models())
        if (st::is_sentence_transformers_folder(r.folder) && seen.insert(r.folder).second)
            rows.push_back({r.id, r.folder});
    if (rows.empty()) return;
    std::printf("\nlocal models (a sentence-transformers folder's modules.json pipeline is its default pooling):\n");
    std::printf("%-48s %-34s %-26s %s\n", "model", "family", "default pooling", "details");
    for (const auto& row : rows) {
        std::string family, pooling, details;
        const ModelDescription d = describe_model(row.folder);
        if (!d.ok()) {
            family = "unusable";
            pooling = "-";
            details = d.error;
        } else if (d.sentence_transformers) {
            family = "sentence-transformers (" + (d.model_type.empty() ? std::string("?") : d.model_type) + ")";
            pooling = d.st_pooling;
            details = d.st_details;
        } else {
            family = d.family;
            pooling = default_pooling(row.label);
            details = row.folder;
        }
        std::printf("%-48s %-34s %-26s %s\n", row.label.c_str(), family.c_str(), pooling.c_str(), details.c_str());
    }
}

}  // namespace

int cli_main(int argc, char** argv, const FigureWriter& figures) {
    CLI::App app{"synesthesia: compare BERT-style and CLIP-style text encoders (headless workbench)"};
    app.require_subcommand(1);
    app.set_version_flag("--version", [] { return version_line(); });
    CancelToken cancel;
    TerminalProgress bar;
    int exit_status = 0;

    auto* device = app.add_subcommand("device", "Print the compute device and torch threads");
    device->callback([] {
        DeviceInfo info = describe_compute_device();
        std::printf("%s (libtorch %s)\n", info.summary().c_str(), info.torch_version.c_str());
        std::printf("CPU instruction sets: %s\n", cpu_features().isa_summary().c_str());
        const DeviceChoice c = choose_device("auto", "auto");
        std::printf("--device auto --dtype auto: %s %s (%s)\n", c.device.str().c_str(), c.dtype_name.c_str(),
                    c.reason.c_str());
    });

    auto* models = app.add_subcommand("models", "List the model catalog and what is available locally");
    std::vector<std::string> models_named;
    models->add_option("model", models_named,
                       "Model folders or hub ids to describe (sentence-transformers folders: family and pipeline)");
    models->callback([&] {
        print_models();
        print_local_models(models_named);
    });
    add_glue_command(app);
    add_fetch_command(app);
    add_t2i_commands(app);
    add_score_command(app);
    add_plan_command(app);
    add_celeba_captions_command(app);
    add_launch_command(app, exit_status);

    // embed
    EmbedOptions eo;
    std::string embed_in, embed_out;
    auto* embed = app.add_subcommand("embed", "Embed the lines of a text file with one encoder");
    embed->add_option("--model", eo.model, "Model folder, hub id (from the HF cache) or catalog id")->required();
    embed->add_option("--pooling", eo.pooling,
                      "cls, pooler, mean, eos, last_non_pad, projected; +l2 to normalise (default: a sentence-transformers "
                      "folder's modules.json pipeline, else the catalog's STS pooling, else mean)");
    embed->add_option("--device", eo.device, "auto, cpu, cuda, cuda:N (auto / cuda: every GPU when several are visible)")
        ->capture_default_str();
    embed->add_option("--devices", eo.devices,
                      "One model replica per device, the batches shared out, the output one device's: all (every "
                      "GPU), cuda:0,cuda:1, or cpu,cpu (CPU replicas sharing the threads)");
    embed->add_option("--dtype", eo.dtype,
                      "auto (bfloat16 on CUDA and on CPUs with AMX-BF16/AVX512-BF16, else float32), float32, "
                      "bfloat16, float16 (CUDA)")
        ->capture_default_str();
    embed->add_option("--token-budget", eo.token_budget, "Padded tokens per batch")->capture_default_str();
    embed->add_flag("!--no-cache", eo.use_cache, "Do not read or write the embedding cache");
    embed->add_option("--in", embed_in, "Text file, one text per line")->required();
    embed->add_option("--out", embed_out, "Output .safetensors (tensor 'embeddings' [N, D])")->required();
    std::string embed_shard;
    embed->add_option("--shard", embed_shard,
                      "i/n: embed shard i of n (every n-th batch of the unsharded plan); the output holds those rows "
                      "and their 'positions'; `synesthesia merge` joins the n outputs into the unsharded one");
    embed->callback([&] {
        check_output_file(embed_out);
        if (!embed_shard.empty()) std::tie(eo.shard_index, eo.shard_count) = parse_shard(embed_shard);
        auto texts = read_text_lines(embed_in);
        install_interrupt_handler(&cancel);
        EmbedResult r = embed_texts(texts, eo, bar.sink(), &cancel);
        install_interrupt_handler(nullptr);
        write_embeddings_file(embed_out, r, texts.size(), embed_in, embed_shard.empty() ? "" : embed_shard);
        std::fprintf(stderr, "%zu texts (%zu unique: %zu from cache, %zu computed, %zu truncated) -> %s [%lld dims] in %.1f s\n",
                     texts.size(), r.unique_texts, r.from_cache, r.computed, r.truncated_texts, embed_out.c_str(),
                     static_cast<long long>(r.dim), r.seconds);
    });

    // merge
    std::vector<std::string> merge_in;
    std::string merge_out;
    auto* merge = app.add_subcommand("merge", "Join the outputs of `embed --shard i/n`, `generate --shard i/n` or `score --shard i/n`");
    merge->add_option("shards", merge_in, "The n shard files or folders (any order)")->required();
    merge->add_option("--out", merge_out, "What the unsharded run writes: a .safetensors file or an output folder")->required();
    merge->callback([&] {
        if (is_score_shard_folder(merge_in.front())) {  // score --shard (score_report.h)
            check_output_folder(merge_out);
            const std::size_t n = merge_score_shards(merge_in, merge_out);
            std::fprintf(stderr, "%zu score shards, %zu images -> %s\n", merge_in.size(), n, merge_out.c_str());
            return;
        }
        if (std::filesystem::is_directory(merge_in.front())) {
            check_output_folder(merge_out);
            const std::size_t n = merge_generation_shards(merge_in, merge_out);
            std::fprintf(stderr, "%zu shards, %zu faces -> %s\n", merge_in.size(), n, merge_out.c_str());
            return;
        }
        check_output_file(merge_out);
        const std::size_t n = merge_embedding_shards(merge_in, merge_out);
        std::fprintf(stderr, "%zu shards, %zu texts -> %s\n", merge_in.size(), n, merge_out.c_str());
    });

    // sts
    StsJobOptions so;
    std::string sts_out;
    auto* sts = app.add_subcommand("sts", "STS-L / STS-V evaluation (the study's Table 2)");
    sts->add_option("--cxc", so.cxc_csv, "CxC STS csv (sts_test.csv)")->required();
    sts->add_option("--captions", so.captions_json, "MS-COCO captions json")->required();
    sts->add_option("--models,--model", so.models,
                    "Models: catalog ids, hub ids, folders, lexical/jaccard, lexical/tfidf; model:pooling sets one "
                    "model's pooling (roberta-base:cls, roberta-base:random_pooler@0); space- or comma-separated")
        ->delimiter(',')
        ->required();
    sts->add_option("--pooling", so.pooling,
                    "Pooling for every neural model without its own (default: the catalog's STS pooling): cls, pooler, "
                    "mean, eos, last_non_pad, projected, random_pooler@<seed>; +l2 to normalise");
    sts->add_option("--device", so.device, "auto, cpu, cuda, cuda:N")->capture_default_str();
    sts->add_option("--dtype", so.dtype,
                    "auto (bfloat16 on CUDA and on CPUs with AMX-BF16/AVX512-BF16, else float32), float32, bfloat16, "
                    "float16 (CUDA)")
        ->capture_default_str();
    sts->add_option("--bootstrap", so.bootstrap, "Bootstrap resamples")->capture_default_str();
    sts->add_option("--seed", so.seed, "Bootstrap seed")->capture_default_str();
    sts->add_option("--max-pairs", so.max_pairs, "Use N evenly spaced pairs (0 = all)")->capture_default_str();
    sts->add_option("--devices", so.devices,
                    "all, or cuda:0,cuda:1 (cpu,cpu): one model replica per device, the same vectors as one device's");
    sts->add_option("--token-budget", so.token_budget, "Padded tokens per batch (0: the default, 16384)")
        ->check(CLI::Range(int64_t(0), int64_t(1) << 40));
    sts->add_flag("!--no-cache", so.use_cache, "Do not read or write the embedding cache");
    sts->add_option("--out", sts_out, "Output folder (not with --shard)");
    std::string sts_shard;
    sts->add_option("--shard", sts_shard,
                    "i/n: only the embedding phase, shard i of n, into the embedding cache; run sts without --shard "
                    "after all shards to score (it then computes nothing)");
    bool sts_interop = false;
    sts->add_flag("--mteb", sts_interop,
                  "Also write MTEB-shaped result files (mteb/<model>/...) and sentence-transformers' similarity CSVs");
    sts->callback([&] {
        if (!sts_shard.empty()) {
            if (!sts_out.empty()) throw CLI::ValidationError("--out", "a --shard run writes only the embedding cache");
            const auto [index, count] = parse_shard(sts_shard);
            install_interrupt_handler(&cancel);
            const StsShardOutcome shard = run_sts_embedding_shard(so, index, count, bar.sink(), &cancel);
            install_interrupt_handler(nullptr);
            for (const auto& line : shard.lines) std::fprintf(stderr, "%s\n", line.c_str());
            if (shard.failed) exit_status = kExitSomeModelsFailed;
            return;
        }
        if (sts_out.empty()) throw CLI::RequiredError("--out");
        check_output_folder(sts_out);  // before any work: a run never computes for an unwritable --out
        install_interrupt_handler(&cancel);
        StsResult r = run_sts(so, bar.sink(), &cancel);
        install_interrupt_handler(nullptr);
        FigureWriter writer = figures;
        if (!writer)
            std::fprintf(stderr, "note: figures not written: this build has no Qt (configure with SYN_BUILD_UI=ON)\n");
        auto written = write_sts_outputs(r, sts_out, writer, sts_interop);
        std::printf("%s\n", sts_table_markdown(r).c_str());
        std::fprintf(stderr, "%s\n", r.dataset.summary().c_str());
        for (const auto& p : written) std::fprintf(stderr, "wrote %s\n", p.c_str());
        for (const auto& f : r.failed) std::fprintf(stderr, "FAILED %s: %s\n", f.model.c_str(), f.reason.c_str());
        if (!r.failed.empty()) {
            std::fprintf(stderr, "%zu of %zu models failed (named in the tables); exit status 3\n", r.failed.size(),
                         r.failed.size() + r.encoders.size());
            exit_status = kExitSomeModelsFailed;
        }
    });

    try {
        init_torch_runtime();
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help and --version exit 0; a usage error exits 2 as POSIX tools do (CLI11's own codes
        // are 105-109).
        return app.exit(e) == 0 ? 0 : kExitUsage;
    } catch (const Cancelled& c) {
        std::fprintf(stderr, "\ncancelled during %s: completed work is cached; nothing was half-written\n",
                     c.where.c_str());
        return interrupt_exit_status();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return exit_status;
}

}  // namespace syn::run
