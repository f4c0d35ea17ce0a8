#include "mtjlab/devices_sim/fault_injector.hpp"

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/core/log.hpp"

namespace mtjlab::devices_sim {

struct FaultInjector::Log {
    std::mutex mutex;
    std::FILE* file = nullptr;
    ~Log() {
        if (file) std::fclose(file);
    }
    void write(const std::string& line) {
        std::lock_guard lock(mutex);
        if (!file) return;
        std::fputs(line.c_str(), file);
        std::fputc('\n', file);
        std::fflush(file);
    }
};

namespace {
FaultCounts sum_counts(VirtualLab& lab) {
    FaultCounts c;
    for (const auto& e : lab.endpoints()) c += lab.instrument(e.name).fault_counts();
    return c;
}

std::string one_line(std::string s) {
    for (char& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    return s;
}
}  // namespace

FaultInjector::FaultInjector(VirtualLab& lab, RandomFaults faults, std::optional<std::filesystem::path> log)
    : lab_(lab), faults_(std::move(faults)), base_(sum_counts(lab)), log_(std::make_shared<Log>()) {
    // Each session of a campaign (a process resumed after a stop) continues the fault sequence instead of
    // replaying it: the seed is advanced by the number of sessions the log already records.
    std::uint64_t session = 0;
    if (log) {
        std::ifstream in(*log);
        std::string line;
        while (std::getline(in, line) && session < 1000000)
            if (line.rfind("session ", 0) == 0 && line.find(" start ") != std::string::npos) ++session;
        log_->file = std::fopen(log->c_str(), "a");
        if (!log_->file) throw StorageError(log->string() + ": cannot open the fault log for appending");
    }
    RandomFaults armed = faults_;
    armed.seed = faults_.seed + session * 0x9E3779B97F4A7C15ull;
    const auto pid = ::getpid();
    log_->write(fmt::format("session {} start {} session={}", pid, describe(faults_), session));
    for (const auto& e : lab_.endpoints()) {
        lab_.instrument(e.name).set_random_faults(armed, [log = log_, pid](const FaultEvent& ev) {
            log->write(fmt::format("fault {} {} {} {}", pid, ev.instrument, to_string(ev.kind), one_line(ev.message)));
        });
    }
}

FaultInjector::~FaultInjector() {
    try {
        for (const auto& e : lab_.endpoints()) lab_.instrument(e.name).set_random_faults(RandomFaults{});
        const std::string s = summary();
        log_->write(fmt::format("session {} end {}", ::getpid(), s));
        log::get("vlab")->info("fault injection: {}", s);
    } catch (...) {
    }
}

FaultCounts FaultInjector::counts() const {
    const FaultCounts now = sum_counts(lab_);
    FaultCounts c;
    c.messages = now.messages - base_.messages;
    c.drop = now.drop - base_.drop;
    c.timeout = now.timeout - base_.timeout;
    c.garbage = now.garbage - base_.garbage;
    c.error = now.error - base_.error;
    c.slow = now.slow - base_.slow;
    return c;
}

std::string FaultInjector::safety_report() const {
    auto bench = lab_.bench();
    std::lock_guard lock(bench->mutex());
    std::string out;
    const double field = bench->field_locked().si();
    double current = 0;
    for (const auto& e : lab_.endpoints()) current += std::abs(bench->supply_current_locked(e.name).si());
    if (current > 1e-9) out += fmt::format("coil current {:.6g} A (field {:.4g} mT)", current, field * 1e3);
    for (const auto& e : lab_.endpoints()) {
        if (auto live = lab_.instrument(e.name).live_output_locked())
            out += (out.empty() ? "" : "; ") + e.name + ": " + *live;
    }
    return out;
}

std::string FaultInjector::summary() const {
    const FaultCounts c = counts();
    const std::string unsafe = safety_report();
    return fmt::format("messages={} faults={} drop={} timeout={} garbage={} error={} slow={} bench={}", c.messages,
                       c.total(), c.drop, c.timeout, c.garbage, c.error, c.slow,
                       unsafe.empty() ? std::string("safe") : "UNSAFE " + unsafe);
}

}  // namespace mtjlab::devices_sim
