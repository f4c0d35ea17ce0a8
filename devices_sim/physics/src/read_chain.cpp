#include "mtjlab/physics/read_chain.hpp"

#include <cmath>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/physics/constants.hpp"

namespace mtjlab::physics {

void ReadChain::validate() const {
    if (!(std::isfinite(r_ref.si()) && r_ref.si() > 0.0))
        throw InputError(fmt::format("read chain r_ref = {} Ohm is outside (0, inf)", r_ref.si()));
    if (!(std::isfinite(temperature_K) && temperature_K >= 0.0))
        throw InputError(fmt::format("read chain temperature = {} K is outside [0, inf)", temperature_K));
    if (!(std::isfinite(input_noise_V_per_rtHz) && input_noise_V_per_rtHz >= 0.0))
        throw InputError(fmt::format("read chain input noise = {} V/rtHz is outside [0, inf)", input_noise_V_per_rtHz));
    if (!(std::isfinite(cable_capacitance_F) && cable_capacitance_F >= 0.0))
        throw InputError(fmt::format("read chain cable capacitance = {} F is outside [0, inf)", cable_capacitance_F));
    if (filter_order < 1 || filter_order > 4)
        throw InputError(fmt::format("read chain filter order = {} is outside [1, 4]", filter_order));
}

Hertz ReadChain::enbw(Second tau) const {
    // ENBW of n cascaded RC stages: 1/(4tau), 1/(8tau), 3/(32tau), 5/(64tau).
    static constexpr double k[] = {1.0 / 4.0, 1.0 / 8.0, 3.0 / 32.0, 5.0 / 64.0};
    return Hertz(k[filter_order - 1] / tau.si());
}

double ReadChain::noise_density(Ohm r) const {
    const double r_par = r.si() * r_ref.si() / (r.si() + r_ref.si());
    return std::sqrt(4.0 * k_boltzmann * temperature_K * r_par + input_noise_V_per_rtHz * input_noise_V_per_rtHz);
}

std::complex<double> ReadChain::junction_phasor(Ohm r, Volt v_ac_rms, Hertz f) const {
    const std::complex<double> zj =
        r.si() / std::complex<double>(1.0, 2.0 * pi * f.si() * r.si() * cable_capacitance_F);
    return v_ac_rms.si() * zj / (zj + r_ref.si());
}

Ohm ReadChain::resistance_from_x(Volt x, Volt v_ac_rms) const {
    return Ohm(r_ref.si() * x.si() / (v_ac_rms.si() - x.si()));
}

}  // namespace mtjlab::physics
