#include "mtjlab/acquisition/preflight.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::acquisition {
namespace {
template <class... F>
struct overloaded : F... { using F::operator()...; };
template <class... F>
overloaded(F...) -> overloaded<F...>;

bool finite(double v) { return std::isfinite(v); }
}  // namespace

std::optional<std::string> check_field(Tesla field, const BenchLimits& limits) {
    if (!finite(field.si())) return "field is not a finite number";
    if (std::abs(field.si()) > limits.max_field.si())
        return fmt::format("|field| {:g} mT > limit {:g} mT", std::abs(field.si()) * 1e3, limits.max_field.si() * 1e3);
    return std::nullopt;
}

std::optional<std::string> check_coil_current(Ampere current, const BenchLimits& limits) {
    if (!finite(current.si())) return "coil current is not a finite number";
    if (std::abs(current.si()) > limits.max_coil_current.si())
        return fmt::format("|coil current| {:g} A > limit {:g} A", std::abs(current.si()),
                           limits.max_coil_current.si());
    return std::nullopt;
}

std::optional<std::string> check_pulse(Volt amplitude, Second width, const BenchLimits& limits) {
    if (!finite(amplitude.si()) || !finite(width.si())) return "pulse amplitude or width is not a finite number";
    if (std::abs(amplitude.si()) > limits.max_pulse_amplitude.si())
        return fmt::format("|pulse amplitude| {:g} V > limit {:g} V", std::abs(amplitude.si()),
                           limits.max_pulse_amplitude.si());
    if (width.si() <= 0) return fmt::format("pulse width {:g} s is not positive", width.si());
    if (width.si() > limits.max_pulse_width.si())
        return fmt::format("pulse width {:g} ns > limit {:g} ns", width.si() * 1e9, limits.max_pulse_width.si() * 1e9);
    return std::nullopt;
}

std::optional<std::string> check_read(Volt amplitude, const BenchLimits& limits) {
    if (!finite(amplitude.si())) return "read amplitude is not a finite number";
    if (amplitude.si() <= 0) return fmt::format("read amplitude {:g} V is not positive", amplitude.si());
    if (amplitude.si() > limits.max_read_voltage.si())
        return fmt::format("read amplitude {:g} V > limit {:g} V", amplitude.si(), limits.max_read_voltage.si());
    return std::nullopt;
}

std::optional<std::string> check_limits(const BenchLimits& limits) {
    const std::pair<const char*, double> all[] = {{"max_pulse_amplitude", limits.max_pulse_amplitude.si()},
                                                  {"max_pulse_width", limits.max_pulse_width.si()},
                                                  {"max_coil_current", limits.max_coil_current.si()},
                                                  {"max_field", limits.max_field.si()},
                                                  {"max_ramp_rate", limits.max_ramp_rate_t_per_s},
                                                  {"max_read_voltage", limits.max_read_voltage.si()}};
    for (const auto& [name, value] : all)
        if (!finite(value) || value <= 0)
            return fmt::format("every limit must be a positive number ({} is {:g})", name, value);
    return std::nullopt;
}

std::optional<std::string> check_ramp_rate(double t_per_s, const BenchLimits& limits) {
    if (!finite(t_per_s) || t_per_s <= 0) return fmt::format("ramp rate {:g} T/s is not positive", t_per_s);
    if (t_per_s > limits.max_ramp_rate_t_per_s)
        return fmt::format("ramp rate {:g} mT/s > limit {:g} mT/s", t_per_s * 1e3, limits.max_ramp_rate_t_per_s * 1e3);
    return std::nullopt;
}

std::optional<std::string> check_step(const Step& step, const BenchLimits& limits, const BenchCalibration& cal) {
    return std::visit(
        overloaded{[&](const SetField& f) -> std::optional<std::string> {
                       if (auto p = check_field(f.field, limits)) return p;
                       if (auto p = check_coil_current(f.current, limits)) return p;
                       // The current must be the one the calibration gives for this field: a plan made
                       // with another coil constant would put a different field on the device.
                       const double expect = coil_current_for(f.field, cal).si();
                       if (std::abs(f.current.si() - expect) > 1e-9 + 1e-6 * std::abs(expect))
                           return fmt::format("coil current {:g} A does not match {:g} A for this field "
                                              "(coil constant {:g} T/A)",
                                              f.current.si(), expect, cal.coil_constant_t_per_a);
                       return std::nullopt;
                   },
                   [&](const ApplyPulse& p) { return check_pulse(p.amplitude, p.width, limits); },
                   [&](const Wait& w) -> std::optional<std::string> {
                       if (!finite(w.duration.si()) || w.duration.si() < 0)
                           return fmt::format("wait {:g} s is negative or not finite", w.duration.si());
                       return std::nullopt;
                   },
                   [&](const Read& r) -> std::optional<std::string> {
                       if (r.averages == 0) return std::string("read with 0 averages");
                       if (!finite(r.time_constant.si()) || r.time_constant.si() <= 0)
                           return std::string("lock-in time constant is not positive");
                       if (!finite(r.frequency.si()) || r.frequency.si() <= 0)
                           return std::string("lock-in frequency is not positive");
                       return check_read(r.amplitude, limits);
                   }},
        step);
}

