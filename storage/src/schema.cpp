// The agreed column sets (contract A) and status names.
#include <array>
#include <string>

#include "mtjlab/core/error.hpp"
#include "mtjlab/storage/run_file.hpp"

namespace mtjlab::storage {

namespace {
constexpr std::array<std::string_view, 5> status_names = {"running", "complete", "aborted", "failed", "interrupted"};

ColumnSpec f64(std::string name, std::string units, std::string description,
               ColumnRole role = ColumnRole::measured) {
    return {std::move(name), std::move(units), std::move(description), ColumnType::float64, role};
}
ColumnSpec i32(std::string name, std::string description) {
    return {std::move(name), "1", std::move(description), ColumnType::int32, ColumnRole::measured};
}
ColumnSpec branch() {
    return i32("branch", "index of the monotonic sweep segment the point belongs to (0, 1, 2, ...)");
}
ColumnSpec direction() { return i32("direction", "sweep direction of the segment: +1 increasing, -1 decreasing"); }
ColumnSpec time_s() { return f64("time_s", "s", "time of the reading since the start of the run"); }
ColumnSpec resistance() { return f64("resistance_ohm", "Ohm", "junction resistance from the lock-in reading"); }
}  // namespace

std::string_view to_string(RunStatus s) { return status_names.at(static_cast<std::size_t>(s)); }

RunStatus parse_run_status(std::string_view s) {
    for (std::size_t i = 0; i < status_names.size(); ++i)
        if (status_names[i] == s) return static_cast<RunStatus>(i);
    throw InputError("unknown run status '" + std::string(s) +
                     "' (expected running, complete, aborted, failed or interrupted)");
}

std::vector<ColumnSpec> columns_for(std::string_view kind) {
    if (kind == "rh_loop") {
        return {f64("field_T", "T", "field setpoint along the easy axis", ColumnRole::swept),
                f64("field_measured_T", "T", "field measured by the gaussmeter"),
                resistance(),
                f64("x_V", "V", "lock-in in-phase output (rms)"),
                f64("y_V", "V", "lock-in quadrature output (rms)"),
                branch(),
                direction(),
                time_s()};
    }
    if (kind == "rv_pulse_train" || kind == "field_free_rv") {
        return {f64("pulse_amplitude_V", "V", "signed write-pulse amplitude at the source", ColumnRole::swept),
                f64("pulse_width_s", "s", "write-pulse width"),
                f64("assist_field_T", "T", "in-plane assist field during the pulse (0 for field-free)"),
                resistance(),
                branch(),
                direction(),
                time_s()};
    }
    if (kind == "switching_probability") {
        return {f64("pulse_amplitude_V", "V", "signed write-pulse amplitude at the source", ColumnRole::swept),
                i32("trial", "trial index at this amplitude (0, 1, 2, ...)"),
                i32("switched", "1 if the pulse switched the device, else 0"),
                f64("resistance_before_ohm", "Ohm", "junction resistance before the pulse"),
                f64("resistance_ohm", "Ohm", "junction resistance after the pulse")};
    }
    if (kind == "breakdown_ramp") {
        return {f64("pulse_amplitude_V", "V", "write-pulse amplitude of the ramp step", ColumnRole::swept),
                f64("resistance_ohm", "Ohm", "junction resistance after the pulse")};
    }
    throw InputError("unknown run kind '" + std::string(kind) +
                     "' (known: rh_loop, rv_pulse_train, field_free_rv, switching_probability, breakdown_ramp)");
}

}  // namespace mtjlab::storage
