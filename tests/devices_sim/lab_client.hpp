#pragma once
// A minimal raw client for the tests: blocking POSIX socket/pty I/O with poll() deadlines, so a test
// that waits for a reply never hangs.
#include <optional>
#include <string>

namespace mtjlab::test {

class RawClient {
public:
    /// Connects to 127.0.0.1:port (throws std::runtime_error on failure).
    static RawClient tcp(unsigned port);
    /// Opens a pty slave path (/dev/pts/N) in raw mode.
    static RawClient pty(const std::string& path);
    RawClient(RawClient&& o) noexcept;
    RawClient& operator=(RawClient&&) = delete;
    RawClient(const RawClient&) = delete;
    ~RawClient();

    void send(const std::string& bytes);
    /// One line without its terminator ("\n" or "\r\n"); nullopt on timeout; throws on EOF.
    std::optional<std::string> line(double timeout_s = 5.0);
    /// Sends `cmd` + "\n" and reads one line (throws std::runtime_error on timeout).
    std::string query(const std::string& cmd, double timeout_s = 5.0);
    /// True if the peer closed the connection within timeout_s.
    bool closed_by_peer(double timeout_s = 5.0);
    /// Raw bytes up to the next '\n' (kept), nullopt on timeout.
    std::optional<std::string> raw_line(double timeout_s = 5.0);

private:
    explicit RawClient(int fd) : fd_(fd) {}
    int fd_ = -1;
    std::string buf_;
};

}  // namespace mtjlab::test
