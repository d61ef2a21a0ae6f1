// ComputeWorker: results, progress, failures and cancellation arrive as signals on the GUI thread,
// and the GUI's event loop stays responsive while a job runs.
#include <QElapsedTimer>
// QSignalSpy records emissions from the worker thread directly (not queued), so a fast job can
// emit before a wait() starts: the tests wait for counts (QTRY_*) rather than for the next signal.
#include <QSignalSpy>
#include <QtTest/QtTest>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "ui/compute/compute_worker.h"

using syn::ui::ComputeWorker;

class TestComputeWorker : public QObject {
    Q_OBJECT
private slots:
    void resultAndProgressArriveOnTheGuiThread() {
        ComputeWorker worker;
        QSignalSpy finished(&worker, &ComputeWorker::jobFinished);
        QSignalSpy progress(&worker, &ComputeWorker::jobProgress);
        std::atomic<bool> ran_off_gui_thread{false};
        QThread* gui = QThread::currentThread();
        int id = worker.submit("sum", [&](const syn::run::ProgressSink& p, const syn::run::CancelToken*) {
            ran_off_gui_thread = QThread::currentThread() != gui;
            for (int i = 1; i <= 3; ++i) p("summing", i, 3);
            return std::shared_ptr<const void>(std::make_shared<int>(42));
        });
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() >= 1, 5000);
        QCOMPARE(finished.at(0).at(0).toInt(), id);
        auto result = finished.at(0).at(1).value<std::shared_ptr<const void>>();
        QCOMPARE(*static_cast<const int*>(result.get()), 42);
        QVERIFY(ran_off_gui_thread);
        QVERIFY(progress.count() >= 1);
        QCOMPARE(progress.last().at(2).toLongLong(), 3);  // the final report is never throttled away
    }

    void failuresBecomeMessages() {
        ComputeWorker worker;
        QSignalSpy failed(&worker, &ComputeWorker::jobFailed);
        worker.submit("bad", [](const syn::run::ProgressSink&, const syn::run::CancelToken*)
                                 -> std::shared_ptr<const void> { throw std::runtime_error("file.csv:3: bad row"); });
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
            return std::shared_ptr<const void>();
        };
        int running = worker.submit("endless", endless);
        int queued = worker.submit("queued", endless);
        QTRY_VERIFY_WITH_TIMEOUT(started.count() >= 1, 5000);
        worker.cancel(queued);
        worker.cancel(running);
        QTRY_COMPARE_WITH_TIMEOUT(cancelled.count(), 2, 5000);
        QCOMPARE(finished.count(), 0);
        QCOMPARE(worker.pendingJobs(), 0);
        // The worker is still usable afterwards.
        worker.submit("after", [](const syn::run::ProgressSink&, const syn::run::CancelToken*) {
            return std::shared_ptr<const void>(std::make_shared<int>(1));
        });
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 5000);
    }

    void eventLoopAnswersWithin100msWhileAJobRuns() {
        ComputeWorker worker;
        QSignalSpy started(&worker, &ComputeWorker::jobStarted);
        worker.submit("busy", [](const syn::run::ProgressSink& p, const syn::run::CancelToken* c) {
            // CPU-bound work with frequent progress reports, as an embedding job does.
            volatile double x = 0;
            for (long long i = 0; i < 4000000000LL; ++i) {
                x += 1e-9 * static_cast<double>(i % 7);
                if (i % 100000 == 0) {
                    p("busy", i, 4000000000LL);
                    syn::run::throw_if_cancelled(c, "busy");
                }
            }
            return std::shared_ptr<const void>();
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
