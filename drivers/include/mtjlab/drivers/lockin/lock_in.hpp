#pragma once
// Capability: a lock-in amplifier whose sine output drives the read circuit and whose input
// measures the junction.
#include <span>

#include "mtjlab/core/units.hpp"
#include "mtjlab/drivers/instrument.hpp"

namespace mtjlab::drivers {

/// One simultaneous reading (SNAP?).
struct LockInReading {
    Volt x;            ///< in-phase, V rms
    Volt y;            ///< quadrature, V rms
    Volt r;            ///< magnitude, V rms
    double theta_rad;  ///< phase, radians
};

/// Model limits of a lock-in (tables of the manual).
struct LockInLimits {
    Volt min_amplitude;   ///< sine output, V rms
    Volt max_amplitude;
    Hertz min_frequency;
    Hertz max_frequency;
    std::span<const double> sensitivities_v;    ///< full scale per index, V (index order of the manual)
    std::span<const double> time_constants_s;   ///< per index, s
};

/// Lock-in capability. Setters check the model limits first (LimitError, no I/O).
class LockIn : public Instrument {
public:
    using Instrument::Instrument;
    [[nodiscard]] virtual LockInLimits limits() const = 0;
    /// Internal reference sine amplitude (V rms).
    virtual void set_reference_amplitude(Volt rms) = 0;
    virtual void set_reference_frequency(Hertz f) = 0;
    /// Selects the smallest full scale >= `full_scale` (LimitError above the largest).
    virtual void set_sensitivity(Volt full_scale) = 0;
    /// Selects the shortest time constant >= `tau` (LimitError above the longest).
    virtual void set_time_constant(Second tau) = 0;
    [[nodiscard]] virtual Volt sensitivity() = 0;
    [[nodiscard]] virtual Second time_constant() = 0;
    /// X, Y, R, theta in one SNAP? query.
    virtual LockInReading read() = 0;
    /// Picks the smallest sensitivity that holds the present R below 90 % of full scale (x10 up while
    /// overloaded; at most `max_rounds` read/adjust rounds, done in software so it is the same on
    /// every model). Returns the full scale.
    Volt autorange(unsigned max_rounds = 6);
};

}  // namespace mtjlab::drivers
