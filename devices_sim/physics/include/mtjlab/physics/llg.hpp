#pragma once
// Stochastic Landau-Lifshitz-Gilbert macrospin, batched over independent cells (structure of arrays,
// SIMD-friendly loops, per-lane random streams). In Landau-Lifshitz form, SI, fields in tesla:
//   dm/dt = -g' [m x B + a m x (m x B)]
//           -g' [(B_FL - a B_DL) m x s + (B_DL + a B_FL) m x (m x s)],   g' = gamma/(1 + a^2)
//   B = B_ext + B_K m_y y - mu0 M_eff m_z z + B_th,   B_DL = hbar theta J / (2 e Ms t),  s = p y
//   B_th = xi sqrt(2 a kB T / (gamma Ms V dt))   (the same xi in predictor and corrector: Stratonovich)
// integrated with the stochastic Heun scheme and renormalisation of m after each step.
// Positive current drives m toward +y (AP) for polarity +1, as in the fast layer.
#include <cstdint>
#include <vector>

#include "mtjlab/core/units.hpp"
#include "mtjlab/physics/calibration.hpp"
#include "mtjlab/physics/device.hpp"
#include "mtjlab/physics/rng.hpp"

namespace mtjlab::physics {

struct LlgParams {
    double ms_A_per_m = 1.2 / 1.25663706212e-6;  ///< saturation magnetisation Ms
    double volume_m3 = 1.57e-22;                 ///< free-layer volume
    double thickness_m = 1.6e-9;                 ///< free-layer thickness (for B_DL)
    double alpha = 0.02;                         ///< Gilbert damping
    Tesla b_k = units::millitesla(14.0);         ///< in-plane uniaxial anisotropy field along y
    Tesla mu0_meff = units::tesla(0.39);         ///< easy-plane (out-of-plane demag minus K_s) field
    double temperature_K = 300.0;
    double theta_sh = 0.11;                      ///< spin Hall angle (effective)
    double fl_ratio = 0.2;                       ///< B_FL / B_DL
    double channel_cross_section_m2 = 0.9e-6 * 14e-9;  ///< w_HM t_HM
    double polarity = 1.0;

    /// Throws InputError for non-physical values.
    void validate() const;
    /// Thermal stability factor Ms V B_K / (2 kB T).
    [[nodiscard]] double delta0() const;
    /// Damping-like field per ampere of channel current (T/A).
    [[nodiscard]] double b_dl_per_ampere() const;
    /// Zero-temperature critical current of in-plane SOT switching (collinear, type y):
    /// I_c0 = (alpha/(B_DL/I)) (B_K + mu0 M_eff / 2).
    [[nodiscard]] Ampere critical_current() const;
    /// Parameters matching the fast-layer calibration at this thickness: same Ms, volume, H_K, M_eff;
    /// the effective spin Hall angle is set so that I_c0 equals the paper's critical current
    /// V_c / (R_source + R_channel) of a 1-cell device.
    static LlgParams from_calibration(const CalibrationRow& row, const Calibration& cal = Calibration::paper());
    /// Parameters of one fast-layer cell (thickness in nm): volume from Delta0 = Ms V H_K / 2kT, and the
    /// effective spin Hall angle so that I_c0 is the cell's field-free 200 ns critical current.
    static LlgParams from_cell(const CellParams& cell, double thickness_nm,
                               const Calibration& cal = Calibration::paper());
    /// Draws m from the thermal distribution around the well s (+1: +y, -1: -y), small-angle.
    void sample_equilibrium(int s, double& x, double& y, double& z, Rng& rng) const;
};

/// A batch of independent macrospins sharing parameters, field and current.
class LlgBatch {
public:
    /// cells >= 1. Every cell starts at m = (0, +1, 0) (AP). Throws InputError on bad input.
    LlgBatch(LlgParams params, int cells, std::uint64_t seed);

    [[nodiscard]] int size() const { return n_; }
    [[nodiscard]] const LlgParams& params() const { return p_; }
    /// Sets every cell to the unit vector along (x, y, z).
    void set_all(double x, double y, double z);
    /// Sets one cell to the unit vector along (x, y, z).
    void set_cell(int i, double x, double y, double z);
    /// One stochastic Heun step of dt for every cell under field h_y (along y), h_x, and channel current.
    void step(Second dt, Tesla h_y, Ampere current, Tesla h_x = Tesla(0.0));
    /// Many steps; returns the number of steps taken.
    long run(Second duration, Second dt, Tesla h_y, Ampere current, Tesla h_x = Tesla(0.0));
    /// Pulse with linear edges (0-100 %): rise, plateau, fall at the given current amplitude.
    void run_pulse(Ampere amplitude, Second rise, Second plateau, Second fall, Second dt, Tesla h_y);
    /// Sets the temperature (0 switches the thermal field off).
    void set_temperature(double kelvin);

    [[nodiscard]] const std::vector<double>& mx() const { return mx_; }
    [[nodiscard]] const std::vector<double>& my() const { return my_; }
    [[nodiscard]] const std::vector<double>& mz() const { return mz_; }

private:
    void fill_noise();
    LlgParams p_;
    int n_;
    std::vector<double> mx_, my_, mz_;
    std::vector<double> nx_, ny_, nz_, spare_;
    std::vector<std::uint64_t> s0_, s1_, s2_, s3_;
    double b_dl_per_ampere_ = 0.0;
    double cached_dt_ = -1.0;
    double cached_sigma_ = 0.0;
};

/// Result of an LLG switching-probability estimate.
struct LlgSwitching {
    std::vector<double> amplitudes_A;
    std::vector<int> switched;
    int trials = 0;
};

/// Switching probability AP -> P (negative current) or P -> AP (positive) versus current amplitude for
/// rectangular pulses of `width` at field h_y, `trials` independent cells per amplitude. A cell counts
/// as switched when m_y has changed sign after the pulse and `settle` of relaxation.
LlgSwitching llg_switching(const LlgParams& p, const std::vector<Ampere>& amplitudes, Second width, Tesla h_y,
                           int trials, std::uint64_t seed, Second dt = units::nanoseconds(0.002),
                           Second settle = units::nanoseconds(2.0));

/// Fit of the fast layer's (Delta0, I*, f0) at fixed b to LLG switching data taken at several widths:
/// maximum binomial likelihood of P = 1 - exp(-f0 tau exp(-Delta0 (1-h)^2 (1-|I|/I*)^b)).
struct FitInput {
    Second width{};
    LlgSwitching data;
};
struct FitResult {
    double delta0 = 0.0;
    Ampere i_star{};
    Hertz f0{};
    double b = 2.0;
    double neg_log_likelihood = 0.0;
};
FitResult fit_fast_layer(const std::vector<FitInput>& runs, const LlgParams& p, Tesla h_y, double b = 2.0);

}  // namespace mtjlab::physics
