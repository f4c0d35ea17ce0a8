#pragma once
// Progress of a run or campaign on stderr: a redrawn bar with ETA on a terminal, plain lines otherwise.
#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

namespace mtjlab::acquisition {

class Progress {
public:
    /// `tty`: redraw one line with '\r'; otherwise print a line at most every `line_every` seconds.
    Progress(std::ostream& out, bool tty, std::size_t total_points, double line_every = 5.0);
    /// A new job starts (`done_points` of its points were already measured, e.g. on resume).
    void job(const std::string& name, std::size_t index, std::size_t count);
    /// `n` more points done (of the whole campaign).
    void advance(std::size_t n = 1);
    /// Points that will not be measured after all (a breakdown stopped a ramp early, a skipped job).
    void skip(std::size_t n);
    /// A message on its own line (clears the bar first).
    void note(const std::string& text);
    /// Final line.
    void finish(const std::string& text);
    [[nodiscard]] std::size_t done() const { return done_; }

private:
    void draw(bool force);
    std::ostream& out_;
    bool tty_;
    std::size_t total_;
    std::size_t done_ = 0;
    std::size_t done_at_start_ = 0;  // points already done when this process started measuring
    bool started_ = false;
    double line_every_;
    std::string job_;
    std::size_t job_index_ = 0, job_count_ = 0;
    std::chrono::steady_clock::time_point t0_, last_draw_;
    bool bar_visible_ = false;
};

}  // namespace mtjlab::acquisition
