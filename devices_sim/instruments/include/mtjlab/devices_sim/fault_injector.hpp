#pragma once
// Random fault injection over a whole virtual lab (the soak's hostile bench): every instrument of the lab
// gets the same RandomFaults (each with its own reproducible sequence), every injected fault is counted
// and, when a log file is given, appended to it at once (one line per fault, flushed: the log survives a
// SIGKILL of the process). When the injector goes away it appends a summary line with the counts and the
// lab's safety state (field at the device, live outputs).
//
//   devices_sim::FaultInjector faults(lab, devices_sim::parse_fault_spec("rate=0.003,seed=5"), "faults.log");
//   ... run ...
//   faults.counts().total();  faults.safety_report();  // "" when the bench is safe
//
// Sessions: the n-th session recorded in the same log (a campaign resumed after a stop) arms the
// instruments with seed + n * 0x9E3779B97F4A7C15, so a resumed process meets new faults instead of
// replaying the first session's (reproducible for the same sequence of sessions).
// Log lines (space-separated, the message last):
//   session <pid> start <spec> session=<n>
//   fault <pid> <instrument> <kind> <message>
//   session <pid> end messages=<n> faults=<n> drop=<n> timeout=<n> garbage=<n> error=<n> slow=<n> bench=safe
//   session <pid> end ... bench=UNSAFE <what>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "mtjlab/devices_sim/virtual_instrument.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"

namespace mtjlab::devices_sim {

class FaultInjector {
public:
    /// Arms every instrument of `lab` (which must outlive the injector). `log`: appended to (created if
    /// missing); StorageError when it cannot be opened.
    FaultInjector(VirtualLab& lab, RandomFaults faults, std::optional<std::filesystem::path> log = std::nullopt);
    /// Disarms the instruments and appends the summary line (never throws).
    ~FaultInjector();
    FaultInjector(const FaultInjector&) = delete;
    FaultInjector& operator=(const FaultInjector&) = delete;

    [[nodiscard]] const RandomFaults& faults() const { return faults_; }
    /// Messages and faults over all instruments since the injector was made.
    [[nodiscard]] FaultCounts counts() const;
    /// "" when the bench is safe: field at the device below 1 uT (every supply at 0 A) and no live output;
    /// otherwise what is live ("field 2.0 mT; pulse_gen: output 1 on").
    [[nodiscard]] std::string safety_report() const;
    /// The summary line without the "session <pid> end" prefix.
    [[nodiscard]] std::string summary() const;

private:
    struct Log;  // shared with the instruments' observers (they may outlive a call into the injector)
    VirtualLab& lab_;
    RandomFaults faults_;
    FaultCounts base_;  // counts before arming (not attributed to this injector)
    std::shared_ptr<Log> log_;
};

}  // namespace mtjlab::devices_sim
