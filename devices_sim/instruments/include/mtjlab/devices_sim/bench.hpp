#pragma once
// The virtual probe station as the instruments see it: one physics::ProbeStation (device + read chain +
// virtual clock) plus the electromagnet (supply currents -> field), the gaussmeter probe and the pulse
// output wiring. Every virtual instrument of a lab holds the same VirtualBench; the bench mutex
// serialises all access (the ProbeStation itself is not thread-safe).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "mtjlab/core/units.hpp"
#include "mtjlab/physics/probe_station.hpp"

namespace mtjlab::devices_sim {

/// Physical knobs of the virtual bench (SI units).
struct BenchOptions {
    double coil_constant_t_per_a = 0.05;   ///< field at the device per ampere of coil current (T/A)
    Tesla remanence = Tesla(0.0);          ///< pole-piece remanence added to k*I (hysteresis-free model)
    Ohm coil_resistance = Ohm(1.5);        ///< coil resistance seen by the supplies (sets the supply voltage)
    double slew_a_per_s = 10.0;            ///< coil current slew rate: a current step takes |dI|/slew of virtual time
    Tesla gaussmeter_noise = Tesla(5e-6);  ///< rms noise of a gaussmeter reading
    Second transaction_time = Second(1e-3);///< virtual time each instrument message takes (bus + parse)
    bool realtime = false;                 ///< sleep for the virtual time that passes (off: nothing sleeps)
    std::uint64_t seed = 1;                ///< seed of the bench noise (gaussmeter)
    /// Simulation work one instrument message may ask for, in units of one fast-layer pulse (~0.3 us of
    /// CPU); a pulse resolved with the LLG macrospin (shorter than the station's LLG threshold) costs
    /// `llg_pulse_work` per cell. A burst above it is refused whole (-221), so no client can hold the
    /// lab's one lock for minutes: 10^6 is ~0.3 s of CPU (a real 81150A allows 16,777,215 pulses).
    std::uint64_t max_work_per_message = 1'000'000;
};

/// Work units of one LLG-resolved pulse per cell (measured: ~0.35 ms vs ~0.3 us for a fast-layer pulse).
inline constexpr std::uint64_t llg_pulse_work = 1000;

/// The shared state. Methods ending in `_locked` require the caller to hold mutex(); the instruments do.
class VirtualBench {
public:
    VirtualBench(physics::ProbeStation station, BenchOptions options);

    /// The one lock of the lab. Instruments hold it while they execute a message.
    std::mutex& mutex() { return mutex_; }
    [[nodiscard]] const BenchOptions& options() const { return options_; }
    /// Changes the coil constant (T/A) and remanence; the field follows at once.
    void set_coil_locked(double t_per_a, Tesla remanence);

    physics::ProbeStation& station_locked() { return station_; }
    [[nodiscard]] Second now_locked() const { return station_.now(); }

    /// Lets virtual time pass (thermal switching integrates at the present field).
    void advance_locked(Second dt);

    /// Sets the coil current fed by supply `supply` (its output current, 0 when off). The coil current
    /// slews at options().slew_a_per_s: the clock advances by |dI|/slew in small steps, the field
    /// following the current. Several supplies may be connected: each feeds its own winding with the
    /// same coil constant, the fields add.
    void set_supply_current_locked(const std::string& supply, Ampere i);
    /// Present output current of a supply as the bench sees it (0 A if unknown).
    [[nodiscard]] Ampere supply_current_locked(const std::string& supply) const;

    /// Field at the device: k * sum(I) + remanence.
    [[nodiscard]] Tesla field_locked() const;
    /// A gaussmeter reading: field plus Gaussian noise of options().gaussmeter_noise.
    Tesla read_gaussmeter_locked();

    /// Applies a pulse to the write channel (advances the clock by its duration).
    void apply_pulse_locked(const physics::Pulse& p);

    /// Starts the work count of one instrument message (VirtualInstrument::process calls it).
    void begin_message_locked() { work_this_message_ = 0; }
    /// Reserves the simulation work of `count` pulses `p` within this message's budget
    /// (options().max_work_per_message); false, and nothing reserved, if they do not fit.
    [[nodiscard]] bool reserve_pulses_locked(const physics::Pulse& p, std::uint64_t count);

    /// Reads the lock-in after settling: if less than `settle` has passed since the last change of the
    /// device state or field, the clock first advances to that point (a real read waits ~5 tau).
    physics::LockInSample read_lockin_locked(Volt v_ac_rms, Hertz f, Second tau, Second settle);

    /// Virtual time owed to a realtime run since the last call (0 when not realtime); resets the debt.
    Second take_sleep_debt_locked();

    /// Number of pulses applied so far (for tests and the lab summary).
    [[nodiscard]] std::uint64_t pulses_applied_locked() const { return pulses_; }

private:
    void apply_field_locked();
    std::mutex mutex_;
    physics::ProbeStation station_;
    BenchOptions options_;
    std::map<std::string, double> supply_currents_;
    Second last_change_{0.0};
    Second sleep_debt_{0.0};
    std::uint64_t pulses_ = 0;
    std::uint64_t work_this_message_ = 0;
    std::mt19937_64 rng_;
};

}  // namespace mtjlab::devices_sim
