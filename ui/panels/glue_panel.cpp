#include "ui/panels/glue_panel.h"

#include <QBrush>
#include <QColor>
#include <QFile>
#include <QFont>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

#include <cmath>

#include "core/io/errors.h"
#include "ui/models/glue_paper_table.h"

namespace syn::ui {
namespace {

[[noreturn]] void fail(const QString& path, const QString& message) {
    throw syn::file_error(path.toStdString(), message.toStdString());
}

QString fixed(double v) { return std::isnan(v) ? QString("n/a") : QString::number(v, 'f', 2); }

// As the CLI's table: parameters in millions (or thousands for tiny models), "–" when unknown.
QString params_text(qint64 n) {
    if (n <= 0) return "–";
    if (n >= 1000000) return QString("%1M").arg(std::llround(double(n) / 1e6));
    return QString("%1K").arg(double(n) / 1e3, 0, 'f', 1);
}

QList<QStandardItem*> row_items(const QString& label, const QString& params, const QString& source) {
    QList<QStandardItem*> items;
    auto* first = new QStandardItem(label);
    first->setData(source, Qt::UserRole);
    items << first << new QStandardItem(params);
    for (auto* item : items) item->setEditable(false);
    return items;
}

void add_number(QList<QStandardItem*>& items, double value, const QString& text) {
    auto* item = new QStandardItem(text);
    item->setData(value, Qt::UserRole);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    item->setEditable(false);
    items << item;
}

void add_dash(QList<QStandardItem*>& items) {
    auto* item = new QStandardItem("–");
    item->setTextAlignment(Qt::AlignCenter);
    item->setEditable(false);
    items << item;
}

void style_paper_row(const QList<QStandardItem*>& items) {
    for (auto* item : items) {
        QFont f = item->font();
        f.setItalic(true);
        item->setFont(f);
        item->setForeground(QBrush(QColor(110, 110, 110)));
    }
}

QList<QStandardItem*> paper_items(const QString& label, const QString& params, const std::vector<double>& values) {
    auto items = row_items(label + " (paper)", params, "paper");
    for (double v : values) add_number(items, v, fixed(v));
    style_paper_row(items);
    return items;
}

// The primary metric's mean (x100) of one task object; throws naming the file and key.
double task_mean(const QString& path, const QString& model, const QJsonObject& task, double* sd) {
    const QString name = task.value("task").toString();
    const QString metric = task.value("primary_metric").toString();
    const QJsonValue mean = task.value("mean").toObject().value(metric);
    if (metric.isEmpty() || !mean.isDouble())
        fail(path, QString("model '%1', task '%2': no number at mean.%3").arg(model, name, metric.isEmpty() ? "<primary_metric>" : metric));
    *sd = 100.0 * task.value("sd").toObject().value(metric).toDouble(0.0);
    return 100.0 * mean.toDouble();
}

}  // namespace

QStringList glue_table_headers() {
    QStringList headers = {"Model", "Params"};
    headers << glue_table_task_displays() << "Avg";
    return headers;
}

std::unique_ptr<QStandardItemModel> glue_table_from_manifest(const QString& path, QString* note) {
    QFile file(path);
    if (!file.exists()) fail(path, "no such file (write one with `synesthesia glue … --out <dir>`)");
    if (!file.open(QIODevice::ReadOnly)) fail(path, "cannot open: " + file.errorString());
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError)
        fail(path, QString("not valid JSON at byte %1: %2").arg(error.offset).arg(error.errorString()));
    const QJsonArray models = doc.object().value("models").toArray();
    if (!doc.isObject() || !doc.object().value("models").isArray())
        fail(path, "not a GLUE manifest (no 'models' array; expected glue_manifest.json from `synesthesia glue`)");

