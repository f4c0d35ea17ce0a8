#pragma once
// A virtual instrument: one model's command set over the shared VirtualBench, plus fault injection.
// The same object answers over a TCP socket, a pseudo-terminal or in process (contract C's
// InProcessTransport handler).
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "mtjlab/core/units.hpp"
#include "mtjlab/devices_sim/bench.hpp"
#include "mtjlab/devices_sim/scpi_parser.hpp"

namespace mtjlab::devices_sim {

/// Serial line settings of an RS-232 model (documentation for clients; a pty ignores them).
struct SerialSettings {
    unsigned baud = 9600;
    unsigned data_bits = 8;
    char parity = 'N';  ///< 'N', 'O' or 'E'
    unsigned stop_bits = 1;
    std::string flow = "none";
};

/// Faults a test can inject into one instrument. Counters are consumed one message at a time.
struct FaultPlan {
    Second reply_delay = Second(0.0);  ///< wall-clock delay before every reply
    int drop_connection = 0;           ///< the next N messages close the connection instead of answering
    int garbage_replies = 0;           ///< the next N replies are random bytes (then '\n')
    bool stuck_opc = false;            ///< `*OPC?` never answers (the whole message gets no reply)
};

/// Kinds of random fault (the hostile bench of the soak, docs/reliability.md).
enum class FaultKind {
    drop,     ///< the connection is closed instead of executing the message (TCP; a pty loses the reply)
    timeout,  ///< the message is executed but its reply never comes (queries only)
    garbage,  ///< the reply is replaced by random bytes >= 0x80 (queries only)
    error,    ///< the message is executed, then an instrument error is reported (-300 Device-specific error
              ///< on the SCPI queue; the error status byte on the SRS lock-ins and the Lake Shore 425)
    slow,     ///< the reply (or the next message) waits `slow_delay` of wall-clock time
};
[[nodiscard]] std::string_view to_string(FaultKind k);

/// Random faults by rate: every message an instrument receives draws once from the instrument's own
/// generator (seeded from `seed` and the instrument name); with probability `rate` it suffers one fault
/// of a kind drawn uniformly from `kinds`. A timeout or garbage fault drawn for a message that has no
/// reply becomes an error fault (or slow, when errors are not enabled).
struct RandomFaults {
    double rate = 0.0;
    std::uint64_t seed = 1;
    std::vector<FaultKind> kinds{FaultKind::drop, FaultKind::timeout, FaultKind::garbage, FaultKind::error,
                                 FaultKind::slow};
    Second slow_delay = Second(0.05);
    [[nodiscard]] bool enabled() const { return rate > 0.0 && !kinds.empty(); }
};

/// Parses a fault spec: comma-separated `key=value` items, e.g.
/// `rate=0.003,seed=5,kinds=drop+timeout+garbage+error+slow,slow_ms=50`. `rate` (0..1) is required;
/// `seed` defaults to 1, `kinds` to all five, `slow_ms` to 50. "off" or "" gives no faults.
/// InputError naming the bad item otherwise.
RandomFaults parse_fault_spec(std::string_view spec);
/// The canonical text of a fault spec (parse_fault_spec(describe(f)) == f).
std::string describe(const RandomFaults& f);

/// What an instrument injected so far (random faults and the FaultPlan's counters).
struct FaultCounts {
    std::uint64_t messages = 0;  ///< messages received
    std::uint64_t drop = 0, timeout = 0, garbage = 0, error = 0, slow = 0;
    [[nodiscard]] std::uint64_t total() const { return drop + timeout + garbage + error + slow; }
    FaultCounts& operator+=(const FaultCounts& o);
};

/// One injected fault, for an observer (the fault log).
struct FaultEvent {
    std::string instrument;
    FaultKind kind = FaultKind::drop;
    std::string message;  ///< the message it hit (first 80 bytes)
};
using FaultObserver = std::function<void(const FaultEvent&)>;

/// What the instrument does with one received message.
struct Exchange {
    std::optional<std::string> reply;  ///< text to send (without terminator), or none
    bool drop = false;                 ///< close the connection, send nothing
    Second delay = Second(0.0);        ///< wall-clock delay before sending
};

/// Base of all virtual instruments. Thread-safe: process() locks the bench.
class VirtualInstrument {
public:
    VirtualInstrument(std::string name, std::shared_ptr<VirtualBench> bench);
    virtual ~VirtualInstrument() = default;
    VirtualInstrument(const VirtualInstrument&) = delete;
    VirtualInstrument& operator=(const VirtualInstrument&) = delete;

