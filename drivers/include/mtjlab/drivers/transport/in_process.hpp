#pragma once
// A transport whose far end is a function in this process (the virtual lab without sockets).
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "mtjlab/drivers/transport/transport.hpp"

namespace mtjlab::drivers {

/// Handles one complete message (without its termination) and returns the reply text (without
/// termination) or nothing when the message produces no reply.
using MessageHandler = std::function<std::optional<std::string>(std::string_view message)>;

/// Each written message, split at '\n' (a trailing '\r' is removed), is passed to the handler on the
/// writer's thread; its reply, followed by '\n', becomes readable at once. A read that finds nothing
/// to read throws TimeoutError immediately (nothing can arrive later). Exceptions from the handler
/// propagate out of write().
class InProcessTransport final : public Transport {
public:
    explicit InProcessTransport(MessageHandler handler, std::string resource = "SIM::in-process");
    void write(std::string_view data, Duration timeout) override;
    void close() override;
    [[nodiscard]] std::string resource() const override { return resource_; }

protected:
    void read_some(std::string& out, std::size_t max, Clock::time_point deadline) override;
    void drain_pending() override { replies_.clear(); }

private:
    MessageHandler handler_;
    std::string resource_;
    std::string partial_;  // written bytes not yet terminated
    std::string replies_;  // reply bytes not yet read
    bool closed_ = false;
};

}  // namespace mtjlab::drivers