    auto table = std::make_unique<QStandardItemModel>();
    table->setHorizontalHeaderLabels(glue_table_headers());
    const QStringList& tasks = glue_table_task_names();
    bool any_paper_in_manifest = false;
    for (const QJsonValue& mv : models) {
        const QJsonObject m = mv.toObject();
        const QString model = m.value("model").toString();
        if (model.isEmpty()) fail(path, "a 'models' entry has no 'model' name");
        std::vector<double> means(tasks.size(), NAN), sds(tasks.size(), 0.0);
        std::vector<int> runs(tasks.size(), 0);
        qint64 params = 0;
        for (const QJsonValue& tv : m.value("tasks").toArray()) {
            const QJsonObject t = tv.toObject();
            const int column = tasks.indexOf(t.value("task").toString());
            if (column < 0) continue;  // WNLI: not in Table 1, as in the study
            means[column] = task_mean(path, model, t, &sds[column]);
            runs[column] = t.value("runs").toArray().size();
            params = std::max<qint64>(params, t.value("encoder_parameters").toVariant().toLongLong());
        }
        // A folder path is long; the table names the model by its last component, the tooltip in full.
        const QString shown = model.section('/', -1, -1, QString::SectionSkipEmpty);
        auto items = row_items((shown.isEmpty() ? model : shown) + " (ours)", params_text(params), "ours");
        items.front()->setToolTip(model);
        double sum = 0;
        int count = 0;
        for (int i = 0; i < tasks.size(); ++i) {
            if (std::isnan(means[i])) {
                add_dash(items);
                continue;
            }
            QString text = fixed(means[i]);
            if (runs[i] > 1) text += " ± " + fixed(sds[i]);
            add_number(items, means[i], text);
            sum += means[i];
            ++count;
        }
        // Avg only over all eight tasks, as the paper's.
        if (count == tasks.size()) add_number(items, sum / count, fixed(sum / count));
        else add_dash(items);
        table->appendRow(items);

        const QJsonObject paper = m.value("paper").toObject();
        const QJsonArray values = paper.value("values").toArray();
        if (!paper.isEmpty() && values.size() == tasks.size() + 1) {
            std::vector<double> v;
            for (const QJsonValue& x : values) v.push_back(x.toDouble(NAN));
            const QString label = paper.value("label").toString(model);
            const GluePaperRow* known = find_glue_paper_row(label);
            table->appendRow(paper_items(label, known ? known->params : "–", v));
            any_paper_in_manifest = true;
        }
    }
    // None of our models is one the study reported: its whole Table 1 below ours, for reference.
    if (!any_paper_in_manifest)
        for (const auto& row : glue_paper_rows()) table->appendRow(paper_items(row.label, row.params, row.values));
    if (note)
        *note = QString("Ours (upright, “(ours)”): %1 — GLUE dev, metrics ×100 (CoLA Matthews, MRPC/QQP F1, STS-B "
                        "Spearman, accuracy otherwise), mean ± sd over seeds of each seed's best epoch. "
                        "The paper's (italic grey, “(paper)”): the study's Table 1%2.")
                    .arg(path,
                         any_paper_in_manifest ? " as recorded in the manifest"
                                               : ", all rows for reference (the manifest's models are not in it)");
    return table;
}

GluePanel::GluePanel(QWidget* parent) : QWidget(parent) {
    stack_ = new QStackedWidget(this);
    empty_ = new QLabel(this);
    empty_->setWordWrap(true);
    empty_->setAlignment(Qt::AlignCenter);
    empty_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    empty_->setText(
        "<p><b>No GLUE results yet.</b></p>"
        "<p>Fine-tune on the GLUE tasks with the command line, e.g.</p>"
        "<p><code>synesthesia glue --task all --data &lt;GLUE folder&gt; --model bert-base-cased --out glue-out</code></p>"
        "<p>then open <code>glue-out/glue_manifest.json</code> with <b>File ▸ Open GLUE results…</b>. "
        "The table shows our numbers with the paper's Table 1 beside them.</p>");
    auto* page = new QWidget(this);
    auto* layout = new QVBoxLayout(page);
    note_ = new QLabel(page);
    note_->setWordWrap(true);
    view_ = new QTableView(page);
    view_->verticalHeader()->hide();
    view_->setAlternatingRowColors(false);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    layout->addWidget(view_, 1);
    layout->addWidget(note_);
    stack_->addWidget(empty_);
    stack_->addWidget(page);
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(stack_);
    clear();
}

GluePanel::~GluePanel() = default;

void GluePanel::loadManifest(const QString& path) {
    QString note;
    auto table = glue_table_from_manifest(path, &note);  // throws before anything shown changes
    view_->setModel(table.get());
    model_ = std::move(table);
    view_->resizeColumnsToContents();
    note_->setText(note);
    path_ = path;
    stack_->setCurrentIndex(1);
}

void GluePanel::clear() {
    auto table = std::make_unique<QStandardItemModel>();
    table->setHorizontalHeaderLabels(glue_table_headers());
    view_->setModel(table.get());
    model_ = std::move(table);
    note_->clear();
    path_.clear();
    stack_->setCurrentIndex(0);
}

QString GluePanel::note() const { return note_->text(); }

QString GluePanel::emptyText() const { return empty_->text(); }

}  // namespace syn::ui
