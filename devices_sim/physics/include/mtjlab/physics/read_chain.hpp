#pragma once
// The read chain of the paper's probe station: an AC source drives the junction through a 1 MOhm
// reference resistor; a lock-in measures the voltage across the junction. Noise: Johnson noise of
// R_ref || R_junction and the lock-in's input voltage noise, in the equivalent noise bandwidth of the
// lock-in's low-pass filter (ENBW = 1/(4 tau) first order, 1/(8 tau), 3/(32 tau), 5/(64 tau)).
#include <complex>

#include "mtjlab/core/units.hpp"

namespace mtjlab::physics {

struct ReadChain {
    Ohm r_ref = units::ohms(1e6);            ///< series reference resistor
    double temperature_K = 300.0;
    double input_noise_V_per_rtHz = 6e-9;    ///< lock-in input noise (SR830: 6 nV/sqrt(Hz))
    double cable_capacitance_F = 100e-12;    ///< shunts the junction; gives a small quadrature signal
    int filter_order = 1;                    ///< lock-in low-pass slope: 1..4 (6..24 dB/oct)

    /// Throws InputError when a parameter is out of range.
    void validate() const;
    /// Equivalent noise bandwidth of the output filter with time constant tau.
    [[nodiscard]] Hertz enbw(Second tau) const;
    /// Noise density at the lock-in input for junction resistance r (V/sqrt(Hz)).
    [[nodiscard]] double noise_density(Ohm r) const;
    /// Noise-free complex voltage (rms phasor) across the junction for drive v_ac at frequency f.
    [[nodiscard]] std::complex<double> junction_phasor(Ohm r, Volt v_ac_rms, Hertz f) const;
    /// Inverts the divider: junction resistance from the in-phase reading (ignores the cable).
    [[nodiscard]] Ohm resistance_from_x(Volt x, Volt v_ac_rms) const;
};

}  // namespace mtjlab::physics
