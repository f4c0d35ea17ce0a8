#include "fd_io.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace mtjlab::drivers::detail {

IoResult wait_fd(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left < 0) return IoResult::timeout;
        pollfd p{fd, events, 0};
        // Round up so a sub-millisecond remainder still waits once.
        const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left + 1, 60'000)));
        if (r < 0) {
            if (errno == EINTR) continue;
            return IoResult::error;
        }
        if (r == 0) {
            if (Clock::now() >= deadline) return IoResult::timeout;
            continue;
        }
        if (p.revents & (events | POLLHUP | POLLERR)) return IoResult::ok;
    }
}

IoResult read_fd(int fd, std::string& out, std::size_t max, Clock::time_point deadline, int& err) {
    char buf[65536];
    const std::size_t want = std::min(max, sizeof buf);
    for (;;) {
        const ssize_t n = ::read(fd, buf, want);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
            return IoResult::ok;
        }
        if (n == 0) return IoResult::closed;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            err = errno;
            // A pty whose other side closed reports EIO: that is an end of stream.
            return errno == EIO ? IoResult::closed : IoResult::error;
        }
        const auto w = wait_fd(fd, POLLIN, deadline);
        if (w != IoResult::ok) {
            err = errno;
            return w;
        }
    }
}

IoResult write_fd(int fd, std::string_view data, Clock::time_point deadline, int& err, bool socket) {
    while (!data.empty()) {
        const ssize_t n = socket ? ::send(fd, data.data(), data.size(), MSG_NOSIGNAL)
                                : ::write(fd, data.data(), data.size());
        if (n > 0) {
            data.remove_prefix(static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            err = errno;
            return (errno == EPIPE || errno == ECONNRESET || errno == EIO) ? IoResult::closed : IoResult::error;
        }
        const auto w = wait_fd(fd, POLLOUT, deadline);
        if (w != IoResult::ok) {
            err = errno;
            return w;
        }
    }
    return IoResult::ok;
}

void drain_fd(int fd) {
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        return;
    }
}

}  // namespace mtjlab::drivers::detail
