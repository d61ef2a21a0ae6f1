// Qt Test (offscreen): the pair table model and its filter proxy, the disagreement ordering, the live
// correlations (checked against core/eval computed here on rows selected independently), the model
// list (catalog, folders, bad folders), table export, project files and presentation lists.
#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>

#include "core/eval/correlation.h"
#include "tests/support/shared_paths.h"
#include "tests/ui/ui_test_data.h"
#include "ui/models/model_list_model.h"
#include "ui/models/pair_table_model.h"
#include "ui/models/table_export.h"
#include "ui/panels/pair_explorer.h"
#include "ui/presentation.h"
#include "ui/session/project.h"
#include "ui/theme.h"

using namespace syn::ui;

namespace {
std::vector<EncoderScores> two_encoders(const syn::data::StsDataset& ds) {
    return {{"CLIP", "clip", syn::test::make_scores(ds, 0.0)}, {"BERT", "bert", syn::test::make_scores(ds, 2.0)}};
}
}  // namespace

class TestUiModels : public QObject {
    Q_OBJECT
private slots:
    void tableShowsPairsAndOneColumnPerEncoder() {
        auto ds = syn::test::make_dataset(30);
        PairTableModel model;
        model.setScores(ds, two_encoders(*ds));
        QCOMPARE(model.rowCount(), 30);
        // 6 pair columns + 2 encoders + disagreement
        QCOMPARE(model.columnCount(), PairTableModel::kFirstScore + 3);
        QCOMPARE(model.headerData(PairTableModel::kFirstScore, Qt::Horizontal).toString(), QString("CLIP"));
        QCOMPARE(model.headerData(model.disagreementColumn(), Qt::Horizontal).toString(), QString("Disagreement"));
        QCOMPARE(model.data(model.index(4, PairTableModel::kText1)).toString(), QString::fromStdString(ds->pairs[4].text1));
        QCOMPARE(model.data(model.index(4, PairTableModel::kStsL), PairTableModel::SortRole).toDouble(), ds->pairs[4].sts_l);
        // Scores of the wrong length are refused rather than misaligned.
        model.setScores(ds, {{"short", "bert", {0.1, 0.2}}});
        QCOMPARE(model.encoderCount(), 0);
        QCOMPARE(model.columnCount(), int(PairTableModel::kFirstScore));
    }

    void proxyFiltersByTextMethodRangeAndStsV() {
        auto ds = syn::test::make_dataset(60);
        PairTableModel model;
        model.setScores(ds, two_encoders(*ds));
        PairFilterProxy proxy;
        proxy.setSourceModel(&model);
        QCOMPARE(proxy.rowCount(), 60);
        PairFilterProxy::Filter f;
        f.text = "SURFER";
        f.sts_l_min = 1.0;
        f.sts_l_max = 4.0;
        f.sts_v = 0;
        f.method = "c2c_isim";
        QSignalSpy applied(&proxy, &PairFilterProxy::filterApplied);
        proxy.setFilter(f);
        QCOMPARE(applied.count(), 1);
        std::vector<int> expected;
        for (int i = 0; i < 60; ++i) {
            const auto& p = ds->pairs[i];
            const bool text = p.text1.find("surfer") != std::string::npos || p.text2.find("surfer") != std::string::npos;
            if (text && p.sts_l >= 1.0 && p.sts_l <= 4.0 && p.sts_v == 0.0 && p.sampling_method == "c2c_isim")
                expected.push_back(i);
        }
        QVERIFY(!expected.empty());
        auto got = proxy.filteredPairs();
        std::sort(got.begin(), got.end());
        QCOMPARE(got, expected);
        // Same image only.
        PairFilterProxy::Filter same;
        same.sts_v = 1;
        proxy.setFilter(same);
        QCOMPARE(proxy.rowCount(), 20);
        for (int row : proxy.filteredPairs()) QCOMPARE(ds->pairs[row].sts_v, 1.0);
    }

    void proxySortsScoresNumerically() {
        auto ds = syn::test::make_dataset(40);
        PairTableModel model;
        model.setScores(ds, two_encoders(*ds));
        PairFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.sort(PairTableModel::kFirstScore, Qt::DescendingOrder);
        const auto rows = proxy.filteredPairs();
        for (size_t i = 1; i < rows.size(); ++i)
            QVERIFY(model.encoder(0).scores[rows[i - 1]] >= model.encoder(0).scores[rows[i]]);
    }

