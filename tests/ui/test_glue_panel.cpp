// Qt Test (offscreen): the Table 1 (GLUE) panel. The manifest is written by the CLI's own writer
// (syn::run::write_glue_outputs) from results built here, so the panel reads exactly what
// `synesthesia glue` writes. Checked: the rows, our value in its task's column (with ± sd over
// seeds), the paper's value beside it, the paper's whole Table 1 for a model the study did not
// report, the panel's paper table against the CLI's, the empty state, export, and bad / missing
// files giving a status-bar message without a dialog while the window keeps its table.
#include <QApplication>
#include <QFile>
#include <QLabel>
#include <QMessageBox>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "core/run/commands/glue_command.h"
#include "ui/main_window.h"
#include "ui/models/glue_paper_table.h"
#include "ui/panels/glue_panel.h"

using syn::ui::GluePanel;
using syn::ui::MainWindow;

namespace {

constexpr int kRte = 2 + 7;   // Model, Params, CoLA … RTE
constexpr int kSst2 = 2 + 1;
constexpr int kCola = 2;

syn::run::GlueTaskResult task_result(syn::data::GlueTask task, double mean, double sd, int seeds) {
    syn::run::GlueTaskResult t;
    t.task = task;
    t.primary_metric = syn::run::glue_primary_metric(task);
    t.mean[t.primary_metric] = mean;
    t.sd[t.primary_metric] = sd;
    t.runs.resize(seeds);
    t.encoder_parameters = 108310272;
    return t;
}

// Writes glue_manifest.json (and the tables) into `dir` with the CLI's writer; returns its path.
QString write_manifest(const QString& dir, const std::vector<syn::run::GlueModelResults>& results) {
    syn::run::GlueJobOptions options;
    syn::run::write_glue_outputs(results, options, dir.toStdString());
    return dir + "/glue_manifest.json";
}

QString cell(const QStandardItemModel& m, int row, int column) { return m.item(row, column)->text(); }

bool any_message_box_visible() {
    for (QWidget* w : QApplication::topLevelWidgets())
        if (qobject_cast<QMessageBox*>(w) && w->isVisible()) return true;
    return false;
}

}  // namespace

