#include "ui/models/glue_paper_table.h"

#include "core/run/reports/glue_report.h"

namespace syn::ui {

const std::vector<GluePaperRow>& glue_paper_rows() {
    // Converted once from the core's table (core/run/reports/paper_tables.h), the single copy of the numbers.
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

// Both from the core's list of Table 1's tasks (core/run/reports/glue_report.h), in its order.
const QStringList& glue_table_task_names() {
    static const QStringList names = [] {
        QStringList out;
        for (auto task : syn::run::glue_table_tasks()) out << QString::fromStdString(syn::data::glue_task_info(task).name);
        return out;
    }();
    return names;
}

const QStringList& glue_table_task_displays() {
    static const QStringList names = [] {
        QStringList out;
        for (auto task : syn::run::glue_table_tasks())
            out << QString::fromStdString(syn::data::glue_task_info(task).display);
        return out;
    }();
    return names;
}

}  // namespace syn::ui
