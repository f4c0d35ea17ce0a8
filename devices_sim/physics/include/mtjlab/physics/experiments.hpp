#pragma once
// Simulated measurements on a ProbeStation, as the paper takes them (virtual time, read through the
// 1 MOhm divider and a lock-in, so results carry the read chain's noise). Used by `mtjlab sim`.
#include <cstdint>
#include <optional>
#include <vector>

#include "mtjlab/core/units.hpp"
#include "mtjlab/physics/probe_station.hpp"

namespace mtjlab::physics {

/// How a point is read.
struct ReadSettings {
    Volt v_ac = units::volts(0.1);            ///< ~0.1 V through the 1 MOhm reference (paper)
    Hertz frequency = units::hertz(1000.0);
    Second tau = units::milliseconds(100.0);  ///< lock-in time constant; each read waits 5 tau
};

/// Resistance from one lock-in reading (inverts the divider with the in-phase component).
Ohm read_resistance(ProbeStation& st, const ReadSettings& rs = {});

struct CurvePoint {
    double x = 0.0;  ///< field (T) or amplitude (V)
    Ohm r{};
    int branch = 0;      ///< 0, 1, 2 ... each monotonic segment
    int direction = 0;   ///< +1 up, -1 down
};

/// Minor R(H) loop: saturate at +h_max, sweep down to -h_max and back up in steps of `step`, dwelling
/// `dwell` per point, the lock-in read included (sweep rate = step/dwell). Throws InputError for h_max <= 0, step <= 0 or step > h_max.
std::vector<CurvePoint> rh_loop(ProbeStation& st, Tesla h_max, Tesla step, Second dwell = units::seconds(0.5),
                                const ReadSettings& rs = {});

/// Switching-field estimate from an R(H) loop: the fields where R crosses mid-level on the down and up
/// branches; returns (H_c, H_ex) = half the difference, mid point. nullopt if a branch does not switch.
struct LoopFields {
    Tesla h_c{};
    Tesla h_ex{};
};
std::optional<LoopFields> loop_fields(const std::vector<CurvePoint>& loop);

struct RvOptions {
    Tesla assist = units::millitesla(6.0);       ///< magnitude; -assist for V < 0, +assist for V > 0
    Volt v_max = units::volts(1.0);
    Volt step = units::volts(0.05);
    Second width = units::nanoseconds(200.0);
    Second edge = units::nanoseconds(2.5);        ///< rise = fall
    Second delay = units::seconds(1.5);           ///< between pulses, assist field on
};

/// R(V) loop: 0 -> +v_max -> 0 -> -v_max -> 0 in steps, one pulse per point followed by a read.
/// Throws InputError for v_max <= 0, step <= 0, step > v_max, negative width/edge/delay.
std::vector<CurvePoint> rv_loop(ProbeStation& st, const RvOptions& o, const ReadSettings& rs = {});

/// Switching probability by Monte Carlo on the fast layer (fresh cell each trial, breakdown ignored) and
/// the closed form, for a 1..7-cell device (a trial counts when any cell switched).
/// Negative amplitudes start in AP (AP -> P), positive in P.
struct PswResult {
    std::vector<double> volts;
    std::vector<double> p_switch;    ///< Monte Carlo
    std::vector<double> p_analytic;  ///< closed form for one cell (first cell of the device)
    int trials = 0;
};
PswResult psw_fast(const CompoundDevice& d, const std::vector<Volt>& amplitudes, Second width, Tesla field,
                   int trials, std::uint64_t seed);

/// Amplitudes A, A+S, ..., up to B inclusive (within S/1e6). Throws InputError naming `what`.
std::vector<Volt> volt_range(double a, double b, double step, const char* what = "volts");

}  // namespace mtjlab::physics
