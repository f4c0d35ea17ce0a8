#include "lab_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace mtjlab::test {

RawClient RawClient::tcp(unsigned port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error("socket() failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
    }
    return RawClient(fd);
}

RawClient RawClient::pty(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_NOCTTY);
    if (fd < 0) throw std::runtime_error("cannot open " + path);
    termios t{};
    if (::tcgetattr(fd, &t) == 0) {
        ::cfmakeraw(&t);
        ::tcsetattr(fd, TCSANOW, &t);
    }
    return RawClient(fd);
}

RawClient::RawClient(RawClient&& o) noexcept : fd_(o.fd_), buf_(std::move(o.buf_)) { o.fd_ = -1; }

RawClient::~RawClient() {
    if (fd_ >= 0) ::close(fd_);
}

void RawClient::send(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
        const auto n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n < 0) {
            // A pty is not a socket: fall back to write().
            const auto w = ::write(fd_, bytes.data() + off, bytes.size() - off);
            if (w <= 0) throw std::runtime_error("send failed");
            off += static_cast<std::size_t>(w);
            continue;
        }
        off += static_cast<std::size_t>(n);
    }
}

std::optional<std::string> RawClient::raw_line(double timeout_s) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (true) {
        const auto nl = buf_.find('\n');
        if (nl != std::string::npos) {
            std::string l = buf_.substr(0, nl + 1);
            buf_.erase(0, nl + 1);
            return l;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::nullopt;
        pollfd p{fd_, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r <= 0) continue;
        char tmp[4096];
        const auto n = ::read(fd_, tmp, sizeof tmp);
        if (n <= 0) throw std::runtime_error("connection closed by the instrument");
        buf_.append(tmp, static_cast<std::size_t>(n));
    }
}

std::optional<std::string> RawClient::line(double timeout_s) {
    auto l = raw_line(timeout_s);
    if (!l) return l;
    l->pop_back();
    if (!l->empty() && l->back() == '\r') l->pop_back();
    return l;
}

std::string RawClient::query(const std::string& cmd, double timeout_s) {
    send(cmd + "\n");
    auto l = line(timeout_s);
    if (!l) throw std::runtime_error("no reply to '" + cmd + "'");
    return *l;
}

bool RawClient::closed_by_peer(double timeout_s) {
    try {
        while (raw_line(timeout_s)) {
        }
        return false;
    } catch (const std::runtime_error&) {
        return true;
    }
}

}  // namespace mtjlab::test
