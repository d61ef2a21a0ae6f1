// Qt Test under Xvfb, registered once per screen the workbench must fit (a 1280x720 projector, a
// 1366x768 laptop; xvfb-run -s "-screen 0 WxHx24"): the main window with a six-encoder STS result
// and a job running, at its default layout and in presentation mode (F11). The window lies inside
// the screen; the status bar with the job's stage, progress, ETA, Cancel and the device lies inside
// it; the visible docks lie inside the screen and do not overlap; each plot's axis rect is at least
// 150 px tall, its value-axis labels do not collide, its title is there; the Table 2 chart draws
// every encoder name and they do not collide; the scatter's legend covers no point; the Jobs panel
// shows its ETA column whole. Screenshots of the screen go to $SYN_TEST_ARTIFACTS (look at them).
#include <QDir>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QStatusBar>
#include <QSvgGenerator>
#include <QTreeWidget>
#include <QtTest/QtTest>

#include <qcustomplot.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/ui/ui_test_data.h"
#include "ui/compute/compute_worker.h"
#include "ui/main_window.h"
#include "ui/models/pair_table_model.h"
#include "ui/panels/jobs_panel.h"
#include "ui/panels/pair_explorer.h"
#include "ui/panels/plot_panels.h"
#include "ui/plots/plot_builders.h"

using syn::ui::MainWindow;

