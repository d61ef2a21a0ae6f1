#pragma once
// The one background compute thread. Qt's mandelbrot pattern: a worker object living on its own
// QThread, a FIFO of jobs, progress and results by queued signals, and a cancel flag checked by
// jobs between batches. Jobs run only on the worker thread, so the torch device and every tensor
// belong to it; the GUI thread receives plain result structs (as std::shared_ptr<const void>,
// cast back by the code that submitted the job).
#include <QObject>
#include <QString>
#include <QThread>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "core/run/progress.h"
#include "core/run/session.h"

namespace syn::ui {

class ComputeWorker : public QObject {
    Q_OBJECT
public:
    using Result = std::shared_ptr<const void>;
    // Runs on the worker thread; reports through `progress`, stops when `cancel` is set (by
    // throwing syn::run::Cancelled or returning early); exceptions become jobFailed.
    using Job = std::function<Result(const syn::run::ProgressSink& progress, const syn::run::CancelToken* cancel)>;

    // Starts the worker thread.
    explicit ComputeWorker(QObject* parent = nullptr);
    // Cancels everything and joins the thread.
    ~ComputeWorker() override;

    // Thread-safe. Returns the job id.
    int submit(const QString& title, Job job);
    // Cancels a queued or running job (a queued one is dropped and reported as cancelled).
    void cancel(int id);
    void cancelAll();
    int pendingJobs() const;

    // The resident model session (loaded encoders, generator, CLIP towers, cache indexes). Jobs use
    // it, on the worker thread only; it outlives the thread (declared before it).
    syn::run::ModelSession& session() { return session_; }

signals:
    void jobQueued(int id, const QString& title);
    void jobStarted(int id, const QString& title);
    void jobProgress(int id, const QString& stage, qint64 done, qint64 total, double etaSeconds);
    void jobFinished(int id, std::shared_ptr<const void> result);
    void jobFailed(int id, const QString& message);
    void jobCancelled(int id);

private:
    Q_INVOKABLE void runNext();

    struct Entry {
        int id;
        QString title;
        Job job;
    };
    syn::run::ModelSession session_;
    mutable std::mutex mutex_;
    std::deque<Entry> queue_;
    int next_id_ = 1;
    int running_id_ = 0;
    syn::run::CancelToken running_cancel_;
    QThread thread_;
    QObject* context_ = nullptr;  // lives on thread_; runNext is invoked on it
};

}  // namespace syn::ui

Q_DECLARE_METATYPE(std::shared_ptr<const void>)
