// Qt Test (offscreen): the GUI's download manager against a real local HTTP server laid out like the
// Hugging Face hub (tests/io/hub_test_server.py). A catalog row that "needs download" is fetched
// through the picker's Download path (ModelPickerPanel::downloadRow) as a ComputeWorker job: the
// job reports bytes, ends "done" in the jobs panel, the files land in the HF cache layout and the
// row turns available. A 404 shows the engine's message (status bar, row reason, no dialog) and the
// window keeps working. Cancel in the jobs panel stops a slow download and leaves the row
// downloadable.
#include <QApplication>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest/QtTest>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "tests/support/hub_server.h"
#include "core/io/model_store.h"
#include "core/run/catalog.h"
#include "ui/compute/compute_worker.h"
#include "ui/compute/model_downloads.h"
#include "ui/main_window.h"
#include "ui/models/model_list_model.h"
#include "ui/panels/jobs_panel.h"
#include "ui/panels/model_picker.h"

namespace fs = std::filesystem;
using nlohmann::json;
using syn::ui::MainWindow;
using syn::ui::ModelStatus;

namespace {

const char* const kCommit = "89abcdef0123456789abcdef0123456789abcdef";

void write(const fs::path& p, const std::string& content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

using syn::test::HubServer;

// The first neural catalog model: served by the test hub under its real id.
std::string first_catalog_model() {
    for (const auto& c : syn::run::load_catalog())
        if (!c.is_lexical()) return c.id;
    return {};
}

QTreeWidgetItem* job_item(QTreeWidget* tree, const QString& title) {
    for (int i = 0; i < tree->topLevelItemCount(); ++i)
        if (tree->topLevelItem(i)->text(0) == title) return tree->topLevelItem(i);
    return nullptr;
}

bool message_box_visible() {
    for (QWidget* w : QApplication::topLevelWidgets())
        if (qobject_cast<QMessageBox*>(w) && w->isVisible()) return true;
    return false;
}

}  // namespace

class TestModelDownload : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    std::unique_ptr<HubServer> server_;
    std::string model_id_;
    std::string weights_;

    fs::path cache() const { return fs::path(tmp_.path().toStdString()) / "hub"; }

private slots:
    void initTestCase() {
        QCoreApplication::setOrganizationName("SynesthesiaTest");  // keep the user's settings out
        QCoreApplication::setApplicationName("test_ui_model_download");
        QSettings().clear();
        QVERIFY(tmp_.isValid());
        model_id_ = first_catalog_model();
        QVERIFY2(!model_id_.empty(), "the catalog has no neural model");

        std::mt19937 rng(7);
        weights_.resize(400000);
        for (auto& c : weights_) c = static_cast<char>(rng() & 0xff);
        const fs::path served = fs::path(tmp_.path().toStdString()) / "served";
        auto file = [&](const std::string& name, const std::string& content, bool lfs = false) {
            write(served / name, content);
            return json{{"path", (served / name).string()}, {"lfs", lfs}};
        };
        json files;
        files["config.json"] = file("config.json", R"({"model_type": "bert"})");
        files["tokenizer.json"] = file("tokenizer.json", R"({"model": {}})");
        files["vocab.txt"] = file("vocab.txt", "[PAD]\n[UNK]\nhello\n");
        files["model.safetensors"] = file("model.safetensors", weights_, true);
        files["README.md"] = file("README.md", "# not wanted");
        // The same files from a slow server (~40 kB/s): time to press Cancel mid-transfer.
        json slow = files;
        slow["model.safetensors"]["slow_bps"] = 40000;
        const json config = {{"repos",
                              {{model_id_, {{"commit", kCommit}, {"files", files}}},
                               {"org/slow", {{"commit", kCommit}, {"files", slow}}}}}};
        try {
            server_ = std::make_unique<HubServer>(config, fs::path(tmp_.path().toStdString()));
        } catch (const std::exception& e) {
            QFAIL(e.what());
        }
        // As users configure huggingface_hub: the endpoint and the cache from the environment.
        qputenv("HF_ENDPOINT", QByteArray::fromStdString(server_->endpoint()));
        qputenv("HF_HUB_CACHE", QByteArray::fromStdString(cache().string()));
        qunsetenv("HF_HUB_OFFLINE");
        qunsetenv("HF_TOKEN");
        QCOMPARE(QString::fromStdString(syn::hf_hub_cache_dir()), QString::fromStdString(cache().string()));
    }

