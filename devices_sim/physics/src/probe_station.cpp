#include "mtjlab/physics/probe_station.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/physics/constants.hpp"
#include "mtjlab/physics/fast_layer.hpp"
#include "mtjlab/physics/llg.hpp"

namespace mtjlab::physics {

namespace {
void require_time(Second t, const char* what) {
    if (!std::isfinite(t.si()) || t.si() < 0.0)
        throw InputError(fmt::format("{} = {} s is outside the allowed range [0, inf)", what, t.si()));
}
}  // namespace

double reference_layer_my(Tesla h_y) noexcept {
    constexpr double h_start = 0.090;  // the SAF holds the RL along -y up to +90 mT (Fig. 3b)
    constexpr double h_end = 0.250;
    const double x = std::clamp((h_y.si() - h_start) / (h_end - h_start), 0.0, 1.0);
    return -std::cos(pi * x);
}

ProbeStation::ProbeStation(CompoundDevice device, ReadChain chain, std::uint64_t seed)
    : device_(std::move(device)), chain_(chain), rng_(seed) {
    device_.validate();
    chain_.validate();
    states_.assign(device_.cells.size(), +1);
}

void ProbeStation::evolve(Tesla h, Ampere i0, Ampere i1, Second dt) {
    if (dt.si() <= 0.0) return;
    const bool constant = i0 == i1;
    for (std::size_t k = 0; k < device_.cells.size(); ++k) {
        const CellParams& c = device_.cells[k];
        const RateIntegral r = constant ? integrate_constant(c, h, i0, dt) : integrate_ramp(c, h, i0, i1, dt);
        const double total = r.leave_ap + r.leave_p;
        if (!(total > 0.0)) continue;
        const double out = states_[k] > 0 ? r.leave_ap : r.leave_p;
        if (out <= 0.0) continue;
        const double p_flip = out / total * -std::expm1(-total);
        if (rng_.uniform() < p_flip) states_[k] = -states_[k];
    }
}

void ProbeStation::advance(Second dt) {
    require_time(dt, "advance dt");
    evolve(field_, Ampere(0.0), Ampere(0.0), dt);
    now_ += dt;
}

void ProbeStation::set_field(Tesla h_y) {
    if (!std::isfinite(h_y.si())) throw InputError("field is not a finite number");
    field_ = h_y;
}

void ProbeStation::apply_pulse(const Pulse& p) {
    if (!std::isfinite(p.amplitude.si())) throw InputError("pulse amplitude is not a finite number");
    require_time(p.width, "pulse width");
    require_time(p.rise, "pulse rise time");
    require_time(p.fall, "pulse fall time");
    const double plateau = p.width.si() - 0.5 * (p.rise.si() + p.fall.si());
    if (plateau < -1e-18) {
        throw InputError(fmt::format("pulse width {} s is shorter than (rise + fall)/2 = {} s", p.width.si(),
                                     0.5 * (p.rise.si() + p.fall.si())));
    }
    const Ampere i = device_.channel.current(p.amplitude);
    if (p.width < llg_threshold_ && p.amplitude.si() != 0.0) {
        pulse_llg(p, std::max(plateau, 0.0));
    } else {
        evolve(field_, Ampere(0.0), i, p.rise);
        evolve(field_, i, i, Second(std::max(plateau, 0.0)));
        evolve(field_, i, Ampere(0.0), p.fall);
    }
    if (!broken() && std::abs(p.amplitude.si()) >= device_.breakdown.v_b.si()) {
        breakdown_ = BreakdownEvent{now_ + p.rise, p.amplitude};
    }
    now_ += Second(p.rise.si() + std::max(plateau, 0.0) + p.fall.si());
}

void ProbeStation::pulse_llg(const Pulse& p, double plateau) {
    // Each cell: a macrospin drawn from the thermal distribution of its well, driven through the pulse
    // and relaxed for 1 ns at the present field; the well it ends in is its new state.
    const Ampere i = device_.channel.current(p.amplitude);
    const Second dt = units::nanoseconds(0.002);
    for (std::size_t k = 0; k < device_.cells.size(); ++k) {
        const LlgParams lp = LlgParams::from_cell(device_.cells[k], device_.thickness_nm);
        LlgBatch b(lp, 1, rng_.next());
        double x, y, z;
        lp.sample_equilibrium(states_[k], x, y, z, rng_);
        b.set_cell(0, x, y, z);
        b.run_pulse(i, p.rise, Second(plateau), p.fall, dt, Tesla(field_.si() - device_.cells[k].h_ex.si()));
        b.run(units::nanoseconds(1.0), dt, Tesla(field_.si() - device_.cells[k].h_ex.si()), Ampere(0.0));
        states_[k] = b.my()[0] > 0.0 ? +1 : -1;
    }
}

void ProbeStation::set_llg_threshold(Second width) {
    require_time(width, "LLG pulse-width threshold");
    llg_threshold_ = width;
}

Ohm ProbeStation::junction_resistance() const { return junction_resistance_at(Volt(0.0)); }

Ohm ProbeStation::junction_resistance_at(Volt bias) const {
    if (breakdown_) {
        return device_.breakdown.mode == BreakdownMode::short_circuit ? device_.breakdown.r_short
                                                                      : device_.breakdown.r_open;
    }
    const double rl = reference_layer_my(field_);
    double g = 0.0;
    for (std::size_t k = 0; k < device_.cells.size(); ++k) {
        g += 1.0 / cell_resistance(device_.cells[k], states_[k] * rl, bias).si();
    }
    return Ohm(1.0 / g);
}

LockInSample ProbeStation::read_lockin(Volt v_ac_rms, Hertz f, Second tau) {
    if (!std::isfinite(v_ac_rms.si()) || v_ac_rms.si() < 0.0)
        throw InputError(fmt::format("lock-in amplitude = {} V is outside [0, inf)", v_ac_rms.si()));
    if (!std::isfinite(f.si()) || f.si() <= 0.0)
        throw InputError(fmt::format("lock-in frequency = {} Hz is outside (0, inf)", f.si()));
    if (!std::isfinite(tau.si()) || tau.si() <= 0.0)
        throw InputError(fmt::format("lock-in time constant = {} s is outside (0, inf)", tau.si()));
    // The read bias across the junction is a few mV: the bias roll-off of the TMR is included.
    const Ohm r0 = junction_resistance();
    const auto v0 = chain_.junction_phasor(r0, v_ac_rms, f);
    const Ohm r = junction_resistance_at(Volt(std::abs(v0) * std::sqrt(2.0)));
    const auto v = chain_.junction_phasor(r, v_ac_rms, f);
    const double sigma = chain_.noise_density(r) * std::sqrt(chain_.enbw(tau).si());
    const double nx = rng_.normal();
    const double ny = rng_.normal();
    return {Volt(v.real() + sigma * nx), Volt(v.imag() + sigma * ny)};
}

void ProbeStation::set_states(int s) {
    if (s != 1 && s != -1) throw InputError(fmt::format("cell state {} is not +1 (AP) or -1 (P)", s));
    std::fill(states_.begin(), states_.end(), s);
}

int ProbeStation::cells_parallel() const {
    return static_cast<int>(std::count(states_.begin(), states_.end(), -1));
}

void ProbeStation::set_source_resistance(Ohm r) {
    if (!std::isfinite(r.si()) || r.si() < 0.0)
        throw InputError(fmt::format("source resistance = {} Ohm is outside [0, inf)", r.si()));
    device_.channel.r_source = r;
}

}  // namespace mtjlab::physics
