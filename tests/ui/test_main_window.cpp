// Qt Test (offscreen): the main window. Status bar names the device; with no data it shows the
// friendly empty state (no dialogs); bad input (a CSV with bad rows, a folder that is not a model)
// gives a clear message and the window keeps working; a real STS run on the lexical baselines over
// small data files fills the table (checked against core/run's lexical scores); the prompt box;
// project save / restore through the window; exports; presentation mode. Issue 20 item 8: the ETA
// is unknown ("—") at 0 done; a cancelled job's bar says so and is not full; export dialogs select
// the filter of the proposed name; the exported scatter has no selection rings and names the
// filter; a model is no longer "loading" once its embeddings are done (tiny-bert from ../shared).
#include <QFile>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest/QtTest>

#include <qcustomplot.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/io/torch/torch_runtime.h"
#include "core/run/jobs/lexical_encoders.h"
#include "core/run/jobs/sts_job.h"
#include "tests/ui/ui_test_files.h"
#include "ui/about.h"
#include "ui/compute/compute_worker.h"
#include "ui/main_window.h"
#include "ui/models/model_list_model.h"
#include "ui/models/pair_table_model.h"
#include "tests/support/shared_paths.h"
#include "ui/panels/jobs_panel.h"
#include "ui/panels/pair_explorer.h"
#include "ui/panels/plot_panels.h"
#include "ui/panels/prompt_panel.h"

using syn::test::kPairs;
using syn::test::write_data;
using syn::test::write_file;
using syn::ui::MainWindow;

namespace {


bool no_visible_message_box() {
    for (QWidget* w : QApplication::topLevelWidgets())
        if (qobject_cast<QMessageBox*>(w) && w->isVisible()) return false;
    return true;
}

}  // namespace

