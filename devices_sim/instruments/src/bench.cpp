#include "mtjlab/devices_sim/bench.hpp"

#include <algorithm>
#include <cmath>

#include "mtjlab/core/error.hpp"

namespace mtjlab::devices_sim {

VirtualBench::VirtualBench(physics::ProbeStation station, BenchOptions options)
    : station_(std::move(station)), options_(options), rng_(options.seed ^ 0x6a09e667f3bcc908ULL) {
    if (!(options_.coil_constant_t_per_a > 0.0) || !(options_.slew_a_per_s > 0.0) ||
        !(options_.coil_resistance.si() > 0.0) || options_.gaussmeter_noise.si() < 0.0 ||
        options_.transaction_time.si() < 0.0 || options_.max_work_per_message == 0)
        throw InputError("virtual bench: coil constant, slew rate, coil resistance and work per message must be > 0");
    last_change_ = station_.now();
    apply_field_locked();
}

void VirtualBench::set_coil_locked(double t_per_a, Tesla remanence) {
    if (!(t_per_a > 0.0)) throw InputError("virtual bench: coil constant must be > 0 T/A");
    options_.coil_constant_t_per_a = t_per_a;
    options_.remanence = remanence;
    apply_field_locked();
}

void VirtualBench::advance_locked(Second dt) {
    if (dt.si() <= 0.0) return;
    station_.advance(dt);
    if (options_.realtime) sleep_debt_ += dt;
}

Tesla VirtualBench::field_locked() const {
    double sum = 0.0;
    for (const auto& [name, i] : supply_currents_) sum += i;
    return Tesla(options_.coil_constant_t_per_a * sum + options_.remanence.si());
}

void VirtualBench::apply_field_locked() {
    station_.set_field(field_locked());
}

void VirtualBench::set_supply_current_locked(const std::string& supply, Ampere i) {
    const double from = supply_currents_.count(supply) ? supply_currents_[supply] : 0.0;
    const double to = i.si();
    const double step = to - from;
    if (step == 0.0) {
        supply_currents_[supply] = to;
        return;
    }
    // Slew in steps of at most 1 % of the sweep (and at most 200 steps), dwelling at each level so that
    // thermally activated switching during the ramp is integrated at the field actually present.
    const double duration = std::abs(step) / options_.slew_a_per_s;
    const int n = std::clamp(static_cast<int>(std::ceil(std::abs(step) / 0.01)), 1, 200);
    for (int k = 1; k <= n; ++k) {
        supply_currents_[supply] = from + step * static_cast<double>(k) / static_cast<double>(n);
        apply_field_locked();
        advance_locked(Second(duration / static_cast<double>(n)));
    }
    supply_currents_[supply] = to;
    apply_field_locked();
    last_change_ = station_.now();
}

Ampere VirtualBench::supply_current_locked(const std::string& supply) const {
    const auto it = supply_currents_.find(supply);
    return Ampere(it == supply_currents_.end() ? 0.0 : it->second);
}

Tesla VirtualBench::read_gaussmeter_locked() {
    std::normal_distribution<double> noise(0.0, options_.gaussmeter_noise.si());
    return Tesla(field_locked().si() + (options_.gaussmeter_noise.si() > 0.0 ? noise(rng_) : 0.0));
}

void VirtualBench::apply_pulse_locked(const physics::Pulse& p) {
    const Second before = station_.now();
    station_.apply_pulse(p);
    ++pulses_;
    if (options_.realtime) sleep_debt_ += station_.now() - before;
    last_change_ = station_.now();
}

bool VirtualBench::reserve_pulses_locked(const physics::Pulse& p, std::uint64_t count) {
    const bool llg = p.width < station_.llg_threshold() && p.amplitude.si() != 0.0;
    const std::uint64_t unit = llg ? llg_pulse_work * std::max<std::uint64_t>(1, station_.device().cells.size()) : 1;
    const std::uint64_t left = options_.max_work_per_message - std::min(work_this_message_, options_.max_work_per_message);
    if (count > left / unit) return false;
    work_this_message_ += count * unit;
    return true;
}

physics::LockInSample VirtualBench::read_lockin_locked(Volt v_ac_rms, Hertz f, Second tau, Second settle) {
    const Second ready = last_change_ + settle;
    if (station_.now() < ready) advance_locked(ready - station_.now());
    return station_.read_lockin(v_ac_rms, f, tau);
}

Second VirtualBench::take_sleep_debt_locked() {
    const Second d = sleep_debt_;
    sleep_debt_ = Second(0.0);
    return d;
}

}  // namespace mtjlab::devices_sim
