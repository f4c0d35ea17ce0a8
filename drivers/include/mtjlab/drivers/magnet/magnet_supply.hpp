#pragma once
// Capability: a bipolar current source driving the electromagnet.
#include <functional>
#include <optional>

#include "mtjlab/core/units.hpp"
#include "mtjlab/drivers/instrument.hpp"

namespace mtjlab::drivers {

/// Model limits of a supply (current mode).
struct MagnetLimits {
    Ampere max_current;         ///< |I| the model can source
    Volt max_compliance;        ///< largest voltage limit
    Volt min_compliance;
};

/// How a ramp waits between steps (real sleep on a bench, a virtual clock in simulation).
using Sleeper = std::function<void(Second)>;
/// Sleeps for real.
void real_sleep(Second dt);

/// Magnet supply capability. Setters check the model limits and the user limit first.
class MagnetSupply : public Instrument {
public:
    using Instrument::Instrument;
    [[nodiscard]] virtual MagnetLimits limits() const = 0;
    /// Current mode, output state unchanged.
    virtual void configure_current_mode() = 0;
    /// Programs the current setpoint at once (no ramp).
    virtual void set_current(Ampere i) = 0;
    /// Voltage compliance (limit) in current mode.
    virtual void set_compliance(Volt v) = 0;
    virtual void set_output(bool on) = 0;
    /// Measured output current.
    [[nodiscard]] virtual Ampere measure_current() = 0;
    /// The setpoint this driver last programmed.
    [[nodiscard]] Ampere setpoint() const { return setpoint_; }
    /// Lowers the user's current limit below the model's (LimitError if it exceeds the model's).
    void set_current_limit(Ampere max_abs);
    [[nodiscard]] Ampere current_limit() const;
    /// Steps the setpoint from the present one to `target` at `rate` (A/s) in steps of at most
    /// `max_step`, waiting through `sleep` between steps. Target and rate are checked first.
    void ramp_to(Ampere target, double rate_a_per_s, Ampere max_step, const Sleeper& sleep = real_sleep);

protected:
    Ampere setpoint_{0.0};
    std::optional<Ampere> user_limit_;
};

}  // namespace mtjlab::drivers