    void cleanupTestCase() { server_.reset(); }

    void downloadActionFetchesACatalogModel() {
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        auto* list = window.modelList();
        const QString id = QString::fromStdString(model_id_);
        const int row = list->findRow(id);
        QVERIFY(row >= 0);
        QCOMPARE(list->entry(row).status, ModelStatus::NeedsDownload);
        QVERIFY(list->entry(row).reason.contains("Download"));
        QVERIFY(window.downloads()->canDownload(row));

        QSignalSpy progress(window.worker(), &syn::ui::ComputeWorker::jobProgress);
        QSignalSpy finished(window.downloads(), &syn::ui::ModelDownloads::downloadFinished);
        const int job = window.modelPicker()->downloadRow(row);
        QVERIFY(job > 0);
        QCOMPARE(list->entry(row).status, ModelStatus::Loading);
        QVERIFY(!window.downloads()->canDownload(row));  // no second download of the same model
        QCOMPARE(window.modelPicker()->downloadRow(row), 0);
        QVERIFY(finished.count() == 1 || finished.wait(60000));
        QCOMPARE(finished.first().at(0).toInt(), job);
        QVERIFY2(finished.first().at(1).toBool(), qPrintable(list->entry(row).reason));

        // The row is available, with the snapshot folder of the hub's layout.
        QCOMPARE(list->entry(row).status, ModelStatus::Available);
        const fs::path snapshot = cache() / syn::hf_cache_repo_folder_name(model_id_) / "snapshots" / kCommit;
        QCOMPARE(list->entry(row).folder, QString::fromStdString(snapshot.string()));
        QCOMPARE(slurp(snapshot / "model.safetensors"), weights_);
        QCOMPARE(slurp(snapshot / "config.json"), std::string(R"({"model_type": "bert"})"));
        QVERIFY(fs::exists(snapshot / "vocab.txt"));
        QVERIFY(!fs::exists(snapshot / "README.md"));
        QVERIFY(syn::resolve_model(model_id_, "main", cache().string()).has_value());
        QVERIFY(!window.downloads()->canDownload(row));
        QVERIFY(!window.downloads()->missingStudyModels().contains(id));

        // Bytes were reported for the weights (the jobs panel's progress and ETA come from these).
        bool weights_reported = false;
        for (const auto& args : progress)
            if (args.at(0).toInt() == job && args.at(1).toString().contains("model.safetensors") &&
                args.at(3).toLongLong() == static_cast<qint64>(weights_.size()))
                weights_reported = true;
        QVERIFY(weights_reported);
        QTreeWidgetItem* item = job_item(window.jobsPanel()->tree(), "Download " + id);
        QVERIFY(item);
        QTRY_COMPARE(item->text(1), QString("done"));
        QVERIFY(window.statusBar()->currentMessage().contains("Downloaded"));
        QVERIFY(window.lastError().isEmpty());
    }

