#include "ui/compute/compute_worker.h"

#include <QMetaObject>

#include <chrono>
#include <exception>

namespace syn::ui {

ComputeWorker::ComputeWorker(QObject* parent) : QObject(parent) {
    qRegisterMetaType<std::shared_ptr<const void>>("std::shared_ptr<const void>");
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

int ComputeWorker::submit(const QString& title, Job job) {
    int id;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        id = next_id_++;
        queue_.push_back({id, title, std::move(job)});
    }
    emit jobQueued(id, title);
    QMetaObject::invokeMethod(context_, [this] { runNext(); }, Qt::QueuedConnection);
    return id;
}

void ComputeWorker::cancel(int id) {
    bool dropped = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (id == running_id_) {
            running_cancel_.cancel();
        } else {
            for (auto it = queue_.begin(); it != queue_.end(); ++it) {
                if (it->id == id) {
                    queue_.erase(it);
                    dropped = true;
                    break;
                }
            }
        }
    }
    if (dropped) emit jobCancelled(id);
}

void ComputeWorker::cancelAll() {
    std::deque<Entry> dropped;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        dropped.swap(queue_);
        if (running_id_) running_cancel_.cancel();
    }
    for (const auto& e : dropped) emit jobCancelled(e.id);
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
        running_cancel_.reset();
    }
    emit jobStarted(entry.id, entry.title);
    const int id = entry.id;
    std::string stage;
    auto stage_start = std::chrono::steady_clock::now();
    auto last_emit = std::chrono::steady_clock::time_point{};
    syn::run::ProgressSink progress = [&](const std::string& s, long long done, long long total) {
        auto now = std::chrono::steady_clock::now();
        if (s != stage) {
            stage = s;
            stage_start = now;
        } else if (now - last_emit < std::chrono::milliseconds(50) && done < total) {
            return;  // keep the GUI's event queue light
        }
        last_emit = now;
        emit jobProgress(id, QString::fromStdString(s), done, total, syn::run::eta_seconds(stage_start, done, total));
    };
    try {
        Result result = entry.job(progress, &running_cancel_);
        if (running_cancel_.cancelled()) emit jobCancelled(id);
        else emit jobFinished(id, result);
    } catch (const syn::run::Cancelled&) {
        emit jobCancelled(id);
    } catch (const std::exception& e) {
        emit jobFailed(id, QString::fromUtf8(e.what()));
    } catch (...) {
        emit jobFailed(id, "unknown error");
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        running_id_ = 0;
    }
    QMetaObject::invokeMethod(context_, [this] { runNext(); }, Qt::QueuedConnection);
}

}  // namespace syn::ui