    void disagreementIsTheRankNormalisedDifferenceOfClipAndBert() {
        auto ds = syn::test::make_dataset(25);
        auto enc = two_encoders(*ds);
        std::swap(enc[0], enc[1]);  // BERT first: the CLIP-style one must still be "a"
        enc.push_back({"jaccard", "lexical", syn::test::make_scores(*ds, 4.0)});
        PairTableModel model;
        model.setScores(ds, enc);
        QVERIFY(model.hasDisagreement());
        QCOMPARE(model.disagreementDescription(), QString("CLIP vs BERT"));
        // Independent computation: rank = 1 + number of smaller values (scores here are distinct).
        auto rank = [&](const std::vector<double>& s, size_t i) {
            return 1.0 + double(std::count_if(s.begin(), s.end(), [&](double v) { return v < s[i]; }));
        };
        const double n = 25;
        for (int i = 0; i < 25; ++i) {
            const double expected = rank(enc[1].scores, i) / n - rank(enc[0].scores, i) / n;
            QVERIFY(std::abs(model.disagreement(i) - expected) < 1e-12);
        }
        PairFilterProxy proxy;
        proxy.setSourceModel(&model);
        proxy.sort(model.disagreementColumn(), Qt::DescendingOrder);
        const auto rows = proxy.filteredPairs();
        for (size_t i = 1; i < rows.size(); ++i)
            QVERIFY(std::abs(model.disagreement(rows[i - 1])) >= std::abs(model.disagreement(rows[i])));
        // One encoder: no disagreement column.
        model.setScores(ds, {enc[0]});
        QVERIFY(!model.hasDisagreement());
        QCOMPARE(model.disagreementColumn(), -1);
    }

    void liveCorrelationsMatchCoreEvalOnTheFilteredRows() {
        auto ds = syn::test::make_dataset(200);
        PairExplorerPanel panel;
        panel.model()->setScores(ds, two_encoders(*ds));
        PairFilterProxy::Filter f;
        f.sts_l_min = 0.5;
        f.sts_l_max = 3.5;
        f.text = "a";
        panel.setFilter(f);
        panel.recomputeCorrelationsNow();
        // The rows a user would see, chosen here without the proxy.
        std::vector<double> l, v, s0, s1;
        for (size_t i = 0; i < ds->pairs.size(); ++i) {
            const auto& p = ds->pairs[i];
            const QString t1 = QString::fromStdString(p.text1), t2 = QString::fromStdString(p.text2);
            if (p.sts_l < 0.5 || p.sts_l > 3.5) continue;
            if (!t1.contains("a", Qt::CaseInsensitive) && !t2.contains("a", Qt::CaseInsensitive)) continue;
            l.push_back(p.sts_l);
            v.push_back(p.sts_v);
            s0.push_back(panel.model()->encoder(0).scores[i]);
            s1.push_back(panel.model()->encoder(1).scores[i]);
        }
        QVERIFY(l.size() > 50 && l.size() < 200);
        const auto& live = panel.liveCorrelations();
        QCOMPARE(live.size(), size_t(2));
        QCOMPARE(live[0].sts_l_pearson, syn::eval::pearson(s0, l).value);
        QCOMPARE(live[0].sts_l_spearman, syn::eval::spearman(s0, l).value);
        QCOMPARE(live[1].sts_v_pearson, syn::eval::pearson(s1, v).value);
        QCOMPARE(live[1].sts_v_spearman, syn::eval::spearman(s1, v).value);
        QVERIFY(panel.liveCorrelationText().contains(QString("n = %1").arg(l.size())));
        // A filter leaving one pair: undefined, and said so (never a made-up number).
        PairFilterProxy::Filter one;
        one.text = QString::fromStdString(ds->pairs[0].text1 + "#no-such-text");
        panel.setFilter(one);
        panel.recomputeCorrelationsNow();
        QVERIFY(std::isnan(panel.liveCorrelations()[0].sts_l_pearson));
        QVERIFY(!panel.liveCorrelations()[0].undefined_reason.isEmpty());
        QVERIFY(panel.liveCorrelationText().contains("n/a"));
    }

    void bigFiltersComputeCorrelationsOnAWorkerThread() {
        auto ds = syn::test::make_dataset(PairExplorerPanel::kBackgroundCorrelationsAbove + 500);
        PairExplorerPanel panel;
        QSignalSpy updated(&panel, &PairExplorerPanel::correlationsUpdated);
        panel.model()->setScores(ds, two_encoders(*ds));
        // Not at once: the worker's result arrives through the event loop.
        QCOMPARE(updated.count(), 0);
        QVERIFY(updated.wait(2000));
        QCOMPARE(panel.liveCorrelations().size(), size_t(2));
        // Two changes in a row, the second while the first one's job runs: what ends up shown is the
        // second filter's correlations, the same numbers as computed on this thread.
        PairFilterProxy::Filter f;
        f.sts_l_max = 4.8;
        panel.setFilter(f);
        f.sts_l_min = 0.2;
        panel.setFilter(f);
        QVERIFY(panel.proxy()->rowCount() > PairExplorerPanel::kBackgroundCorrelationsAbove);
        const QString last_n = QString("n = %1").arg(panel.proxy()->rowCount());
        QTRY_VERIFY_WITH_TIMEOUT(panel.liveCorrelationText().contains(last_n), 5000);
        const auto background = panel.liveCorrelations();
        panel.recomputeCorrelationsNow();
        for (size_t e = 0; e < background.size(); ++e) {
            QCOMPARE(background[e].sts_l_spearman, panel.liveCorrelations()[e].sts_l_spearman);
            QCOMPARE(background[e].sts_v_pearson, panel.liveCorrelations()[e].sts_v_pearson);
        }
    }