    void failedDownloadShowsTheMessageAndTheWindowKeepsWorking() {
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        auto* list = window.modelList();
        QVERIFY(window.modelPicker()->addHubId("org/not-on-the-hub"));
        const int row = list->findRow("org/not-on-the-hub");
        QVERIFY(row >= 0);
        QCOMPARE(list->entry(row).status, ModelStatus::NeedsDownload);

        QSignalSpy finished(window.downloads(), &syn::ui::ModelDownloads::downloadFinished);
        QSignalSpy errors(&window, &MainWindow::errorShown);
        const int job = window.modelPicker()->downloadRow(row);
        QVERIFY(job > 0);
        QVERIFY(finished.count() == 1 || finished.wait(60000));
        QVERIFY(!finished.first().at(1).toBool());

        // The engine's 404 message names the repo: in the row's reason, the status bar and lastError.
        QCOMPARE(list->entry(row).status, ModelStatus::Failed);
        QVERIFY2(list->entry(row).reason.contains("org/not-on-the-hub"), qPrintable(list->entry(row).reason));
        QCOMPARE(errors.count(), 1);
        QVERIFY(window.lastError().contains("org/not-on-the-hub"));
        QVERIFY(window.statusBar()->currentMessage().startsWith("Error: Download failed"));
        QVERIFY(!message_box_visible());
        QVERIFY(window.downloads()->canDownload(row));  // may be retried

        // The window keeps working: the next download (already cached by the previous test, or
        // fetched now) succeeds on the same worker.
        finished.clear();
        const int ok_row = list->findRow(QString::fromStdString(model_id_));
        QVERIFY(ok_row >= 0);
        if (list->entry(ok_row).status != ModelStatus::Available) {
            QVERIFY(window.modelPicker()->downloadRow(ok_row) > 0);
            QVERIFY(finished.count() == 1 || finished.wait(60000));
            QVERIFY(finished.first().at(1).toBool());
        }
        QCOMPARE(list->entry(ok_row).status, ModelStatus::Available);
        QVERIFY(window.downloads()->download({"org/not-on-the-hub"}) > 0);  // the retry runs too
        QVERIFY(finished.wait(60000));
        QCOMPARE(list->entry(row).status, ModelStatus::Failed);
    }

    void cancelInTheJobsPanelStopsTheDownload() {
        MainWindow window;
        window.setErrorBoxesEnabled(false);
        auto* list = window.modelList();
        const int row = list->addHubId("org/slow");
        QCOMPARE(list->entry(row).status, ModelStatus::NeedsDownload);
        QSignalSpy progress(window.worker(), &syn::ui::ComputeWorker::jobProgress);
        QSignalSpy finished(window.downloads(), &syn::ui::ModelDownloads::downloadFinished);
        const int job = window.modelPicker()->downloadRow(row);
        QVERIFY(job > 0);
        // Wait until the weights are arriving, then press the job's Cancel button.
        QTRY_VERIFY_WITH_TIMEOUT(std::any_of(progress.begin(), progress.end(), [&](const QList<QVariant>& a) {
                                     return a.at(1).toString().contains("model.safetensors") && a.at(2).toLongLong() > 0;
                                 }), 30000);
        QTreeWidgetItem* item = job_item(window.jobsPanel()->tree(), "Download org/slow");
        QVERIFY(item);
        QCOMPARE(item->text(1), QString("running"));
        auto* cancel = qobject_cast<QPushButton*>(window.jobsPanel()->tree()->itemWidget(item, 5));
        QVERIFY(cancel);
        const auto pressed = std::chrono::steady_clock::now();
        cancel->click();
        QVERIFY(finished.count() == 1 || finished.wait(30000));
        QVERIFY(std::chrono::steady_clock::now() - pressed < std::chrono::seconds(8));  // not the whole file
        QVERIFY(!finished.first().at(1).toBool());
        QTRY_COMPARE(item->text(1), QString("cancelled"));
        QCOMPARE(list->entry(row).status, ModelStatus::NeedsDownload);
        QVERIFY(list->entry(row).reason.contains("cancelled"));
        QVERIFY(!syn::resolve_model("org/slow", "main", cache().string()).has_value());
        QVERIFY(window.downloads()->canDownload(row));
        QVERIFY(window.lastError().isEmpty());
    }
};

QTEST_MAIN(TestModelDownload)
#include "test_model_download.moc"