class TestMainWindow : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QCoreApplication::setOrganizationName("SynesthesiaTest");  // keep the user's settings out
        QCoreApplication::setApplicationName("test_ui_main_window");
        QSettings().clear();
    }

    void statusBarNamesTheDevice() {
        MainWindow window;
        window.show();
        const QString expected = QString::fromStdString(syn::describe_compute_device().summary());
        bool found = false;
        for (QLabel* label : window.statusBar()->findChildren<QLabel*>())
            if (label->text() == expected) found = true;
        QVERIFY2(found, qPrintable("status bar lacks the device label " + expected));
        QVERIFY(expected.startsWith("CPU") || expected.startsWith("CUDA"));
    }

    void withoutDataTheEmptyStateExplainsWhatToDo() {
        qputenv("SYNESTHESIA_SHARED", "/nonexistent-shared-folder");
        MainWindow window;
        window.show();
        QVERIFY(!window.autoFindData());
        auto* empty = window.findChild<QLabel*>("emptyState");
        QVERIFY(empty && empty->isVisible());
        QVERIFY(empty->text().contains("Open data"));
        QVERIFY(empty->text().contains("lexical baselines"));
        QVERIFY(empty->text().contains("sts_test.csv"));
        QVERIFY(window.lastError().isEmpty());
        QVERIFY(no_visible_message_box());
        // The lexical baselines are ticked and ready on a machine with no weights.
        const int jaccard = window.modelList()->findRow("lexical/jaccard");
        QCOMPARE(window.modelList()->entry(jaccard).status, syn::ui::ModelStatus::Ready);
        QVERIFY(window.modelList()->entry(jaccard).checked);
        qunsetenv("SYNESTHESIA_SHARED");
    }

    void badInputGivesAClearMessageAndTheWindowKeepsWorking() {
        QTemporaryDir tmp;
        write_data(tmp.path(), /*bad_row=*/true);
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        window.show();
        QSignalSpy failed(&window, &MainWindow::dataLoadFailed);
        QVERIFY(window.loadData(tmp.path() + "/sts.csv", tmp.path() + "/captions.json") > 0);
        QVERIFY(failed.wait(10000));
        QVERIFY2(window.lastError().contains("sts.csv") && window.lastError().contains("14"), qPrintable(window.lastError()));
        QVERIFY(!window.hasData());
        // A folder that is not a model.
        QVERIFY(!window.selectModels({tmp.path()}));
        QVERIFY2(window.lastError().contains("no config.json"), qPrintable(window.lastError()));
        // Still working: good data loads afterwards.
        write_data(tmp.path(), false);
        QSignalSpy loaded(&window, &MainWindow::dataLoaded);
        window.loadData(tmp.path() + "/sts.csv", tmp.path() + "/captions.json");
        QVERIFY(loaded.wait(10000));
        QCOMPARE(window.explorer()->model()->rowCount(), int(std::size(kPairs)));
    }

    void stsOnTheLexicalBaselinesFillsTableAndPlots() {
        QTemporaryDir tmp;
        write_data(tmp.path());
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        window.show();
        QSignalSpy loaded(&window, &MainWindow::dataLoaded);
        window.loadData(tmp.path() + "/sts.csv", tmp.path() + "/captions.json");
        QVERIFY(loaded.wait(10000));
        QVERIFY(window.selectModels({"lexical/jaccard", "lexical/tfidf"}));
        QSignalSpy done(&window, &MainWindow::stsFinished);
        QVERIFY(window.runSts() > 0);
        QVERIFY(done.wait(60000));
        QVERIFY2(done.at(0).at(0).toBool(), qPrintable(window.lastError()));
        auto* model = window.explorer()->model();
        QCOMPARE(model->encoderCount(), 2);
        // The jaccard column holds core/run's Jaccard of the two captions of each row.
        int jaccard = -1;
        for (int e = 0; e < 2; ++e)
            if (model->encoder(e).label.contains("jaccard", Qt::CaseInsensitive)) jaccard = e;
        QVERIFY(jaccard >= 0);
        for (int r = 0; r < model->rowCount(); ++r)
            QCOMPARE(model->encoder(jaccard).scores[r],
                     syn::run::jaccard_similarity(model->pair(r).text1, model->pair(r).text2));
        QVERIFY(model->hasDisagreement());  // two lexical encoders: the first two are compared
        QVERIFY(window.table2()->plot()->plottableCount() >= 8);
        QCOMPARE(window.scatter()->plottedPairs().size(), std::size(kPairs));
        QVERIFY(window.explorer()->liveCorrelationText().contains("STS-L"));

        // Prompt box on the worker: per encoder, its nearest captions.
        QSignalSpy prompt(&window, &MainWindow::promptFinished);
        QVERIFY(window.searchPrompt("dog on the beach", 3) > 0);
        QVERIFY(prompt.wait(20000));
        QVERIFY(prompt.at(0).at(0).toBool());
        auto* tree = window.promptPanel()->results();
        QCOMPARE(tree->topLevelItemCount(), 2);
        QCOMPARE(tree->topLevelItem(0)->childCount(), 3);
        QCOMPARE(tree->topLevelItem(0)->child(0)->text(2), QString("a dog runs on the beach"));

        // A newer search supersedes a queued one: behind a running job, "a cat" is queued, then
        // "dog on the beach" replaces it; only the newer answer is shown and the box ends idle.
        std::atomic<bool> release{false};
        window.worker()->submit(nullptr, "blocker", [&release](const syn::run::ProgressSink&, const syn::run::CancelToken*) {
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(2));
            return 0;
        });
        prompt.clear();
        QSignalSpy cancelled(window.worker(), &syn::ui::ComputeWorker::jobCancelled);
        const int older = window.searchPrompt("a cat", 3);
        const int newer = window.searchPrompt("dog on the beach", 3);
        QVERIFY(older > 0 && newer > older);
        QVERIFY(window.promptPanel()->busy());
        release = true;
        QTRY_COMPARE_WITH_TIMEOUT(prompt.count(), 2, 20000);
        QCOMPARE(prompt.at(0).at(0).toBool(), false);  // the superseded one
        QCOMPARE(prompt.at(1).at(0).toBool(), true);
        QCOMPARE(cancelled.count(), 1);
        QCOMPARE(cancelled.first().at(0).toInt(), older);
        QVERIFY(cancelled.first().at(1).toBool());
        QVERIFY(!window.promptPanel()->busy());
        QCOMPARE(tree->topLevelItem(0)->child(0)->text(2), QString("a dog runs on the beach"));

        // Exports through the window.
        QVERIFY(window.exportPlot(window.scatter()->plot(), tmp.path() + "/scatter.svg", {800, 600, 96}));
        QVERIFY(window.exportPlot(window.table2()->plot(), tmp.path() + "/t2.pdf", {800, 600, 96}));
        QVERIFY(window.exportPairsTable(tmp.path() + "/pairs.md"));
        QVERIFY(window.exportTable2(tmp.path() + "/t2.tex"));
        for (const char* f : {"/scatter.svg", "/t2.pdf", "/pairs.md", "/t2.tex"})
            QVERIFY2(QFileInfo(tmp.path() + f).size() > 100, f);
        QVERIFY(!window.exportPlot(window.scatter()->plot(), tmp.path() + "/scatter.bmp", {800, 600, 96}));
        QVERIFY(window.lastError().contains("scatter.bmp"));
    }

    void projectSaveAndRestoreRoundTrip() {
        QTemporaryDir tmp;
        write_data(tmp.path());
        const QString path = tmp.path() + "/session.synproj";
        syn::ui::ProjectState saved;
        {
            MainWindow window;
            window.setErrorBoxesEnabled(false);
            window.show();
            QSignalSpy loaded(&window, &MainWindow::dataLoaded);
            window.loadData(tmp.path() + "/sts.csv", tmp.path() + "/captions.json", 10);
            QVERIFY(loaded.wait(10000));
            QVERIFY(window.selectModels({"lexical/tfidf"}));
            const int bert = window.modelList()->findRow("bert-base-cased");
            window.modelList()->setPooling(bert, "mean");
            window.modelList()->setDtype(bert, "bfloat16");
            syn::ui::PairFilterProxy::Filter f;
            f.text = "cat";
            f.sts_l_min = 0.5;
            f.sts_v = 1;
            window.explorer()->setFilter(f);
            window.setDark(true);
            window.promptPanel()->setPrompt("a surfer");
            QVERIFY(window.saveProject(path));
            saved = window.projectState();
            QVERIFY(window.recentProjects().contains(QFileInfo(path).absoluteFilePath()));
        }
        MainWindow restored;
        restored.setErrorBoxesEnabled(false);
        restored.show();
        QSignalSpy loaded(&restored, &MainWindow::dataLoaded);
        QVERIFY(restored.openProject(path));
        QVERIFY(loaded.wait(10000));
        const auto back = restored.projectState();
        QCOMPARE(back.cxc_csv, saved.cxc_csv);
        QCOMPARE(back.max_pairs, 10);
        QVERIFY(back.models == saved.models);
        QCOMPARE(back.filter_text, QString("cat"));
        QCOMPARE(back.sts_v, 1);
        QCOMPARE(back.sts_l_min, 0.5);
        QVERIFY(restored.isDark());
        QCOMPARE(back.prompt, QString("a surfer"));
        const int bert = restored.modelList()->findRow("bert-base-cased");
        QCOMPARE(restored.modelList()->entry(bert).dtype, QString("bfloat16"));
        QCOMPARE(restored.explorer()->proxy()->rowCount(), 1);  // the one same-image cat pair
        restored.setDark(false);
        // A corrupt project: message, nothing changes.
        write_file(tmp.path() + "/bad.synproj", "{not json");
        QVERIFY(!restored.openProject(tmp.path() + "/bad.synproj"));
        QVERIFY(restored.lastError().contains("bad.synproj"));
    }

    void presentationModeStepsWithOneKey() {
        QTemporaryDir tmp;
        write_data(tmp.path());
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        window.show();
        QSignalSpy loaded(&window, &MainWindow::dataLoaded);
        window.loadData(tmp.path() + "/sts.csv", tmp.path() + "/captions.json");
        QVERIFY(loaded.wait(10000));
        const int normal = window.font().pointSize();
        std::vector<syn::ui::PresentationItem> items(3);
        items[0].kind = syn::ui::PresentationItem::Kind::Pair;
        items[0].pair = 2;
        items[1].kind = syn::ui::PresentationItem::Kind::Prompt;
        items[1].prompt = "a red bus";
        items[2].kind = syn::ui::PresentationItem::Kind::Pair;
        items[2].pair = 4;
        window.startPresentation(items);
        QVERIFY(window.presenting());
        QVERIFY(window.font().pointSize() > normal);
        QCOMPARE(window.explorer()->selectedPairs(), std::vector<int>{2});
        auto* banner = window.findChild<QLabel*>("presentationBanner");
        QVERIFY(banner && banner->text().contains("1 / 3"));
        QTest::keyClick(&window, Qt::Key_Space);
        QCOMPARE(window.presentationIndex(), 1);
        QCOMPARE(window.promptPanel()->prompt(), QString("a red bus"));
        QTest::keyClick(&window, Qt::Key_PageDown);
        QCOMPARE(window.presentationIndex(), 2);
        QCOMPARE(window.explorer()->selectedPairs(), std::vector<int>{4});
        QTest::keyClick(&window, Qt::Key_PageDown);
        QCOMPARE(window.presentationIndex(), 2);  // stays on the last item
        QTest::keyClick(&window, Qt::Key_Escape);
        QVERIFY(!window.presenting());
        QCOMPARE(window.font().pointSize(), normal);
        window.worker()->cancelAll();
    }

    // Issue 20 item 8: small things a careful user notices.
    void etaIsUnknownBeforeAnyWorkIsDone() {
        QCOMPARE(syn::ui::JobsPanel::formatEta(0.0, 0, 1000), QString("—"));
        QCOMPARE(syn::ui::JobsPanel::formatEta(0.0, 5, 0), QString("—"));
        QCOMPARE(syn::ui::JobsPanel::formatEta(75.0, 10, 1000), QString("1 min 15 s"));
    }

    void aCancelledJobsBarDoesNotLookFinished() {
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        window.show();
        auto* worker = window.worker();
        const int done = worker->submit(nullptr, "quick", [](const syn::run::ProgressSink& p, const syn::run::CancelToken*) {
            p({syn::run::Stage::other, "step", 1, 1});
            return 0;
        }).id();
        std::atomic<bool> started{false};
        const int cancelled = worker->submit(nullptr, "long", [&started](const syn::run::ProgressSink& p,
                                                                         const syn::run::CancelToken* c) {
            p({syn::run::Stage::other, "step", 40, 100});
            started = true;
            while (!c->cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            syn::run::throw_if_cancelled(c, "test");
            return 0;
        }).id();
        QTRY_VERIFY(started.load());
        QSignalSpy spy(worker, &syn::ui::ComputeWorker::jobCancelled);
        worker->cancel(cancelled);
        QVERIFY(spy.wait(5000));
        QCoreApplication::processEvents();
        QProgressBar* finished_bar = window.jobsPanel()->progressBar(done);
        QProgressBar* cancelled_bar = window.jobsPanel()->progressBar(cancelled);
        QVERIFY(finished_bar && cancelled_bar);
        QCOMPARE(finished_bar->value(), finished_bar->maximum());
        QCOMPARE(finished_bar->text(), QString("done"));
        QVERIFY2(cancelled_bar->text().startsWith("cancelled"), qPrintable(cancelled_bar->text()));
        QVERIFY(cancelled_bar->value() < cancelled_bar->maximum());
        QVERIFY(cancelled_bar->palette().color(QPalette::Highlight) != finished_bar->palette().color(QPalette::Highlight));
    }

    void exportDialogsProposeTheFilterOfTheProposedName() {
        const QString tables = "CSV (*.csv);;Markdown (*.md);;LaTeX (*.tex)";
        QCOMPARE(MainWindow::exportFilterFor(tables, "table2.md"), QString("Markdown (*.md)"));
        QCOMPARE(MainWindow::exportFilterFor(tables, "pairs.csv"), QString("CSV (*.csv)"));
        QCOMPARE(MainWindow::exportFilterFor(tables, "t.tex"), QString("LaTeX (*.tex)"));
        QCOMPARE(MainWindow::exportFilterFor("PNG image (*.png);;SVG vector (*.svg)", "scatter.svg"), QString("SVG vector (*.svg)"));
    }

    void exportedScatterHasNoSelectionRingAndNamesTheFilter() {
        QTemporaryDir tmp;
        write_data(tmp.path());
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        window.show();
        QSignalSpy loaded(&window, &MainWindow::dataLoaded);
        window.loadData(tmp.path() + "/sts.csv", tmp.path() + "/captions.json");
        QVERIFY(loaded.wait(10000));
        QVERIFY(window.selectModels({"lexical/jaccard"}));
        QSignalSpy done(&window, &MainWindow::stsFinished);
        QVERIFY(window.runSts() > 0);
        QVERIFY(done.wait(60000));
        syn::ui::PairFilterProxy::Filter f;
        f.sts_v = 1;  // the 5 same-image pairs of 12
        window.explorer()->setFilter(f);
        window.explorer()->selectPairs({0, 1});
        QCOMPARE(window.scatter()->highlightedPairs().size(), size_t(2));
        const QString svg_path = tmp.path() + "/scatter.svg";
        QVERIFY(window.exportPlot(window.scatter()->plot(), svg_path, {800, 600, 96}));
        QFile svg(svg_path);
        QVERIFY(svg.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(svg.readAll());
        svg.close();
        QVERIFY2(text.contains("5 of 12 pairs (filtered)"), "the exported title does not name the filter");
        QVERIFY2(!text.contains("#d01060", Qt::CaseInsensitive), "the selection ring was exported");
        // On screen the rings stay.
        QCOMPARE(window.scatter()->highlightedPairs().size(), size_t(2));
        // Without a filter the title says nothing about one.
        window.explorer()->setFilter({});
        QVERIFY(window.exportPlot(window.scatter()->plot(), svg_path, {800, 600, 96}));
        QFile all(svg_path);
        QVERIFY(all.open(QIODevice::ReadOnly));
        QVERIFY(!QString::fromUtf8(all.readAll()).contains("filtered"));
    }

    void aModelIsNoLongerLoadingOnceItsEmbeddingsAreDone() {
        if (!syn::test::shared_available()) QSKIP("shared fixtures not found: set SYNESTHESIA_SHARED");
        const QString tiny_bert =
            QFileInfo(QString::fromStdString(syn::test::fixtures_dir()) + "/models/tiny-bert").absoluteFilePath();
        QTemporaryDir tmp;
        qputenv("SYN_CACHE_DIR", (tmp.path() + "/cache").toLocal8Bit());
        write_data(tmp.path());
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        window.show();
        QSignalSpy loaded(&window, &MainWindow::dataLoaded);
        window.loadData(tmp.path() + "/sts.csv", tmp.path() + "/captions.json");
        QVERIFY(loaded.wait(10000));
        QVERIFY2(window.selectModels({tiny_bert, "lexical/jaccard"}), qPrintable(window.lastError()));
        const int row = window.modelList()->findRow(QDir::cleanPath(tiny_bert));
        QVERIFY(row >= 0);
        QSignalSpy done(&window, &MainWindow::stsFinished);
        const int job = window.runSts();
        QVERIFY(job > 0);
        // The job's owner (the window's typed follower) hears each stage before the observers of
        // every job, this spy among them.
        std::vector<std::pair<QString, syn::ui::ModelStatus>> seen;
        connect(window.worker(), &syn::ui::ComputeWorker::jobProgress, this,
                [&](int id, const QString& stage, qint64, qint64, double) {
                    if (id == job) seen.emplace_back(stage, window.modelList()->entry(row).status);
                });
        QVERIFY(done.wait(120000));
        QVERIFY2(done.at(0).at(0).toBool(), qPrintable(window.lastError()));
        qunsetenv("SYN_CACHE_DIR");
        bool was_loading = false, statistics_seen = false;
        for (const auto& [stage, status] : seen) {
            if (stage.startsWith("embedding ")) {
                QCOMPARE(status, syn::ui::ModelStatus::Loading);
                was_loading = true;
            }
            if (was_loading && stage.startsWith("statistics ")) {
                statistics_seen = true;
                QVERIFY2(status != syn::ui::ModelStatus::Loading, qPrintable("still loading at stage " + stage));
            }
        }
        QVERIFY(was_loading);
        QVERIFY(statistics_seen);
        QCOMPARE(window.modelList()->entry(row).status, syn::ui::ModelStatus::Ready);

        // The encoder stays resident after the job; Models > Free model memory unloads it.
        QVERIFY(window.worker()->session().stats().entries > 0);
        QVERIFY(window.worker()->session().stats().resident_bytes > 0);
        QSignalSpy freed(&window, &MainWindow::modelMemoryFreed);
        QAction* free_action = nullptr;
        for (QAction* a : window.menuBar()->actions())
            if (a->menu() && a->text() == "&Models")
                for (QAction* item : a->menu()->actions())
                    if (item->text() == "&Free model memory") free_action = item;
        QVERIFY(free_action);
        free_action->trigger();
        QVERIFY(freed.wait(10000));
        QCOMPARE(window.worker()->session().stats().entries, std::size_t(0));
        QCOMPARE(window.worker()->session().stats().resident_bytes, std::size_t(0));
        QVERIFY2(window.statusBar()->currentMessage().startsWith("Freed "), qPrintable(window.statusBar()->currentMessage()));
    }

    // Issue 16: Help > About names the version (CMake's PROJECT_VERSION), the licence, the study with
    // working links and the README; Help > About Qt is there too. The real modal boxes are opened.
    void helpMenuAboutShowsVersionLicenceStudyAndLinks() {
        MainWindow window;
        window.show();
        QMenu* help = nullptr;
        for (QAction* a : window.menuBar()->actions())
            if (a->menu() && a->text().remove('&') == "Help") help = a->menu();
        QVERIFY(help);
        QAction* about = nullptr;
        QAction* about_qt = nullptr;
        for (QAction* a : help->actions()) {
            if (a->text().remove('&') == "About Synesthesia Workbench") about = a;
            if (a->text().remove('&') == "About Qt") about_qt = a;
        }
        QVERIFY(about);
        QVERIFY(about_qt);

        // Opens the action's modal box, reads its text and whether its links open, closes it.
        auto open_box = [](QAction* action, bool* links_open) {
            QString text;
            QTimer poll;
            poll.setInterval(20);
            QObject::connect(&poll, &QTimer::timeout, [&] {
                auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
                if (!box) return;
                text = box->text();
                for (QLabel* label : box->findChildren<QLabel*>())
                    if (label->text() == text) *links_open = label->openExternalLinks();
                poll.stop();
                box->done(0);
            });
            QTimer guard;  // never hang the test: close whatever is open after 10 s
            guard.setSingleShot(true);
            QObject::connect(&guard, &QTimer::timeout, [] {
                if (QWidget* w = QApplication::activeModalWidget()) w->close();
            });
            poll.start();
            guard.start(10000);
            action->trigger();  // QMessageBox::about / aboutQt run their own event loop
            return text;
        };

        bool links_open = false;
        const QString text = open_box(about, &links_open);
        QVERIFY2(!text.isEmpty(), "Help > About showed no message box");
        QCOMPARE(syn::ui::workbenchVersion(), QString(SYN_TEST_PROJECT_VERSION));
        QVERIFY2(text.contains("Synesthesia Workbench " SYN_TEST_PROJECT_VERSION), qPrintable(text));
        QVERIFY2(text.contains("GPL-3.0-or-later"), qPrintable(text));
        QVERIFY(text.contains("QCustomPlot"));
        QVERIFY(text.contains("On the Difference of BERT-style and CLIP-style Text Encoders"));
        QVERIFY(text.contains("Zhihong Chen"));
        QVERIFY(text.contains("Findings of the Association for Computational Linguistics: ACL 2023"));
        QVERIFY(text.contains("href=\"https://doi.org/10.18653/v1/2023.findings-acl.866\""));
        QVERIFY(text.contains("href=\"https://arxiv.org/abs/2306.03678\""));
        QVERIFY(text.contains("CC BY 4.0"));
        QVERIFY(text.contains(QString::fromStdString(syn::describe_compute_device().summary()).toHtmlEscaped()));
        // The README link points at a file that exists (the source tree's here, the installed one
        // when installed).
        const QString readme = syn::ui::readmePath();
        QVERIFY2(QFileInfo(readme).isFile(), qPrintable(readme));
        QVERIFY(text.contains("href=\"" + QUrl::fromLocalFile(readme).toString().toHtmlEscaped() + "\""));
        QVERIFY2(links_open, "the About box's links do not open in a browser");

        bool unused = false;
        const QString qt_text = open_box(about_qt, &unused);
        QVERIFY2(qt_text.contains(QT_VERSION_STR), qPrintable(qt_text));
        QVERIFY(no_visible_message_box());
    }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
