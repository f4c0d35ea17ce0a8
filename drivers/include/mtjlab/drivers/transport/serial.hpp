#pragma once
// RS-232 link through Boost.Asio's serial_port (works on real ports and on pseudo-terminals).
#include <memory>
#include <string>

#include "mtjlab/drivers/transport/transport.hpp"

namespace mtjlab::drivers {

/// Serial link. Throws TransportError naming the device when it cannot be opened or configured,
/// InputError for settings no UART supports (data bits outside 5..8, stop bits not 1 or 2, baud 0).
class SerialTransport final : public Transport {
public:
    SerialTransport(std::string device, SerialSettings settings);
    ~SerialTransport() override;
    void write(std::string_view data, Duration timeout) override;
    void close() override;
    [[nodiscard]] std::string resource() const override;
    /// Drops what has arrived; returns false: a reply still on its way arrives later (the line stays open).
    bool abandon_exchange() override;
    [[nodiscard]] const SerialSettings& settings() const;

protected:
    void read_some(std::string& out, std::size_t max, Clock::time_point deadline) override;
    void drain_pending() override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mtjlab::drivers