namespace {

constexpr int kMinAxisRectHeight = 150;

// The study's six kinds of row label, long ones included (a pooling in brackets, a '@').
std::shared_ptr<syn::run::StsResult> six_encoder_result() {
    auto r = syn::test::make_result(240);
    const char* labels[] = {"BERT-base", "BERT-large", "RoBERTa-large (CLS pooling)", "CLIP ViT-B/32",
                            "CLIP ViT-L/14@336px", "lexical/tfidf"};
    const auto base = r->encoders;
    r->encoders.clear();
    for (int i = 0; i < 6; ++i) {
        auto e = base[static_cast<size_t>(i % 3)];
        e.model = e.label = labels[i];
        e.scores = syn::test::make_scores(r->dataset, 0.7 * i);
        r->encoders.push_back(e);
    }
    return r;
}

QRect global_rect(const QWidget* w) { return QRect(w->mapToGlobal(QPoint(0, 0)), w->size()); }

QString describe(const QRect& r) {
    return QString("%1x%2+%3+%4").arg(r.width()).arg(r.height()).arg(r.x()).arg(r.y());
}

QString artifacts_dir() {
    const QByteArray env = qgetenv("SYN_TEST_ARTIFACTS");
    const QString dir = env.isEmpty() ? QDir::temp().filePath("syn-layout-artifacts") : QString::fromLocal8Bit(env);
    QDir().mkpath(dir);
    return dir;
}

// What is on the X screen (the window and anything drawn over or past it), else the window.
void save_screenshot(MainWindow& window, const QString& name) {
    QScreen* screen = window.screen();
    QPixmap shot = screen ? screen->grabWindow(0) : QPixmap();
    if (shot.isNull()) shot = window.grab();
    const QSize s = screen ? screen->geometry().size() : window.size();
    const QString path = QDir(artifacts_dir()).filePath(QString("%1_%2x%3.png").arg(name).arg(s.width()).arg(s.height()));
    QVERIFY2(shot.save(path), qPrintable(path));
    qInfo("screenshot: %s", qPrintable(path));
}

void settle(MainWindow& window) {
    for (int i = 0; i < 5; ++i) {
        QCoreApplication::processEvents();
        QTest::qWait(60);
    }
    for (QCustomPlot* plot : window.findChildren<QCustomPlot*>())
        if (plot->isVisible()) plot->replot(QCustomPlot::rpImmediateRefresh);
    QCoreApplication::processEvents();
}

QCPTextElement* plot_title(QCustomPlot* plot) {
    for (int i = 0; i < plot->plotLayout()->elementCount(); ++i)
        if (auto* t = qobject_cast<QCPTextElement*>(plot->plotLayout()->elementAt(i))) return t;
    return nullptr;
}

// The axis rect, value ticks, title and axis label of one plot shown in a dock.
void check_plot_readable(QCustomPlot* plot, const QString& what) {
    QVERIFY2(plot->isVisible(), qPrintable(what + " is not visible"));
    const QRect axis = plot->axisRect()->rect();
    QVERIFY2(axis.height() >= kMinAxisRectHeight && axis.width() >= 200,
             qPrintable(QString("%1: axis rect %2 (plot %3x%4)").arg(what, describe(axis)).arg(plot->width()).arg(plot->height())));
    // Value-axis tick labels: one line height apart at least.
    const int line = QFontMetrics(plot->yAxis->tickLabelFont()).height();
    const QVector<double> ticks = plot->yAxis->tickVector();
    QVERIFY2(ticks.size() >= 2, qPrintable(what + ": fewer than two value ticks"));
    for (int i = 1; i < ticks.size(); ++i) {
        const double gap = std::abs(plot->yAxis->coordToPixel(ticks[i]) - plot->yAxis->coordToPixel(ticks[i - 1]));
        QVERIFY2(gap >= line, qPrintable(QString("%1: value tick labels %2 px apart, %3 px tall").arg(what).arg(gap).arg(line)));
    }
    // The value axis's title fits beside the axis rect (drawn upright, centred on it).
    const int label_len = QFontMetrics(plot->yAxis->labelFont()).horizontalAdvance(plot->yAxis->label());
    QVERIFY2(label_len <= axis.height(), qPrintable(QString("%1: axis title %2 px long, axis %3 px").arg(what).arg(label_len).arg(axis.height())));
    // The title is laid out at its full height, inside the plot.
    QCPTextElement* title = plot_title(plot);
    QVERIFY2(title && !title->text().isEmpty(), qPrintable(what + ": no title"));
    QVERIFY2(title->outerRect().height() >= QFontMetrics(title->font()).height() &&
                 plot->rect().contains(title->outerRect()),
             qPrintable(QString("%1: title squeezed to %2").arg(what, describe(title->outerRect()))));
    QVERIFY2(plot->rect().contains(plot->legend->outerRect()), qPrintable(what + ": legend outside the plot"));
}

// Every encoder name is drawn (QCustomPlot drops a tick label that would cross the plot's edge:
// rendered to SVG at the on-screen size, each line must be there as text) and no two collide.
void check_table2_labels(QCustomPlot* plot, const QStringList& encoders) {
    QCOMPARE(syn::ui::category_labels(plot), encoders);
    const QStringList shown = syn::ui::category_tick_labels(plot);
    QCOMPARE(shown.size(), encoders.size());
    QBuffer svg;
    svg.open(QIODevice::WriteOnly);
    QSvgGenerator generator;
    generator.setOutputDevice(&svg);
    generator.setSize(plot->size());
    generator.setViewBox(plot->rect());
    QCPPainter painter;
    QVERIFY(painter.begin(&generator));
    plot->toPainter(&painter, plot->width(), plot->height());
    painter.end();
    const QString text = QString::fromUtf8(svg.data());
    for (int i = 0; i < shown.size(); ++i) {
        QCOMPARE(QString(shown[i]).remove('\n').remove(' '), QString(encoders[i]).remove(' '));
        for (const QString& line : shown[i].split('\n'))
            QVERIFY2(text.contains(line.toHtmlEscaped()),
                     qPrintable(QString("Table 2 label line \"%1\" of \"%2\" not drawn (plot %3x%4)")
                                    .arg(line, encoders[i]).arg(plot->width()).arg(plot->height())));
    }
    const QFontMetrics fm(plot->xAxis->tickLabelFont());
    const bool upright = std::abs(plot->xAxis->tickLabelRotation()) > 45;
    for (int i = 1; i < shown.size(); ++i) {
        auto width = [&](const QString& label) {
            if (upright) return fm.height();
            int w = 0;
            for (const QString& line : label.split('\n')) w = std::max(w, fm.horizontalAdvance(line));
            return w;
        };
        const double gap = plot->xAxis->coordToPixel(i + 1) - plot->xAxis->coordToPixel(i);
        QVERIFY2(gap >= (width(shown[i - 1]) + width(shown[i])) / 2.0,
                 qPrintable(QString("Table 2 labels \"%1\" and \"%2\" overlap").arg(shown[i - 1], shown[i])));
    }
}

void check_scatter_legend(QCustomPlot* plot) {
    const QRect legend = plot->legend->outerRect();
    for (int g = 0; g < plot->graphCount(); ++g) {
        for (auto it = plot->graph(g)->data()->constBegin(); it != plot->graph(g)->data()->constEnd(); ++it) {
            const QPointF p(plot->xAxis->coordToPixel(it->key), plot->yAxis->coordToPixel(it->value));
            if (!plot->axisRect()->rect().contains(p.toPoint())) continue;  // outside the visible range
            QVERIFY2(!legend.contains(p.toPoint()), "the scatter legend covers a point");
        }
    }
}

void raise_dock(MainWindow& window, const QString& name) {
    window.dock(name)->raise();
    settle(window);
}

}  // namespace

