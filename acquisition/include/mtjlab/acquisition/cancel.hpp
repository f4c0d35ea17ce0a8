#pragma once
// Cancellation between instrument transactions. Level 0 = run, 1 = finish the present point then stop
// (first Ctrl-C), 2 = stop now, still bringing the bench to a safe state (second Ctrl-C).
#include <atomic>

namespace mtjlab::acquisition {

class CancelToken {
public:
    [[nodiscard]] int level() const noexcept { return level_.load(std::memory_order_relaxed); }
    void request(int level) noexcept {
        int cur = level_.load();
        while (cur < level && !level_.compare_exchange_weak(cur, level)) {}
    }
    /// One more step of escalation (what a signal handler does); async-signal-safe.
    void escalate() noexcept { level_.fetch_add(1, std::memory_order_relaxed); }
    void reset() noexcept { level_.store(0); }

private:
    std::atomic<int> level_{0};
};

/// Installs SIGINT and SIGTERM handlers that escalate `token` (each signal one level). The previous
/// handlers come back when the returned object is destroyed. One at a time per process.
class SignalCancellation {
public:
    explicit SignalCancellation(CancelToken& token);
    ~SignalCancellation();
    SignalCancellation(const SignalCancellation&) = delete;
    SignalCancellation& operator=(const SignalCancellation&) = delete;

private:
    struct Saved;
    Saved* saved_;
};

/// Thrown (internally, between transactions) when cancellation level 2 is reached.
struct AbortNow {};

}  // namespace mtjlab::acquisition
