// ComputeWorker: results, progress, failures and cancellation arrive on the GUI thread, typed, at the
// handle of the job they belong to; superseding jobs replace each other; the GUI's event loop stays
// responsive while a job runs.
#include <QElapsedTimer>
// QSignalSpy records emissions from the worker thread directly (not queued), so a fast job can
// emit before a wait() starts: the tests wait for counts (QTRY_*) rather than for the next signal.
#include <QSignalSpy>
#include <QtTest/QtTest>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ui/compute/compute_worker.h"

using syn::ui::ComputeWorker;
using syn::run::Progress;
using syn::run::Stage;

namespace {

struct Tally {
    int finished = 0, failed = 0, cancelled = 0, superseded = 0;
    std::vector<int> results;
};

// Counts every end a handle reports and checks it arrives on the GUI thread.
template <class R>
void watch(syn::ui::JobHandle<R>& job, Tally& tally) {
    QThread* gui = QThread::currentThread();
    job.onFinished([&tally, gui](std::shared_ptr<const R> r) {
           QVERIFY(QThread::currentThread() == gui);
           ++tally.finished;
           tally.results.push_back(*r);
       })
        .onFailed([&tally](const QString&) { ++tally.failed; })
        .onCancelled([&tally](bool superseded) { ++(superseded ? tally.superseded : tally.cancelled); });
}

}  // namespace

class TestComputeWorker : public QObject {
    Q_OBJECT
private slots:
    void resultAndProgressArriveOnTheGuiThread() {
        ComputeWorker worker;
        QSignalSpy finished(&worker, &ComputeWorker::jobFinished);
        QSignalSpy progress(&worker, &ComputeWorker::jobProgress);
        std::atomic<bool> ran_off_gui_thread{false};
        QThread* gui = QThread::currentThread();
        auto job = worker.submit(nullptr, "sum", [&](const syn::run::ProgressSink& p, const syn::run::CancelToken*) {
            ran_off_gui_thread = QThread::currentThread() != gui;
            for (int i = 1; i <= 3; ++i) p({Stage::embedding, "model-a", i, 3});
            return std::string("forty-two");
        });
        std::vector<Progress> typed;
        std::shared_ptr<const std::string> result;
        job.onProgress([&](const Progress& p, double) {
               QVERIFY(QThread::currentThread() == gui);
               typed.push_back(p);
           })
            .onFinished([&](std::shared_ptr<const std::string> r) { result = std::move(r); });
        QTRY_VERIFY_WITH_TIMEOUT(result != nullptr, 5000);
        QCOMPARE(*result, std::string("forty-two"));
        QCOMPARE(finished.at(0).at(0).toInt(), job.id());
        QVERIFY(ran_off_gui_thread);
        QVERIFY(progress.count() >= 1);
        QCOMPARE(progress.last().at(1).toString(), QString("embedding model-a"));  // Progress::text() for display
        QCOMPARE(progress.last().at(2).toLongLong(), 3);  // the final report is never throttled away
        QVERIFY(!typed.empty());
        QCOMPARE(typed.back().stage, Stage::embedding);  // the stage as data, not a string to compare
        QCOMPARE(typed.back().subject, std::string("model-a"));
        QCOMPARE(typed.back().done, 3LL);
    }

    void eachHandleHearsOnlyItsOwnJob() {
        ComputeWorker worker;
        Tally a, b;
        auto ja = worker.submit(nullptr, "a", [](const syn::run::ProgressSink&, const syn::run::CancelToken*) { return 1; });
        auto jb = worker.submit(nullptr, "b", [](const syn::run::ProgressSink&, const syn::run::CancelToken*) -> int {
            throw std::runtime_error("b failed");
        });
        watch(ja, a);
        watch(jb, b);
        QTRY_VERIFY_WITH_TIMEOUT(a.finished + b.failed == 2, 5000);
        QTest::qWait(20);
        QCOMPARE(a.results, std::vector<int>{1});
        QCOMPARE(a.failed + a.cancelled, 0);
        QCOMPARE(b.finished + b.cancelled, 0);
        QCOMPARE(b.failed, 1);
    }