class TestWindowLayout : public QObject {
    Q_OBJECT
    QStringList encoders_;

    void checkWindow(MainWindow& window, bool presenting) {
        QScreen* screen = window.screen();
        QVERIFY(screen);
        const QRect screen_rect = screen->geometry();
        const QRect avail = presenting ? screen_rect : screen->availableGeometry();
        QVERIFY2(avail.contains(window.frameGeometry()),
                 qPrintable("window " + describe(window.frameGeometry()) + " outside the screen " + describe(avail)));
        const QSize minimum = window.minimumSizeHint().expandedTo(window.minimumSize());
        QVERIFY2(minimum.width() <= avail.width() && minimum.height() <= avail.height(),
                 qPrintable(QString("minimum window size %1x%2").arg(minimum.width()).arg(minimum.height())));

        // The status bar and the running job's widgets in it.
        QStatusBar* bar = window.statusBar();
        QVERIFY(bar->isVisible());
        QVERIFY2(screen_rect.contains(global_rect(bar)), qPrintable("status bar at " + describe(global_rect(bar))));
        for (const char* name : {"jobStage", "jobProgress", "jobEta", "jobCancel", "deviceLabel"}) {
            auto* w = bar->findChild<QWidget*>(name);
            QVERIFY2(w && w->isVisible(), name);
            const QRect r = global_rect(w);
            QVERIFY2(global_rect(bar).contains(r) && screen_rect.contains(r) && r.width() >= 30,
                     qPrintable(QString("%1 at %2, status bar %3").arg(name, describe(r), describe(global_rect(bar)))));
        }
        QCOMPARE(bar->findChild<QLabel*>("jobEta")->text(), QString("ETA —"));  // 0 of 1000 done: unknown
        auto* cancel = bar->findChild<QPushButton*>("jobCancel");
        QVERIFY(cancel->width() >= cancel->minimumSizeHint().width());

        // Visible docks: inside the screen, clear of each other, the status bar and the table.
        std::vector<QDockWidget*> shown;
        for (QDockWidget* d : window.findChildren<QDockWidget*>())
            if (d->isVisible() && !d->isFloating() && !d->visibleRegion().isEmpty()) shown.push_back(d);
        QVERIFY(shown.size() >= (presenting ? 2u : 3u));  // presenting: a plot tab and the prompt box
        const QRect central = global_rect(window.centralWidget());
        for (size_t i = 0; i < shown.size(); ++i) {
            const QRect r = global_rect(shown[i]);
            const QString name = shown[i]->windowTitle();
            QVERIFY2(screen_rect.contains(r), qPrintable(name + " at " + describe(r)));
            QVERIFY2(!r.intersects(global_rect(bar)), qPrintable(name + " overlaps the status bar"));
            QVERIFY2(!r.intersects(central), qPrintable(name + " overlaps the pair table"));
            for (size_t j = i + 1; j < shown.size(); ++j)
                QVERIFY2(!r.intersects(global_rect(shown[j])),
                         qPrintable(name + " " + describe(r) + " overlaps " + shown[j]->windowTitle() + " " +
                                    describe(global_rect(shown[j]))));
        }

        // Both plots, each in front in turn where they share a place.
        raise_dock(window, "table2");
        check_plot_readable(window.table2()->plot(), "Table 2");
        if (QTest::currentTestFailed()) return;
        check_table2_labels(window.table2()->plot(), encoders_);
        if (QTest::currentTestFailed()) return;
        raise_dock(window, "scatter");
        check_plot_readable(window.scatter()->plot(), "scatter");
        if (QTest::currentTestFailed()) return;
        check_scatter_legend(window.scatter()->plot());
    }

private slots:
    void initTestCase() {
        if (QGuiApplication::platformName() != "xcb")
            QSKIP("runs on an X screen of the size under test (ctest starts it under xvfb-run)");
        QCoreApplication::setOrganizationName("SynesthesiaTest");
        QCoreApplication::setApplicationName("test_ui_window_layout");
        QSettings().clear();
    }

