#include "common.hpp"

#include <cmath>

#include <fmt/format.h>

namespace mtjlab::recipes::detail {

ReadSettings parse_read(TomlTable& top) {
    ReadSettings r;
    auto t = top.opt_table("read");
    if (!t) return r;
    const long long n = t->integer_or("averages", 1);
    if (n < 1 || n > 10000) t->fail("averages", "must be between 1 and 10000");
    r.averages = static_cast<unsigned>(n);
    if (auto v = t->opt_number("amplitude_V")) {
        if (*v <= 0) t->fail("amplitude_V", "must be positive (V rms)");
        r.amplitude = Volt(*v);
    }
    if (auto f = t->opt_number("frequency_Hz")) {
        if (*f <= 0) t->fail("frequency_Hz", "must be positive");
        r.frequency = Hertz(*f);
    }
    if (auto tau = t->opt_number("time_constant_s")) {
        if (*tau <= 0) t->fail("time_constant_s", "must be positive");
        r.time_constant = Second(*tau);
    }
    t->finish();
    return r;
}

acquisition::Read make_read(const ReadSettings& r, const acquisition::BenchCalibration& cal,
                            acquisition::ReadRole role) {
    acquisition::Read read;
    read.averages = r.averages;
    read.amplitude = r.amplitude.value_or(cal.read_amplitude);
    read.frequency = r.frequency.value_or(cal.read_frequency);
    read.time_constant = r.time_constant.value_or(cal.time_constant);
    read.role = role;
    return read;
}

nlohmann::json to_json(const ReadSettings& r) {
    nlohmann::json j;
    j["averages"] = r.averages;
    j["amplitude_V"] = r.amplitude ? nlohmann::json(r.amplitude->si()) : nlohmann::json("station");
    j["frequency_Hz"] = r.frequency ? nlohmann::json(r.frequency->si()) : nlohmann::json("station");
    j["time_constant_s"] = r.time_constant ? nlohmann::json(r.time_constant->si()) : nlohmann::json("station");
    return j;
}

std::vector<Volt> parse_amplitudes(TomlTable& t, std::vector<std::string> default_polarities, bool default_return) {
    std::vector<Volt> out;
    if (t.has("amplitudes_V")) {
        for (const char* k : {"min_V", "max_V", "step_V", "polarities", "return_sweep"})
            if (t.has(k)) t.fail(k, "give either amplitudes_V or min_V/max_V/step_V, not both");
        for (double v : t.numbers("amplitudes_V")) {
            if (v == 0) t.fail("amplitudes_V", "a pulse amplitude of 0 V is not a pulse");
            out.emplace_back(v);
        }
        if (out.empty()) t.fail("amplitudes_V", "is empty");
        if (out.size() > max_run_points)
            t.fail("amplitudes_V", fmt::format("has {} amplitudes; a run has at most {} points", out.size(), max_run_points));
        return out;
    }
    const double lo = t.number("min_V");
    const double hi = t.number("max_V");
    const double step = t.number("step_V");
    if (lo <= 0) t.fail("min_V", "must be positive (a magnitude; polarity comes from `polarities`)");
    if (hi < lo) t.fail("max_V", "must be >= min_V");
    if (step <= 0) t.fail("step_V", "must be positive");
    const double span = (hi - lo) / step;
    if (span > 100000) t.fail("step_V", "gives more than 100000 amplitudes");
    // Integer stepping: no accumulated rounding; the last magnitude is max_V when it is on the grid.
    const auto n = static_cast<long long>(std::floor(span + 1e-9));
    std::vector<double> up;
    for (long long i = 0; i <= n; ++i) up.push_back(lo + static_cast<double>(i) * step);
    if (hi - up.back() > 1e-9 * std::max(1.0, hi)) up.push_back(hi);
    const bool ret = t.boolean_or("return_sweep", default_return);
    std::vector<std::string> pols = t.has("polarities") ? t.strings("polarities") : default_polarities;
    if (pols.empty()) t.fail("polarities", "is empty");
    // Counted before anything is made: polarities may repeat ("positive" 1000 times x 10^5 amplitudes).
    const std::size_t per_polarity = ret ? 2 * up.size() - 1 : up.size();
    if (pols.size() * per_polarity > max_run_points)
        t.fail("polarities", fmt::format("{} sweeps of {} amplitudes give {} points; a run has at most {} points",
                                         pols.size(), per_polarity, pols.size() * per_polarity, max_run_points));
    for (const std::string& p : pols) {
        double sign = 0;
        if (p == "positive" || p == "+") sign = 1;
        else if (p == "negative" || p == "-") sign = -1;
        else t.fail("polarities", fmt::format("'{}' is not \"positive\" or \"negative\"", p));
        for (double m : up) out.emplace_back(sign * m);
        if (ret)
            for (auto it = up.rbegin() + 1; it != up.rend(); ++it) out.emplace_back(sign * *it);
    }
    return out;
}

std::optional<acquisition::BreakdownRule> parse_breakdown_rule(TomlTable& t, bool allow_off) {
    const bool on = allow_off ? t.boolean_or("stop_on_breakdown", true) : true;
    acquisition::BreakdownRule rule;
    rule.short_fraction = t.number_or("short_fraction", 0.4);
    if (rule.short_fraction <= 0 || rule.short_fraction >= 1) t.fail("short_fraction", "must be in (0, 1)");
    rule.open_factor = t.number_or("open_factor", 5.0);
    if (rule.open_factor <= 1) t.fail("open_factor", "must be > 1");
    if (!on) return std::nullopt;
    return rule;
}

Second parse_pulse_width(TomlTable& t) {
    const Second w = parse_duration(t, "width", Second(200e-9));
    if (w.si() <= 0) t.fail(t.has("width_ns") ? "width_ns" : "width_s", "must be positive");
    return w;
}

std::vector<double> volts(const std::vector<Volt>& amplitudes) {
    std::vector<double> v;
    v.reserve(amplitudes.size());
    for (Volt a : amplitudes) v.push_back(a.si());
    return v;
}

Second parse_duration(TomlTable& t, const std::string& key, Second fallback) {
    const std::string ns = key + "_ns", s = key + "_s";
    if (t.has(ns) && t.has(s)) t.fail(ns, fmt::format("give {} or {}, not both", ns, s));
    if (t.has(ns)) {
        const double v = t.number(ns);
        if (v < 0) t.fail(ns, "must not be negative");
        return Second(v * 1e-9);
    }
    if (t.has(s)) {
        const double v = t.number(s);
        if (v < 0) t.fail(s, "must not be negative");
        return Second(v);
    }
    return fallback;
}

std::vector<std::pair<int, int>> branches(const std::vector<double>& v, bool split_on_sign) {
    std::vector<std::pair<int, int>> out(v.size(), {0, +1});
    if (v.empty()) return out;
    auto dir_between = [](double a, double b) { return b > a ? +1 : (b < a ? -1 : 0); };
    int branch = 0;
    int prev_dir = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        int d = 0;
        if (i + 1 < v.size()) d = dir_between(v[i], v[i + 1]);
        if (d == 0 && i > 0) d = dir_between(v[i - 1], v[i]);
        if (d == 0) d = prev_dir != 0 ? prev_dir : +1;
        if (i > 0) {
            // A point belongs to the segment arriving at it: the turning point closes its segment.
            const int arrive = dir_between(v[i - 1], v[i]);
            const bool sign_flip = split_on_sign && ((v[i - 1] < 0) != (v[i] < 0));
            if ((arrive != 0 && arrive != prev_dir) || sign_flip) ++branch;
            if (arrive != 0) d = arrive;
        }
        out[i] = {branch, d};
        prev_dir = d;
    }
    return out;
}

acquisition::SetField set_field(Tesla field, const acquisition::BenchCalibration& cal) {
    return acquisition::SetField{field, acquisition::coil_current_for(field, cal)};
}

}  // namespace mtjlab::recipes::detail
