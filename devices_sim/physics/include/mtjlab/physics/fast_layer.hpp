#pragma once
// The fast layer's rate law. A cell in state s (+1 AP, -1 P) leaves it at the rate
//   Gamma_s = f0 exp(-Delta_s),
//   Delta_s = Delta0 [1 + s (H - H_ex)/H_K]_+^2 [1 + s p I/I*]_+^b.
// Over a segment with these rates the two-state master equation is integrated exactly for constant
// rates and with the segment-averaged rates on ramps (Gauss-Legendre quadrature of the integral).
#include "mtjlab/core/units.hpp"
#include "mtjlab/physics/device.hpp"

namespace mtjlab::physics {

/// Barrier to leave state s (+1 AP, -1 P) at field h_y (along y) and channel current i.
double barrier(const CellParams& c, int s, Tesla h_y, Ampere i) noexcept;

/// Escape rate (1/s) from state s.
double escape_rate(const CellParams& c, int s, Tesla h_y, Ampere i) noexcept;

/// Integrated escape rates over one segment: integral of Gamma dt for leaving AP and leaving P.
struct RateIntegral {
    double leave_ap = 0.0;
    double leave_p = 0.0;
};

/// Constant field and current for dt.
RateIntegral integrate_constant(const CellParams& c, Tesla h_y, Ampere i, Second dt) noexcept;

/// Field constant, current ramping linearly from i0 to i1 over dt.
RateIntegral integrate_ramp(const CellParams& c, Tesla h_y, Ampere i0, Ampere i1, Second dt) noexcept;

/// Probability to be in AP after a segment, starting from AP with probability p_ap0: the exact
/// solution of dp/dt = -G_ap p + G_p (1 - p) with the segment-averaged rates.
double p_ap_after(double p_ap0, const RateIntegral& r) noexcept;

/// Probability that a cell starting in state s has left it after a rectangular pulse of current i and
/// duration dt at field h_y (the Neel-Brown form; includes the return rate).
double switch_probability(const CellParams& c, int s, Tesla h_y, Ampere i, Second dt) noexcept;

/// Current magnitude at which a cell leaves state s with probability p during a rectangular pulse of
/// length dt at field h_y (closed form, return rate neglected). Returns 0 if the field alone suffices.
Ampere current_for_probability(const CellParams& c, int s, Tesla h_y, Second dt, double p);

}  // namespace mtjlab::physics