    void defaultLayoutAndPresentationModeFitTheScreen() {
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        auto result = six_encoder_result();
        for (const auto& e : result->encoders) encoders_ << QString::fromStdString(e.label);
        window.showStsResult(result);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.activateWindow();  // no window manager on the Xvfb screen: the keys below need focus
        QVERIFY(QTest::qWaitForWindowActive(&window));

        // A job at 0 of 1000: the status bar shows its stage, bar, ETA and Cancel.
        std::atomic<bool> started{false};
        const int job = window.worker()->submit(
            nullptr, "STS: 8 encoders on 44045 pairs",
            [&started](const syn::run::ProgressSink& progress, const syn::run::CancelToken* cancel) {
                progress({syn::run::Stage::embedding, "openai/clip-vit-large-patch14-336", 0, 1000});
                started = true;
                while (!cancel->cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
                syn::run::throw_if_cancelled(cancel, "layout test job");
                return 0;
            }).id();
        QTRY_VERIFY(started.load());
        QTRY_VERIFY(window.statusBar()->findChild<QWidget*>("jobEta")->isVisible());
        settle(window);

        checkWindow(window, false);
        if (QTest::currentTestFailed()) return;
        // The Jobs panel (a tab beside the prompt on these screens): its ETA column whole.
        raise_dock(window, "jobs");
        QTreeWidget* jobs = window.jobsPanel()->tree();
        const int eta = 4;
        QCOMPARE(jobs->headerItem()->text(eta), QString("ETA"));
        const int right = jobs->header()->sectionViewportPosition(eta) + jobs->header()->sectionSize(eta);
        QVERIFY2(right <= jobs->viewport()->width(),
                 qPrintable(QString("ETA column ends at %1 of %2 px").arg(right).arg(jobs->viewport()->width())));
        QVERIFY(jobs->header()->sectionSize(eta) >= QFontMetrics(jobs->font()).horizontalAdvance("59 min 59 s"));
        QCOMPARE(jobs->topLevelItem(0)->text(eta), QString("—"));
        raise_dock(window, "prompt");
        save_screenshot(window, "window");
        raise_dock(window, "table2");
        save_screenshot(window, "window_table2");

        // Presentation mode: F11 in, the same checks at the larger fonts, F11 out.
        const double normal_pt = window.font().pointSizeF();
        QTest::keyClick(&window, Qt::Key_F11);
        QVERIFY(window.presenting());
        QTRY_COMPARE(window.geometry(), window.screen()->geometry());
        QVERIFY(window.font().pointSizeF() >= 1.5 * normal_pt);
        settle(window);
        checkWindow(window, true);
        if (QTest::currentTestFailed()) return;
        for (const char* name : {"models", "jobs"}) QVERIFY(!window.dock(name)->isVisible());
        QVERIFY(window.dock("prompt")->isVisible());
        save_screenshot(window, "window_presentation");
        raise_dock(window, "table2");
        save_screenshot(window, "window_presentation_table2");
        QTest::keyClick(&window, Qt::Key_F11);
        QVERIFY(!window.presenting());
        QCOMPARE(window.font().pointSizeF(), normal_pt);
        settle(window);
        QVERIFY(window.dock("models")->isVisible());
        QVERIFY(window.screen()->availableGeometry().contains(window.frameGeometry()));

        // Esc leaves presentation mode too.
        QTest::keyClick(&window, Qt::Key_F11);
        QVERIFY(window.presenting());
        QTest::keyClick(&window, Qt::Key_Escape);
        QVERIFY(!window.presenting());

        window.worker()->cancel(job);
        QTRY_VERIFY(!window.statusBar()->findChild<QWidget*>("jobCancel")->isVisible());

        // The exports of both plots at the export dialog's default size, beside the screenshots.
        syn::ui::PairFilterProxy::Filter same_image;
        same_image.sts_v = 1;
        window.explorer()->setFilter(same_image);
        window.explorer()->selectPairs({0, 3});
        const QDir out(artifacts_dir());
        const QString size = QString("%1x%2").arg(window.screen()->geometry().width()).arg(window.screen()->geometry().height());
        QVERIFY(window.exportPlot(window.scatter()->plot(), out.filePath("export_scatter_filtered_" + size + ".png"), {1600, 1000, 150}));
        QVERIFY(window.exportPlot(window.table2()->plot(), out.filePath("export_table2_" + size + ".png"), {1600, 1000, 150}));
    }
};

QTEST_MAIN(TestWindowLayout)
#include "test_window_layout.moc"
