#include "mtjlab/drivers/transport/in_process.hpp"

#include <algorithm>

#include "mtjlab/core/error.hpp"

namespace mtjlab::drivers {

InProcessTransport::InProcessTransport(MessageHandler handler, std::string resource)
    : handler_(std::move(handler)), resource_(std::move(resource)) {
    if (!handler_) throw InputError("in-process transport '" + resource_ + "' needs a message handler");
}

void InProcessTransport::write(std::string_view data, Duration /*timeout*/) {
    if (closed_) throw TransportError(resource_ + ": link closed");
    partial_.append(data);
    std::size_t pos;
    while ((pos = partial_.find('\n')) != std::string::npos) {
        std::string message = partial_.substr(0, pos);
        partial_.erase(0, pos + 1);
        if (!message.empty() && message.back() == '\r') message.pop_back();
        if (auto reply = handler_(message)) {
            replies_.append(*reply);
            replies_.push_back('\n');
        }
    }
}

void InProcessTransport::close() {
    closed_ = true;
    partial_.clear();
    replies_.clear();
}

void InProcessTransport::read_some(std::string& out, std::size_t max, Clock::time_point /*deadline*/) {
    if (closed_) throw TransportError(resource_ + ": link closed");
    if (replies_.empty()) throw TimeoutError(resource_ + ": no reply pending");
    const auto n = std::min(max, replies_.size());
    out.append(replies_, 0, n);
    replies_.erase(0, n);
}

}  // namespace mtjlab::drivers
