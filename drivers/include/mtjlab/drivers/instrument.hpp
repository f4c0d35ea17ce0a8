#pragma once
// The base of every driver: a name, a session, identification, a safe state and the settings this
// driver last sent (for provenance).
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mtjlab/drivers/scpi/session.hpp"

namespace mtjlab::drivers {

/// One setting as it was last sent by the driver (no I/O is needed to list them).
struct Setting {
    std::string name;   ///< e.g. "pulse_width"
    double value = 0;   ///< in `unit`
    std::string unit;   ///< SI unit symbol, "" for dimensionless codes
};

/// Base class of all drivers. Holds the session (shared: several drivers may share a bus).
class Instrument {
public:
    explicit Instrument(std::shared_ptr<ScpiSession> session);
    virtual ~Instrument() = default;
    Instrument(const Instrument&) = delete;
    Instrument& operator=(const Instrument&) = delete;

    /// Model key as the registry knows it, e.g. "keysight_33500b".
    [[nodiscard]] virtual std::string_view model() const = 0;
    /// "*IDN?" reply.
    std::string identify();
    /// Puts the instrument where nothing can hurt a device: outputs off, current zero. Returns only once the
    /// instrument has confirmed it by reading the state back (the output state, or the lock-in's amplitude),
    /// sending it again on a transport fault or another reply (ScpiSession::write_confirmed). Never throws for
    /// limits; a failure that outlasts the attempts propagates.
    virtual void safe_state() = 0;
    /// Settings this driver last sent, in SI units.
    [[nodiscard]] std::vector<Setting> settings() const { return settings_; }
    [[nodiscard]] ScpiSession& session() { return *session_; }
    [[nodiscard]] const std::string& name() const { return session_->name(); }

protected:
    void remember(std::string name, double value, std::string unit);
    /// Sends `commands` (the last one switches the output off), then `output_query` until it answers off (0/OFF):
    /// *OPC? would confirm only that the commands were executed, not that the output was accepted as off.
    void confirm_output_off(std::initializer_list<std::string_view> commands, std::string_view output_query);
    std::shared_ptr<ScpiSession> session_;

private:
    std::vector<Setting> settings_;
};

/// Throws LimitError "<instrument>: <what> <value> <unit> outside [<lo>, <hi>] <unit> (<model>)" unless
/// lo <= value <= hi. Drivers call this before any I/O.
void check_range(std::string_view instrument, std::string_view model, std::string_view what, double value,
                 double lo, double hi, std::string_view unit);

}  // namespace mtjlab::drivers
