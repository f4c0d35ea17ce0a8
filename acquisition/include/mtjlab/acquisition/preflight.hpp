#pragma once
// Preflight: every setpoint of a whole plan checked against the bench limits before anything is
// touched. The same per-command checks are reused by the runtime guard (guard.hpp) at the driver seam.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "mtjlab/acquisition/plan.hpp"

namespace mtjlab::acquisition {

/// Each returns nullopt when the value is allowed, else one line saying what exceeds which limit.
[[nodiscard]] std::optional<std::string> check_field(Tesla field, const BenchLimits& limits);
[[nodiscard]] std::optional<std::string> check_coil_current(Ampere current, const BenchLimits& limits);
[[nodiscard]] std::optional<std::string> check_pulse(Volt amplitude, Second width, const BenchLimits& limits);
[[nodiscard]] std::optional<std::string> check_read(Volt amplitude, const BenchLimits& limits);
[[nodiscard]] std::optional<std::string> check_ramp_rate(double t_per_s, const BenchLimits& limits);
/// Every limit a finite positive number (a NaN limit would pass every comparison, an infinite one is none).
[[nodiscard]] std::optional<std::string> check_limits(const BenchLimits& limits);
/// One step (field and current, pulse, read amplitude; waits must be finite and >= 0).
[[nodiscard]] std::optional<std::string> check_step(const Step& step, const BenchLimits& limits,
                                                    const BenchCalibration& cal);

/// One offending step.
struct Violation {
    std::size_t point = 0;  ///< index into Plan::points (0-based)
    std::size_t step = 0;   ///< index into Point::steps (0-based)
    std::string message;    ///< "point 12 step 2 (pulse -2.5 V, 200 ns): |amplitude| 2.5 V > limit 2 V"
};

/// What preflight found: the plan's extremes, its duration estimate and every violation.
struct PreflightReport {
    std::string kind;
    std::string recipe_name;
    std::size_t points = 0, steps = 0, pulses = 0, reads = 0, field_steps = 0;
    Tesla max_abs_field{0.0};
    Ampere max_abs_current{0.0};
    Volt max_abs_pulse{0.0};
    Second max_pulse_width{0.0};
    Volt max_read{0.0};
    Second estimated_duration{0.0};
    std::vector<Violation> violations;  ///< empty when the plan may run
    std::vector<std::string> config_problems;  ///< calibration/limit problems not tied to a step
    [[nodiscard]] bool ok() const { return violations.empty() && config_problems.empty(); }
};

/// Checks every step of `plan`; never throws for limit problems (they go into the report).
[[nodiscard]] PreflightReport check_plan(const Plan& plan, const BenchLimits& limits, const BenchCalibration& cal);

/// check_plan(), then LimitError naming the plan, the first offending steps (up to 5) and the total
/// count when anything is wrong. Returns the report when the plan may run.
PreflightReport preflight(const Plan& plan, const BenchLimits& limits, const BenchCalibration& cal);

/// A few lines for humans: points, extremes next to their limits, estimated duration.
[[nodiscard]] std::string format_report(const PreflightReport& report, const BenchLimits& limits);

}  // namespace mtjlab::acquisition
