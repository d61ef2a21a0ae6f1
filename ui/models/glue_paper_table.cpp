#include "ui/models/glue_paper_table.h"

#include "core/run/glue_command.h"

namespace syn::ui {

const std::vector<GluePaperRow>& glue_paper_rows() {
    // Converted once from the core's table (core/run/glue_command.h), the single copy of the numbers.
    static const std::vector<GluePaperRow> rows = [] {
        std::vector<GluePaperRow> out;
        for (const auto& r : syn::run::paper_glue_rows())
            out.push_back({QString::fromUtf8(r.id), QString::fromUtf8(r.label), QString::fromUtf8(r.params), r.values});
        return out;
    }();
    return rows;
}

const GluePaperRow* find_glue_paper_row(const QString& label_or_id) {
    for (const auto& row : glue_paper_rows())
        if (row.label == label_or_id || row.id == label_or_id) return &row;
    return nullptr;
}

const QStringList& glue_table_task_names() {
    static const QStringList names = {"cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte"};
    return names;
}

const QStringList& glue_table_task_displays() {
    static const QStringList names = {"CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE"};
    return names;
}

}  // namespace syn::ui