    void modelListOffersCatalogAndSaysWhatIsMissing() {
        QTemporaryDir cache;
        ModelListModel models;
        models.populate(cache.path());
        const int jaccard = models.findRow("lexical/jaccard");
        const int tfidf = models.findRow("lexical/tfidf");
        QVERIFY(jaccard >= 0 && tfidf >= 0);
        QCOMPARE(models.entry(jaccard).status, ModelStatus::Ready);
        QVERIFY(models.entry(jaccard).checked);
        const int bert = models.findRow("bert-base-cased");
        QVERIFY(bert >= 0);
        QCOMPARE(models.entry(bert).status, ModelStatus::NeedsDownload);
        QVERIFY(models.entry(bert).reason.contains(cache.path()));
        QVERIFY(models.entry(bert).reason.contains("Download"));
        QCOMPARE(models.entry(bert).pooling, QString("pooler"));
        QCOMPARE(models.data(models.index(bert, ModelListModel::kStatus)).toString(), QString("needs download"));
        // Pooling is editable for neural models, not for lexical ones.
        QVERIFY(models.flags(models.index(bert, ModelListModel::kPooling)) & Qt::ItemIsEditable);
        QVERIFY(!(models.flags(models.index(jaccard, ModelListModel::kPooling)) & Qt::ItemIsEditable));
        QVERIFY(models.setData(models.index(bert, ModelListModel::kPooling), "mean"));
        QCOMPARE(models.entry(bert).pooling, QString("mean"));
        // Checkboxes: several at once.
        QSignalSpy checked(&models, &ModelListModel::checkedChanged);
        models.setChecked(bert, true);
        QCOMPARE(checked.count(), 1);
        QCOMPARE(models.checkedRows().size(), size_t(3));
        // A hub id not in the cache: listed, not failed, with the same guidance.
        const int row = models.addHubId("someone/some-model", cache.path());
        QCOMPARE(models.entry(row).status, ModelStatus::NeedsDownload);
    }

    void addFolderAcceptsModelsAndRejectsBadFolders() {
        ModelListModel models;
        QTemporaryDir tmp;
        QString error;
        QVERIFY(!models.addFolder(tmp.path() + "/missing", &error));
        QVERIFY2(error.contains("does not exist"), qPrintable(error));
        QVERIFY(!models.addFolder(tmp.path(), &error));
        QVERIFY2(error.contains("no config.json"), qPrintable(error));
        // config.json but corrupt weights: the safetensors reader's message, naming the file.
        QDir(tmp.path()).mkdir("corrupt");
        const QString corrupt = tmp.path() + "/corrupt";
        QFile config(corrupt + "/config.json");
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(R"({"model_type": "bert"})");
        config.close();
        QFile weights(corrupt + "/model.safetensors");
        QVERIFY(weights.open(QIODevice::WriteOnly));
        weights.write("this is not a safetensors file at all");
        weights.close();
        QVERIFY(!models.addFolder(corrupt, &error));
        QVERIFY2(error.contains("model.safetensors"), qPrintable(error));
        QCOMPARE(models.rowCount(), 0);
        // A real model folder (the tiny BERT fixture).
        const QString tiny = QString::fromStdString(syn::test::fixtures_dir()) + "/models/tiny-bert";
        if (!QFileInfo::exists(tiny)) QSKIP("fixtures not found: set SYNESTHESIA_SHARED");
        const auto row = models.addFolder(tiny, &error);
        QVERIFY2(row.has_value(), qPrintable(error));
        QCOMPARE(models.entry(*row).family, QString("bert"));
        QCOMPARE(models.entry(*row).style, QString("bert"));
        QVERIFY(models.entry(*row).params > 0);
        QVERIFY(models.entry(*row).checked);
        QCOMPARE(models.entry(*row).job_model(), QDir::cleanPath(tiny));
        QCOMPARE(*models.addFolder(tiny, &error), *row);  // twice: same row
    }

