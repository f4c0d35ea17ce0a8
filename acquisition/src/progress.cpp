#include "mtjlab/acquisition/progress.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "mtjlab/acquisition/plan.hpp"

namespace mtjlab::acquisition {

Progress::Progress(std::ostream& out, bool tty, std::size_t total_points, double line_every)
    : out_(out), tty_(tty), total_(total_points), line_every_(line_every),
      t0_(std::chrono::steady_clock::now()), last_draw_(t0_ - std::chrono::hours(1)) {}

void Progress::job(const std::string& name, std::size_t index, std::size_t count) {
    job_ = name;
    job_index_ = index;
    job_count_ = count;
    draw(!tty_ && count > 1 ? false : true);
}

void Progress::advance(std::size_t n) {
    if (!started_) {
        started_ = true;
        done_at_start_ = done_;
        t0_ = std::chrono::steady_clock::now();
    }
    done_ += n;
    draw(false);
}

void Progress::skip(std::size_t n) {
    total_ = total_ >= n ? total_ - n : 0;
    if (!started_) done_at_start_ = done_;
    draw(false);
}

void Progress::note(const std::string& text) {
    if (bar_visible_) out_ << "\r\033[K";
    bar_visible_ = false;
    out_ << text << '\n';
    out_.flush();
    draw(true);
}

void Progress::finish(const std::string& text) {
    draw(true);
    if (bar_visible_) out_ << '\n';
    bar_visible_ = false;
    if (!text.empty()) out_ << text << '\n';
    out_.flush();
}

void Progress::draw(bool force) {
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_draw_).count();
    if (!force && since < (tty_ ? 0.1 : line_every_)) return;
    last_draw_ = now;
    const double frac = total_ ? std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_)) : 1.0;
    std::string eta = "--";
    const double elapsed = std::chrono::duration<double>(now - t0_).count();
    const std::size_t measured = done_ - done_at_start_;
    if (started_ && measured > 0 && elapsed > 0 && total_ >= done_) {
        const double rate = static_cast<double>(measured) / elapsed;
        eta = format_duration(Second(static_cast<double>(total_ - done_) / rate));
    }
    const std::string job = job_count_ > 1 ? fmt::format(" job {}/{} {}", job_index_ + 1, job_count_, job_)
                                           : (job_.empty() ? "" : " " + job_);
    if (tty_) {
        const int width = 30;
        const int full = static_cast<int>(frac * width);
        out_ << "\r\033[K[" << std::string(static_cast<std::size_t>(full), '#')
             << std::string(static_cast<std::size_t>(width - full), '-') << "] "
             << fmt::format("{:5.1f}% {}/{} ETA {}{}", frac * 100, done_, total_, eta, job);
        bar_visible_ = true;
    } else {
        out_ << fmt::format("progress: {:5.1f}% {}/{} points, ETA {}{}\n", frac * 100, done_, total_, eta, job);
    }
    out_.flush();
}

}  // namespace mtjlab::acquisition
