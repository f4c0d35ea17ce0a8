#include "mtjlab/drivers/transport/transport.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/transport/resource.hpp"
#include "mtjlab/drivers/transport/serial.hpp"
#include "mtjlab/drivers/transport/tcp.hpp"
#include "mtjlab/drivers/transport/usbtmc.hpp"

namespace mtjlab::drivers {

std::string Transport::read_line(Duration timeout, std::size_t max_len, std::string_view terminators) {
    const auto deadline = Clock::now() + timeout;
    std::size_t scanned = 0;
    for (;;) {
        const auto pos = buffer_.find_first_of(terminators, scanned);
        if (pos != std::string::npos) {
            if (pos > max_len) break;
            std::string line = buffer_.substr(0, pos);
            buffer_.erase(0, pos + 1);
            return line;
        }
        scanned = buffer_.size();
        if (buffer_.size() > max_len) break;
        read_some(buffer_, std::min<std::size_t>(max_len + 1 - buffer_.size(), 64 * 1024), deadline);
    }
    const auto n = buffer_.size();
    buffer_.clear();
    throw ProtocolError(fmt::format("reply longer than {} bytes without a terminator ({} bytes discarded)",
                                    max_len, n));
}

std::string Transport::read_exact(std::size_t n, Duration timeout) {
    const auto deadline = Clock::now() + timeout;
    while (buffer_.size() < n) read_some(buffer_, std::min<std::size_t>(n - buffer_.size(), 64 * 1024), deadline);
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
}

void Transport::discard_input() {
    buffer_.clear();
    drain_pending();
}

bool Transport::abandon_exchange() {
    discard_input();
    return true;
}

namespace {
std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}
}  // namespace

SerialSettings::Parity parse_parity(std::string_view word) {
    const auto w = lower(word);
    if (w == "none" || w == "n") return SerialSettings::Parity::none;
    if (w == "odd" || w == "o") return SerialSettings::Parity::odd;
    if (w == "even" || w == "e") return SerialSettings::Parity::even;
    throw InputError(fmt::format("unknown parity '{}' (use none, odd or even)", word));
}

SerialSettings::FlowControl parse_flow_control(std::string_view word) {
    const auto w = lower(word);
    if (w == "none") return SerialSettings::FlowControl::none;
    if (w == "software" || w == "xonxoff" || w == "xon_xoff") return SerialSettings::FlowControl::software;
    if (w == "hardware" || w == "rtscts" || w == "rts_cts") return SerialSettings::FlowControl::hardware;
    throw InputError(fmt::format("unknown flow control '{}' (use none, software or hardware)", word));
}

std::string_view to_string(SerialSettings::Parity p) {
    switch (p) {
        case SerialSettings::Parity::odd: return "odd";
        case SerialSettings::Parity::even: return "even";
        default: return "none";
    }
}

std::string_view to_string(SerialSettings::FlowControl f) {
    switch (f) {
        case SerialSettings::FlowControl::software: return "software";
        case SerialSettings::FlowControl::hardware: return "hardware";
        default: return "none";
    }
}

std::unique_ptr<Transport> open_transport(const std::string& resource, const TransportOptions& options) {
    const Resource r = parse_resource(resource);
    if (const auto* tcp = std::get_if<TcpResource>(&r)) {
        return std::make_unique<TcpTransport>(*tcp, options.connect_timeout);
    }
    if (const auto* ser = std::get_if<SerialResource>(&r)) {
        return std::make_unique<SerialTransport>(ser->device, options.serial);
    }
    if (const auto* usb = std::get_if<UsbResource>(&r)) {
        return std::make_unique<UsbtmcTransport>(usbtmc::open_libusb_device(*usb), to_string(r));
    }
    throw InputError(fmt::format("resource '{}' names an in-process virtual instrument; it is served by the "
                                 "virtual lab (use `mtjlab lab serve` for socket resources)", resource));
}

}  // namespace mtjlab::drivers
