#pragma once
// The byte-level link to one instrument. Every read has a deadline and a maximum length; nothing here
// knows about SCPI or about any instrument's quirks (those live in scpi/ and in the drivers).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mtjlab::drivers {

using Clock = std::chrono::steady_clock;
using Duration = std::chrono::steady_clock::duration;

/// Largest message any read returns unless the caller asks for less (1 MiB).
inline constexpr std::size_t default_max_read = std::size_t{1} << 20;

/// One link to one instrument. Not thread-safe: ScpiSession serialises access.
/// Errors: TimeoutError when the deadline passes, TransportError when the link fails or closes,
/// ProtocolError when a message exceeds its maximum length.
class Transport {
public:
    Transport() = default;
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;
    virtual ~Transport() = default;

    /// Sends all of `data` before `timeout` elapses.
    virtual void write(std::string_view data, Duration timeout) = 0;

    /// Reads up to the first byte that is one of `terminators` and returns the bytes before it (the
    /// terminator is consumed, not returned). Throws ProtocolError when `max_len` bytes arrive without one.
    std::string read_line(Duration timeout, std::size_t max_len = default_max_read,
                          std::string_view terminators = "\n");

    /// Reads exactly `n` bytes (n must not exceed default_max_read unless the caller knows better).
    std::string read_exact(std::size_t n, Duration timeout);

    /// Drops every byte already received or waiting in the OS (a late reply after a timeout must not be
    /// taken as the answer to the next query).
    void discard_input();

    /// Abandons the exchange an error interrupted, so that nothing the instrument sent for it can later be read
    /// as the answer to another command: drops the bytes received and those waiting in the OS, and where the
    /// link allows, what is still on its way (TCP closes the connection, which the next operation re-opens: a
    /// raw-socket instrument drops its output with the link; USBTMC clears the device's bulk buffers). Returns
    /// false when that cannot be guaranteed: on a serial line the instrument answers when it is done, so the
    /// caller must resynchronise itself (ScpiSession sends a marker query and reads up to its reply).
    /// Default: discard_input(), true (the far end answers inside write(), nothing can come later).
    virtual bool abandon_exchange();

    /// Closes the link; later operations may reopen it (TCP reconnects) or throw TransportError.
    virtual void close() = 0;

    /// The resource string this link was opened from (e.g. "TCPIP0::127.0.0.1::5025::SOCKET").
    [[nodiscard]] virtual std::string resource() const = 0;

protected:
    /// Appends between 1 and `max` bytes to `out`, blocking until `deadline` at the latest
    /// (TimeoutError); TransportError on failure or end of stream.
    virtual void read_some(std::string& out, std::size_t max, Clock::time_point deadline) = 0;
    /// Discards bytes queued below this layer without blocking (default: nothing to do).
    virtual void drain_pending() {}

private:
    std::string buffer_;  // bytes received but not yet returned
};

/// Serial line settings (defaults: 9600 8N1, no flow control).
struct SerialSettings {
    enum class Parity { none, odd, even };
    enum class FlowControl { none, software, hardware };
    unsigned baud = 9600;
    unsigned data_bits = 8;  ///< 5..8
    Parity parity = Parity::none;
    unsigned stop_bits = 1;  ///< 1 or 2
    FlowControl flow_control = FlowControl::none;
};
/// "none"/"odd"/"even" etc.; InputError naming the accepted words otherwise.
SerialSettings::Parity parse_parity(std::string_view word);
SerialSettings::FlowControl parse_flow_control(std::string_view word);
std::string_view to_string(SerialSettings::Parity p);
std::string_view to_string(SerialSettings::FlowControl f);

/// Options for open_transport.
struct TransportOptions {
    Duration connect_timeout = std::chrono::seconds(3);
    SerialSettings serial{};  ///< used by ASRL resources only
};

/// Opens the link named by a PyVISA-style resource string:
///   TCPIP[board]::host::port::SOCKET            raw socket (reconnects after a failure)
///   USB[board]::0xVID::0xPID::SERIAL[::iface][::INSTR]   USBTMC over libusb
///   ASRL/dev/ttyUSB0::INSTR                      serial port (settings from options.serial)
/// `SIM::<name>` resources are served in-process by the virtual lab and cannot be opened here
/// (InputError says so). Throws InputError for a malformed string, TransportError if the link fails.
std::unique_ptr<Transport> open_transport(const std::string& resource, const TransportOptions& options = {});

}  // namespace mtjlab::drivers
