#include "mtjlab/physics/experiments.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/physics/fast_layer.hpp"

namespace mtjlab::physics {

namespace {
void require_positive(double v, const char* what, const char* unit) {
    if (!(std::isfinite(v) && v > 0.0))
        throw InputError(fmt::format("{} = {} {} is outside the allowed range (0, inf)", what, v, unit));
}
void require_nonnegative(double v, const char* what, const char* unit) {
    if (!(std::isfinite(v) && v >= 0.0))
        throw InputError(fmt::format("{} = {} {} is outside the allowed range [0, inf)", what, v, unit));
}
}  // namespace

Ohm read_resistance(ProbeStation& st, const ReadSettings& rs) {
    st.advance(rs.tau * 5.0);  // settle the lock-in
    const LockInSample s = st.read_lockin(rs.v_ac, rs.frequency, rs.tau);
    return st.read_chain().resistance_from_x(s.x, rs.v_ac);
}

std::vector<CurvePoint> rh_loop(ProbeStation& st, Tesla h_max, Tesla step, Second dwell, const ReadSettings& rs) {
    require_positive(h_max.si() * 1e3, "hmax", "mT");
    require_positive(step.si() * 1e3, "step", "mT");
    require_nonnegative(dwell.si(), "dwell", "s");
    if (step > h_max) throw InputError(fmt::format("step {} mT is larger than hmax {} mT", in_mT(step), in_mT(h_max)));
    const long n = std::lround(h_max.si() / step.si());
    if (n > 100000) throw InputError("hmax/step is larger than 100000 points per branch");
    std::vector<CurvePoint> out;
    st.set_field(h_max);
    st.advance(dwell);
    int branch = 0;
    for (int dir : {-1, +1}) {
        for (long k = 0; k <= 2 * n; ++k) {
            const double h = dir < 0 ? h_max.si() - static_cast<double>(k) * step.si()
                                     : -h_max.si() + static_cast<double>(k) * step.si();
            st.set_field(Tesla(h));
            // The lock-in settles (5 tau) within the dwell; a dwell shorter than that shortens tau.
            ReadSettings r = rs;
            if (dwell < rs.tau * 5.0) r.tau = dwell / 5.0;
            if (r.tau.si() <= 0.0) r.tau = units::microseconds(1.0);
            st.advance(Second(std::max(0.0, dwell.si() - 5.0 * r.tau.si())));
            out.push_back({h, read_resistance(st, r), branch, dir});
        }
        ++branch;
    }
    return out;
}

std::optional<LoopFields> loop_fields(const std::vector<CurvePoint>& loop) {
    if (loop.empty()) return std::nullopt;
    double r_lo = loop.front().r.si();
    double r_hi = r_lo;
    for (const auto& p : loop) {
        r_lo = std::min(r_lo, p.r.si());
        r_hi = std::max(r_hi, p.r.si());
    }
    const double mid = 0.5 * (r_lo + r_hi);
    std::optional<double> down, up;
    for (std::size_t k = 1; k < loop.size(); ++k) {
        const auto& a = loop[k - 1];
        const auto& b = loop[k];
        if (a.branch != b.branch) continue;
        const bool crosses = (a.r.si() - mid) * (b.r.si() - mid) <= 0.0 && a.r.si() != b.r.si();
        if (!crosses) continue;
        const double x = a.x + (mid - a.r.si()) / (b.r.si() - a.r.si()) * (b.x - a.x);
        if (a.direction < 0 && !down) down = x;
        if (a.direction > 0 && !up) up = x;
    }
    if (!down || !up) return std::nullopt;
    return LoopFields{Tesla(0.5 * (*up - *down)), Tesla(0.5 * (*up + *down))};
}

std::vector<CurvePoint> rv_loop(ProbeStation& st, const RvOptions& o, const ReadSettings& rs) {
    require_nonnegative(o.assist.si() * 1e3, "assist", "mT");
    require_positive(o.v_max.si(), "vmax", "V");
    require_positive(o.step.si(), "step", "V");
    require_nonnegative(o.width.si(), "width", "s");
    require_nonnegative(o.edge.si(), "edge", "s");
    require_nonnegative(o.delay.si(), "delay", "s");
    if (o.step > o.v_max) throw InputError(fmt::format("step {} V is larger than vmax {} V", o.step.si(), o.v_max.si()));
    const long n = std::lround(o.v_max.si() / o.step.si());
    if (n > 100000) throw InputError("vmax/step is larger than 100000 points per branch");
    const Second width = o.width < o.edge ? o.edge : o.width;
    std::vector<CurvePoint> out;
    int branch = 0;
    // 0 -> +vmax (up), +vmax -> 0 (down), 0 -> -vmax (down), -vmax -> 0 (up)
    const struct {
        double from, to;
        int dir;
    } segs[] = {{0.0, 1.0, +1}, {1.0, 0.0, -1}, {0.0, -1.0, -1}, {-1.0, 0.0, +1}};
    for (const auto& s : segs) {
        for (long k = (branch == 0 ? 0 : 1); k <= n; ++k) {
            const double frac = s.from + (s.to - s.from) * static_cast<double>(k) / static_cast<double>(n);
            const double v = frac * o.v_max.si();
            const double sign = v < 0.0 || (v == 0.0 && s.from + s.to < 0.0) ? -1.0 : 1.0;
            st.set_field(Tesla(sign * o.assist.si()));
            st.apply_pulse(Pulse{Volt(v), width, o.edge, o.edge});
            st.advance(o.delay);
            out.push_back({v, read_resistance(st, rs), branch, s.dir});
        }
        ++branch;
    }
    return out;
}

PswResult psw_fast(const CompoundDevice& d, const std::vector<Volt>& amplitudes, Second width, Tesla field,
                   int trials, std::uint64_t seed) {
    require_nonnegative(width.si(), "width", "s");
    if (trials < 1 || trials > 100000000)
        throw InputError(fmt::format("trials {} is outside the allowed range [1, 100000000]", trials));
    CompoundDevice dev = d;
    dev.breakdown.v_b = Volt(std::numeric_limits<double>::max());  // a modelling tool: no breakdown
    PswResult r;
    r.trials = trials;
    ProbeStation st(dev, ReadChain{}, seed);
    st.set_field(field);
    for (const Volt v : amplitudes) {
        const int start = v.si() <= 0.0 ? +1 : -1;
        int switched = 0;
        for (int t = 0; t < trials; ++t) {
            st.set_states(start);
            st.apply_pulse(Pulse{v, width, Second(0.0), Second(0.0)});
            const int p = st.cells_parallel();
            const bool any = start > 0 ? p > 0 : p < dev.cell_count();
            switched += any ? 1 : 0;
        }
        r.volts.push_back(v.si());
        r.p_switch.push_back(static_cast<double>(switched) / trials);
        const Ampere i = dev.channel.current(v);
        r.p_analytic.push_back(switch_probability(dev.cells.front(), start, field, i, width));
    }
    return r;
}

std::vector<Volt> volt_range(double a, double b, double step, const char* what) {
    if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(step) || !(step > 0.0) || b < a) {
        throw InputError(fmt::format("{} {}:{}:{} is not a range A:B:STEP with A <= B and STEP > 0", what, a, b, step));
    }
    const double n = std::floor((b - a) / step + 1e-6);
    if (n > 100000) throw InputError(fmt::format("{} range has more than 100000 points", what));
    std::vector<Volt> out;
    for (long k = 0; k <= static_cast<long>(n); ++k) out.push_back(Volt(a + static_cast<double>(k) * step));
    return out;
}

}  // namespace mtjlab::physics
