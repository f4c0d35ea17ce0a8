#include "mtjlab/acquisition/plan.hpp"

#include <cmath>

#include <fmt/format.h>

namespace mtjlab::acquisition {
namespace {
template <class... F>
struct overloaded : F... { using F::operator()...; };
template <class... F>
overloaded(F...) -> overloaded<F...>;

std::string seconds_text(Second t) {
    const double s = t.si();
    if (std::abs(s) < 1e-6) return fmt::format("{:g} ns", s * 1e9);
    if (std::abs(s) < 1e-3) return fmt::format("{:g} us", s * 1e6);
    if (std::abs(s) < 1.0) return fmt::format("{:g} ms", s * 1e3);
    return fmt::format("{:g} s", s);
}
}  // namespace

std::string describe(const Step& step) {
    return std::visit(
        overloaded{
            [](const SetField& s) {
                return fmt::format("set field {:g} mT ({:g} A)", s.field.si() * 1e3, s.current.si());
            },
            [](const ApplyPulse& p) {
                return fmt::format("pulse {:g} V, {}", p.amplitude.si(), seconds_text(p.width));
            },
            [](const Wait& w) { return fmt::format("wait {}", seconds_text(w.duration)); },
            [](const Read& r) {
                return fmt::format("read{} {} x {:g} V rms at {:g} Hz, tau {}",
                                   r.role == ReadRole::before ? " (before)" : "", r.averages,
                                   r.amplitude.si(), r.frequency.si(), seconds_text(r.time_constant));
            }},
        step);
}

Second estimate_duration(const Plan& plan, const BenchCalibration& cal, Second transaction_overhead) {
    double total = 0;
    double field = 0;  // the bench starts at zero field
    const double rate = cal.ramp_rate_t_per_s > 0 ? cal.ramp_rate_t_per_s : 1.0;
    const double step = cal.ramp_step.si() > 0 ? cal.ramp_step.si() : 1e-3;
    const double tx = transaction_overhead.si();
    for (const Point& point : plan.points) {
        for (const Step& s : point.steps) {
            std::visit(overloaded{[&](const SetField& f) {
                                      const double d = std::abs(f.field.si() - field);
                                      if (d > 0) total += d / rate + std::ceil(d / step) * tx;
                                      field = f.field.si();
                                  },
                                  [&](const ApplyPulse& p) { total += p.width.si() + 4 * tx; },
                                  [&](const Wait& w) { total += w.duration.si(); },
                                  [&](const Read& r) {
                                      const double n = r.averages > 0 ? static_cast<double>(r.averages) : 1.0;
                                      total += r.time_constant.si() * (4.0 + n) + (n + 1) * tx;
                                  }},
                       s);
        }
    }
    total += std::abs(field) / rate;  // back to zero at the end
    return Second(total);
}

std::string format_duration(Second t) {
    const double s = t.si();
    if (s < 60) return fmt::format("{:.1f} s", s);
    const auto total = static_cast<long long>(std::llround(s));
    const long long d = total / 86400, h = (total % 86400) / 3600, m = (total % 3600) / 60, sec = total % 60;
    if (d > 0) return fmt::format("{} d {:02} h {:02} min", d, h, m);
    if (h > 0) return fmt::format("{} h {:02} min", h, m);
    return fmt::format("{} min {:02} s", m, sec);
}

}  // namespace mtjlab::acquisition
