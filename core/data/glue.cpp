#include "core/data/glue.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/io/atomic_file.h"
#include "core/data/text_lines.h"
#include "core/io/errors.h"
#include "core/io/quote.h"
#include "core/io/strings.h"

namespace syn::data {
namespace {

const std::vector<GlueTaskInfo>& task_table() {
    static const std::vector<GlueTaskInfo> table = {
        {GlueTask::cola, "cola", "CoLA", "CoLA", {"0", "1"}, false},
        {GlueTask::sst2, "sst2", "SST-2", "SST-2", {"0", "1"}, false},
        {GlueTask::mrpc, "mrpc", "MRPC", "MRPC", {"0", "1"}, true},
        {GlueTask::stsb, "stsb", "STS-B", "STS-B", {}, true},
        {GlueTask::qqp, "qqp", "QQP", "QQP", {"0", "1"}, true},
        {GlueTask::mnli, "mnli", "MNLI", "MNLI", {"contradiction", "entailment", "neutral"}, true},
        {GlueTask::qnli, "qnli", "QNLI", "QNLI", {"entailment", "not_entailment"}, true},
        {GlueTask::rte, "rte", "RTE", "RTE", {"entailment", "not_entailment"}, true},
        {GlueTask::wnli, "wnli", "WNLI", "WNLI", {"0", "1"}, true},
    };
    return table;
}

constexpr int kLast = -2;  // the label is the last column (HF: line[-1])
constexpr int kNone = -1;

// Where the fields of one kind of file are (HF glue.py's indices), and how its header names them.
struct Layout {
    bool has_header = true;
    int text_a = 0;
    int text_b = kNone;
    int label = kNone;
    std::string text_a_name;  // header name at text_a (checked, so a wrong task's file is caught)
    std::string text_b_name;
};

// The labeled (train/dev) layout and the unlabeled (test) layout of a task, plus the header column
// whose presence tells them apart.
struct TaskLayouts {
    Layout labeled;
    Layout unlabeled;
    std::string label_column;
};

TaskLayouts layouts_of(GlueTask task) {
    switch (task) {
        case GlueTask::cola:  // train/dev: source, label, original mark, sentence (no header)
            return {{false, 3, kNone, 1, "", ""}, {true, 1, kNone, kNone, "sentence", ""}, ""};
        case GlueTask::sst2:
            return {{true, 0, kNone, 1, "sentence", ""}, {true, 1, kNone, kNone, "sentence", ""}, "label"};
        case GlueTask::mrpc:  // Quality, #1 ID, #2 ID, #1 String, #2 String
            return {{true, 3, 4, 0, "#1 String", "#2 String"}, {true, 3, 4, kNone, "#1 String", "#2 String"}, "Quality"};
        case GlueTask::stsb:
            return {{true, 7, 8, kLast, "sentence1", "sentence2"}, {true, 7, 8, kNone, "sentence1", "sentence2"}, "score"};
        case GlueTask::qqp:
            return {{true, 3, 4, 5, "question1", "question2"}, {true, 1, 2, kNone, "question1", "question2"},
                    "is_duplicate"};
        case GlueTask::mnli:
            return {{true, 8, 9, kLast, "sentence1", "sentence2"}, {true, 8, 9, kNone, "sentence1", "sentence2"},
                    "gold_label"};
        case GlueTask::qnli:
            return {{true, 1, 2, kLast, "question", "sentence"}, {true, 1, 2, kNone, "question", "sentence"}, "label"};
        case GlueTask::rte:
        case GlueTask::wnli:
            return {{true, 1, 2, kLast, "sentence1", "sentence2"}, {true, 1, 2, kNone, "sentence1", "sentence2"},
                    "label"};
    }
    throw Error("unknown GLUE task");
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

// Tab split with quoting disabled: every character between tabs is data.
std::vector<std::string> split_tabs(const std::string& line) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
        const std::size_t tab = line.find('\t', start);
        if (tab == std::string::npos) {
            fields.push_back(line.substr(start));
            return fields;
        }
        fields.push_back(line.substr(start, tab - start));
        start = tab + 1;
    }
}

// The lines of a file through the one line splitter (data::LineReader: BOM skipped; MRPC's files
// start with one), CR trimmed; blank lines at the very end are the trailing newline(s), not records.
std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> lines;
    LineReader reader(text);
    std::string_view line;
    while (reader.next(line)) {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.emplace_back(line);
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
}

std::string at_line(const std::string& source, std::size_t line, const std::string& message) {
    return source + ":" + std::to_string(line) + ": " + message;
}

int min_columns(const Layout& layout) {
    int needed = std::max(layout.text_a, layout.text_b) + 1;
    if (layout.label >= 0) needed = std::max(needed, layout.label + 1);
    if (layout.label == kLast) needed += 1;  // the label comes after the texts
    return needed;
}

bool is_unlabeled_header(GlueTask task, const std::vector<std::string>& header, const TaskLayouts& layouts) {
    if (task == GlueTask::cola) return header.size() == 2 && header[0] == "index" && header[1] == "sentence";
    return std::find(header.begin(), header.end(), layouts.label_column) == header.end();
}

void check_header(const std::vector<std::string>& header, const Layout& layout, const GlueTaskInfo& info,
                  const std::string& source) {
    auto expect = [&](int column, const std::string& name) {
        if (column < 0 || name.empty()) return;
        if (int(header.size()) <= column || header[column] != name)
            throw Error(at_line(source, 1, "header " + quote_excerpt(join(header, "\t")) + " is not a GLUE " + info.display +
                                               " header (expected column " + std::to_string(column + 1) + " '" +
                                               name + "')"));
    };
    expect(layout.text_a, layout.text_a_name);
    expect(layout.text_b, layout.text_b_name);
}

void parse_label(const GlueTaskInfo& info, const std::string& field, GlueExample& example, const std::string& source) {
    if (info.regression()) {
        const char* begin = field.c_str();
        char* end = nullptr;
        const double score = std::strtod(begin, &end);
        if (field.empty() || end != begin + field.size() || !std::isfinite(score) || score < 0.0 || score > 5.0)
            throw Error(at_line(source, example.line, "label " + quote_excerpt(field) + " is not a similarity score in [0, 5]"));
        example.score = score;
        return;
    }
    const auto it = std::find(info.labels.begin(), info.labels.end(), field);
    if (it == info.labels.end())
        throw Error(at_line(source, example.line,
                            "label " + quote_excerpt(field) + " is not one of " + join(info.labels, ", ") + " (" + info.display + ")"));
    example.label = static_cast<int>(it - info.labels.begin());
}

}  // namespace

