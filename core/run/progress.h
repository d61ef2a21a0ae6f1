#pragma once
// Progress and cancellation shared by every job. A job reports (done, total, message) through a
// ProgressSink and checks a CancelToken between batches; the CLI draws a bar with ETA on stderr
// and maps Ctrl-C to the token, the GUI's ComputeWorker turns reports into signals.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>

namespace syn::run {

class CancelToken {
public:
    void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
    void reset() { cancelled_.store(false, std::memory_order_relaxed); }
    bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

private:
    std::atomic<bool> cancelled_{false};
};

// Thrown by jobs when they notice the token; callers treat it as a clean stop, not an error.
struct Cancelled {
    std::string where;
};

// Throws Cancelled{where} when the token is set.
inline void throw_if_cancelled(const CancelToken* token, const char* where) {
    if (token && token->cancelled()) throw Cancelled{where};
}

// What a job is doing, as data: panels switch on the stage, the terminal bar and the Jobs panel
// print text(). One list for every job, so a panel can never wait for a spelling nobody emits.
enum class Stage {
    reading_data,      // datasets, caption files, images from disk
    downloading,       // hub files and datasets
    loading_model,     // a checkpoint into a module
    tokenizing,
    embedding,         // text -> vectors (subject: the model)
    scoring,           // STS scores from embeddings (subject: the model)
    statistics,        // correlations, bootstrap intervals, tests
    encoding_images,   // faces -> VQGAN codes, images -> CLIP features
    training,          // optimiser steps (mapping, GLUE)
    sampling,          // GPT tokens
    decoding,          // VQGAN codes -> images
    nearest_captions,  // prompt search
    other,
};
const char* stage_name(Stage stage);  // "embedding", "loading", ...

struct Progress {
    Stage stage = Stage::other;
    std::string subject;  // the model, file or dataset the stage works on; "" when none
    long long done = 0;
    long long total = 0;  // 0 when unknown
    // "embedding bert-base-uncased", "tokenizing": what the terminal and the Jobs panel show.
    std::string text() const;
};

using ProgressSink = std::function<void(const Progress&)>;

// Estimated seconds left from a rate measured since `start`.
double eta_seconds(std::chrono::steady_clock::time_point start, long long done, long long total);

// A progress bar with ETA on stderr, redrawn at most ~10 times a second; plain lines when stderr
// is not a terminal.
class TerminalProgress {
public:
    void operator()(const Progress& progress);
    ProgressSink sink() {
        return [this](const Progress& p) { (*this)(p); };
    }

private:
    std::string stage_;
    std::chrono::steady_clock::time_point stage_start_{};
    std::chrono::steady_clock::time_point last_draw_{};
    int last_percent_logged_ = -1;
};

// Installs a SIGINT/SIGTERM handler: the first signal cancels `token`, and when the job has not
// stopped 3 s later (it is inside a step with no cancellation point: a checkpoint read, a module
// construction) the process exits with 128 + signal (outputs are staged and appear by one rename,
// so none is half-written: core/io/output_folder.h). A second
// signal kills the process at once. Pass nullptr to restore the default handlers (and disarm the
// timer) when the job has returned.
void install_interrupt_handler(CancelToken* token);

// 130 after SIGINT, 143 after SIGTERM (130 when no signal came: a cancellation from elsewhere).
int interrupt_exit_status();


}  // namespace syn::run
