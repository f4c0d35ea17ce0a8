#include "mtjlab/drivers/magnet/keithley_2400.hpp"

#include <cmath>

#include <fmt/format.h>

namespace mtjlab::drivers {

namespace {
// Keithley 2400: +-1.05 A source; compliance up to 210 V, but only 21 V above 105 mA (power envelope).
constexpr double k_max_current = 1.05;
constexpr double k_high_current = 0.105;
constexpr double k_max_compliance = 210.0;
constexpr double k_high_current_compliance = 21.0;
constexpr double k_min_compliance = 0.2e-3;
}  // namespace

Keithley2400::Keithley2400(std::shared_ptr<ScpiSession> session) : MagnetSupply(std::move(session)) {}

MagnetLimits Keithley2400::limits() const {
    return {Ampere(k_max_current), Volt(k_max_compliance), Volt(k_min_compliance)};
}

void Keithley2400::configure_current_mode() {
    session_->write_checked(":SOUR:FUNC CURR");
    session_->write_checked(":SOUR:CURR:MODE FIX");
    session_->write_checked(":SENS:FUNC \"CURR\"");
    session_->write_checked(":FORM:ELEM CURR");
}

void Keithley2400::set_current(Ampere i) {
    const double lim = current_limit().si();
    check_range(name(), model(), "coil current", i.si(), -lim, lim, "A");
    if (std::abs(i.si()) > k_high_current && compliance_.si() > k_high_current_compliance) {
        check_range(name(), model(), "compliance above 105 mA", compliance_.si(), k_min_compliance,
                    k_high_current_compliance, "V");
    }
    setpoint_known_ = false;  // a command that fails may still have been taken: read it back before a ramp
    session_->write_checked(":SOUR:CURR " + scpi_number(i.si()));
    note_setpoint(i);
    remember("current", i.si(), "A");
}

void Keithley2400::set_compliance(Volt v) {
    const double max = std::abs(setpoint_.si()) > k_high_current ? k_high_current_compliance : k_max_compliance;
    check_range(name(), model(), "voltage compliance", v.si(), k_min_compliance, max, "V");
    session_->write_checked(":SENS:VOLT:PROT " + scpi_number(v.si()));
    compliance_ = v;
    remember("compliance", v.si(), "V");
}

void Keithley2400::set_output(bool on) {
    session_->write_checked(on ? ":OUTP ON" : ":OUTP OFF");
    remember("output", on ? 1 : 0, "");
}

Ampere Keithley2400::measure_current() {
    // With :FORM:ELEM CURR, :READ? returns the measured current only.
    return Ampere(session_->query_double(":READ?"));
}

Ampere Keithley2400::query_setpoint_raw() { return Ampere(session_->query_double(":SOUR:CURR?")); }

void Keithley2400::safe_state() {
    confirm_output_off({":SOUR:CURR 0", ":OUTP OFF"}, ":OUTP?");
    note_setpoint(Ampere(0));
    remember("current", 0, "A");
    remember("output", 0, "");
}

}  // namespace mtjlab::drivers
