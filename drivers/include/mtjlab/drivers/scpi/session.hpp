#pragma once
// One SCPI conversation with one instrument: write, query, typed queries, IEEE 488.2 blocks, *OPC?
// synchronisation and the SYST:ERR? queue. One transaction at a time (a mutex), every exchange traced
// at trace level on the instrument's logger, every error names the instrument and the command.
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "mtjlab/drivers/transport/transport.hpp"

namespace spdlog { class logger; }

namespace mtjlab::drivers {

/// Message terminations of one instrument. `read` lists the bytes that end a reply; "\r\n" means
/// "either CR or LF ends a reply" (a CR LF pair is one terminator: empty lines are skipped).
struct Termination {
    std::string write = "\n";
    std::string read = "\r\n";
};

/// Per-session settings.
struct SessionOptions {
    std::string name = "instrument";        ///< role or instrument name used in logs and errors
    Termination termination{};
    Duration timeout = std::chrono::seconds(2);  ///< deadline of each read and write
    std::size_t max_reply = 64 * 1024;       ///< longest text reply accepted (bytes)
    std::size_t max_block = 16 * 1024 * 1024;///< longest IEEE 488.2 block accepted (bytes)
    unsigned max_error_drain = 32;           ///< SYST:ERR? reads at most per check
    std::string error_query = "SYST:ERR?";   ///< empty: the instrument has no SCPI error queue
};

/// One entry of the SCPI error queue.
struct ScpiError {
    int code = 0;
    std::string message;
};
/// Parses `<code>,"<text>"` (ProtocolError otherwise).
ScpiError parse_scpi_error(std::string_view reply);

/// Parses a reply as one number / integer / boolean / comma-separated numbers.
/// ProtocolError (text quoted) when it does not parse; these are the helpers ScpiSession uses.
double parse_double(std::string_view reply);
long long parse_int(std::string_view reply);
bool parse_bool(std::string_view reply);
std::vector<double> parse_doubles(std::string_view reply);

/// A SCPI session over one transport. Thread-safe: every public call is one transaction.
/// Errors from the transport are rethrown with "asking '<cmd>' to <name>" (or "writing ...") added.
class ScpiSession {
public:
    ScpiSession(std::unique_ptr<Transport> transport, SessionOptions options);
    ~ScpiSession();
    ScpiSession(const ScpiSession&) = delete;
    ScpiSession& operator=(const ScpiSession&) = delete;

    [[nodiscard]] const std::string& name() const { return options_.name; }
    [[nodiscard]] const SessionOptions& options() const { return options_; }
    [[nodiscard]] std::string resource() const;

    /// Sends one command (termination added).
    void write(std::string_view command);
    /// Sends a command, then drains the error queue: InstrumentError if the instrument reported any.
    void write_checked(std::string_view command);
    /// Sends a query and returns the reply without termination.
    std::string query(std::string_view command);
    double query_double(std::string_view command);
    long long query_int(std::string_view command);
    bool query_bool(std::string_view command);
    std::vector<double> query_doubles(std::string_view command);
    /// A query whose reply is an IEEE 488.2 definite (#<n><len><bytes>) or indefinite (#0<bytes>\n) block.
    std::string query_block(std::string_view command);

    /// "*IDN?". Its reply becomes the marker that puts a serial session back in step after an error: *IDN? is
    /// sent and every line up to its reply dropped (late replies come first: an instrument answers in order).
    std::string identify();
    /// "*OPC?" and expects "1" (waits up to `timeout`, which may exceed the session timeout).
    void sync(Duration timeout);
    void sync() { sync(options_.timeout); }
    /// Sends `commands`, then the query `confirm`, and returns only once its reply is accepted (default: "*OPC?"
    /// answering 1, i.e. the instrument has executed them; an instrument without *OPC? reads a setting back and
    /// `accept` checks it; another query without `accept` is an InputError). On a timeout, a dropped link, a garbled or unaccepted reply the whole group is sent
    /// again (the transport reconnects), up to `attempts` times; the last failure propagates. For idempotent
    /// commands only: the safe states, where an unconfirmed "OUTP OFF" lost with a dropped link would leave a
    /// live output behind.
    void write_confirmed(std::initializer_list<std::string_view> commands, std::string_view confirm = "*OPC?",
                         const std::function<bool(std::string_view)>& accept = {}, unsigned attempts = 3);

    /// Reads the error queue until "0,..." (at most max_error_drain reads). Empty when no error_query.
    std::vector<ScpiError> drain_errors();
    /// drain_errors(), then InstrumentError listing every error "after '<command>'" when any.
    void check_errors(std::string_view after_command);

    /// Direct access for tests and for the raw `mtjlab scpi` command.
    [[nodiscard]] Transport& transport() { return *transport_; }

private:
    void write_locked(std::string_view command);
    std::string read_locked(std::string_view command);
    std::string query_locked(std::string_view command);
    std::vector<ScpiError> drain_locked();
    void sync_locked(Duration timeout);
    void resync_locked();
    template <class F>
    auto parse_or_throw(F&& f, std::string_view command);
    [[noreturn]] void rethrow_with_context(std::string_view command, bool is_query) const;

    std::unique_ptr<Transport> transport_;
    SessionOptions options_;
    std::shared_ptr<spdlog::logger> log_;
    mutable std::mutex mutex_;
    bool stale_input_ = false;  // out of step (a read failed, a reply did not parse): resynchronise first
    std::string marker_reply_;  // the instrument's *IDN? reply: the marker a serial line resynchronises on
    bool marker_unanswered_ = false;  // a marker query's answer did not come in time (it may still come)
};

/// Formats a number for a SCPI command: 12 significant digits, no locale ("2e-07", "0.5", "1000").
std::string scpi_number(double value);

}  // namespace mtjlab::drivers