const GlueTaskInfo& glue_task_info(GlueTask task) {
    for (const auto& info : task_table())
        if (info.task == task) return info;
    throw Error("unknown GLUE task");
}

const std::vector<GlueTask>& all_glue_tasks() {
    static const std::vector<GlueTask> tasks = {GlueTask::cola, GlueTask::sst2, GlueTask::mrpc,
                                                GlueTask::stsb, GlueTask::qqp,  GlueTask::mnli,
                                                GlueTask::qnli, GlueTask::rte,  GlueTask::wnli};
    return tasks;
}

GlueTask parse_glue_task(const std::string& name) {
    std::string key = lower(name);
    key.erase(std::remove(key.begin(), key.end(), '-'), key.end());
    std::vector<std::string> names;
    for (const auto& info : task_table()) {
        if (key == info.name) return info.task;
        names.push_back(info.name);
    }
    throw Error("GLUE task " + quote_excerpt(name) + " is not one of " + join(names, ", "));
}

GlueSplit parse_glue_tsv(GlueTask task, const std::string& text, const std::string& source,
                         const GlueReadOptions& options) {
    const GlueTaskInfo& info = glue_task_info(task);
    const TaskLayouts layouts = layouts_of(task);
    const std::vector<std::string> lines = split_lines(text);
    if (lines.empty()) throw file_error(source, "empty file: no GLUE " + info.display + " records");

    GlueSplit split;
    split.task = task;
    split.path = source;
    const std::vector<std::string> first = split_tabs(lines[0]);
    split.labeled = !is_unlabeled_header(task, first, layouts);
    const Layout& layout = split.labeled ? layouts.labeled : layouts.unlabeled;
    if (layout.has_header) check_header(first, layout, info, source);

    const bool skip_malformed = options.malformed == GlueReadOptions::Malformed::skip ||
                                (options.malformed == GlueReadOptions::Malformed::task_default && task == GlueTask::qqp);
    const int needed = min_columns(layout);
    for (std::size_t i = layout.has_header ? 1 : 0; i < lines.size(); ++i) {
        const std::size_t line_no = i + 1;
        const std::vector<std::string> fields = split_tabs(lines[i]);
        if (int(fields.size()) < needed) {
            if (skip_malformed) {
                split.skipped_lines.push_back(line_no);
                continue;
            }
            throw Error(at_line(source, line_no,
                                "expected at least " + std::to_string(needed) + " tab-separated columns for " +
                                    info.display + ", got " + std::to_string(fields.size())));
        }
        GlueExample example;
        example.line = line_no;
        example.text_a = fields[layout.text_a];
        if (layout.text_b >= 0) example.text_b = fields[layout.text_b];
        if (layout.label != kNone) {
            const std::string& field = layout.label == kLast ? fields.back() : fields[layout.label];
            parse_label(info, field, example, source);
        }
        split.examples.push_back(std::move(example));
    }
    return split;
}

GlueSplit read_glue_tsv(GlueTask task, const std::string& path, const GlueReadOptions& options) {
    // read_file: "<path>: cannot open: ...", or "<path>: is a directory, not a file".
    return parse_glue_tsv(task, read_file(path), path, options);
}

std::string glue_split_path(const std::string& glue_dir, GlueTask task, const std::string& split) {
    const GlueTaskInfo& info = glue_task_info(task);
    std::string file;
    if (split == "train") {
        file = "train.tsv";
    } else if (split == "dev" || split == "test") {
        file = task == GlueTask::mnli ? split + "_matched.tsv" : split + ".tsv";
    } else if (task == GlueTask::mnli && (split == "dev_matched" || split == "dev_mismatched" ||
                                          split == "test_matched" || split == "test_mismatched")) {
        file = split + ".tsv";
    } else {
        throw Error("GLUE split '" + split + "' is not one of train, dev, test" +
                    (task == GlueTask::mnli ? ", dev_matched, dev_mismatched, test_matched, test_mismatched" : ""));
    }
    const std::filesystem::path path = std::filesystem::path(glue_dir) / info.folder / file;
    if (!std::filesystem::exists(path))
        throw file_error(path.string(), "GLUE " + info.display + " " + split +
                                            " file not found (expected the layout of the official GLUE download: "
                                            "<glue>/" + info.folder + "/" + file + ")");
    return path.string();
}

void require_labeled(const GlueSplit& split, const std::string& purpose) {
    if (split.labeled) return;
    throw file_error(split.path, "is an unlabeled GLUE " + glue_task_info(split.task).display +
                                     " test split (its header has no label column; GLUE test labels are not public) "
                                     "and cannot be used for " + purpose + ": use train.tsv / dev.tsv");
}

}  // namespace syn::data
