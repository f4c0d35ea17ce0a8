#pragma once
// Raw SCPI socket (port 5025 and friends) over Boost.Asio.
#include <memory>
#include <string>

#include "mtjlab/drivers/transport/resource.hpp"
#include "mtjlab/drivers/transport/transport.hpp"

namespace mtjlab::drivers {

/// TCP link with per-operation deadlines. After a failure (peer closed, reset, write error or timeout) the
/// socket is closed and the next operation reconnects once within its own deadline; the failed
/// operation itself still throws (a half-finished transaction is never retried silently). A read
/// timeout also closes the socket, so a late reply can never answer a later query, and so does
/// abandon_exchange() (an overlong or garbled reply whose tail may still be in flight).
class TcpTransport final : public Transport {
public:
    /// Connects at once; TimeoutError or TransportError (naming host:port) when that fails.
    TcpTransport(TcpResource where, Duration connect_timeout);
    ~TcpTransport() override;
    void write(std::string_view data, Duration timeout) override;
    void close() override;
    [[nodiscard]] std::string resource() const override;
    /// Drops the received bytes and closes the socket (the next operation reconnects); true.
    bool abandon_exchange() override;
    [[nodiscard]] bool connected() const;
    /// How many times the link was re-established after a failure.
    [[nodiscard]] unsigned reconnects() const;

protected:
    void read_some(std::string& out, std::size_t max, Clock::time_point deadline) override;
    void drain_pending() override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mtjlab::drivers
