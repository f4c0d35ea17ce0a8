#pragma once
// USBTMC (USB Test & Measurement Class) over libusb. The protocol (bulk headers, tags, multi-transfer
// reads, the abort sequence) is pure code behind a small device seam so it is tested without hardware;
// only LibusbDevice touches a real device.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mtjlab/drivers/transport/resource.hpp"
#include "mtjlab/drivers/transport/transport.hpp"

namespace mtjlab::drivers::usbtmc {

inline constexpr std::uint8_t interface_class = 0xFE;
inline constexpr std::uint8_t interface_subclass = 0x03;
inline constexpr std::size_t header_size = 12;

/// Bulk message IDs (USBTMC 1.0 table 2).
enum class MsgId : std::uint8_t {
    dev_dep_msg_out = 1,
    request_dev_dep_msg_in = 2,  ///< bulk-OUT request; the bulk-IN reply DEV_DEP_MSG_IN has the same ID
    dev_dep_msg_in = 2,
};
/// Class-specific control requests (USBTMC 1.0 table 15).
enum class Request : std::uint8_t {
    initiate_abort_bulk_out = 1,
    check_abort_bulk_out_status = 2,
    initiate_abort_bulk_in = 3,
    check_abort_bulk_in_status = 4,
    initiate_clear = 5,
    check_clear_status = 6,
    get_capabilities = 7,
};
/// USBTMC_status values (USBTMC 1.0 table 16).
enum class Status : std::uint8_t {
    success = 0x01,
    pending = 0x02,
    failed = 0x80,
    transfer_not_in_progress = 0x81,
    split_not_in_progress = 0x82,
    split_in_progress = 0x83,
};

/// The tag after `tag`: 1..255, never 0.
std::uint8_t next_tag(std::uint8_t tag);

/// DEV_DEP_MSG_OUT: header + payload, padded with zeros to a multiple of 4 bytes.
std::vector<std::uint8_t> encode_dev_dep_msg_out(std::uint8_t tag, std::string_view payload, bool eom);

/// REQUEST_DEV_DEP_MSG_IN header (asks for at most `max_size` payload bytes; optional TermChar).
std::array<std::uint8_t, header_size> encode_request_dev_dep_msg_in(std::uint8_t tag, std::uint32_t max_size,
                                                                      std::optional<char> term_char = {});

/// A decoded DEV_DEP_MSG_IN header.
struct InHeader {
    std::uint8_t tag = 0;
    std::uint32_t transfer_size = 0;  ///< payload bytes that follow (not counting padding)
    bool eom = false;
};
/// Decodes and checks a DEV_DEP_MSG_IN header (ID, tag/inverse, reserved bytes); ProtocolError otherwise.
InHeader decode_dev_dep_msg_in(std::span<const std::uint8_t> bytes, std::uint8_t expected_tag);

/// The seam to a USB device: five calls, each bounded by a timeout in milliseconds.
class DeviceIo {
public:
    virtual ~DeviceIo() = default;
    /// Writes all bytes to the bulk-OUT endpoint; TimeoutError or TransportError.
    virtual void bulk_out(std::span<const std::uint8_t> data, unsigned timeout_ms) = 0;
    /// One bulk-IN transfer of at most `max` bytes; TimeoutError when nothing arrives in time.
    virtual std::vector<std::uint8_t> bulk_in(std::size_t max, unsigned timeout_ms) = 0;
    /// A class request to the bulk-IN endpoint (bmRequestType 0xA2), returning the data stage.
    virtual std::vector<std::uint8_t> control_in_endpoint(Request request, std::uint16_t value,
                                                          std::uint16_t length, unsigned timeout_ms) = 0;
    /// A class request to the USBTMC interface (bmRequestType 0xA1), returning the data stage.
    virtual std::vector<std::uint8_t> control_in_interface(Request request, std::uint16_t length,
                                                           unsigned timeout_ms) = 0;
    /// CLEAR_FEATURE(ENDPOINT_HALT) on the bulk-OUT endpoint (the last step of a clear).
    virtual void clear_halt_out() = 0;
    /// wMaxPacketSize of the bulk-IN endpoint.
    [[nodiscard]] virtual std::size_t max_packet_size() const = 0;
};

/// Runs INITIATE_ABORT_BULK_IN for `tag`, then (if it succeeded) drains the bulk-IN FIFO and polls
/// CHECK_ABORT_BULK_IN_STATUS until it is no longer PENDING (at most `max_polls` times).
/// Returns the final status. Pure protocol logic over the seam.
Status abort_bulk_in(DeviceIo& io, std::uint8_t tag, unsigned timeout_ms, unsigned max_polls = 50);

/// Clears the device's input and output buffers (USBTMC 1.0 sections 4.2.1.6-7): INITIATE_CLEAR, then
/// CHECK_CLEAR_STATUS until it is no longer PENDING (at most `max_polls` times, reading out the bulk-IN FIFO
/// while bmClear.D0 says it holds data), then a clear of the bulk-OUT endpoint's halt. Recovers from any
/// interrupted exchange: a reply left half read, a message half written. Returns the final status.
Status clear(DeviceIo& io, unsigned timeout_ms, unsigned max_polls = 50);

/// Opens the first USBTMC device matching vendor/product (and serial when not empty): detaches a
/// kernel driver from the interface, claims it, finds the bulk endpoints. TransportError naming the
/// resource when no device matches or libusb fails (each libusb code is named in the message).
std::unique_ptr<DeviceIo> open_libusb_device(const UsbResource& where);

}  // namespace mtjlab::drivers::usbtmc

namespace mtjlab::drivers {

/// Transport over a USBTMC device. Each write is one DEV_DEP_MSG_OUT with EOM; reads request
/// messages and gather DEV_DEP_MSG_IN transfers until EOM. A bulk-IN timeout runs the abort sequence
/// before TimeoutError is thrown; abandon_exchange() (after any error) clears the device's buffers.
class UsbtmcTransport final : public Transport {
public:
    UsbtmcTransport(std::unique_ptr<usbtmc::DeviceIo> io, std::string resource);
    void write(std::string_view data, Duration timeout) override;
    void close() override;
    [[nodiscard]] std::string resource() const override { return resource_; }
    /// Drops the received bytes and clears the device (usbtmc::clear); false if the clear did not succeed.
    bool abandon_exchange() override;

protected:
    void read_some(std::string& out, std::size_t max, Clock::time_point deadline) override;

private:
    std::unique_ptr<usbtmc::DeviceIo> io_;
    std::string resource_;
    std::uint8_t tag_ = 0;
    bool in_message_ = false;  // a message is partly read (no EOM yet)
};

}  // namespace mtjlab::drivers
