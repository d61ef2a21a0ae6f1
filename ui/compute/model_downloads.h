#pragma once
// The GUI's download manager: hub models fetched into the Hugging Face cache by the same engine as
// `synesthesia fetch` (plan_fetch / run_fetch), as jobs on the one ComputeWorker, so the jobs panel
// shows bytes, ETA and Cancel and the GUI thread never waits on the network. When a job ends, the
// model picker's rows are looked up in the cache again; failures (offline, 401, 404) become the
// row's reason and a message, never a modal dialog.
#include <QObject>
#include <QString>
#include <QStringList>

#include <map>
#include <memory>
#include <vector>

#include "core/run/progress.h"

namespace syn::ui {

class ComputeWorker;
class ModelListModel;

// What one download job did, per hub id (built on the worker thread, read on the GUI thread).
struct ModelDownloadOutcome {
    struct Item {
        std::string id;
        bool ok = false;
        std::string message;  // the engine's "done" line, or its error message
    };
    std::vector<Item> items;
};

// The download job itself (runs on the worker thread): one run_fetch per id so that each failure is
// attributed to its model; the others still run. Throws syn::run::Cancelled when cancelled.
ModelDownloadOutcome fetch_models_job(const std::vector<std::string>& ids, const syn::run::ProgressSink& progress,
                                      const syn::run::CancelToken* cancel);

class ModelDownloads : public QObject {
    Q_OBJECT
public:
    ModelDownloads(ComputeWorker* worker, ModelListModel* models, QObject* parent = nullptr);

    // Whether a row is a hub model that is not in the cache (catalog or hub id, no folder yet).
    bool canDownload(int row) const;
    bool isDownloading(const QString& id) const;
    // Starts one job downloading `ids` (hub ids; rows are added for ids not listed yet). Returns the
    // job id, or 0 when nothing was submitted (the reason goes to errorOccurred).
    int download(const QStringList& ids);
    int downloadRow(int row);
    // The catalog's neural models that are not in the cache yet (0 when all are there).
    QStringList missingStudyModels() const;
    int downloadStudyModels();

signals:
    void message(const QString& text);
    // A failed download (the engine's message); shown in the status bar, not in a dialog.
    void errorOccurred(const QString& message);
    // After the rows were refreshed. ok = every model of the job is now in the cache.
    void downloadFinished(int job, bool ok);

private:
    void finish(int job, const ModelDownloadOutcome* outcome, const QString& failure, bool cancelled);
    ComputeWorker* worker_;
    ModelListModel* models_;
    std::map<int, QStringList> jobs_;  // job id -> hub ids
};

}  // namespace syn::ui
