// Does the workbench's GUI thread stay responsive while jobs run? Opens the real MainWindow on the
// offscreen platform and runs, one after another, the jobs a user starts:
//   load     loadData: the real CxC test split joined with the COCO captions ($SYNESTHESIA_SHARED/data);
//   search1/2  searchPrompt twice over every caption of the split with three base-size encoders of
//            random weights (benchmarks/random_checkpoints.h: BERT-base, RoBERTa-base, CLIP ViT-B/32
//            text), the embedding cache being the one bench_session filled in the same --work folder
//            (run bench_session first, or the first search embeds the whole split); the first loads
//            the encoders into the worker's session;
//   sts      runSts with the same encoders on --sts-pairs pairs (setMaxPairs), with an empty
//            embedding cache (so every caption is embedded while the GUI is watched); after it the
//            window searches the result's pairs only, which is why the searches come first;
//   generate the prompt box's Generate (two faces + CLIP-S) with the tiny-taming fixture generator
//            and random mappings for tiny-clip / tiny-bert (--no-generate skips it).
// A 10 ms QTimer on the GUI thread records the gap between its ticks: a gap much above 10 ms means the
// event loop did not run. Per job: the ticks, the max and 99th-percentile gap, and how many gaps
// exceeded 100 ms. To find a culprit, every event delivered on the GUI thread (QApplication::notify,
// outermost call only) that takes >= 40 ms is listed with its receiver, event type, wall and
// thread-CPU time (wall >> CPU: the GUI thread was preempted by the compute thread's work on this
// 2-core machine, not busy).
//
//   bench_gui_responsiveness [--work DIR] [--sts-pairs N] [--no-generate] [--timeout-s S]
//
// Speed is measured here, never in tests.
#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QMetaEnum>
#include <QSettings>
#include <QThread>
#include <QTimer>

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "benchmarks/random_checkpoints.h"
#include "core/io/torch/torch_runtime.h"
#include "core/run/jobs/embed_job.h"
#include "models/taming_config.h"
#include "ui/compute/compute_worker.h"
#include "ui/main_window.h"
#include "ui/models/pair_table_model.h"
#include "ui/panels/pair_explorer.h"
#include "ui/panels/plot_panels.h"
#include "ui/panels/face_generation_panel.h"
#include "ui/panels/prompt_panel.h"

namespace fs = std::filesystem;

