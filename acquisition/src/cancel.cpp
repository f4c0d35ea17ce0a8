#include "mtjlab/acquisition/cancel.hpp"

#include <csignal>

#include "mtjlab/core/error.hpp"

namespace mtjlab::acquisition {
namespace {
CancelToken* g_token = nullptr;  // the one token the signal handler escalates

extern "C" void on_signal(int) {
    if (g_token) g_token->escalate();
}
}  // namespace

struct SignalCancellation::Saved {
    struct sigaction old_int {};
    struct sigaction old_term {};
};

SignalCancellation::SignalCancellation(CancelToken& token) : saved_(new Saved) {
    if (g_token) {
        delete saved_;
        throw Error("signal cancellation installed twice");
    }
    g_token = &token;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // blocking I/O resumes; the engine checks the token between transactions
    sigaction(SIGINT, &sa, &saved_->old_int);
    sigaction(SIGTERM, &sa, &saved_->old_term);
}

SignalCancellation::~SignalCancellation() {
    sigaction(SIGINT, &saved_->old_int, nullptr);
    sigaction(SIGTERM, &saved_->old_term, nullptr);
    g_token = nullptr;
    delete saved_;
}

}  // namespace mtjlab::acquisition
