#pragma once
// Any table model (as filtered and sorted on screen) to CSV (RFC 4180 quoting), Markdown or LaTeX.
#include <QString>

class QAbstractItemModel;

namespace syn::ui {

enum class TableFormat { Csv, Markdown, Latex };
// By suffix: .csv, .md/.markdown, .tex; throws syn::Error for other suffixes.
TableFormat table_format_for(const QString& path);
QString table_to_text(const QAbstractItemModel& model, TableFormat format);
// Writes atomically; throws syn::Error naming the file.
void write_table(const QAbstractItemModel& model, const QString& path);

}  // namespace syn::ui
