#include "mtjlab/drivers/transport/serial.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/asio/serial_port.hpp>
#include <fmt/format.h>

#include "fd_io.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/log.hpp"

namespace mtjlab::drivers {

namespace asio = boost::asio;

struct SerialTransport::Impl {
    std::string device;
    SerialSettings settings;
    asio::io_context io;
    asio::serial_port port{io};
};

namespace {
void validate(const std::string& device, const SerialSettings& s) {
    if (s.baud == 0) throw InputError(fmt::format("{}: baud rate 0", device));
    if (s.data_bits < 5 || s.data_bits > 8)
        throw InputError(fmt::format("{}: {} data bits (a UART has 5..8)", device, s.data_bits));
    if (s.stop_bits != 1 && s.stop_bits != 2)
        throw InputError(fmt::format("{}: {} stop bits (use 1 or 2)", device, s.stop_bits));
}
}  // namespace

SerialTransport::SerialTransport(std::string device, SerialSettings settings) : impl_(std::make_unique<Impl>()) {
    validate(device, settings);
    impl_->device = std::move(device);
    impl_->settings = settings;
    boost::system::error_code ec;
    impl_->port.open(impl_->device, ec);
    if (ec) throw TransportError(fmt::format("{}: cannot open serial port: {}", impl_->device, ec.message()));
    using SP = asio::serial_port_base;
    const auto parity = settings.parity == SerialSettings::Parity::odd    ? SP::parity::odd
                        : settings.parity == SerialSettings::Parity::even ? SP::parity::even
                                                                          : SP::parity::none;
    const auto flow = settings.flow_control == SerialSettings::FlowControl::software   ? SP::flow_control::software
                      : settings.flow_control == SerialSettings::FlowControl::hardware ? SP::flow_control::hardware
                                                                                       : SP::flow_control::none;
    const auto stop = settings.stop_bits == 2 ? SP::stop_bits::two : SP::stop_bits::one;
    // A pseudo-terminal (the virtual lab) has no UART: Linux keeps its baud and stop bits but forces
    // 8 data bits without parity. There the refused settings are logged, not fatal.
    std::error_code fs_ec;
    const auto real = std::filesystem::canonical(impl_->device, fs_ec).string();
    const bool pty = real.rfind("/dev/pts/", 0) == 0 || impl_->device.rfind("/dev/pts/", 0) == 0;
    auto set = [&](const auto& option, const char* what) {
        impl_->port.set_option(option, ec);
        if (!ec) return;
        if (pty) {
            log::get("serial")->warn("{}: pseudo-terminal refuses {} ({}); continuing", impl_->device, what,
                                     ec.message());
            return;
        }
        throw TransportError(fmt::format("{}: cannot set {}: {}", impl_->device, what, ec.message()));
    };
    set(SP::baud_rate(settings.baud), "baud rate");
    set(SP::character_size(settings.data_bits), "data bits");
    set(SP::parity(parity), "parity");
    set(SP::stop_bits(stop), "stop bits");
    set(SP::flow_control(flow), "flow control");
    const int fd = impl_->port.native_handle();
    const int flags = ::fcntl(fd, F_GETFL, 0);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        throw TransportError(fmt::format("{}: cannot make non-blocking: {}", impl_->device, std::strerror(errno)));
}

SerialTransport::~SerialTransport() = default;

void SerialTransport::write(std::string_view data, Duration timeout) {
    if (!impl_->port.is_open()) throw TransportError(impl_->device + ": serial port closed");
    int err = 0;
    switch (detail::write_fd(impl_->port.native_handle(), data, Clock::now() + timeout, err, false)) {
        case detail::IoResult::ok: return;
        case detail::IoResult::timeout: throw TimeoutError(impl_->device + ": write not accepted within the deadline");
        default: throw TransportError(fmt::format("{}: write failed: {}", impl_->device, std::strerror(err)));
    }
}

void SerialTransport::read_some(std::string& out, std::size_t max, Clock::time_point deadline) {
    if (!impl_->port.is_open()) throw TransportError(impl_->device + ": serial port closed");
    int err = 0;
    switch (detail::read_fd(impl_->port.native_handle(), out, max, deadline, err)) {
        case detail::IoResult::ok: return;
        case detail::IoResult::timeout: throw TimeoutError(impl_->device + ": no reply within the deadline");
        case detail::IoResult::closed: throw TransportError(impl_->device + ": the other end hung up");
        default: throw TransportError(fmt::format("{}: read failed: {}", impl_->device, std::strerror(err)));
    }
}

void SerialTransport::drain_pending() {
    if (impl_->port.is_open()) detail::drain_fd(impl_->port.native_handle());
}

bool SerialTransport::abandon_exchange() {
    discard_input();
    return false;
}

void SerialTransport::close() {
    boost::system::error_code ignored;
    impl_->port.close(ignored);
}

std::string SerialTransport::resource() const { return "ASRL" + impl_->device + "::INSTR"; }
const SerialSettings& SerialTransport::settings() const { return impl_->settings; }

}  // namespace mtjlab::drivers
