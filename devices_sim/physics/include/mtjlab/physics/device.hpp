#pragma once
// Cells and compound devices of the fast layer. Conventions (docs/physics.md): easy axis y; reference
// layer along -y; state s = +1 is AP (free layer along +y), s = -1 is P. Positive write current drives
// toward AP when polarity = +1. Fields are along y at the device. SI units throughout.
#include <cstdint>
#include <optional>
#include <vector>

#include "mtjlab/core/units.hpp"
#include "mtjlab/physics/calibration.hpp"

namespace mtjlab::physics {

/// One MTJ cell of the fast layer.
struct CellParams {
    Ohm r_p{};                         ///< P resistance at zero bias
    double tmr0 = 0.0;                 ///< zero-bias TMR (fraction)
    Volt v_half = units::volts(0.5);   ///< bias at which the TMR has halved
    double delta0 = 0.0;               ///< thermal stability factor at H = I = 0
    Tesla h_k{};                       ///< effective anisotropy field (sets the field scale of the barrier)
    Tesla h_ex{};                      ///< loop offset: the loop is centred at H = h_ex
    Ampere i_star{};                   ///< SOT current scale of the barrier
    double b = 2.0;                    ///< current exponent
    Hertz f0 = units::hertz(1e9);      ///< attempt frequency
    double polarity = 1.0;             ///< +1: positive current favours AP

    [[nodiscard]] Ohm r_ap() const { return Ohm(r_p.si() * (1.0 + tmr0)); }
};

/// What a junction turns into at breakdown.
enum class BreakdownMode { short_circuit, open_circuit };

/// Breakdown of a compound device: the first pulse with |V| >= v_b damages it permanently.
struct BreakdownParams {
    Volt v_b = units::volts(2.0);
    BreakdownMode mode = BreakdownMode::short_circuit;
    Ohm r_short = units::ohms(500.0);   ///< pinhole resistance of a shorted barrier
    Ohm r_open = units::ohms(1e12);     ///< leakage of an open junction
};

/// The shared write channel and its source.
struct WriteChannel {
    Ohm r_channel = units::ohms(300.0);  ///< Pt/Ta channel (300 Ohm 1-cell, 600 Ohm 3-cell)
    Ohm r_source = units::ohms(1500.0);  ///< source + lead + contact resistance (calibration knob)
    /// Channel current for a source amplitude v.
    [[nodiscard]] Ampere current(Volt v) const { return Ampere(v.si() / (r_channel.si() + r_source.si())); }
};

/// Where a device came from (nominal devices have no wafer position).
struct DeviceIdentity {
    std::optional<std::uint64_t> wafer_seed;
    int die = -1;
    int device = -1;
};

/// n cells (1..7) in parallel on one write channel, all at the same free-layer thickness.
struct CompoundDevice {
    double thickness_nm = 2.0;
    std::vector<CellParams> cells;
    WriteChannel channel;
    BreakdownParams breakdown;
    DeviceIdentity identity;

    [[nodiscard]] int cell_count() const { return static_cast<int>(cells.size()); }
    /// Throws InputError when a parameter is outside its physical range.
    void validate() const;
};

/// Resistance of one cell at junction bias v with the free layer at angle theta to the reference layer
/// (cos_theta = +1 P, -1 AP). Conductance is linear in cos(theta) (Slonczewski); the AP conductance rises
/// with bias: G_AP(V) = G_P / (1 + TMR0 / (1 + (V/V_h)^2)).
Ohm cell_resistance(const CellParams& c, double cos_theta, Volt bias = Volt(0.0));

/// Parallel law: 1/R = sum 1/R_i.
Ohm parallel(const std::vector<Ohm>& rs);

/// The nominal device at (thickness_nm, cells): calibration row values with a deterministic,
/// symmetric cell-to-cell spread (normal quantiles) of I* and H_K so that a compound device has a
/// staircase. Throws InputError for thickness outside [1.6, 2.6] nm or cells outside 1..7.
CompoundDevice nominal_device(double thickness_nm, int cells, const Calibration& cal = Calibration::paper());

/// Relative cell-to-cell spread used by nominal_device and the wafer (1 sigma).
struct CellSpread {
    double i_star = 0.03;
    double h_k = 0.04;
    double r_p = 0.02;
};

/// Characteristic numbers of a device (what `mtjlab sim device` prints).
struct DeviceSummary {
    double thickness_nm = 0.0;
    int cells = 0;
    std::vector<Ohm> levels;             ///< ascending, one per state (n+1)
    double tmr = 0.0;                    ///< R_max / R_min - 1 of the compound
    std::vector<double> level_steps;     ///< R_{k+1}/R_k - 1
    Volt v_c{};                          ///< field-free AP->P full switching, 50 %, 200 ns (hardest cell)
    std::vector<Volt> v_c_cells;         ///< same per cell
    Volt v_c_assist_6mT{};               ///< with -6 mT assist field, hardest cell
    Tesla h_c{};                         ///< half-width of the R(H) loop at the reference sweep rate (mean of cells)
    Tesla h_ex{};                        ///< loop centre (mean of cells)
    Volt v_b{};
    Ohm r_channel{};
};

/// Computes the summary analytically from the fast-layer laws.
DeviceSummary summarize(const CompoundDevice& d, const Calibration& cal = Calibration::paper());

}  // namespace mtjlab::physics
