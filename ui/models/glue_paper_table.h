#pragma once
// The study's Table 1 (GLUE dev, metrics x100) as printed in the paper (docs/PAPER.md section 1):
// what the Table 1 panel shows beside our numbers when a manifest carries no paper row of its own
// (a model the study did not report, e.g. a tiny test model). The numbers come from the core's
// table (syn::run::paper_glue_rows), as Qt strings.
#include <QString>
#include <QStringList>

#include <vector>

namespace syn::ui {

struct GluePaperRow {
    QString id;      // Hugging Face id
    QString label;   // as in the paper: "BERT-base", "CLIP ViT-B/32", ...
    QString params;  // "110M", ...
    std::vector<double> values;  // CoLA SST-2 MRPC STS-B QQP MNLI QNLI RTE Avg
};

// All eight rows, in the paper's order.
const std::vector<GluePaperRow>& glue_paper_rows();
// The row with this label ("BERT-base") or id; nullptr when none.
const GluePaperRow* find_glue_paper_row(const QString& label_or_id);
// Table 1's task columns (display names) and their CLI names, in the study's order.
const QStringList& glue_table_task_names();     // "cola", "sst2", ...
const QStringList& glue_table_task_displays();  // "CoLA", "SST-2", ...

}  // namespace syn::ui
