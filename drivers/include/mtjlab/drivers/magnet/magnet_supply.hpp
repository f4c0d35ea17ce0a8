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
    /// The setpoint this driver last programmed (or read with read_setpoint()).
    [[nodiscard]] Ampere setpoint() const { return setpoint_; }
    /// Asks the instrument for its programmed setpoint and remembers it (a ramp starts from there).
    Ampere read_setpoint();
    /// Lowers the user's current limit below the model's (LimitError if it exceeds the model's).
    void set_current_limit(Ampere max_abs);
    [[nodiscard]] Ampere current_limit() const;
    /// Steps the setpoint from the present one to `target` at `rate` (A/s) in steps of at most
    /// `max_step`, waiting through `sleep` between steps. Target and rate are checked first. When this
    /// driver has not programmed a setpoint yet, the instrument's is read first (no jump from an
    /// unknown current into an inductive load).
    void ramp_to(Ampere target, double rate_a_per_s, Ampere max_step, const Sleeper& sleep = real_sleep);

protected:
    /// The model's query of the programmed current setpoint.
    [[nodiscard]] virtual Ampere query_setpoint_raw() = 0;
    void note_setpoint(Ampere i) {
        setpoint_ = i;
        setpoint_known_ = true;
    }
    Ampere setpoint_{0.0};
    bool setpoint_known_ = false;
    std::optional<Ampere> user_limit_;
};

}  // namespace mtjlab::drivers
