#pragma once
// Capability: a pulse source driving the SOT write channel with single rectangular pulses.
#include <optional>

#include "mtjlab/core/units.hpp"
#include "mtjlab/drivers/instrument.hpp"

namespace mtjlab::drivers {

/// Model limits of a pulse generator (one row of a model table).
struct PulseLimits {
    Volt max_amplitude_50ohm;  ///< largest |pulse amplitude| into a 50 Ohm load (pulse 0 -> A)
    Volt max_amplitude_highz;  ///< largest |pulse amplitude| into a high impedance
    Volt min_amplitude;        ///< smallest |amplitude| the model can produce
    Second min_width;
    Second max_width;
};

/// What the pulse generator is told to emit on each trigger. The pulse starts and ends at 0 V and
/// goes to `amplitude` (its sign is the polarity).
struct PulseSettings {
    Volt amplitude;             ///< signed peak level across the load, V
    Second width;               ///< s
    std::optional<Ohm> load;    ///< expected load; nullopt = high impedance
};

/// Pulse generator capability. Every setter checks the model limits first (LimitError, no I/O).
class PulseGenerator : public Instrument {
public:
    using Instrument::Instrument;
    [[nodiscard]] virtual PulseLimits limits() const = 0;
    /// Pulse function, single-shot burst armed on a bus trigger, output left as it is.
    virtual void configure(const PulseSettings& settings) = 0;
    /// Changes the amplitude and polarity only (same width and load).
    virtual void set_amplitude(Volt amplitude) = 0;
    virtual void set_width(Second width) = 0;
    /// Expected load: a resistance or nullopt for high impedance (changes the amplitude limit).
    virtual void set_load(std::optional<Ohm> load) = 0;
    virtual void set_output(bool on) = 0;
    /// Fires one pulse (*TRG) and waits until the instrument reports it done (*OPC?).
    virtual void trigger() = 0;
    /// The largest |amplitude| allowed for the present load.
    [[nodiscard]] Volt max_amplitude() const;

protected:
    /// Checks a whole PulseSettings against the model limits before any I/O (LimitError): load within
    /// [min_load, max_load] Ohm, width, and |amplitude| against the window for that load.
    void check_settings(const PulseSettings& s, double min_load_ohm, double max_load_ohm) const;

    std::optional<Ohm> load_ = Ohm(50.0);
};

}  // namespace mtjlab::drivers
