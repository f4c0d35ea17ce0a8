#pragma once
// A measurement plan: what a recipe expands into before anything is touched. Every setpoint the bench
// will see is here, in SI units (field in T and the coil current in A that produces it, pulse amplitude
// in V and width in s, read amplitude in V rms), so preflight can check the whole run up front and the
// dry run can print it. Plans are plain data; the run engine executes them point by point.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mtjlab/core/units.hpp"

namespace mtjlab::acquisition {

/// Safety limits of the bench (absolute values). Preflight and the runtime guard check every command
/// against these before any I/O. All must be > 0.
struct BenchLimits {
    Volt max_pulse_amplitude{2.0};     ///< |pulse amplitude| at the source, V
    Second max_pulse_width{1e-6};      ///< s
    Ampere max_coil_current{2.0};      ///< |coil current|, A
    Tesla max_field{0.1};              ///< |field at the device|, T
    double max_ramp_rate_t_per_s = 1;  ///< field ramp rate, T/s
    Volt max_read_voltage{0.2};        ///< lock-in sine amplitude, V rms
};

/// Calibration needed to turn a plan into instrument setpoints and readings into resistances.
struct BenchCalibration {
    double coil_constant_t_per_a = 0.05;  ///< field per coil current, T/A (must be != 0)
    Ohm reference_resistor{1e6};          ///< in series with the junction in the read circuit
    Volt read_amplitude{0.1};             ///< lock-in sine output, V rms
    Hertz read_frequency{13.7};           ///< lock-in reference frequency
    Second time_constant{0.1};            ///< lock-in time constant
    double ramp_rate_t_per_s = 0.1;       ///< how fast the engine ramps the field (<= the limit)
    Tesla ramp_step{1e-3};                ///< largest field step of a ramp
    /// Closed-loop field control: after each field change the gaussmeter is read and the coil current
    /// corrected until |B_measured - B_target| <= field_tolerance (station field_control = "gaussmeter").
    bool field_closed_loop = false;
    Tesla field_tolerance{50e-6};         ///< absolute tolerance of the closed loop
    unsigned field_max_corrections = 6;   ///< corrections per field change before the run fails
    Second field_settle{0.05};            ///< wait after a correction before the gaussmeter is read
};

/// Converts a field setpoint into the coil current that produces it.
[[nodiscard]] inline Ampere coil_current_for(Tesla field, const BenchCalibration& cal) {
    return Ampere(field.si() / cal.coil_constant_t_per_a);
}

/// Ramp the magnet to `field` (coil current `current`) at the calibrated ramp rate.
struct SetField {
    Tesla field;
    Ampere current;
};
/// One rectangular write pulse through the SOT channel.
struct ApplyPulse {
    Volt amplitude;  ///< signed (the sign is the polarity)
    Second width;
};
/// Let time pass (settling after a field step, delay after a pulse).
struct Wait {
    Second duration;
};
/// What a read is for (which column it fills).
enum class ReadRole { main, before };
/// One averaged lock-in reading of the junction (and the gaussmeter if there is one).
struct Read {
    unsigned averages = 1;  ///< lock-in readings averaged (each after one time constant)
    Volt amplitude;         ///< lock-in sine output, V rms
    Hertz frequency;
    Second time_constant;
    ReadRole role = ReadRole::main;
};

using Step = std::variant<SetField, ApplyPulse, Wait, Read>;

/// When the engine stops a run early on what it reads (breakdown_ramp).
struct BreakdownRule {
    double short_fraction = 0.4;  ///< broken when R < short_fraction * baseline (first reading)
    double open_factor = 5.0;     ///< broken when R > open_factor * baseline
};

/// One point of the plan: its steps in order and the row metadata it produces. A point is
/// self-contained (it sets the field it needs), so a resumed run can start at any point.
struct Point {
    std::vector<Step> steps;
    double swept = 0;        ///< the swept value in SI (field T or pulse amplitude V)
    Tesla field{0.0};        ///< field during the point (setpoint or assist field)
    Volt pulse_amplitude{0.0};
    Second pulse_width{0.0};
    int branch = 0;
    int direction = +1;
    int trial = -1;          ///< switching probability trial index, -1 otherwise
};

/// Which device a run measures (wafer map position; -1 / 0 when unknown).
struct DeviceRef {
    std::string wafer_id;
    int die = -1;
    int device = -1;
    double thickness_nm = 0;
    int cells = 0;
};

/// A whole run. `kind` selects the storage columns (contract A).
struct Plan {
    std::string kind;                     ///< rh_loop, rv_pulse_train, field_free_rv, ...
    std::string recipe_name;
    std::vector<Point> points;
    std::optional<BreakdownRule> breakdown;  ///< stop on breakdown (breakdown_ramp only)
    double switch_threshold = 0.05;       ///< relative change |dR|/R counted as a switch
};

/// One run to do: a plan, the device it measures and its provenance. A single recipe gives one job, a
/// campaign one per (device, run); the jobs of one campaign run share its plan (never null once made).
struct Job {
    std::string name;            ///< unique; the run file is <name>.h5
    std::string run_name;        ///< recipe name of the run
    std::string kind;
    std::string recipe_text;     ///< TOML of the run (provenance)
    std::string parameters_json; ///< resolved parameters (provenance)
    DeviceRef device;
    std::shared_ptr<const Plan> plan;
};

/// Human name of a step ("set field -5 mT (-0.1 A)"), used in errors and the dry run.
[[nodiscard]] std::string describe(const Step& step);

/// Rough duration of a plan on a real bench: waits, ramps (at the calibrated rate from the previous
/// field), pulse widths, reads (5 time constants + one per extra average) and `transaction_overhead`
/// per instrument exchange.
[[nodiscard]] Second estimate_duration(const Plan& plan, const BenchCalibration& cal,
                                       Second transaction_overhead = Second(0.02));

/// "1 h 02 min", "3.4 s", "2 d 04 h".
[[nodiscard]] std::string format_duration(Second t);

}  // namespace mtjlab::acquisition