namespace {

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct SlowEvent {
    qint64 at_ms = 0;  // since the phase started
    double wall_ms = 0, cpu_ms = 0;
    QString what;
};

// Times every outermost event delivery on the GUI thread.
class BenchApplication : public QApplication {
public:
    using QApplication::QApplication;
    bool notify(QObject* receiver, QEvent* event) override {
        // notify() runs on every thread with an event loop (the compute thread's jobs arrive as
        // events too): only the GUI thread's deliveries are timed.
        if (QThread::currentThread() != thread()) return QApplication::notify(receiver, event);
        if (depth_ > 0 || !recording) {
            ++depth_;
            const bool r = QApplication::notify(receiver, event);
            --depth_;
            return r;
        }
        const int type = event->type();
        ++depth_;
        QElapsedTimer t;
        t.start();
        const double cpu = thread_cpu_ms();
        const bool r = QApplication::notify(receiver, event);
        const qint64 ns = t.nsecsElapsed();
        --depth_;
        if (ns >= 40'000'000) {
            SlowEvent e;
            e.at_ms = phase_clock.elapsed() - ns / 1'000'000;
            e.wall_ms = ns / 1e6;
            e.cpu_ms = thread_cpu_ms() - cpu;
            // The receiver may have been deleted by its own event: its class is read only when alive.
            const char* name = QMetaEnum::fromType<QEvent::Type>().valueToKey(type);
            e.what = QString("%1 to %2").arg(name ? name : QString::number(type), describe(receiver));
            slow.push_back(e);
        }
        return r;
    }
    static QString describe(QObject* o) {
        if (!o) return "null";
        QString s = o->metaObject()->className();
        if (!o->objectName().isEmpty()) s += " '" + o->objectName() + "'";
        if (QObject* p = o->parent()) {
            s += " in " + QString(p->metaObject()->className());
            if (!p->objectName().isEmpty()) s += " '" + p->objectName() + "'";
        }
        return s;
    }
    bool recording = false;
    QElapsedTimer phase_clock;
    std::vector<SlowEvent> slow;

private:
    int depth_ = 0;  // GUI thread only
};

// The 10 ms ticker: gaps between ticks, and for each long gap when it ended and how much CPU the
// GUI thread used during it (much less than the gap: the thread was waiting for a core, not busy).
struct LongGap {
    double at_s = 0, gap_ms = 0, cpu_ms = 0;
};

class GapMonitor {
public:
    GapMonitor() {
        timer_.setTimerType(Qt::PreciseTimer);
        timer_.setInterval(10);
        QObject::connect(&timer_, &QTimer::timeout, [this] {
            const qint64 now = clock_.nsecsElapsed();
            const double cpu = thread_cpu_ms();
            if (last_ >= 0) {
                const double gap = (now - last_) / 1e6;
                gaps_.push_back(gap);
                if (gap > 100) long_.push_back({now / 1e9, gap, cpu - last_cpu_});
            }
            last_ = now;
            last_cpu_ = cpu;
        });
    }
    void start() {
        gaps_.clear();
        long_.clear();
        clock_.start();
        last_ = -1;
        timer_.start();
    }
    void stop() { timer_.stop(); }
    std::vector<double> gaps() const { return gaps_; }
    std::vector<LongGap> longGaps() const { return long_; }

private:
    QTimer timer_;
    QElapsedTimer clock_;
    qint64 last_ = -1;
    double last_cpu_ = 0;
    std::vector<double> gaps_;
    std::vector<LongGap> long_;
};

struct PhaseResult {
    std::string name;
    bool ok = false;
    double seconds = 0, job_seconds = 0;
    std::size_t ticks = 0, over_100 = 0;
    double max_gap = 0, p99 = 0;
    std::vector<SlowEvent> slow;
};

// Runs the event loop until `done` is set or the timeout passes.
bool spin_until(const bool& done, int timeout_ms) {
    QElapsedTimer t;
    t.start();
    while (!done && t.elapsed() < timeout_ms) {
        QEventLoop loop;
        QTimer::singleShot(20, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return done;
}

void spin_for(int ms) {
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

}  // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    fs::path work = fs::is_directory("/work") ? fs::path("/work/bench-work") : fs::temp_directory_path() / "syn_bench";
    int sts_pairs = 400;
    bool generate = true;
    int timeout_s = 900;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&] { return syn::bench::option_value(argc, argv, i); };
        if (a == "--work") work = value();
        else if (a == "--sts-pairs") sts_pairs = std::stoi(value());
        else if (a == "--no-generate") generate = false;
        else if (a == "--timeout-s") timeout_s = std::stoi(value());
        else {
            std::fprintf(stderr,
                         "usage: bench_gui_responsiveness [--work DIR] [--sts-pairs N] [--no-generate] [--timeout-s S]\n");
            return 2;
        }
    }
    BenchApplication app(argc, argv);
    QCoreApplication::setOrganizationName("SynesthesiaBench");  // keep the user's settings out
    QCoreApplication::setApplicationName("bench_gui_responsiveness");
    QSettings().clear();
    const int threads = syn::init_torch_runtime();

