// Qt Test (offscreen): the session across restarts (issue 20 item 5).
//  - The window's layout (geometry, docks) comes back at the next start, unless it was saved on a
//    larger screen than this one: then the adaptive default for this screen (issue 20 item 2).
//  - The last session is saved on every close, offered at start (a non-modal question) and
//    restored on Yes: data, ticked models, filter.
//  - Model folders added in the Models panel come back at the next start (tiny-bert from ../shared).
//  - Opening a project whose session showed STS results rebuilds them from the embedding cache as a
//    background job, computing no embedding (EncoderRun::computed == 0; tiny-bert from ../shared).
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QMessageBox>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <qcustomplot.h>

#include "core/run/jobs/sts_job.h"
#include "tests/support/shared_paths.h"
#include "tests/ui/ui_test_files.h"
#include "ui/compute/compute_worker.h"
#include "ui/main_window.h"
#include "ui/models/model_list_model.h"
#include "ui/models/pair_table_model.h"
#include "ui/panels/model_picker.h"
#include "ui/panels/pair_explorer.h"
#include "ui/panels/plot_panels.h"

using syn::test::write_data;
using syn::ui::MainWindow;

namespace {


QString tiny_bert() {
    return QDir::cleanPath(
        QFileInfo(QString::fromStdString(syn::test::fixtures_dir()) + "/models/tiny-bert").absoluteFilePath());
}

bool plots_tabbed(MainWindow& w) { return w.tabifiedDockWidgets(w.dock("scatter")).contains(w.dock("table2")); }

}  // namespace