class TestGluePanel : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QCoreApplication::setOrganizationName("SynesthesiaTest");
        QCoreApplication::setApplicationName("test_ui_glue_panel");
        QSettings().clear();
    }

    void oursBesideThePapersRow() {
        QTemporaryDir dir;
        syn::run::GlueModelResults m;
        m.model = "bert-base-cased";
        m.tasks.push_back(task_result(syn::data::GlueTask::rte, 0.66, 0.01, 2));
        const QString path = write_manifest(dir.path(), {m});
        QString note;
        const auto table = syn::ui::glue_table_from_manifest(path, &note);
        QCOMPARE(table->columnCount(), 11);
        QCOMPARE(table->headerData(kRte, Qt::Horizontal).toString(), QString("RTE"));
        QCOMPARE(table->headerData(10, Qt::Horizontal).toString(), QString("Avg"));
        QCOMPARE(table->rowCount(), 2);
        QCOMPARE(cell(*table, 0, 0), QString("bert-base-cased (ours)"));
        QCOMPARE(table->item(0, 0)->data(Qt::UserRole).toString(), QString("ours"));
        QCOMPARE(cell(*table, 0, 1), QString("108M"));
        QCOMPARE(cell(*table, 0, kRte), QString("66.00 ± 1.00"));
        QCOMPARE(table->item(0, kRte)->data(Qt::UserRole).toDouble(), 66.0);
        QCOMPARE(cell(*table, 0, kCola), QString("–"));
        QCOMPARE(cell(*table, 0, 10), QString("–"));  // Avg only over all eight tasks
        QCOMPARE(cell(*table, 1, 0), QString("BERT-base (paper)"));
        QCOMPARE(table->item(1, 0)->data(Qt::UserRole).toString(), QString("paper"));
        QCOMPARE(cell(*table, 1, 1), QString("110M"));
        QCOMPARE(cell(*table, 1, kRte), QString("65.34"));
        QCOMPARE(cell(*table, 1, kCola), QString("57.78"));
        QCOMPARE(cell(*table, 1, 10), QString("81.86"));
        QVERIFY2(note.contains("Ours") && note.contains("paper"), qPrintable(note));
    }

    void allTasksGiveAnAverage() {
        QTemporaryDir dir;
        syn::run::GlueModelResults m;
        m.model = "/models/roberta-base";
        double sum = 0;
        for (syn::data::GlueTask t : {syn::data::GlueTask::cola, syn::data::GlueTask::sst2, syn::data::GlueTask::mrpc,
                                      syn::data::GlueTask::stsb, syn::data::GlueTask::qqp, syn::data::GlueTask::mnli,
                                      syn::data::GlueTask::qnli, syn::data::GlueTask::rte}) {
            const double v = 0.5 + 0.05 * static_cast<int>(t);
            sum += 100 * v;
            m.tasks.push_back(task_result(t, v, 0.0, 1));
        }
        const auto table = syn::ui::glue_table_from_manifest(write_manifest(dir.path(), {m}));
        QCOMPARE(cell(*table, 0, 0), QString("roberta-base (ours)"));
        QCOMPARE(cell(*table, 0, kCola), QString("50.00"));  // one seed: no ± sd
        QCOMPARE(cell(*table, 0, kRte), QString("85.00"));
        QCOMPARE(cell(*table, 0, 10), QString::number(sum / 8, 'f', 2));
        QCOMPARE(cell(*table, 1, 0), QString("RoBERTa-base (paper)"));
        QCOMPARE(cell(*table, 1, kRte), QString("68.23"));
    }

    void unreportedModelGetsThePapersWholeTable() {
        QTemporaryDir dir;
        syn::run::GlueModelResults m;
        m.model = "/work/shared/fixtures/models/tiny-bert";
        m.tasks.push_back(task_result(syn::data::GlueTask::sst2, 0.71875, 0.0, 1));
        QString note;
        const auto table = syn::ui::glue_table_from_manifest(write_manifest(dir.path(), {m}), &note);
        QCOMPARE(table->rowCount(), 1 + 8);
        QCOMPARE(cell(*table, 0, 0), QString("tiny-bert (ours)"));
        QCOMPARE(cell(*table, 0, kSst2), QString("71.88"));
        QCOMPARE(cell(*table, 1, 0), QString("BERT-base (paper)"));
        QCOMPARE(cell(*table, 1, kSst2), QString("92.20"));
        QCOMPARE(cell(*table, 8, 0), QString("CLIP ViT-L/14@336px (paper)"));
        QCOMPARE(cell(*table, 8, 10), QString("73.62"));
        QVERIFY2(note.contains("for reference"), qPrintable(note));
    }

    void papersTableMatchesTheClis() {
        for (const auto& row : syn::ui::glue_paper_rows()) {
            std::string label, params;
            const auto cli = syn::run::paper_glue_row(row.id.toStdString(), &label, &params);
            QCOMPARE(cli.size(), row.values.size());
            for (std::size_t i = 0; i < cli.size(); ++i) QCOMPARE(cli[i], row.values[i]);
            QCOMPARE(QString::fromStdString(label), row.label);
            QCOMPARE(QString::fromStdString(params), row.params);
        }
    }

    void windowOpensExportsAndRefusesBadFiles() {
        QTemporaryDir dir;
        syn::run::GlueModelResults m;
        m.model = "bert-base-cased";
        m.tasks.push_back(task_result(syn::data::GlueTask::rte, 0.66, 0.01, 2));
        const QString good = write_manifest(dir.path(), {m});

        MainWindow window;
        window.setErrorBoxesEnabled(false);
        window.show();
        GluePanel* panel = window.gluePanel();
        QVERIFY(panel);
        QVERIFY(!panel->hasResults());
        QVERIFY(panel->emptyText().contains("synesthesia glue"));
        QVERIFY(!window.exportGlueTable(dir.path() + "/nothing.md"));  // nothing open yet

        QVERIFY(window.loadGlueResults(good));
        QVERIFY(panel->hasResults());
        QCOMPARE(panel->model()->rowCount(), 2);
        QCOMPARE(panel->model()->item(0, kRte)->text(), QString("66.00 ± 1.00"));

        const QString md = dir.path() + "/table1.md";
        QVERIFY(window.exportGlueTable(md));
        QFile f(md);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        QVERIFY2(text.contains("RTE") && text.contains("66.00 ± 1.00") && text.contains("BERT-base (paper)") &&
                     text.contains("65.34"),
                 qPrintable(text));

        // Not JSON: the status bar names the file; no dialog; the table stays.
        const QString bad = dir.path() + "/broken.json";
        {
            QFile b(bad);
            QVERIFY(b.open(QIODevice::WriteOnly));
            b.write("{\"models\": [ {\"model\": ");
        }
        QSignalSpy errors(&window, &MainWindow::errorShown);
        QVERIFY(!window.loadGlueResults(bad));
        QCOMPARE(errors.count(), 1);
        QVERIFY2(window.lastError().contains("broken.json") && window.lastError().contains("JSON"),
                 qPrintable(window.lastError()));
        QVERIFY2(window.statusBar()->currentMessage().contains("broken.json"),
                 qPrintable(window.statusBar()->currentMessage()));
        QVERIFY(!any_message_box_visible());
        QCOMPARE(panel->manifestPath(), good);
        QCOMPARE(panel->model()->rowCount(), 2);

        // JSON, but not a GLUE manifest; a task without its metric; a missing file.
        const QString other = dir.path() + "/other.json";
        {
            QFile o(other);
            QVERIFY(o.open(QIODevice::WriteOnly));
            o.write("{\"experiment\": \"STS\"}");
        }
        QVERIFY(!window.loadGlueResults(other));
        QVERIFY2(window.lastError().contains("other.json") && window.lastError().contains("models"),
                 qPrintable(window.lastError()));
        const QString no_metric = dir.path() + "/no_metric.json";
        {
            QFile o(no_metric);
            QVERIFY(o.open(QIODevice::WriteOnly));
            o.write(R"({"models": [{"model": "x", "tasks": [{"task": "rte", "primary_metric": "accuracy", "mean": {}}]}]})");
        }
        QVERIFY(!window.loadGlueResults(no_metric));
        QVERIFY2(window.lastError().contains("no_metric.json") && window.lastError().contains("mean.accuracy"),
                 qPrintable(window.lastError()));
        QVERIFY(!window.loadGlueResults(dir.path() + "/absent.json"));
        QVERIFY2(window.lastError().contains("absent.json"), qPrintable(window.lastError()));
        QVERIFY(!any_message_box_visible());

        // The window keeps working: the good file opens again.
        QVERIFY(window.loadGlueResults(good));
        QCOMPARE(panel->model()->item(1, kRte)->text(), QString("65.34"));
    }
};

QTEST_MAIN(TestGluePanel)
#include "test_glue_panel.moc"
