#include "mtjlab/drivers/transport/resource.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::drivers {
namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return out;
}

std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        const auto pos = s.find("::", start);
        if (pos == std::string_view::npos) {
            parts.push_back(s.substr(start));
            return parts;
        }
        parts.push_back(s.substr(start, pos - start));
        start = pos + 2;
    }
}

[[noreturn]] void bad(std::string_view text, const std::string& why) {
    throw InputError(fmt::format("bad resource string '{}': {}", text, why));
}

// Board number after the interface keyword ("" = 0).
unsigned board_number(std::string_view text, std::string_view digits, std::string_view iface) {
    if (digits.empty()) return 0;
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec != std::errc() || p != digits.data() + digits.size())
        bad(text, fmt::format("'{}{}' is not {} followed by a board number", iface, digits, iface));
    return v;
}

// Decimal or 0x-hex 16-bit number (PyVISA accepts both for USB IDs).
std::uint16_t u16(std::string_view text, std::string_view field, std::string_view what) {
    int base = 10;
    std::string_view digits = field;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        base = 16;
        digits.remove_prefix(2);
    }
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
    if (digits.empty() || ec != std::errc() || p != digits.data() + digits.size() || v > 0xFFFF)
        bad(text, fmt::format("{} '{}' is not a 16-bit number (decimal or 0x-hex)", what, field));
    return static_cast<std::uint16_t>(v);
}

}  // namespace

Resource parse_resource(std::string_view text) {
    if (text.empty()) bad(text, "empty");
    const auto parts = split(text);
    const std::string head = upper(parts[0]);
    const std::string last = upper(parts.back());

    if (head == "SIM") {
        if (parts.size() != 2 || parts[1].empty()) bad(text, "expected SIM::<name>");
        return SimResource{std::string(parts[1])};
    }
    if (head.rfind("TCPIP", 0) == 0) {
        const unsigned board = board_number(text, std::string_view(parts[0]).substr(5), "TCPIP");
        if (last != "SOCKET") {
            bad(text, "only raw sockets are supported: TCPIP[board]::host::port::SOCKET (VXI-11 INSTR and HiSLIP "
                      "are not)");
        }
        if (parts.size() != 4) bad(text, "expected TCPIP[board]::host::port::SOCKET");
        if (parts[1].empty()) bad(text, "empty host");
        unsigned port = 0;
        const auto ps = parts[2];
        const auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
        if (ps.empty() || ec != std::errc() || p != ps.data() + ps.size() || port == 0 || port > 65535)
            bad(text, fmt::format("port '{}' is not a number in 1..65535", ps));
        return TcpResource{board, std::string(parts[1]), static_cast<std::uint16_t>(port)};
    }
    if (head.rfind("USB", 0) == 0) {
        const unsigned board = board_number(text, std::string_view(parts[0]).substr(3), "USB");
        std::size_t n = parts.size();
        if (last == "INSTR") --n;
        else if (last == "RAW") bad(text, "USB RAW resources are not supported; use ::INSTR (USBTMC)");
        if (n < 3 || n > 5) bad(text, "expected USB[board]::vendor::product::serial[::interface]::INSTR");
        UsbResource r;
        r.board = board;
        r.vendor_id = u16(text, parts[1], "vendor ID");
        r.product_id = u16(text, parts[2], "product ID");
        if (n >= 4) r.serial = std::string(parts[3]);
        if (n == 5) {
            const auto v = u16(text, parts[4], "interface number");
            if (v > 255) bad(text, "interface number above 255");
            r.interface_number = static_cast<std::uint8_t>(v);
        }
        return r;
    }
    if (head.rfind("ASRL", 0) == 0) {
        std::string_view dev = std::string_view(parts[0]).substr(4);
        if (parts.size() > 2 || (parts.size() == 2 && last != "INSTR"))
            bad(text, "expected ASRL<device>::INSTR, e.g. ASRL/dev/ttyUSB0::INSTR");
        if (dev.empty()) bad(text, "no serial device after ASRL");
        if (dev.front() != '/') {
            bad(text, fmt::format("'{}' is not a device path; give the path, e.g. ASRL/dev/ttyS0::INSTR or "
                                  "ASRL/dev/ttyUSB0::INSTR", dev));
        }
        return SerialResource{std::string(dev)};
    }
    bad(text, "unknown interface (expected TCPIP, USB, ASRL or SIM)");
}

std::string to_string(const Resource& resource) {
    struct V {
        std::string operator()(const TcpResource& r) const {
            return fmt::format("TCPIP{}::{}::{}::SOCKET", r.board, r.host, r.port);
        }
        std::string operator()(const UsbResource& r) const {
            std::string s = fmt::format("USB{}::0x{:04X}::0x{:04X}", r.board, r.vendor_id, r.product_id);
            if (!r.serial.empty() || r.interface_number) s += "::" + r.serial;
            if (r.interface_number) s += fmt::format("::{}", *r.interface_number);
            return s + "::INSTR";
        }
        std::string operator()(const SerialResource& r) const { return "ASRL" + r.device + "::INSTR"; }
        std::string operator()(const SimResource& r) const { return "SIM::" + r.name; }
    };
    return std::visit(V{}, resource);
}

}  // namespace mtjlab::drivers
