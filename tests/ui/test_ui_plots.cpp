// Qt Test (offscreen): figure exports (PNG / SVG / PDF, non-empty, PNG at the chosen pixel size and
// DPI), the CLI's figure writer, the scatter panel's two-way link with the table, and the Table 2 bars.
#include <QImage>
#include <QImageReader>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <qcustomplot.h>

#include "tests/ui/ui_test_data.h"
#include "ui/panels/pair_explorer.h"
#include "ui/panels/plot_panels.h"
#include "ui/plots/plot_builders.h"
#include "ui/plots/plot_export.h"
#include "ui/plots/sts_figures.h"

using namespace syn::ui;

class TestUiPlots : public QObject {
    Q_OBJECT
private slots:
    void exportsWritePngSvgAndPdf() {
        auto result = syn::test::make_result(120);
        QCustomPlot plot;
        plot.resize(640, 480);
        build_correlation_bars(&plot, correlation_bars_input(*result));
        QTemporaryDir tmp;
        for (const char* ext : {"png", "svg", "pdf"}) {
            const QString path = tmp.path() + "/bars." + ext;
            export_plot(&plot, path, {1200, 800, 200});
            QVERIFY2(QFileInfo(path).size() > 1000, qPrintable(path));
        }
        const QImage png(tmp.path() + "/bars.png");
        QCOMPARE(png.width(), 1200);
        QCOMPARE(png.height(), 800);
        QCOMPARE(qRound(png.dotsPerMeterX() * 0.0254), 200);
        QFile svg(tmp.path() + "/bars.svg");
        QVERIFY(svg.open(QIODevice::ReadOnly));
        const QByteArray text = svg.readAll();
        QVERIFY(text.contains("<svg"));
        QVERIFY(text.contains("BERT-base"));  // tick labels are drawn as text
        QFile pdf(tmp.path() + "/bars.pdf");
        QVERIFY(pdf.open(QIODevice::ReadOnly));
        QVERIFY(pdf.read(5) == "%PDF-");
        QVERIFY_THROWS_EXCEPTION(std::exception, export_plot(&plot, tmp.path() + "/bars.gif"));
        QVERIFY_THROWS_EXCEPTION(std::exception, export_plot(&plot, tmp.path() + "/x.png", {1200, 800, 5}));
    }

    void stsFigureWriterRendersEveryEncoder() {
        auto result = syn::test::make_result(150);
        QTemporaryDir tmp;
        const auto written = write_sts_figures(*result, (tmp.path() + "/figs").toStdString());
        QCOMPARE(written.size(), size_t(3 * 3 + 3));  // 3 scatters + the bar chart, 3 formats each
        for (const auto& path : written) QVERIFY2(QFileInfo(QString::fromStdString(path)).size() > 1000, path.c_str());
        QVERIFY(QFileInfo::exists(tmp.path() + "/figs/scatter_clip-vit-b-32.png"));
        QVERIFY(QFileInfo::exists(tmp.path() + "/figs/correlations.pdf"));
        // Scores that do not match the pairs: an error naming the encoder, not a wrong figure.
        result->encoders[1].scores.pop_back();
        try {
            write_sts_figures(*result, (tmp.path() + "/bad").toStdString());
            QFAIL("mismatched scores accepted");
        } catch (const std::exception& e) {
            QVERIFY(QString(e.what()).contains("BERT-base"));
        }
    }

    void scatterFollowsTheFilterAndLinksBothWays() {
        auto result = syn::test::make_result(90);
        PairExplorerPanel explorer;
        ScatterPanel scatter(explorer.model(), explorer.proxy());
        QObject::connect(&explorer, &PairExplorerPanel::filteredPairsChanged, &scatter, &ScatterPanel::rebuild);
        QObject::connect(&explorer, &PairExplorerPanel::pairSelectionChanged, &scatter, &ScatterPanel::highlight);
        QObject::connect(&scatter, &ScatterPanel::pairClicked, &explorer,
                         [&](int pair, bool) { explorer.selectPairs({pair}); });
        explorer.model()->setResult(result);
        scatter.resize(600, 450);
        scatter.show();
        QVERIFY(QTest::qWaitForWindowExposed(&scatter));
        QCOMPARE(scatter.encoderBox()->count(), 3);
        QCOMPARE(scatter.plottedPairs().size(), size_t(90));
        PairFilterProxy::Filter same;
        same.sts_v = 1;
        explorer.setFilter(same);
        QCOMPARE(scatter.plottedPairs().size(), size_t(30));
        // Table -> plot: selecting rows rings them.
        explorer.selectPairs({3, 6});
        QCOMPARE(scatter.highlightedPairs(), (std::vector<int>{3, 6}));
        // Plot -> table: a click on a point selects its pair.
        scatter.plot()->replot();
        const int target = 9;
        const double score = result->encoders[0].scores[target];
        const QPoint at(qRound(scatter.plot()->xAxis->coordToPixel(result->dataset.pairs[target].sts_l)),
                        qRound(scatter.plot()->yAxis->coordToPixel(score)));
        QCOMPARE(scatter.pairAt(at), target);
        QSignalSpy clicked(&scatter, &ScatterPanel::pairClicked);
        QTest::mouseClick(scatter.plot(), Qt::LeftButton, {}, at);
        QCOMPARE(clicked.count(), 1);
        QCOMPARE(clicked.at(0).at(0).toInt(), target);
        QCOMPARE(explorer.selectedPairs(), std::vector<int>{target});
        // A pair hidden by the filter is never drawn or hit.
        QCOMPARE(scatter.pairAt(QPoint(-100, -100)), -1);
    }

    void table2PanelDrawsBarsWithErrorBars() {
        Table2Panel panel;
        panel.setResult(syn::test::make_result(50));
        int bars = 0, errors = 0;
        for (int i = 0; i < panel.plot()->plottableCount(); ++i) {
            if (qobject_cast<QCPBars*>(panel.plot()->plottable(i))) ++bars;
            if (auto* e = qobject_cast<QCPErrorBars*>(panel.plot()->plottable(i))) {
                ++errors;
                QCOMPARE(e->dataCount(), 3);
            }
        }
        QCOMPARE(bars, 4);
        QCOMPARE(errors, 4);
        auto* first = qobject_cast<QCPBars*>(panel.plot()->plottable(0));
        QVERIFY(std::abs(first->data()->at(0)->value - 50.0) < 1e-9);  // x100
        panel.setResult(nullptr);
        QCOMPARE(panel.plot()->plottableCount(), 0);
    }
};

QTEST_MAIN(TestUiPlots)
#include "test_ui_plots.moc"