    /// Instrument name in the lab ("pulse_gen", "lockin", ...).
    [[nodiscard]] const std::string& name() const { return name_; }
    /// Model string ("33522B", "SR830", ...).
    [[nodiscard]] virtual std::string model() const = 0;
    /// The `*IDN?` reply.
    [[nodiscard]] virtual std::string idn() const = 0;
    /// Serial settings when this model is an RS-232 instrument (served on a pty too), else nullopt.
    [[nodiscard]] virtual std::optional<SerialSettings> serial() const { return std::nullopt; }
    /// Reply terminator the model uses on its raw link ("\n"; "\r\n" for the Lake Shore 425).
    [[nodiscard]] virtual std::string reply_terminator() const { return "\n"; }

    /// Handles one message (terminator removed): applies faults, executes under the bench lock,
    /// pays realtime sleep debt. Never throws for bad input: errors go to the instrument's error
    /// reporting (SCPI queue or status bytes).
    Exchange process(std::string_view message);

    /// In-process form for InProcessTransport: the reply or none; a drop fault throws TransportError,
    /// a reply delay sleeps.
    std::optional<std::string> handle(std::string_view message);

    // Fault injection (thread-safe).
    void set_faults(const FaultPlan& plan);
    [[nodiscard]] FaultPlan faults() const;
    void clear_faults() { set_faults(FaultPlan{}); }
    /// Random faults by rate (replaces earlier ones; rate 0 switches them off). The observer, if any, is
    /// called (outside every lock of the lab) for each fault injected.
    void set_random_faults(const RandomFaults& faults, FaultObserver observer = {});
    /// Messages received and faults injected since construction.
    [[nodiscard]] FaultCounts fault_counts() const;
    /// Whether an output of this instrument is live (pulse generator output on, supply output on with a
    /// current): the lab's safety report. Under the bench lock.
    [[nodiscard]] virtual std::optional<std::string> live_output_locked() const { return std::nullopt; }
    /// Pushes an instrument error: onto the SCPI queue (SCPI models) or into the status bytes (SRS,
    /// Lake Shore), as the model reports errors.
    void push_error(int code, std::string_view detail = {});

    /// Power-on state (*RST equivalent plus cleared status), under the bench lock.
    void reset();

protected:
    /// Executes one message; called with the bench locked.
    virtual std::optional<std::string> execute_locked(std::string_view message) = 0;
    /// Records an error the model's way; called with the bench locked.
    virtual void push_error_locked(int code, std::string_view detail) = 0;
    /// Restores the power-on settings; called with the bench locked.
    virtual void reset_locked() = 0;
    /// Whether the message holds an `*OPC?` query (for the stuck-OPC fault).
    [[nodiscard]] static bool has_opc_query(std::string_view message);

    VirtualBench& bench() { return *bench_; }
    std::shared_ptr<VirtualBench> bench_ptr() { return bench_; }

private:
    std::string name_;
    std::shared_ptr<VirtualBench> bench_;
    mutable std::mutex fault_mutex_;
    FaultPlan faults_;
    std::mt19937_64 garbage_rng_;
    RandomFaults random_;
    FaultObserver observer_;
    std::mt19937_64 fault_rng_;
    FaultCounts counts_;
};

/// An SCPI instrument: colon-tree commands, the error queue and the IEEE 488.2 common commands
/// (*IDN? *RST *CLS *OPC *OPC? *ESR? *ESE *STB? *SRE *WAI *TST?, SYSTem:ERRor[:NEXT]?).
class ScpiInstrument : public VirtualInstrument {
public:
    ScpiInstrument(std::string name, std::shared_ptr<VirtualBench> bench, std::size_t error_queue_size = 20);

protected:
    std::optional<std::string> execute_locked(std::string_view message) override;
    void push_error_locked(int code, std::string_view detail) override;
    void reset_locked() override;
    /// Model settings back to *RST defaults (status and queue untouched).
    virtual void reset_settings_locked() = 0;
    /// Registers the common commands and SYST:ERR?; subclasses call it once after their own commands.
    void add_common_commands();
    /// Formats a number the way SCPI instruments reply (+1.00000000000000E+00 style).
    static std::string nr3(double v);

    ScpiCommandSet commands_;
    ErrorQueue errors_;
    StatusRegisters status_;
};

/// Makes a virtual instrument of a model by name: "33522B" (any 33500B-series model number),
/// "81150A", "SR830", "SR860", "BOP 20-10M" (any Kepco BOP of the table), "2400", "425".
/// Throws InputError for an unknown model.
std::unique_ptr<VirtualInstrument> make_virtual_instrument(const std::string& model, const std::string& name,
                                                           std::shared_ptr<VirtualBench> bench);

/// The model names make_virtual_instrument accepts.
std::vector<std::string> virtual_models();

}  // namespace mtjlab::devices_sim
