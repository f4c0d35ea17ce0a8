#pragma once
// Starting a helper process with its stdout on a pipe, reading its lines with a deadline, killing it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mtjlab::test {

class ChildProcess {
public:
    /// Starts argv[0] with these arguments; stdout is captured, stderr goes to `stderr_file`.
    ChildProcess(const std::vector<std::string>& argv, const std::string& stderr_file) {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::dup2(fds[1], STDOUT_FILENO);
            const int err = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (err >= 0) ::dup2(err, STDERR_FILENO);
            ::close(fds[0]);
            ::close(fds[1]);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        fd_ = fds[0];
    }
    ~ChildProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait();
        }
        if (fd_ >= 0) ::close(fd_);
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    /// Next line of stdout; nullopt at EOF. Throws after `timeout` without a line.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (const auto nl = buf_.find('\n'); nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return line;
            }
            if (eof_) {
                if (buf_.empty()) return std::nullopt;
                std::string rest;
                rest.swap(buf_);
                return rest;  // a partial last line (killed mid-print)
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                    std::chrono::steady_clock::now());
            if (left.count() <= 0) throw std::runtime_error("child process: no output before the deadline");
            pollfd p{fd_, POLLIN, 0};
            const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
            if (rc < 0) continue;
            if (rc == 0) continue;
            char tmp[4096];
            const ssize_t n = ::read(fd_, tmp, sizeof tmp);
            if (n <= 0) {
                eof_ = true;
            } else {
                buf_.append(tmp, static_cast<std::size_t>(n));
            }
        }
    }
    void kill9() {
        if (pid_ > 0) ::kill(pid_, SIGKILL);
    }
    /// Waits for the process to end; returns the raw wait status.
    int wait() {
        int status = 0;
        if (pid_ > 0) {
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            pid_ = -1;
        }
        return status;
    }
    [[nodiscard]] pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int fd_ = -1;
    std::string buf_;
    bool eof_ = false;
};

}  // namespace mtjlab::test
