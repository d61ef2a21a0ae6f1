#include "core/run/glue_command.h"
#include "core/run/text_formats.h"

#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <iomanip>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"

namespace syn::run {
namespace {

using data::GlueTask;

// The eight tasks of Table 1 (WNLI excluded, as in the study), in its column order.
const std::vector<GlueTask>& table_tasks() {
    static const std::vector<GlueTask> tasks = {GlueTask::cola, GlueTask::sst2, GlueTask::mrpc, GlueTask::stsb,
                                                GlueTask::qqp,  GlueTask::mnli, GlueTask::qnli, GlueTask::rte};
    return tasks;
}


const GlueTaskResult* find_task(const GlueModelResults& m, GlueTask task) {
    for (const auto& t : m.tasks)
        if (t.task == task) return &t;
    return nullptr;
}

std::string fixed(double v) {
    if (std::isnan(v)) return "n/a";
    std::ostringstream s;
    s << std::fixed << std::setprecision(2) << v;
    return s.str();
}

std::string params_text(int64_t n) {
    if (n <= 0) return "–";
    std::ostringstream s;
    if (n >= 1000000) s << std::llround(double(n) / 1e6) << "M";
    else s << std::fixed << std::setprecision(1) << double(n) / 1e3 << "K";
    return s.str();
}

struct Row {
    std::string label, params;
    std::vector<std::string> cells;  // 8 tasks + Avg
};

std::vector<Row> table_rows(const std::vector<GlueModelResults>& results, const std::string& pm) {
    std::vector<Row> rows;
    for (const auto& m : results) {
        Row r;
        r.label = m.model + " (ours)";
        double sum = 0;
        int count = 0;
        int64_t params = 0;
        for (GlueTask task : table_tasks()) {
            const GlueTaskResult* t = find_task(m, task);
            if (!t) {
                r.cells.push_back("–");
                continue;
            }
            params = t->encoder_parameters;
            const double mean = 100.0 * t->mean.at(t->primary_metric);
            std::string cell = fixed(mean);
            if (t->runs.size() > 1) cell += " " + pm + " " + fixed(100.0 * t->sd.at(t->primary_metric));
            r.cells.push_back(cell);
            sum += mean;
            ++count;
        }
        r.params = params_text(params);
        r.cells.push_back(count == int(table_tasks().size()) ? fixed(sum / count) : "–");
        rows.push_back(r);
        std::string label, paper_params;
        const auto paper = paper_glue_row(m.model, &label, &paper_params);
        if (!paper.empty()) {
            Row p;
            p.label = label + " (paper)";
            p.params = paper_params;
            for (double v : paper) p.cells.push_back(fixed(v));
            rows.push_back(p);
        }
    }
    return rows;
}


}  // namespace

std::string glue_table_markdown(const std::vector<GlueModelResults>& results) {
    std::ostringstream s;
    s << "| Model | Params |";
    for (GlueTask t : table_tasks()) s << ' ' << data::glue_task_info(t).display << " |";
    s << " Avg |\n|---|---|";
    for (std::size_t i = 0; i <= table_tasks().size(); ++i) s << "---|";
    s << '\n';
    for (const auto& r : table_rows(results, "±")) {
        s << "| " << r.label << " | " << r.params << " |";
        for (const auto& c : r.cells) s << ' ' << c << " |";
        s << '\n';
    }
    s << "\nMetrics x100 on GLUE dev: CoLA Matthews corr., MRPC and QQP F1, STS-B Spearman, accuracy otherwise "
         "(MNLI matched). Ours: mean (± sd over seeds) of each seed's best epoch.\n";
    return s.str();
}

std::string glue_table_latex(const std::vector<GlueModelResults>& results) {
    std::ostringstream s;
    s << "\\begin{tabular}{l r " << std::string(table_tasks().size() + 1, 'r') << "}\n\\toprule\nModel & Params";
    for (GlueTask t : table_tasks()) s << " & " << data::glue_task_info(t).display;
    s << " & Avg \\\\\n\\midrule\n";
    for (const auto& r : table_rows(results, "$\\pm$")) {
        s << latex_escape(r.label) << " & " << r.params;
        for (const auto& c : r.cells) s << " & " << (c == "–" ? "--" : c);
        s << " \\\\\n";
    }
    s << "\\bottomrule\n\\end{tabular}\n";
    return s.str();
}

std::vector<std::string> write_glue_outputs(const std::vector<GlueModelResults>& results, const GlueJobOptions& o,
                                            const std::string& out_dir) {
    namespace fs = std::filesystem;
    fs::create_directories(out_dir);
    nlohmann::json manifest = {{"experiment", "GLUE (Table 1)"},
                               {"recipe",
                                {{"learning_rate", o.learning_rate}, {"batch_size", o.batch_size},
                                 {"max_length", o.max_length}, {"epochs", o.epochs}, {"warmup_ratio", o.warmup_ratio},
                                 {"weight_decay", o.weight_decay}, {"max_grad_norm", o.max_grad_norm},
                                 {"seeds", o.seeds}, {"linear_probe", o.linear_probe},
                                 {"max_train_examples", o.max_train_examples}, {"max_eval_examples", o.max_eval_examples}}},
                               {"glue_dir", o.glue_dir},
                               {"models", nlohmann::json::array()}};
    for (const auto& m : results) {
        nlohmann::json jm = {{"model", m.model}, {"tasks", nlohmann::json::array()}};
        for (const auto& t : m.tasks) {
            nlohmann::json jt = {{"task", data::glue_task_info(t.task).name}, {"primary_metric", t.primary_metric},
                                 {"mean", t.mean}, {"sd", t.sd}, {"model_folder", t.model_folder},
                                 {"device", t.device}, {"precision", t.precision}, {"epochs", t.epochs},
                                 {"max_length", t.max_length}, {"train_examples", t.train_examples},
                                 {"eval_examples", t.eval_examples}, {"skipped_train_lines", t.skipped_train_lines},
                                 {"encoder_parameters", t.encoder_parameters}, {"runs", nlohmann::json::array()}};
            for (const auto& r : t.runs) {
                nlohmann::json jr = {{"seed", r.seed}, {"best_epoch", r.best_epoch}, {"best_metrics", r.best_metrics},
                                     {"best_checkpoint", r.best_checkpoint}, {"finished", r.finished},
                                     {"epochs", nlohmann::json::array()}};
                for (const auto& e : r.epochs)
                    jr["epochs"].push_back({{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"metrics", e.metrics}});
                jt["runs"].push_back(jr);
            }
            jm["tasks"].push_back(jt);
        }
        std::string label;
        const auto paper = paper_glue_row(m.model, &label);
        if (!paper.empty()) jm["paper"] = {{"label", label}, {"values", paper}};
        manifest["models"].push_back(jm);
    }
    const std::vector<std::pair<std::string, std::string>> files = {
        {"glue_table.md", glue_table_markdown(results)},
        {"glue_table.tex", glue_table_latex(results)},
        {"glue_manifest.json", manifest.dump(2) + "\n"}};
    // Each file whole or not at all (as STS's): a reader never sees a half-written table.
    std::vector<std::string> written;
    for (const auto& [name, text] : files) {
        const std::string path = (fs::path(out_dir) / name).string();
        write_file_atomically(path, text);
        written.push_back(path);
    }
    return written;
}

void add_glue_command(CLI::App& app) {
    struct State {
        GlueJobOptions options;
        std::vector<std::string> tasks = {"all"};
        std::vector<std::string> models;
        std::string data, out;
        bool no_mixed = false, no_resume = false;
    };
    auto st = std::make_shared<State>();
    auto* glue = app.add_subcommand("glue", "GLUE fine-tuning / linear probing (the study's Table 1)");
    glue->add_option("--task", st->tasks, "all (the 8 of Table 1), or cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli")
        ->delimiter(',')
        ->capture_default_str();
    glue->add_option("--data", st->data, "GLUE folder (CoLA/, SST-2/, ... as the official download)")->required();
    glue->add_option("--models,--model", st->models,
                     "Model folders, hub ids or catalog ids (space- or comma-separated, or repeated)")
        ->delimiter(',')
        ->required();
    glue->add_option("--out", st->out, "Output folder")->required();
    glue->add_option("--lr", st->options.learning_rate, "Learning rate")->capture_default_str();
    glue->add_option("--batch-size,--batch", st->options.batch_size, "Batch size")->capture_default_str();
    glue->add_option("--max-length", st->options.max_length, "Max tokens (capped by the model: 77 for CLIP)")
        ->capture_default_str();
    glue->add_option("--epochs", st->options.epochs, "Epochs (0: 3, MRPC and WNLI 5)")->capture_default_str();
    glue->add_option("--warmup-ratio", st->options.warmup_ratio, "Linear warm-up fraction")->capture_default_str();
    glue->add_option("--weight-decay", st->options.weight_decay, "AdamW weight decay")->capture_default_str();
    glue->add_option("--max-grad-norm", st->options.max_grad_norm, "Gradient clipping (0: off)")->capture_default_str();
    glue->add_option("--seeds", st->options.seeds, "Seeds, comma-separated")->delimiter(',')->capture_default_str();
    glue->add_flag("--linear-probe", st->options.linear_probe, "Freeze the encoder, train the head only");
    glue->add_option("--device", st->options.device, "auto, cpu, cuda, cuda:N")->capture_default_str();
    glue->add_flag("--no-mixed-precision", st->no_mixed, "float32 on CUDA too");
    glue->add_flag("--no-resume", st->no_resume, "Ignore saved state and start afresh");
    glue->add_option("--max-train", st->options.max_train_examples, "Use the first N training examples (0 = all)");
    glue->add_option("--max-eval", st->options.max_eval_examples, "Use the first N dev examples (0 = all)");
    glue->callback([st] {
        st->options.glue_dir = st->data;
        // The out folder holds resumable runs, so it is not staged; it must be writable before training.
        std::error_code ec;
        std::filesystem::create_directories(st->out, ec);
        if (ec || ::access(st->out.c_str(), W_OK) != 0)
            throw file_error(st->out, "cannot write to the output folder" + (ec ? ": " + ec.message() : std::string()));
        CancelToken cancel;
        install_interrupt_handler(&cancel);
        std::vector<GlueTask> tasks;
        for (const auto& t : st->tasks) {
            if (t == "all") tasks.insert(tasks.end(), table_tasks().begin(), table_tasks().end());
            else tasks.push_back(data::parse_glue_task(t));
        }
        std::vector<GlueModelResults> results;
        for (const auto& model : st->models) {
            GlueModelResults mr;
            mr.model = model;
            for (GlueTask task : tasks) {
                GlueJobOptions o = st->options;
                o.task = task;
                o.model = model;
                o.glue_dir = st->data;
                std::string safe = model;
                for (char& c : safe)
                    if (c == '/' || c == '\\' || c == ':') c = '_';
                o.out_dir = (std::filesystem::path(st->out) / "runs" / safe).string();
                o.mixed_precision = !st->no_mixed;
                o.resume = !st->no_resume;
                o.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
                o.cancel = &cancel;
                mr.tasks.push_back(run_glue_task(o));
            }
            results.push_back(std::move(mr));
        }
        install_interrupt_handler(nullptr);
        for (const auto& path : write_glue_outputs(results, st->options, st->out))
            std::fprintf(stderr, "wrote %s\n", path.c_str());
        std::printf("%s", glue_table_markdown(results).c_str());
    });
}

}  // namespace syn::run