PreflightReport check_plan(const Plan& plan, const BenchLimits& limits, const BenchCalibration& cal) {
    PreflightReport rep;
    rep.kind = plan.kind;
    rep.recipe_name = plan.recipe_name;
    rep.points = plan.points.size();
    auto config = [&](std::optional<std::string> p, std::string_view what) {
        if (p) rep.config_problems.push_back(fmt::format("{}: {}", what, *p));
    };
    config(check_limits(limits), "station limits");
    if (!finite(cal.coil_constant_t_per_a) || cal.coil_constant_t_per_a == 0)
        rep.config_problems.push_back("calibration: coil constant must be a non-zero number (T/A)");
    config(check_ramp_rate(cal.ramp_rate_t_per_s, limits), "calibration ramp rate");
    if (!(cal.ramp_step.si() > 0)) rep.config_problems.push_back("calibration: ramp step must be positive");
    config(check_read(cal.read_amplitude, limits), "calibration read amplitude");
    // The safe state is zero field: the ramp back to zero is part of every run.
    for (std::size_t i = 0; i < plan.points.size(); ++i) {
        const Point& point = plan.points[i];
        for (std::size_t j = 0; j < point.steps.size(); ++j) {
            const Step& s = point.steps[j];
            ++rep.steps;
            std::visit(overloaded{[&](const SetField& f) {
                                      ++rep.field_steps;
                                      rep.max_abs_field = std::max(rep.max_abs_field, Tesla(std::abs(f.field.si())));
                                      rep.max_abs_current =
                                          std::max(rep.max_abs_current, Ampere(std::abs(f.current.si())));
                                  },
                                  [&](const ApplyPulse& p) {
                                      ++rep.pulses;
                                      rep.max_abs_pulse = std::max(rep.max_abs_pulse, Volt(std::abs(p.amplitude.si())));
                                      rep.max_pulse_width = std::max(rep.max_pulse_width, p.width);
                                  },
                                  [&](const Wait&) {},
                                  [&](const Read& r) {
                                      ++rep.reads;
                                      rep.max_read = std::max(rep.max_read, r.amplitude);
                                  }},
                       s);
            if (auto problem = check_step(s, limits, cal)) {
                rep.violations.push_back(
                    {i, j, fmt::format("point {} step {} ({}): {}", i, j, describe(s), *problem)});
            }
        }
    }
    rep.estimated_duration = estimate_duration(plan, cal);
    return rep;
}

PreflightReport preflight(const Plan& plan, const BenchLimits& limits, const BenchCalibration& cal) {
    PreflightReport rep = check_plan(plan, limits, cal);
    if (rep.ok()) return rep;
    std::string msg = fmt::format("preflight of '{}' ({}) refused", plan.recipe_name, plan.kind);
    std::size_t shown = 0;
    for (const auto& c : rep.config_problems) {
        if (shown++ < 5) msg += "; " + c;
    }
    for (const auto& v : rep.violations) {
        if (shown++ < 5) msg += "; " + v.message;
    }
    const std::size_t total = rep.violations.size() + rep.config_problems.size();
    if (total > 5) msg += fmt::format("; ... {} problems in all", total);
    throw LimitError(msg);
}

std::string format_report(const PreflightReport& r, const BenchLimits& limits) {
    std::string out;
    out += fmt::format("plan '{}' ({}): {} points, {} steps ({} field steps, {} pulses, {} reads)\n", r.recipe_name,
                       r.kind, r.points, r.steps, r.field_steps, r.pulses, r.reads);
    out += fmt::format("  max |field|        {:8.3f} mT   (limit {:g} mT)\n", r.max_abs_field.si() * 1e3,
                       limits.max_field.si() * 1e3);
    out += fmt::format("  max |coil current| {:8.4f} A    (limit {:g} A)\n", r.max_abs_current.si(),
                       limits.max_coil_current.si());
    out += fmt::format("  max |pulse|        {:8.3f} V    (limit {:g} V)\n", r.max_abs_pulse.si(),
                       limits.max_pulse_amplitude.si());
    out += fmt::format("  max pulse width    {:8.1f} ns   (limit {:g} ns)\n", r.max_pulse_width.si() * 1e9,
                       limits.max_pulse_width.si() * 1e9);
    out += fmt::format("  max read amplitude {:8.3f} V    (limit {:g} V)\n", r.max_read.si(),
                       limits.max_read_voltage.si());
    out += fmt::format("  estimated duration on a real bench: {}\n", format_duration(r.estimated_duration));
    if (r.ok()) {
        out += "  preflight: OK, every setpoint within the limits\n";
    } else {
        out += fmt::format("  preflight: REFUSED, {} problem(s)\n", r.violations.size() + r.config_problems.size());
        std::size_t shown = 0;
        for (const auto& c : r.config_problems)
            if (shown++ < 20) out += "    " + c + "\n";
        for (const auto& v : r.violations)
            if (shown++ < 20) out += "    " + v.message + "\n";
    }
    return out;
}

}  // namespace mtjlab::acquisition
