#include "core/run/reports/glue_report.h"


#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/io/errors.h"
#include "core/run/reports/text_formats.h"

namespace syn::run {

using data::GlueTask;

const std::vector<GlueTask>& glue_table_tasks() {
    static const std::vector<GlueTask> tasks = {GlueTask::cola, GlueTask::sst2, GlueTask::mrpc, GlueTask::stsb,
                                                GlueTask::qqp,  GlueTask::mnli, GlueTask::qnli, GlueTask::rte};
    return tasks;
}

namespace {

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
        for (GlueTask task : glue_table_tasks()) {
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
        r.cells.push_back(count == int(glue_table_tasks().size()) ? fixed(sum / count) : "–");
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
    for (GlueTask t : glue_table_tasks()) s << ' ' << data::glue_task_info(t).display << " |";
    s << " Avg |\n|---|---|";
    for (std::size_t i = 0; i <= glue_table_tasks().size(); ++i) s << "---|";
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
    s << "\\begin{tabular}{l r " << std::string(glue_table_tasks().size() + 1, 'r') << "}\n\\toprule\nModel & Params";
    for (GlueTask t : glue_table_tasks()) s << " & " << data::glue_task_info(t).display;
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
                                     {"processes", r.processes},
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

}  // namespace syn::run
