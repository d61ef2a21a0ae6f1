#pragma once
// The one background compute thread. Qt's mandelbrot pattern: a worker object living on its own
// QThread, a FIFO of jobs, progress and results delivered to the GUI thread, and a cancel flag checked
// by jobs between batches. Jobs run only on the worker thread, so the torch device and every tensor
// belong to it; the GUI thread receives plain result structs.
//
// Jobs are typed: submit(context, title, fn) runs `fn(progress, cancel) -> R` and returns a
// JobHandle<R> whose callbacks (finished with the R, failed, cancelled, progress as syn::run::Progress
// data) run on the GUI thread, for that job only, and never after `context` is destroyed. A job
// submitted with a supersede key replaces the queued or running job of the same key (a new prompt
// search or Generate click makes the previous one moot), which ends as cancelled with superseded=true.
//
// The untyped signals remain for the observers of every job (the Jobs panel, the status bar).
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

#include "core/run/progress.h"
#include "core/run/session.h"

namespace syn::ui {

// What the GUI thread hears of one job. Filled and read on the GUI thread only: the worker thread
// posts each delivery to the context's thread, so callbacks set right after submit() (before the
// event loop runs again) are never missed.
struct JobCallbacks {
    int id = 0;
    QPointer<QObject> context;
    std::function<void(const syn::run::Progress&, double eta_seconds)> on_progress;
    std::function<void(const QString& message)> on_failed;
    std::function<void(bool superseded)> on_cancelled;
    virtual ~JobCallbacks() = default;
    virtual void deliver_result() = 0;
};

namespace detail {

template <class T>
struct JobResultOf {
    using type = std::decay_t<T>;
    static std::shared_ptr<const type> share(T&& value) { return std::make_shared<const type>(std::forward<T>(value)); }
};
template <class T>
struct JobResultOf<std::shared_ptr<T>> {  // a job that already returns a shared result
    using type = std::remove_const_t<T>;
    static std::shared_ptr<const type> share(std::shared_ptr<T> value) { return value; }
};

template <class R>
struct TypedJobCallbacks final : JobCallbacks {
    std::shared_ptr<const R> result;  // written by the worker thread before deliver_result is posted
    std::function<void(std::shared_ptr<const R>)> on_finished;
    void deliver_result() override {
        if (on_finished) on_finished(result);
    }
};

}  // namespace detail

// The GUI thread's view of one submitted job. Copyable; an empty handle (id() == 0) is what a
// refused submit returns. The setters return the handle so they chain.
template <class R>
class JobHandle {
public:
    JobHandle() = default;
    explicit JobHandle(std::shared_ptr<detail::TypedJobCallbacks<R>> state) : state_(std::move(state)) {}

    int id() const { return state_ ? state_->id : 0; }
    explicit operator bool() const { return id() != 0; }

    JobHandle& onFinished(std::function<void(std::shared_ptr<const R>)> f) {
        if (state_) state_->on_finished = std::move(f);
        return *this;
    }
    JobHandle& onFailed(std::function<void(const QString&)> f) {
        if (state_) state_->on_failed = std::move(f);
        return *this;
    }
    JobHandle& onCancelled(std::function<void(bool superseded)> f) {
        if (state_) state_->on_cancelled = std::move(f);
        return *this;
    }
    JobHandle& onProgress(std::function<void(const syn::run::Progress&, double eta_seconds)> f) {
        if (state_) state_->on_progress = std::move(f);
        return *this;
    }

private:
    std::shared_ptr<detail::TypedJobCallbacks<R>> state_;
};

struct SubmitOptions {
    // Jobs with the same non-empty key supersede each other: submitting one drops the queued ones
    // and cancels the running one ("prompt search", "generate faces").
    QString supersede;
};

class ComputeWorker : public QObject {
    Q_OBJECT
public:
    // Runs on the worker thread; reports through `progress`, stops when `cancel` is set (by
    // throwing syn::run::Cancelled or returning early); exceptions become failures.
    using Work = std::function<void(const syn::run::ProgressSink& progress, const syn::run::CancelToken* cancel)>;

    // Starts the worker thread.
    explicit ComputeWorker(QObject* parent = nullptr);
    // Cancels everything and joins the thread.
    ~ComputeWorker() override;

    // Thread-safe to call from the GUI thread. `fn(progress, cancel)` returns the result (a value or
    // a shared_ptr to one); callbacks go to `context`'s thread (the worker itself when null).
    template <class F>
    auto submit(QObject* context, const QString& title, F fn, const SubmitOptions& options = {}) {
        using Returned = std::invoke_result_t<F&, const syn::run::ProgressSink&, const syn::run::CancelToken*>;
        using Result = detail::JobResultOf<Returned>;
        using R = typename Result::type;
        auto state = std::make_shared<detail::TypedJobCallbacks<R>>();
        state->context = context ? context : this;
        detail::TypedJobCallbacks<R>* out = state.get();  // owned by the queue entry while the job runs
        Work work = [out, fn = std::move(fn)](const syn::run::ProgressSink& p, const syn::run::CancelToken* c) mutable {
            out->result = Result::share(fn(p, c));
        };
        enqueue(title, state, std::move(work), options);
        return JobHandle<R>(std::move(state));
    }

    // Cancels a queued or running job (a queued one is dropped at once; its handle hears it through
    // the event loop).
    void cancel(int id);
    void cancelAll();
    int pendingJobs() const;

    // The resident model session (loaded encoders, generator, CLIP towers, cache indexes). Jobs use
    // it, on the worker thread only; it outlives the thread (declared before it).
    syn::run::ModelSession& session() { return session_; }

signals:
    void jobQueued(int id, const QString& title);
    void jobStarted(int id, const QString& title);
    // `stage` is Progress::text(), for display; panels that act on stages use the typed handle.
    void jobProgress(int id, const QString& stage, qint64 done, qint64 total, double etaSeconds);
    void jobFinished(int id);
    void jobFailed(int id, const QString& message);
    void jobCancelled(int id, bool superseded);

private:
    struct Entry {
        int id = 0;
        QString title;
        QString supersede;
        std::shared_ptr<JobCallbacks> callbacks;
        Work work;
    };
    void enqueue(const QString& title, std::shared_ptr<JobCallbacks> callbacks, Work work, const SubmitOptions& options);
    // Emits jobCancelled and posts the handle's on_cancelled.
    void reportCancelled(const std::shared_ptr<JobCallbacks>& callbacks, bool superseded);
    // Posts `deliver` to the callbacks' context thread (skipped when the context is gone).
    void post(const std::shared_ptr<JobCallbacks>& callbacks, std::function<void(JobCallbacks&)> deliver);
    Q_INVOKABLE void runNext();

    syn::run::ModelSession session_;
    mutable std::mutex mutex_;
    std::deque<Entry> queue_;
    int next_id_ = 1;
    int running_id_ = 0;
    QString running_supersede_;
    bool running_superseded_ = false;
    syn::run::CancelToken running_cancel_;
    QThread thread_;
    QObject* context_ = nullptr;  // lives on thread_; runNext is invoked on it
};

}  // namespace syn::ui