    void tablesExportAsCsvMarkdownAndLatex() {
        auto ds = syn::test::make_dataset(3);
        ds->pairs[1].text1 = "a \"quoted\", comma | pipe & 50%_";
        PairTableModel model;
        model.setScores(ds, {});
        const QString csv = table_to_text(model, TableFormat::Csv);
        QVERIFY(csv.startsWith("#,Caption 1,Caption 2,STS-L,STS-V,Sampling\r\n"));
        QVERIFY(csv.contains("\"a \"\"quoted\"\", comma | pipe & 50%_\""));
        QCOMPARE(csv.count("\r\n"), 4);
        const QString md = table_to_text(model, TableFormat::Markdown);
        QVERIFY(md.contains("| # | Caption 1 |"));
        QVERIFY(md.contains("comma \\| pipe"));
        const QString tex = table_to_text(model, TableFormat::Latex);
        QVERIFY(tex.contains("\\begin{tabular}{llllll}"));
        // booktabs, as the CLI's tables: \toprule, header, \midrule, rows, \bottomrule; no \hline.
        QVERIFY(tex.contains("\\usepackage{booktabs}"));
        QVERIFY(tex.contains("\\begin{tabular}{llllll}\n\\toprule\n\\# & Caption 1 & Caption 2 & STS-L & STS-V & Sampling \\\\\n\\midrule\n"));
        QVERIFY(tex.endsWith("\\\\\n\\bottomrule\n\\end{tabular}\n"));
        QVERIFY(!tex.contains("\\hline"));
        QCOMPARE(tex.count("rule"), 3);
        QVERIFY(tex.contains("pipe \\& 50\\%\\_"));
        QTemporaryDir tmp;
        write_table(model, tmp.path() + "/pairs.csv");
        QVERIFY(QFileInfo(tmp.path() + "/pairs.csv").size() > 0);
        QVERIFY_THROWS_EXCEPTION(std::exception, write_table(model, tmp.path() + "/pairs.xlsx"));
    }

    void projectFileRoundTrip() {
        ProjectState s;
        s.cxc_csv = "/data/sts_test.csv";
        s.captions_json = "/data/captions.json";
        s.max_pairs = 200;
        s.models = {{"lexical/tfidf", "built in", "none", "—", "cpu", true},
                    {"/models/tiny-bert", "folder", "cls", "bfloat16", "cuda", false}};
        s.filter_text = "surf";
        s.filter_method = "c2c_isim";
        s.sts_l_min = 1.25;
        s.sts_l_max = 4.5;
        s.sts_v = 0;
        s.sort_column = 7;
        s.sort_order = 1;
        s.scatter_encoder = "lexical/tfidf";
        s.prompt = "a man riding a wave";
        s.dark = true;
        s.window_state = QByteArray("\x00\x01state\xff", 9);
        s.window_geometry = QByteArray("geometry");
        QTemporaryDir tmp;
        const QString path = tmp.path() + "/s.synproj";
        save_project(s, path);
        const ProjectState back = load_project(path);
        QVERIFY(back == s);
        // Malformed files: the message names the file and the key.
        QFile bad(tmp.path() + "/bad.synproj");
        QVERIFY(bad.open(QIODevice::WriteOnly));
        bad.write(R"({"format": "synesthesia-workbench-project", "version": 1, "filter": {"sts_v": "yes"}})");
        bad.close();
        try {
            load_project(tmp.path() + "/bad.synproj");
            QFAIL("no error for a malformed project");
        } catch (const std::exception& e) {
            const QString m = e.what();
            QVERIFY2(m.contains("bad.synproj") && m.contains("sts_v"), qPrintable(m));
        }
        QVERIFY_THROWS_EXCEPTION(std::exception, load_project(tmp.path() + "/missing.synproj"));
    }

    void presentationListsParse() {
        const auto items = parse_presentation(R"({"items": [{"prompt": " a dog "}, {"pair": 3, "note": "n"}]})", "p.json");
        QCOMPARE(items.size(), size_t(2));
        QCOMPARE(items[0].prompt, QString("a dog"));
        QCOMPARE(items[1].kind, PresentationItem::Kind::Pair);
        QCOMPARE(items[1].pair, 2);
        try {
            parse_presentation(R"({"items": [{"pair": 0}]})", "p.json");
            QFAIL("pair 0 accepted");
        } catch (const std::exception& e) {
            QVERIFY(QString(e.what()).contains("items[0].pair"));
        }
        QVERIFY_THROWS_EXCEPTION(std::exception, parse_presentation("{", "p.json"));
        // The demo list shipped in the resources parses.
        init_resources();
        QFile demo(":/demo_presentation.json");
        QVERIFY(demo.open(QIODevice::ReadOnly));
        QVERIFY(parse_presentation(demo.readAll(), "demo").size() >= 3);
    }
};

QTEST_MAIN(TestUiModels)
#include "test_ui_models.moc"
