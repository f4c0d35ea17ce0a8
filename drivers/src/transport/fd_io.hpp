#pragma once
// Deadline-bounded reads and writes on a non-blocking file descriptor (socket or tty), shared by the
// TCP and serial transports. poll() gives each operation its own deadline without a thread.
#include <string>
#include <string_view>

#include "mtjlab/drivers/transport/transport.hpp"

namespace mtjlab::drivers::detail {

enum class IoResult { ok, timeout, closed, error };

/// Waits until `fd` is readable (events POLLIN) or writable (POLLOUT) or the deadline passes.
IoResult wait_fd(int fd, short events, Clock::time_point deadline);

/// Reads 1..max bytes; `err` gets errno on error. Returns closed on end of stream.
IoResult read_fd(int fd, std::string& out, std::size_t max, Clock::time_point deadline, int& err);

/// Writes everything before the deadline.
/// Writes everything before the deadline (`socket`: send() without SIGPIPE).
IoResult write_fd(int fd, std::string_view data, Clock::time_point deadline, int& err, bool socket);

/// Reads and drops whatever is readable now.
void drain_fd(int fd);

}  // namespace mtjlab::drivers::detail
