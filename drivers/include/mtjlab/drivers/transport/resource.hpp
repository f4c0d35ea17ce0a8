#pragma once
// PyVISA resource strings, parsed into typed values with precise errors.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace mtjlab::drivers {

/// TCPIP[board]::host::port::SOCKET
struct TcpResource {
    unsigned board = 0;
    std::string host;
    std::uint16_t port = 0;
};
/// USB[board]::vendor::product::serial[::interface][::INSTR] (numbers decimal or 0x-hex)
struct UsbResource {
    unsigned board = 0;
    std::uint16_t vendor_id = 0;
    std::uint16_t product_id = 0;
    std::string serial;                       ///< empty: the first device with this VID/PID
    std::optional<std::uint8_t> interface_number;
};
/// ASRL<device path>[::INSTR], e.g. ASRL/dev/ttyUSB0::INSTR
struct SerialResource {
    std::string device;
};
/// SIM::<name>: an instrument of the in-process virtual lab.
struct SimResource {
    std::string name;
};

using Resource = std::variant<TcpResource, UsbResource, SerialResource, SimResource>;

/// Parses a resource string (interface and suffix keywords are case-insensitive).
/// Throws InputError quoting the string and saying which part is wrong and what was expected.
Resource parse_resource(std::string_view text);

/// The canonical string of a parsed resource (round-trips through parse_resource).
std::string to_string(const Resource& resource);

}  // namespace mtjlab::drivers
