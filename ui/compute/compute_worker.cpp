#include "ui/compute/compute_worker.h"

#include <QMetaObject>

#include <chrono>
#include <exception>
#include <vector>

namespace syn::ui {

ComputeWorker::ComputeWorker(QObject* parent) : QObject(parent) {
    thread_.setObjectName("ComputeWorker");
    context_ = new QObject;
    context_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, context_, &QObject::deleteLater);
    thread_.start();
}

ComputeWorker::~ComputeWorker() {
    cancelAll();
    thread_.quit();
    thread_.wait();
}

void ComputeWorker::enqueue(const QString& title, std::shared_ptr<JobCallbacks> callbacks, Work work,
                            const SubmitOptions& options) {
    std::vector<std::shared_ptr<JobCallbacks>> superseded;
    int id;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        id = next_id_++;
        callbacks->id = id;
        if (!options.supersede.isEmpty()) {
            for (auto it = queue_.begin(); it != queue_.end();) {
                if (it->supersede == options.supersede) {
                    superseded.push_back(it->callbacks);
                    it = queue_.erase(it);
                } else {
                    ++it;
                }
            }
            if (running_id_ && running_supersede_ == options.supersede) {
                running_superseded_ = true;
                running_cancel_.cancel();
            }
        }
        queue_.push_back({id, title, options.supersede, std::move(callbacks), std::move(work)});
    }
    for (const auto& c : superseded) reportCancelled(c, true);
    emit jobQueued(id, title);
    QMetaObject::invokeMethod(context_, [this] { runNext(); }, Qt::QueuedConnection);
}

void ComputeWorker::post(const std::shared_ptr<JobCallbacks>& callbacks, std::function<void(JobCallbacks&)> deliver) {
    QObject* context = callbacks->context.data();
    if (!context) return;
    // Always queued to the context's thread, even from it (a job dropped by cancel() or superseded
    // inside submit()): callbacks attached before the event loop runs again are never missed. Qt
    // drops the call when the context is destroyed first.
    QMetaObject::invokeMethod(
        context, [callbacks, deliver = std::move(deliver)] { deliver(*callbacks); }, Qt::QueuedConnection);
}

void ComputeWorker::reportCancelled(const std::shared_ptr<JobCallbacks>& callbacks, bool superseded) {
    post(callbacks, [superseded](JobCallbacks& c) {
        if (c.on_cancelled) c.on_cancelled(superseded);
    });
    emit jobCancelled(callbacks->id, superseded);
}

void ComputeWorker::cancel(int id) {
    std::shared_ptr<JobCallbacks> dropped;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (id == running_id_) {
            running_cancel_.cancel();
        } else {
            for (auto it = queue_.begin(); it != queue_.end(); ++it) {
                if (it->id == id) {
                    dropped = it->callbacks;
                    queue_.erase(it);
                    break;
                }
            }
        }
    }
    if (dropped) reportCancelled(dropped, false);
}

void ComputeWorker::cancelAll() {
    std::deque<Entry> dropped;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        dropped.swap(queue_);
        if (running_id_) running_cancel_.cancel();
    }
    for (const auto& e : dropped) reportCancelled(e.callbacks, false);
}

int ComputeWorker::pendingJobs() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(queue_.size()) + (running_id_ ? 1 : 0);
}

void ComputeWorker::runNext() {
    Entry entry;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (queue_.empty() || running_id_) return;
        entry = std::move(queue_.front());
        queue_.pop_front();
        running_id_ = entry.id;
        running_supersede_ = entry.supersede;
        running_superseded_ = false;
        running_cancel_.reset();
    }
    emit jobStarted(entry.id, entry.title);
    const int id = entry.id;
    const auto callbacks = entry.callbacks;
    syn::run::Progress last;
    auto stage_start = std::chrono::steady_clock::now();
    auto last_emit = std::chrono::steady_clock::time_point{};
    syn::run::ProgressSink progress = [&](const syn::run::Progress& p) {
        auto now = std::chrono::steady_clock::now();
        if (p.stage != last.stage || p.subject != last.subject) {
            stage_start = now;
        } else if (now - last_emit < std::chrono::milliseconds(50) && p.done < p.total) {
            last = p;
            return;  // keep the GUI's event queue light
        }
        last = p;
        last_emit = now;
        const double eta = syn::run::eta_seconds(stage_start, p.done, p.total);
        // The job's owner hears it first, then the observers of every job.
        post(callbacks, [p, eta](JobCallbacks& c) {
            if (c.on_progress) c.on_progress(p, eta);
        });
        emit jobProgress(id, QString::fromStdString(p.text()), p.done, p.total, eta);
    };
    bool cancelled = false;
    QString failure;
    try {
        entry.work(progress, &running_cancel_);
        cancelled = running_cancel_.cancelled();
    } catch (const syn::run::Cancelled&) {
        cancelled = true;
    } catch (const std::exception& e) {
        failure = QString::fromUtf8(e.what());
        if (failure.isEmpty()) failure = "error without a message";
    } catch (...) {
        failure = "unknown error";
    }
    bool superseded;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        superseded = running_superseded_;
    }
    if (cancelled) {
        reportCancelled(callbacks, superseded);
    } else if (!failure.isEmpty()) {
        post(callbacks, [failure](JobCallbacks& c) {
            if (c.on_failed) c.on_failed(failure);
        });
        emit jobFailed(id, failure);
    } else {
        post(callbacks, [](JobCallbacks& c) { c.deliver_result(); });
        emit jobFinished(id);
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        running_id_ = 0;
        running_supersede_.clear();
    }
    QMetaObject::invokeMethod(context_, [this] { runNext(); }, Qt::QueuedConnection);
}

}  // namespace syn::ui
