#pragma once
// A virtual instrument: one model's command set over the shared VirtualBench, plus fault injection.
// The same object answers over a TCP socket, a pseudo-terminal or in process (contract C's
// InProcessTransport handler).
#include <cstdint>
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
