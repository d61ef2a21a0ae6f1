#include "ui/compute/model_downloads.h"

#include "core/io/hub_download.h"
#include "core/io/model_store.h"
#include "core/run/catalog.h"
#include "core/run/commands/fetch_command.h"
#include "ui/compute/compute_worker.h"
#include "ui/models/model_list_model.h"

namespace syn::ui {

ModelDownloadOutcome fetch_models_job(const std::vector<std::string>& ids, const syn::run::ProgressSink& progress,
                                      const syn::run::CancelToken* cancel) {
    // Read on the worker thread at the start of each job, so HF_ENDPOINT / HF_TOKEN / HF_HUB_OFFLINE
    // changes apply without restarting the workbench.
    const syn::hub::HubOptions hub = syn::hub::HubOptions::from_environment();
    // run_fetch takes a mutable token but only reads it (cancel->cancelled()); the worker owns it.
    auto* token = const_cast<syn::run::CancelToken*>(cancel);
    ModelDownloadOutcome out;
    for (const auto& id : ids) {
        syn::run::throw_if_cancelled(cancel, "the downloads");
        ModelDownloadOutcome::Item item;
        item.id = id;
        try {
            syn::run::FetchOptions options;
            options.repos = {id};
            const syn::run::FetchOutcome r = syn::run::run_fetch(syn::run::plan_fetch(options), hub, progress, token);
            item.ok = r.failures.empty();
            item.message = item.ok ? (r.done.empty() ? id : r.done.front()) : r.failures.front();
        } catch (const syn::run::Cancelled&) {
            throw;
        } catch (const std::exception& e) {  // plan_fetch: not a hub id
            item.message = e.what();
        }
        out.items.push_back(std::move(item));
    }
    return out;
}

ModelDownloads::ModelDownloads(ComputeWorker* worker, ModelListModel* models, QObject* parent)
    : QObject(parent), worker_(worker), models_(models) {}

bool ModelDownloads::canDownload(int row) const {
    if (row < 0 || row >= models_->rowCount()) return false;
    const ModelEntry& e = models_->entry(row);
    if (e.is_lexical() || !e.folder.isEmpty() || isDownloading(e.id)) return false;
    return e.source == "catalog" || e.source == "hub id";
}

bool ModelDownloads::isDownloading(const QString& id) const {
    for (const auto& [job, ids] : jobs_)
        if (ids.contains(id)) return true;
    return false;
}

int ModelDownloads::downloadRow(int row) {
    if (row < 0 || row >= models_->rowCount()) return 0;
    return download({models_->entry(row).id});
}

int ModelDownloads::download(const QStringList& requested) {
    QStringList ids;
    for (const QString& id : requested) {
        if (isDownloading(id)) {
            emit message(id + " is already being downloaded (see the Jobs panel)");
            continue;
        }
        if (!ids.contains(id)) ids << id;
    }
    if (ids.isEmpty()) return 0;
    std::vector<std::string> std_ids;
    for (const QString& id : ids) {
        int row = models_->findRow(id);
        if (row < 0) row = models_->addHubId(id);
        models_->setStatus(row, ModelStatus::Loading, "downloading from the hub into the Hugging Face cache…");
        std_ids.push_back(id.toStdString());
    }
    const QString title = ids.size() == 1 ? "Download " + ids.front() : QString("Download %1 models").arg(ids.size());
    auto handle = worker_->submit(this, title, [std_ids](const syn::run::ProgressSink& progress,
                                                         const syn::run::CancelToken* cancel) {
        return fetch_models_job(std_ids, progress, cancel);
    });
    const int job = handle.id();
    handle.onFinished([this, job](std::shared_ptr<const ModelDownloadOutcome> outcome) { finish(job, outcome.get(), {}, false); })
        .onFailed([this, job](const QString& message) { finish(job, nullptr, message, false); })
        .onCancelled([this, job](bool) { finish(job, nullptr, {}, true); });
    // Callbacks reach this thread through its event loop, so the job cannot end before this line.
    jobs_[job] = ids;
    emit message(QString("Downloading %1 into %2 (progress and Cancel in the Jobs panel)")
                     .arg(ids.join(", "), QString::fromStdString(syn::hf_hub_cache_dir())));
    return job;
}

QStringList ModelDownloads::missingStudyModels() const {
    QStringList ids;
    for (const auto& c : syn::run::load_catalog()) {
        if (c.is_lexical()) continue;
        const int row = models_->findRow(QString::fromStdString(c.id));
        if (row >= 0 && !models_->entry(row).folder.isEmpty()) continue;
        ids << QString::fromStdString(c.id);
    }
    return ids;
}

int ModelDownloads::downloadStudyModels() {
    const QStringList ids = missingStudyModels();
    if (ids.isEmpty()) {
        emit message("Every catalog model is already in the Hugging Face cache");
        return 0;
    }
    return download(ids);
}

void ModelDownloads::finish(int job, const ModelDownloadOutcome* outcome, const QString& failure, bool cancelled) {
    auto it = jobs_.find(job);
    if (it == jobs_.end()) return;
    const QStringList ids = it->second;
    jobs_.erase(it);
    const QString cache = QString::fromStdString(syn::hf_hub_cache_dir());
    QStringList failures;
    int available = 0;
    for (const QString& id : ids) {
        const int row = models_->findRow(id);
        if (row < 0) continue;
        if (models_->refreshFromCache(row)) {
            ++available;
            continue;
        }
        QString reason;
        if (outcome)
            for (const auto& item : outcome->items)
                if (QString::fromStdString(item.id) == id && !item.ok) reason = QString::fromStdString(item.message);
        if (cancelled) {
            models_->setStatus(row, ModelStatus::NeedsDownload,
                               "download cancelled; the partial file is kept and the next Download resumes it");
        } else if (!reason.isEmpty() || !failure.isEmpty()) {
            const QString why = reason.isEmpty() ? failure : reason;
            models_->setStatus(row, ModelStatus::Failed, "download failed: " + why);
            failures << id + ": " + why;
        } else {
            models_->setStatus(row, ModelStatus::NeedsDownload, ModelListModel::needsDownloadReason(cache));
        }
    }
    if (cancelled) emit message("Download cancelled: " + ids.join(", "));
    else if (!failures.isEmpty()) emit errorOccurred("Download failed: " + failures.join("\n"));
    else emit message(QString("Downloaded %1 into %2").arg(ids.join(", "), cache));
    emit downloadFinished(job, !cancelled && available == ids.size());
}

}  // namespace syn::ui
