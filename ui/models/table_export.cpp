#include "ui/models/table_export.h"

#include <QAbstractItemModel>
#include <QFileInfo>
#include <QSaveFile>
#include <QStringList>

#include "core/io/errors.h"
#include "core/run/text_formats.h"

namespace syn::ui {

TableFormat table_format_for(const QString& path) {
    const QString s = QFileInfo(path).suffix().toLower();
    if (s == "csv") return TableFormat::Csv;
    if (s == "md" || s == "markdown") return TableFormat::Markdown;
    if (s == "tex") return TableFormat::Latex;
    throw syn::file_error(path.toStdString(), "unknown table format '" + s.toStdString() + "' (use .csv, .md or .tex)");
}

namespace {
// The core's escaping (core/run/text_formats.h), on QStrings.
QString csv_field(const QString& v) { return QString::fromStdString(syn::run::csv_field(v.toStdString())); }
QString markdown_field(const QString& v) { return QString::fromStdString(syn::run::markdown_cell(v.toStdString())); }
QString latex_field(const QString& v) { return QString::fromStdString(syn::run::latex_escape(v.toStdString())); }
}  // namespace

QString table_to_text(const QAbstractItemModel& model, TableFormat format) {
    const int rows = model.rowCount(), cols = model.columnCount();
    QStringList header;
    for (int c = 0; c < cols; ++c) header << model.headerData(c, Qt::Horizontal, Qt::DisplayRole).toString();
    auto cell = [&](int r, int c) { return model.data(model.index(r, c), Qt::DisplayRole).toString(); };
    QString out;
    if (format == TableFormat::Csv) {
        QStringList line;
        for (const auto& h : header) line << csv_field(h);
        out += line.join(',') + "\r\n";
        for (int r = 0; r < rows; ++r) {
            line.clear();
            for (int c = 0; c < cols; ++c) line << csv_field(cell(r, c));
            out += line.join(',') + "\r\n";
        }
    } else if (format == TableFormat::Markdown) {
        QStringList line;
        for (const auto& h : header) line << markdown_field(h);
        out += "| " + line.join(" | ") + " |\n";
        out += "|" + QString(" --- |").repeated(cols) + "\n";
        for (int r = 0; r < rows; ++r) {
            line.clear();
            for (int c = 0; c < cols; ++c) line << markdown_field(cell(r, c));
            out += "| " + line.join(" | ") + " |\n";
        }
    } else {
        out += "\\begin{tabular}{" + QString("l").repeated(cols) + "}\n\\hline\n";
        QStringList line;
        for (const auto& h : header) line << latex_field(h);
        out += line.join(" & ") + " \\\\\n\\hline\n";
        for (int r = 0; r < rows; ++r) {
            line.clear();
            for (int c = 0; c < cols; ++c) line << latex_field(cell(r, c));
            out += line.join(" & ") + " \\\\\n";
        }
        out += "\\hline\n\\end{tabular}\n";
    }
    return out;
}

void write_table(const QAbstractItemModel& model, const QString& path) {
    const QString text = table_to_text(model, table_format_for(path));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) throw syn::file_error(path.toStdString(), "cannot open for writing: " +
                                                                                         file.errorString().toStdString());
    file.write(text.toUtf8());
    if (!file.commit()) throw syn::file_error(path.toStdString(), "cannot write: " + file.errorString().toStdString());
}

}  // namespace syn::ui
