#include "mtjlab/drivers/transport/tcp.hpp"

#include <cstring>
#include <utility>  // before Asio: Boost 1.74 awaitable.hpp uses std::exchange without it
#include <optional>

#include <boost/asio.hpp>
#include <fmt/format.h>

#include "fd_io.hpp"
#include "mtjlab/core/error.hpp"

namespace mtjlab::drivers {

namespace asio = boost::asio;
using asio::ip::tcp;

struct TcpTransport::Impl {
    TcpResource where;
    Duration connect_timeout;
    asio::io_context io;
    std::optional<tcp::socket> socket;
    bool ever_connected = false;
    unsigned reconnects = 0;

    std::string label() const { return fmt::format("TCPIP::{}::{}::SOCKET", where.host, where.port); }

    // Resolves and connects within `timeout` (async ops driven by run_for so the deadline holds).
    void connect(Duration timeout) {
        socket.reset();
        tcp::socket s(io);
        boost::system::error_code result = asio::error::would_block;
        tcp::resolver resolver(io);
        io.restart();
        resolver.async_resolve(where.host, std::to_string(where.port),
                               [&](const boost::system::error_code& ec, tcp::resolver::results_type eps) {
                                   if (ec) {
                                       result = ec;
                                       return;
                                   }
                                   asio::async_connect(s, eps, [&](const boost::system::error_code& ec2,
                                                                   const tcp::endpoint&) { result = ec2; });
                               });
        io.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
        if (result == asio::error::would_block) {
            resolver.cancel();
            boost::system::error_code ignored;
            s.close(ignored);
            io.restart();
            io.run();  // let the cancelled handlers finish before the locals go away
            throw TimeoutError(fmt::format("{}: no connection within {} ms", label(),
                                           std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()));
        }
        io.restart();
        io.run();
        if (result) throw TransportError(fmt::format("{}: cannot connect: {}", label(), result.message()));
        s.set_option(tcp::no_delay(true));
        s.non_blocking(true);
        if (ever_connected) ++reconnects;
        ever_connected = true;
        socket.emplace(std::move(s));
    }

    int fd(Clock::time_point deadline) {
        if (!socket) {
            const auto left = deadline - Clock::now();
            connect(left > Duration::zero() ? left : Duration(std::chrono::milliseconds(1)));
        }
        return socket->native_handle();
    }

    void drop() {
        if (socket) {
            boost::system::error_code ignored;
            socket->close(ignored);
            socket.reset();
        }
    }
};

TcpTransport::TcpTransport(TcpResource where, Duration connect_timeout) : impl_(std::make_unique<Impl>()) {
    impl_->where = std::move(where);
    impl_->connect_timeout = connect_timeout;
    impl_->connect(connect_timeout);
}

TcpTransport::~TcpTransport() = default;

void TcpTransport::write(std::string_view data, Duration timeout) {
    const auto deadline = Clock::now() + timeout;
    const int fd = impl_->fd(deadline);
    int err = 0;
    switch (detail::write_fd(fd, data, deadline, err, true)) {
        case detail::IoResult::ok: return;
        case detail::IoResult::timeout:
            // Part of the message may have gone out: the instrument would glue it to the next one.
            impl_->drop();
            throw TimeoutError(fmt::format("{}: write not accepted within the deadline", impl_->label()));
        case detail::IoResult::closed:
            impl_->drop();
            throw TransportError(fmt::format("{}: connection closed by the instrument", impl_->label()));
        case detail::IoResult::error:
            impl_->drop();
            throw TransportError(fmt::format("{}: write failed: {}", impl_->label(), std::strerror(err)));
    }
}

void TcpTransport::read_some(std::string& out, std::size_t max, Clock::time_point deadline) {
    const int fd = impl_->fd(deadline);
    int err = 0;
    switch (detail::read_fd(fd, out, max, deadline, err)) {
        case detail::IoResult::ok: return;
        case detail::IoResult::timeout:
            // Close: a late reply must never be read as the answer to a later query. The next
            // operation reconnects (a raw-socket instrument drops its output queue with the link).
            impl_->drop();
            throw TimeoutError(fmt::format("{}: no reply within the deadline", impl_->label()));
        case detail::IoResult::closed:
            impl_->drop();
            throw TransportError(fmt::format("{}: connection closed by the instrument", impl_->label()));
        case detail::IoResult::error:
            impl_->drop();
            throw TransportError(fmt::format("{}: read failed: {}", impl_->label(), std::strerror(err)));
    }
}

void TcpTransport::drain_pending() {
    if (impl_->socket) detail::drain_fd(impl_->socket->native_handle());
}

bool TcpTransport::abandon_exchange() {
    discard_input();
    impl_->drop();
    return true;
}

void TcpTransport::close() { impl_->drop(); }

std::string TcpTransport::resource() const {
    return fmt::format("TCPIP{}::{}::{}::SOCKET", impl_->where.board, impl_->where.host, impl_->where.port);
}

bool TcpTransport::connected() const { return impl_->socket.has_value(); }
unsigned TcpTransport::reconnects() const { return impl_->reconnects; }

}  // namespace mtjlab::drivers
