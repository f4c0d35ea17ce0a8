#pragma once
// One compound device on the probe station, in virtual time: the physics behind the virtual lab.
// No I/O and nothing sleeps; advance() and apply_pulse() move a virtual clock. Not thread-safe: the
// caller serialises access.
#include <cstdint>
#include <optional>
#include <vector>

#include "mtjlab/core/units.hpp"
#include "mtjlab/physics/device.hpp"
#include "mtjlab/physics/read_chain.hpp"
#include "mtjlab/physics/rng.hpp"

namespace mtjlab::physics {

/// A write pulse at the source. amplitude is signed; width is the 50 %-50 % width (as pulse generators
/// define it); rise and fall are 0-100 % linear edges. Duration = width + (rise + fall)/2.
/// Requires width >= (rise + fall)/2, all times >= 0 and finite.
struct Pulse {
    Volt amplitude{};
    Second width{};
    Second rise{};
    Second fall{};
};

/// One lock-in reading: rms in-phase and quadrature volts across the junction.
struct LockInSample {
    Volt x{};
    Volt y{};
};

/// A breakdown that happened.
struct BreakdownEvent {
    Second time{};
    Volt amplitude{};
};

class ProbeStation {
public:
    /// Throws InputError if the device or chain is invalid. Cells start in the AP state.
    ProbeStation(CompoundDevice device, ReadChain chain, std::uint64_t seed);

    [[nodiscard]] Second now() const { return now_; }
    /// Time passes at the present field; thermal switching integrates. dt >= 0 (InputError otherwise).
    void advance(Second dt);
    /// Field along the easy axis at the device; takes effect immediately (a magnet's ramp is the
    /// caller's business: step it and advance).
    void set_field(Tesla h_y);
    [[nodiscard]] Tesla field() const { return field_; }
    /// Through the write channel; advances the clock by the pulse duration; may break the junction.
    void apply_pulse(const Pulse& p);
    /// Present compound resistance at zero bias (short or open once broken).
    [[nodiscard]] Ohm junction_resistance() const;
    /// Compound resistance at a junction bias (bias-dependent TMR).
    [[nodiscard]] Ohm junction_resistance_at(Volt bias) const;
    [[nodiscard]] Ohm channel_resistance() const { return device_.channel.r_channel; }
    /// A lock-in reading with drive v_ac_rms at frequency f and time constant tau, with the read chain's
    /// noise. Does not advance the clock (the caller waits its settling time with advance()).
    LockInSample read_lockin(Volt v_ac_rms, Hertz f, Second tau);
    [[nodiscard]] bool broken() const { return breakdown_.has_value(); }
    [[nodiscard]] const std::optional<BreakdownEvent>& breakdown_event() const { return breakdown_; }
    [[nodiscard]] const CompoundDevice& device() const { return device_; }
    [[nodiscard]] const ReadChain& read_chain() const { return chain_; }

    /// Cell states, +1 AP / -1 P (for tests and modellers).
    [[nodiscard]] const std::vector<int>& states() const { return states_; }
    /// Forces all cells into one state (+1 AP, -1 P), e.g. after a saturating field.
    void set_states(int s);
    /// Number of cells in P.
    [[nodiscard]] int cells_parallel() const;
    /// Source resistance knob of the write circuit.
    void set_source_resistance(Ohm r);
    /// Pulses shorter than this (50 % width) are simulated with the stochastic LLG macrospin per cell
    /// (precessional regime, where the rate law does not hold); 0 disables. Default 10 ns.
    void set_llg_threshold(Second width);
    [[nodiscard]] Second llg_threshold() const { return llg_threshold_; }

private:
    void evolve(Tesla h, Ampere i0, Ampere i1, Second dt);  // i0 == i1: constant segment
    void pulse_llg(const Pulse& p, double plateau);
    CompoundDevice device_;
    ReadChain chain_;
    Rng rng_;
    Second now_{};
    Tesla field_{};
    std::vector<int> states_;
    std::optional<BreakdownEvent> breakdown_;
    Second llg_threshold_ = units::nanoseconds(10.0);
};

/// Orientation of the reference layer (its y component) at field h_y: along -y up to the SAF
/// rotation field (90 mT) and rotating to +y by 250 mT (the major loop of Fig. 3b).
double reference_layer_my(Tesla h_y) noexcept;

}  // namespace mtjlab::physics
