// SIGINT / SIGTERM stop a run promptly at any stage (issue 19, item 1): the first signal cancels
// the job's token; a job stuck in a step with no cancellation point (a checkpoint read, a module
// construction) is ended 3 s later with 128 + signal; a second signal ends it at once.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "core/run/progress.h"

using namespace syn::run;

namespace {

// A step that never looks at its token (as a module constructor does), for up to 60 s.
void uncooperative_step() {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < std::chrono::seconds(60))
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace

TEST(Interrupts, FirstSignalCancelsTheToken) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            CancelToken token;
            install_interrupt_handler(&token);
            ::raise(SIGINT);
            const bool cancelled = token.cancelled();
            install_interrupt_handler(nullptr);  // the job returned: the grace timer is disarmed
            std::this_thread::sleep_for(std::chrono::seconds(4));
            std::_Exit(cancelled && interrupt_exit_status() == 130 ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "stopping");
}

TEST(Interrupts, SigtermDuringAnUncooperativeStepExits143Promptly) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            CancelToken token;
            install_interrupt_handler(&token);
            ::raise(SIGTERM);
            uncooperative_step();
            std::_Exit(0);  // never reached: the grace timer ends the process
        },
        ::testing::ExitedWithCode(143), "did not stop in time");
}

TEST(Interrupts, SecondSignalEndsAtOnce) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EXIT(
        {
            CancelToken token;
            install_interrupt_handler(&token);
            ::raise(SIGINT);
            ::raise(SIGINT);
            uncooperative_step();
            std::_Exit(0);
        },
        ::testing::KilledBySignal(SIGINT), "");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2)) << "no grace period for a second signal";
}
