#include "core/run/progress.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>

namespace syn::run {

double eta_seconds(std::chrono::steady_clock::time_point start, long long done, long long total) {
    if (done <= 0 || total <= 0 || done >= total) return 0.0;
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return elapsed / static_cast<double>(done) * static_cast<double>(total - done);
}

namespace {

std::string format_duration(double seconds) {
    char buf[32];
    long s = static_cast<long>(seconds + 0.5);
    if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
    else std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    return buf;
}

}  // namespace

const char* stage_name(Stage stage) {
    switch (stage) {
        case Stage::reading_data: return "reading";
        case Stage::downloading: return "downloading";
        case Stage::loading_model: return "loading";
        case Stage::tokenizing: return "tokenizing";
        case Stage::embedding: return "embedding";
        case Stage::scoring: return "scoring";
        case Stage::statistics: return "statistics";
        case Stage::encoding_images: return "images";
        case Stage::training: return "training";
        case Stage::sampling: return "sampling";
        case Stage::decoding: return "decoding";
        case Stage::nearest_captions: return "nearest captions";
        case Stage::other: break;
    }
    return "working";
}

std::string Progress::text() const {
    std::string out = stage_name(stage);
    if (!subject.empty()) out += " " + subject;
    return out;
}

void TerminalProgress::operator()(const Progress& progress) {
    const std::string stage = progress.text();
    const long long done = progress.done;
    const long long total = progress.total;
    auto now = std::chrono::steady_clock::now();
    if (stage != stage_) {
        stage_ = stage;
        stage_start_ = now;
        last_draw_ = {};
        last_percent_logged_ = -1;
    }
    const bool finished = total > 0 && done >= total;
    const bool tty = ::isatty(STDERR_FILENO);
    if (tty) {
        if (!finished && now - last_draw_ < std::chrono::milliseconds(100)) return;
        last_draw_ = now;
        const int width = 30;
        int filled = total > 0 ? static_cast<int>(width * done / total) : 0;
        std::string bar(filled, '#');
        bar.resize(width, '.');
        double elapsed = std::chrono::duration<double>(now - stage_start_).count();
        std::fprintf(stderr, "\r%-18.18s [%s] %lld/%lld  %s %s", stage.c_str(), bar.c_str(), done, total,
                     finished ? "took" : "ETA",
                     format_duration(finished ? elapsed : eta_seconds(stage_start_, done, total)).c_str());
        if (finished) std::fputc('\n', stderr);
        std::fflush(stderr);
        return;
    }
    // Not a terminal (CI logs, pipes): a line per 10%.
    int percent = total > 0 ? static_cast<int>(100 * done / total) : 0;
    if (percent / 10 == last_percent_logged_ / 10 && !finished) return;
    if (finished && last_percent_logged_ == 100) return;
    last_percent_logged_ = percent;
    std::fprintf(stderr, "%s: %lld/%lld (%d%%), ETA %s\n", stage.c_str(), done, total, percent,
                 format_duration(eta_seconds(stage_start_, done, total)).c_str());
}

namespace {
CancelToken* g_interrupt_token = nullptr;
volatile std::sig_atomic_t g_signal = 0;         // the first SIGINT/SIGTERM received
constexpr unsigned kGraceSeconds = 3;

void write_stderr(const char* text, size_t size) {
    ssize_t ignored = ::write(STDERR_FILENO, text, size);
    (void)ignored;
}

// The job did not reach a cancellation point in time (it is inside a checkpoint read, a module
// construction or one long kernel): stop the process. Outputs are staged in a hidden folder and
// committed by one rename (core/io/output_folder.h), so nothing half-written becomes visible.
extern "C" void on_grace_expired(int) {
    const char msg[] = "interrupted: the current step did not stop in time; quitting (nothing was written)\n";
    write_stderr(msg, sizeof msg - 1);
    ::_exit(128 + static_cast<int>(g_signal));
}

extern "C" void on_interrupt(int sig) {
    if (g_interrupt_token && !g_interrupt_token->cancelled()) {
        g_signal = sig;
        g_interrupt_token->cancel();
        const char msg[] = "\ninterrupted: stopping (Ctrl-C again to quit now)\n";
        write_stderr(msg, sizeof msg - 1);
        std::signal(SIGALRM, on_grace_expired);
        ::alarm(kGraceSeconds);
        return;
    }
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}
}  // namespace

void install_interrupt_handler(CancelToken* token) {
    g_interrupt_token = token;
    if (token) {
        std::signal(SIGINT, on_interrupt);
        std::signal(SIGTERM, on_interrupt);
    } else {
        // The job returned (stopped or done): no grace timer may fire after it.
        ::alarm(0);
        std::signal(SIGALRM, SIG_DFL);
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
    }
}

int interrupt_exit_status() { return 128 + (g_signal ? static_cast<int>(g_signal) : SIGINT); }

}  // namespace syn::run