    const std::string shared = syn::bench::shared_dir();
    const QString cxc = QString::fromStdString(shared + "/data/cxc/sts_test.csv");
    const QString coco = QString::fromStdString(shared + "/data/coco/captions_karpathy_test.json");
    if (!QFileInfo::exists(cxc) || !QFileInfo::exists(coco)) {
        std::fprintf(stderr, "bench_gui_responsiveness: %s or %s not found: set SYNESTHESIA_SHARED\n", qPrintable(cxc),
                     qPrintable(coco));
        return 2;
    }
    fs::create_directories(work);
    const std::string search_cache = (work / "cache").string();
    const std::string sts_cache =
        (work / ("gui-sts-cache-" + std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr)))).string();
    QStringList folders;
    for (const auto& m : syn::bench::base_size_models())
        folders << QString::fromStdString(syn::bench::write_model(m, work));

    // The Generate inputs: tiny-taming and random maps for tiny-clip (CLIP side) and tiny-bert.
    const std::string fixtures = shared + "/fixtures/models";
    const std::string tiny_gen = fixtures + "/tiny-taming";
    std::string clip_map, bert_map;
    if (generate) {
        const int64_t width =
            syn::models::read_taming_config(syn::models::find_taming_config(tiny_gen)).transformer.n_embd;
        auto map_for = [&](const std::string& encoder, const std::string& name) {
            const std::string pooling = syn::run::default_pooling(encoder, "t2i");
            return syn::bench::write_mapping((work / "mapping-random" / name).string(), encoder, pooling,
                                             syn::bench::embedding_width(encoder, pooling), width, tiny_gen);
        };
        clip_map = map_for(fixtures + "/tiny-clip", "tiny-taming-tiny-clip.safetensors");
        bert_map = map_for(fixtures + "/tiny-bert", "tiny-taming-tiny-bert.safetensors");
    }

    syn::ui::MainWindow window;
    window.setErrorBoxesEnabled(false);
    window.resize(1600, 1000);
    window.show();
    spin_for(500);
    std::printf("MainWindow offscreen (%s), %d CPU threads for torch\n", qPrintable(QGuiApplication::platformName()),
                threads);

    // Job start / end times, from the worker's own signals.
    QElapsedTimer job_clock;
    qint64 job_started = -1, job_ended = -1;
    QObject::connect(window.worker(), &syn::ui::ComputeWorker::jobStarted, [&](int, const QString& title) {
        job_started = job_clock.elapsed();
        std::printf("    job started: %s\n", qPrintable(title.left(90)));
    });
    auto ended = [&](int) { job_ended = job_clock.elapsed(); };
    QObject::connect(window.worker(), &syn::ui::ComputeWorker::jobFinished, ended);
    QObject::connect(window.worker(), &syn::ui::ComputeWorker::jobFailed, [&](int id, const QString& m) {
        ended(id);
        std::printf("    job failed: %s\n", qPrintable(m));
    });

    GapMonitor monitor;
    std::vector<PhaseResult> results;
    // Runs one phase: `start` submits the job and returns false when nothing was submitted; `done`
    // is set by the window's signal. The phase ends 1 s after the signal (the result's display).
    auto phase = [&](const std::string& name, bool& done, bool& ok, const std::function<bool()>& start) {
        PhaseResult r;
        r.name = name;
        done = false;
        ok = false;
        std::printf("%s ...\n", name.c_str());
        std::fflush(stdout);
        app.slow.clear();
        app.phase_clock.start();
        job_clock.start();
        job_started = job_ended = -1;
        monitor.start();
        app.recording = true;
        QElapsedTimer t;
        t.start();
        if (!start()) {
            std::printf("    not submitted: %s\n", qPrintable(window.lastError()));
        } else {
            spin_until(done, timeout_s * 1000);
            if (!done) std::printf("    timed out after %d s\n", timeout_s);
            r.seconds = t.elapsed() / 1e3;
            spin_for(1000);
        }
        app.recording = false;
        monitor.stop();
        r.ok = ok && done;
        if (job_started >= 0 && job_ended >= job_started) r.job_seconds = (job_ended - job_started) / 1e3;
        auto gaps = monitor.gaps();
        r.ticks = gaps.size();
        if (!gaps.empty()) {
            std::sort(gaps.begin(), gaps.end());
            r.max_gap = gaps.back();
            r.p99 = gaps[std::min(gaps.size() - 1, static_cast<std::size_t>(0.99 * double(gaps.size())))];
            r.over_100 = static_cast<std::size_t>(std::count_if(gaps.begin(), gaps.end(), [](double g) { return g > 100; }));
        }
        r.slow = app.slow;
        std::printf("    %s in %.2f s (job %.2f s): %zu ticks, max gap %.0f ms, p99 %.0f ms, %zu gaps > 100 ms\n",
                    r.ok ? "done" : "FAILED", r.seconds, r.job_seconds, r.ticks, r.max_gap, r.p99, r.over_100);
        for (const auto& g : monitor.longGaps())
            std::printf("      gap > 100 ms ending at %6.2f s: %4.0f ms, GUI thread busy %4.0f ms of it\n", g.at_s,
                        g.gap_ms, g.cpu_ms);
        for (const auto& e : r.slow)
            std::printf("      slow event at %6.2f s: %6.0f ms wall, %6.0f ms GUI-thread CPU: %s\n", e.at_ms / 1e3,
                        e.wall_ms, e.cpu_ms, qPrintable(e.what));
        std::fflush(stdout);
        results.push_back(r);
    };

    bool done = false, ok = false;
    QObject::connect(&window, &syn::ui::MainWindow::dataLoaded, [&] { done = ok = true; });
    QObject::connect(&window, &syn::ui::MainWindow::dataLoadFailed, [&](const QString&) { done = true; });
    QObject::connect(&window, &syn::ui::MainWindow::stsFinished, [&](bool good) { done = true, ok = good; });
    QObject::connect(&window, &syn::ui::MainWindow::promptFinished, [&](bool good) { done = true, ok = good; });

    {  // the idle loop, for reference
        PhaseResult r;
        app.slow.clear();
        app.phase_clock.start();
        app.recording = true;
        monitor.start();
        spin_for(2000);
        monitor.stop();
        app.recording = false;
        auto gaps = monitor.gaps();
        std::sort(gaps.begin(), gaps.end());
        r.name = "idle (2 s)";
        r.ok = true;
        r.seconds = 2;
        r.ticks = gaps.size();
        if (!gaps.empty()) {
            r.max_gap = gaps.back();
            r.p99 = gaps[std::min(gaps.size() - 1, static_cast<std::size_t>(0.99 * double(gaps.size())))];
            r.over_100 = static_cast<std::size_t>(std::count_if(gaps.begin(), gaps.end(), [](double g) { return g > 100; }));
        }
        results.push_back(r);
    }

    phase("load: loadData (CxC test split)", done, ok, [&] { return window.loadData(cxc, coco) > 0; });
    if (!window.hasData()) return 1;

    if (!window.selectModels(folders)) {
        std::fprintf(stderr, "selectModels: %s\n", qPrintable(window.lastError()));
        return 1;
    }
    // Searches first: after an STS run the window searches the result's pairs only.
    ::setenv("SYN_CACHE_DIR", search_cache.c_str(), 1);  // the cache bench_session filled
    phase("search1: searchPrompt, all captions cached (loads)", done, ok,
          [&] { return window.searchPrompt("a man riding a wave on a surfboard", 10) > 0; });
    phase("search2: searchPrompt, all captions cached", done, ok,
          [&] { return window.searchPrompt("two dogs playing in the snow", 10) > 0; });

    ::setenv("SYN_CACHE_DIR", sts_cache.c_str(), 1);  // an empty cache: STS embeds its captions
    window.setMaxPairs(sts_pairs);
    phase("sts: runSts, 3 base-size encoders, " + std::to_string(sts_pairs) + " pairs, empty cache", done, ok,
          [&] { return window.runSts() > 0; });

    // Where the GUI thread spends the STS result's delivery (MainWindow::showStsResult): its parts
    // timed again on their own, then the layout and paint they cause.
    if (auto result = window.stsResult()) {
        QElapsedTimer t;
        double cpu = thread_cpu_ms();
        t.start();
        window.explorer()->model()->setResult(result);
        std::printf("\nSTS result display, parts timed again after the run:\n");
        std::printf("  pair table setResult                %6.1f ms wall, %6.1f ms CPU\n", t.nsecsElapsed() / 1e6,
                    thread_cpu_ms() - cpu);
        cpu = thread_cpu_ms();
        t.restart();
        window.table2()->setResult(result);
        std::printf("  Table 2 setResult                   %6.1f ms wall, %6.1f ms CPU\n", t.nsecsElapsed() / 1e6,
                    thread_cpu_ms() - cpu);
        cpu = thread_cpu_ms();
        t.restart();
        QCoreApplication::processEvents();
        std::printf("  events after (layout, plots, paint) %6.1f ms wall, %6.1f ms CPU\n", t.nsecsElapsed() / 1e6,
                    thread_cpu_ms() - cpu);
        cpu = thread_cpu_ms();
        t.restart();
        window.showStsResult(result);
        QCoreApplication::processEvents();
        std::printf("  showStsResult + its events, all     %6.1f ms wall, %6.1f ms CPU\n", t.nsecsElapsed() / 1e6,
                    thread_cpu_ms() - cpu);
    }

    if (generate) {
        auto* faces = window.promptPanel()->faceGeneration();
        faces->setGenerator(QString::fromStdString(tiny_gen));
        faces->setClipMapping(QString::fromStdString(clip_map));
        faces->setBertMapping(QString::fromStdString(bert_map));
        faces->setClipScorer(QString::fromStdString(fixtures + "/tiny-clip"));
        auto c = QObject::connect(faces, &syn::ui::FaceGenerationPanel::generationFinished,
                                  [&](bool good) { done = true, ok = good; });
        phase("generate: face pair, tiny-taming", done, ok,
              [&] { return faces->generate("This woman has blond hair and a big smile.") > 0; });
        if (!ok) std::printf("    panel: %s\n", qPrintable(faces->message()));
        QObject::disconnect(c);
    }

    std::printf("\nGUI event loop gaps (10 ms timer), per job:\n");
    std::printf("  %-62s %7s %7s %6s %8s %8s %6s\n", "job", "wall s", "job s", "ticks", "max ms", "p99 ms", ">100");
    bool blocked = false;
    for (const auto& r : results) {
        std::printf("  %-62s %7.2f %7.2f %6zu %8.0f %8.0f %6zu%s\n", r.name.c_str(), r.seconds, r.job_seconds, r.ticks,
                    r.max_gap, r.p99, r.over_100, r.ok ? "" : "  (failed)");
        blocked = blocked || r.over_100 > 0;
    }
    std::printf("%s\n", blocked ? "some job blocked the event loop > 100 ms (slow events listed above)"
                                : "no job blocked the event loop > 100 ms");
    std::error_code ec;
    fs::remove_all(sts_cache, ec);
    return 0;
}
