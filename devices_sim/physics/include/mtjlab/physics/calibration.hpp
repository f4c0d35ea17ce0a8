#pragma once
// The calibration of the fast layer versus free-layer thickness: closed forms fitted to the numbers of
// Kumar et al. (Nanoscale Horiz. 2024) plus the derived rate-equation parameters (H_K, Delta0, I*),
// solved here (not tabulated) so that the model reproduces the paper's H_c and V_c. docs/physics.md
// lists where each number comes from. Thickness is in nm on this interface (the wedge coordinate);
// everything else is SI.
#include <optional>
#include <vector>

#include "mtjlab/core/units.hpp"

namespace mtjlab::physics {

/// Knobs of the calibration. Defaults are the paper's measurement conditions.
struct CalibrationOptions {
    Hertz f0 = units::hertz(1e9);                  ///< attempt frequency of the rate equation
    double b = 2.0;                                ///< current exponent of the barrier, Delta ~ (1 - I/I*)^b
    double temperature_K = 300.0;
    Tesla h_c_target = units::millitesla(10.0);    ///< device coercivity of an R(H) loop at sweep_rate_ref
    double sweep_rate_ref_T_per_s = 1e-3;          ///< 1 mT/s: a +-20 mT lock-in loop in about a minute
    Second pulse_width_ref = units::nanoseconds(200.0);  ///< V_c is the 50 % point of such a pulse
    Ohm r_source = units::ohms(1500.0);            ///< write-circuit source resistance (see docs: 3-cell V ratio)
    double mu0_ms_T = 1.2;                         ///< CoFeB saturation magnetisation mu0*Ms
    double k_s_J_per_m2 = 0.62e-3;                 ///< interface anisotropy K_s
    double vc_excess_at_2p6 = 0.10;                ///< nominal V_c above eq. (1) at 2.6 nm (V_c > V_B, see docs)
};

/// Fast-layer parameters fitted from LLG runs at one thickness (overrides the analytic ones).
struct FittedPoint {
    double thickness_nm = 0.0;
    double delta0 = 0.0;     ///< barrier at zero field and current
    Ampere i_star{};         ///< critical current of the barrier law
    Hertz f0{};              ///< attempt frequency
    double b = 2.0;          ///< current exponent
};

/// Nominal single-cell parameters at one thickness (a row of the calibration table).
struct CalibrationRow {
    double thickness_nm = 0.0;
    double tmr0 = 0.0;            ///< zero-bias TMR, fraction (0.78 = 78 %)
    Ohm r_p{};                    ///< parallel-state resistance of one cell at zero bias
    Tesla mu0_meff{};             ///< effective magnetisation mu0*M_eff = mu0*Ms - 2K_s/(Ms t)
    Tesla h_ex{};                 ///< loop offset (exchange/stray field), loop centre
    Tesla h_s{};                  ///< film saturation field (reported, not used by the rate law)
    Tesla h_k{};                  ///< effective anisotropy field of the rate law
    double delta0 = 0.0;          ///< thermal stability factor at H = I = 0
    Hertz f0{};
    double b = 2.0;
    Ampere i_star{};              ///< SOT critical current of the barrier law
    Volt v_c_target{};            ///< field-free AP->P 50 % voltage, 200 ns, nominal 1-cell device
    Volt v_b_1cell{};             ///< mean breakdown voltage of 1-cell devices
    Volt v_b_3cell{};             ///< mean breakdown voltage of 3-cell devices
    Ampere i_c0_eq1{};            ///< paper eq. (1) zero-temperature critical current (for comparison)
};

/// The calibration: analytic closed forms plus optional LLG-fitted (Delta0, I*, f0, b) overrides.
/// Throws InputError for thickness outside [1.6, 2.6] nm or NaN.
class Calibration {
public:
    Calibration() = default;
    explicit Calibration(CalibrationOptions options) : options_(options) {}
    /// The paper's calibration with default options.
    static Calibration paper() { return Calibration(); }

    [[nodiscard]] CalibrationRow at(double thickness_nm) const;
    [[nodiscard]] const CalibrationOptions& options() const { return options_; }
    /// Replaces the analytic (Delta0, I*, f0, b) by fitted values, interpolated linearly in thickness.
    void set_fitted(std::vector<FittedPoint> points);
    [[nodiscard]] const std::vector<FittedPoint>& fitted() const { return fitted_; }

private:
    CalibrationOptions options_{};
    std::vector<FittedPoint> fitted_;
};

/// Throws InputError naming `what` unless thickness_nm lies in the calibrated wedge [1.6, 2.6] nm.
void check_thickness(double thickness_nm, const char* what = "thickness");

/// Resistance of the write channel of an n-cell device: lead + sheet resistance * length / width.
Ohm channel_resistance_for(int cells);

/// Free-layer volume of one cell at this thickness, m^3.
double cell_volume_m3(double thickness_nm);

/// Sharrock: median switching field (from the loop centre) at sweep rate `rate` (T/s) of a cell
/// with (Delta0, H_K, f0): solves Delta0 (1-h)^2 = ln(f0 H_K / (2 Delta0 (1-h) rate ln 2)).
Tesla sharrock_switching_field(double delta0, Tesla h_k, Hertz f0, double rate_T_per_s);

}  // namespace mtjlab::physics