class TestSessionRestore : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        QCoreApplication::setOrganizationName("SynesthesiaTest");  // keep the user's settings out
        QCoreApplication::setApplicationName("test_ui_session_restore");
        QSettings().clear();
    }
    void init() { QSettings().clear(); }

    void layoutComesBackAtTheNextStart() {
        {
            MainWindow window;
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            window.dock("mapping")->hide();
            window.dock("glue")->hide();
            window.close();
        }
        QVERIFY(QSettings().contains("window/state"));
        MainWindow again;
        again.show();
        QVERIFY(QTest::qWaitForWindowExposed(&again));
        QVERIFY2(again.dock("mapping")->isHidden() && again.dock("glue")->isHidden(),
                 "the docks closed at the last exit are back");
        QVERIFY(!again.dock("models")->isHidden());
    }

    void aLayoutFromALargerScreenGivesWayToTheAdaptiveDefault() {
        // A fresh start on this screen: the adaptive default.
        bool default_tabbed = false;
        {
            MainWindow fresh;
            fresh.show();
            QVERIFY(QTest::qWaitForWindowExposed(&fresh));
            default_tabbed = plots_tabbed(fresh);
            // A layout made on a screen twice this one's size: plots split, a dock hidden.
            fresh.dock("mapping")->hide();
            fresh.close();
        }
        const QSize here = QGuiApplication::primaryScreen()->availableGeometry().size();
        QSettings().setValue("window/screen", here * 2);
        QVERIFY(!MainWindow::savedLayoutFits(here * 2, here));
        QVERIFY(MainWindow::savedLayoutFits(here, here));
        QVERIFY(MainWindow::savedLayoutFits({}, here));  // unknown (settings of an older build)
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY2(!window.dock("mapping")->isHidden(), "the larger screen's layout was restored");
        QCOMPARE(plots_tabbed(window), default_tabbed);
        const QRect avail = QGuiApplication::primaryScreen()->availableGeometry();
        QVERIFY2(window.width() <= avail.width() && window.height() <= avail.height(),
                 qPrintable(QString("%1x%2 on %3x%4").arg(window.width()).arg(window.height())
                                .arg(avail.width()).arg(avail.height())));
    }

    void lastSessionIsOfferedAndRestored() {
        QTemporaryDir tmp;
        write_data(tmp.path());
        {
            MainWindow window;
            window.setErrorBoxesEnabled(false);
            window.show();
            QVERIFY(!window.hasLastSession());
            QSignalSpy loaded(&window, &MainWindow::dataLoaded);
            window.loadData(tmp.path() + "/sts.csv", tmp.path() + "/captions.json");
            QVERIFY(loaded.wait(10000));
            QVERIFY(window.selectModels({"lexical/tfidf"}));
            syn::ui::PairFilterProxy::Filter f;
            f.text = "cat";
            window.explorer()->setFilter(f);
            window.close();
        }
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        window.show();
        QVERIFY(window.hasLastSession());
        QVERIFY(!window.hasData());
        window.offerLastSession();
        QMessageBox* offer = window.findChild<QMessageBox*>("lastSessionOffer");
        QVERIFY(offer && offer->isVisible() && !offer->isModal());
        QVERIFY2(offer->text().contains("sts.csv"), qPrintable(offer->text()));
        QSignalSpy loaded(&window, &MainWindow::dataLoaded);
        offer->button(QMessageBox::Yes)->click();
        QVERIFY(loaded.wait(10000));
        QCOMPARE(window.projectState().cxc_csv, tmp.path() + "/sts.csv");
        QCOMPARE(window.explorer()->currentFilter().text, QString("cat"));
        const auto checked = window.modelList()->checkedRows();
        QCOMPARE(checked.size(), size_t(1));
        QCOMPARE(window.modelList()->entry(checked.front()).id, QString("lexical/tfidf"));
    }

    void addedModelFoldersComeBack() {
        if (!syn::test::shared_available()) QSKIP("shared fixtures not found: set SYNESTHESIA_SHARED");
        {
            MainWindow window;
            window.setErrorBoxesEnabled(false);
            QCOMPARE(window.modelList()->findRow(tiny_bert()), -1);
            QVERIFY2(window.modelPicker()->addFolder(tiny_bert()), qPrintable(window.lastError()));
        }
        MainWindow window;
        const int row = window.modelList()->findRow(tiny_bert());
        QVERIFY2(row >= 0, "the folder added in the last session is not in the Models panel");
        QCOMPARE(window.modelList()->entry(row).source, QString("folder"));
        // A remembered folder that is gone: left out, still remembered, said in the status bar.
        QSettings().setValue("models/folders", QStringList{tiny_bert(), "/nonexistent/model-folder"});
        MainWindow third;
        QVERIFY(third.modelList()->findRow(tiny_bert()) >= 0);
        QCOMPARE(third.modelList()->findRow("/nonexistent/model-folder"), -1);
        QVERIFY(QSettings().value("models/folders").toStringList().contains("/nonexistent/model-folder"));
    }

    void openingAProjectRebuildsItsResultsFromTheEmbeddingCache() {
        if (!syn::test::shared_available()) QSKIP("shared fixtures not found: set SYNESTHESIA_SHARED");
        QTemporaryDir tmp;
        qputenv("SYN_CACHE_DIR", (tmp.path() + "/cache").toLocal8Bit());
        write_data(tmp.path());
        const QString project = tmp.path() + "/session.synproj";
        std::vector<double> first_scores;
        {
            MainWindow window;
            window.setErrorBoxesEnabled(false);
            window.show();
            QSignalSpy loaded(&window, &MainWindow::dataLoaded);
            window.loadData(tmp.path() + "/sts.csv", tmp.path() + "/captions.json");
            QVERIFY(loaded.wait(10000));
            QVERIFY2(window.selectModels({tiny_bert(), "lexical/jaccard"}), qPrintable(window.lastError()));
            QSignalSpy done(&window, &MainWindow::stsFinished);
            QVERIFY(window.runSts() > 0);
            QVERIFY(done.wait(120000));
            QVERIFY2(done.at(0).at(0).toBool(), qPrintable(window.lastError()));
            const auto result = window.stsResult();
            QCOMPARE(result->encoders.size(), size_t(2));
            for (const auto& e : result->encoders)
                if (e.model == tiny_bert().toStdString()) {
                    QVERIFY(e.computed > 0);  // the first run embeds
                    first_scores = e.scores;
                }
            QVERIFY(!first_scores.empty());
            QVERIFY(window.saveProject(project));
        }
        // A new window, as after a restart: opening the project brings the plots back by itself.
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        window.show();
        QSignalSpy done(&window, &MainWindow::stsFinished);
        QSignalSpy queued(window.worker(), &syn::ui::ComputeWorker::jobQueued);
        QVERIFY(window.openProject(project));
        QVERIFY(done.wait(120000));
        QVERIFY2(done.at(0).at(0).toBool(), qPrintable(window.lastError()));
        bool rebuild_job = false;
        for (const auto& args : queued)
            rebuild_job |= args.at(1).toString().contains("embedding cache");
        QVERIFY2(rebuild_job, "no background job named the rebuild");
        const auto result = window.stsResult();
        QVERIFY(result);
        QCOMPARE(result->encoders.size(), size_t(2));
        bool found = false;
        for (const auto& e : result->encoders) {
            if (e.model != tiny_bert().toStdString()) continue;
            found = true;
            QCOMPARE(e.computed, size_t(0));  // every embedding from the cache
            QVERIFY(e.from_cache > 0);
            QCOMPARE(e.scores, first_scores);
        }
        QVERIFY(found);
        QCOMPARE(window.worker()->session().stats().loads, size_t(0));  // no model read from disk
        QCOMPARE(window.scatter()->plottedPairs().size(), size_t(12));
        QVERIFY(window.table2()->plot()->plottableCount() > 0);
        QCOMPARE(window.explorer()->model()->encoderCount(), 2);
        // The project saved now still names the results to rebuild.
        QCOMPARE(window.projectState().sts_models.size(), size_t(2));
        qunsetenv("SYN_CACHE_DIR");
    }

    void cleanupTestCase() { QSettings().clear(); }
};

QTEST_MAIN(TestSessionRestore)
#include "test_session_restore.moc"