    void aDestroyedContextHearsNothing() {
        ComputeWorker worker;
        std::atomic<bool> release{false};
        auto context = std::make_unique<QObject>();
        int calls = 0;
        auto job = worker.submit(context.get(), "slow", [&release](const syn::run::ProgressSink& p, const syn::run::CancelToken*) {
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(2));
            p({Stage::training, "", 1, 1});
            return 5;
        });
        job.onFinished([&calls](std::shared_ptr<const int>) { ++calls; }).onProgress([&calls](const Progress&, double) { ++calls; });
        QSignalSpy finished(&worker, &ComputeWorker::jobFinished);
        context.reset();  // the panel is closed while its job runs
        release = true;
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 5000);
        QTest::qWait(20);
        QCOMPARE(calls, 0);
    }

    void aNewerJobSupersedesTheQueuedAndRunningOnes() {
        ComputeWorker worker;
        std::atomic<int> started_runs{0};
        auto search = [&started_runs](int answer) {
            return [&started_runs, answer](const syn::run::ProgressSink&, const syn::run::CancelToken* c) {
                ++started_runs;
                // The first search runs until it is superseded; later ones answer at once.
                while (answer == 1 && !c->cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
                syn::run::throw_if_cancelled(c, "search");
                return answer;
            };
        };
        QSignalSpy cancelled(&worker, &ComputeWorker::jobCancelled);
        Tally first, second, third, other;
        auto j1 = worker.submit(nullptr, "search 1", search(1), syn::ui::SubmitOptions{"prompt search"});
        watch(j1, first);
        QTRY_COMPARE_WITH_TIMEOUT(started_runs.load(), 1, 5000);
        // A job of another key is not touched; search 2 is still queued (behind search 1) when
        // search 3 arrives, so it never runs.
        auto unrelated = worker.submit(nullptr, "other", search(7), syn::ui::SubmitOptions{"generate faces"});
        auto j2 = worker.submit(nullptr, "search 2", search(2), syn::ui::SubmitOptions{"prompt search"});
        auto j3 = worker.submit(nullptr, "search 3", search(3), syn::ui::SubmitOptions{"prompt search"});
        watch(unrelated, other);
        watch(j2, second);
        watch(j3, third);
        QTRY_COMPARE_WITH_TIMEOUT(third.finished, 1, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(other.finished, 1, 5000);
        QCOMPARE(first.superseded, 1);   // was running: cancelled through its token
        QCOMPARE(second.superseded, 1);  // was queued: dropped
        QCOMPARE(first.finished + second.finished + first.cancelled + second.cancelled, 0);
        QCOMPARE(third.results, std::vector<int>{3});
        QCOMPARE(other.results, std::vector<int>{7});
        QCOMPARE(started_runs.load(), 3);  // search 1, the unrelated job, search 3
        QCOMPARE(cancelled.count(), 2);
        for (const auto& args : cancelled) QVERIFY(args.at(1).toBool());  // superseded, for the Jobs panel
        QCOMPARE(worker.pendingJobs(), 0);
    }

    void failuresBecomeMessages() {
        ComputeWorker worker;
        QSignalSpy failed(&worker, &ComputeWorker::jobFailed);
        worker.submit(nullptr, "bad", [](const syn::run::ProgressSink&, const syn::run::CancelToken*) -> int {
            throw std::runtime_error("file.csv:3: bad row");
        });
        QTRY_VERIFY_WITH_TIMEOUT(failed.count() >= 1, 5000);
        QCOMPARE(failed.at(0).at(1).toString(), QString("file.csv:3: bad row"));
    }

    void cancelStopsARunningJobAndDropsQueuedOnes() {
        ComputeWorker worker;
        QSignalSpy started(&worker, &ComputeWorker::jobStarted);
        QSignalSpy cancelled(&worker, &ComputeWorker::jobCancelled);
        QSignalSpy finished(&worker, &ComputeWorker::jobFinished);
        auto endless = [](const syn::run::ProgressSink&, const syn::run::CancelToken* c) {
            for (;;) {
                syn::run::throw_if_cancelled(c, "loop");
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
            return 0;
        };
        int running = worker.submit(nullptr, "endless", endless).id();
        int queued = worker.submit(nullptr, "queued", endless).id();
        QTRY_VERIFY_WITH_TIMEOUT(started.count() >= 1, 5000);
        worker.cancel(queued);
        worker.cancel(running);
        QTRY_COMPARE_WITH_TIMEOUT(cancelled.count(), 2, 5000);
        QCOMPARE(finished.count(), 0);
        QCOMPARE(worker.pendingJobs(), 0);
        // The worker is still usable afterwards.
        worker.submit(nullptr, "after", [](const syn::run::ProgressSink&, const syn::run::CancelToken*) { return 1; });
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 5000);
    }

    void eventLoopAnswersWithin100msWhileAJobRuns() {
        ComputeWorker worker;
        QSignalSpy started(&worker, &ComputeWorker::jobStarted);
        worker.submit(nullptr, "busy", [](const syn::run::ProgressSink& p, const syn::run::CancelToken* c) {
            // CPU-bound work with frequent progress reports, as an embedding job does.
            volatile double x = 0;
            for (long long i = 0; i < 4000000000LL; ++i) {
                x += 1e-9 * static_cast<double>(i % 7);
                if (i % 100000 == 0) {
                    p({Stage::other, "busy", i, 4000000000LL});
                    syn::run::throw_if_cancelled(c, "busy");
                }
            }
            return 0;
        });
        QTRY_VERIFY_WITH_TIMEOUT(started.count() >= 1, 5000);
        qint64 worst = 0;
        for (int i = 0; i < 20; ++i) {
            QElapsedTimer t;
            t.start();
            bool fired = false;
            QTimer::singleShot(0, this, [&] { fired = true; });
            while (!fired) QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
            worst = std::max(worst, t.elapsed());
            QTest::qWait(20);
        }
        worker.cancelAll();
        qInfo("worst event-loop latency while a job runs: %lld ms", static_cast<long long>(worst));
        QVERIFY2(worst < 100, qPrintable(QString("event loop latency %1 ms").arg(worst)));
    }
};

QTEST_MAIN(TestComputeWorker)
#include "test_compute_worker.moc"
