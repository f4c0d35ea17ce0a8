#include "mtjlab/drivers/pulse_gen/agilent_81150a.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace mtjlab::drivers {

namespace {
// 81150A data sheet, normal output: 50 mVpp..5 Vpp into 50 Ohm (10 Vpp into high-Z), window +-2.5 V
// (+-5 V high-Z); pulse width 4.1 ns .. 999.5 s. A 0 -> A pulse uses Vpp = |A| centred at A/2.
constexpr PulseLimits k81150a{Volt(2.5), Volt(5.0), Volt(50e-3), Second(4.1e-9), Second(999.5)};
constexpr double k_min_period = 1e-6;
double period_for(double width) { return std::max(2.0 * width, k_min_period); }
constexpr double k_highz_ohm = 1e6;  // :OUTP:IMP:EXT maximum = "high impedance"
}  // namespace

Agilent81150A::Agilent81150A(std::shared_ptr<ScpiSession> session) : PulseGenerator(std::move(session)) {}

PulseLimits Agilent81150A::limits() const { return k81150a; }

void Agilent81150A::configure(const PulseSettings& s) {
    check_settings(s, 0.3, 1e6);  // everything before the first byte goes out
    session_->write_checked(":FUNC1 PULS");
    set_load(s.load);
    set_width(s.width);
    set_amplitude(s.amplitude);
    session_->write_checked(":ARM:SOUR1 MAN");
    session_->write_checked(":TRIG:COUN1 1");
}

void Agilent81150A::set_amplitude(Volt a) {
    check_range(name(), model(), "|pulse amplitude|", std::abs(a.si()), limits().min_amplitude.si(),
                max_amplitude().si(), "V");
    session_->write_checked(":VOLT1:OFFS 0");
    session_->write_checked(":VOLT1 " + scpi_number(std::abs(a.si())));
    session_->write_checked(":VOLT1:OFFS " + scpi_number(a.si() / 2.0));
    session_->write_checked(a.si() >= 0 ? ":OUTP1:POL NORM" : ":OUTP1:POL INV");
    remember("pulse_amplitude", a.si(), "V");
}

void Agilent81150A::set_width(Second w) {
    check_range(name(), model(), "pulse width", w.si(), limits().min_width.si(), limits().max_width.si(), "s");
    const double period = period_for(w.si());
    double old_width = 500e-9;  // *RST default of the 81150A pulse
    for (const auto& st : settings()) if (st.name == "pulse_width") old_width = st.value;
    if (w.si() > old_width) {
        session_->write_checked(":PULS:PER1 " + scpi_number(period));
        session_->write_checked(":PULS:WIDT1 " + scpi_number(w.si()));
    } else {
        session_->write_checked(":PULS:WIDT1 " + scpi_number(w.si()));
        session_->write_checked(":PULS:PER1 " + scpi_number(period));
    }
    remember("pulse_width", w.si(), "s");
}

void Agilent81150A::set_load(std::optional<Ohm> load) {
    if (load) check_range(name(), model(), "load", load->si(), 0.3, 1e6, "Ohm");
    session_->write_checked(":OUTP1:IMP:EXT " + scpi_number(load ? load->si() : k_highz_ohm));
    load_ = load;
    remember("load", load ? load->si() : INFINITY, "Ohm");
}

void Agilent81150A::set_output(bool on) {
    session_->write_checked(on ? ":OUTP1 ON" : ":OUTP1 OFF");
    remember("output", on ? 1 : 0, "");
}

void Agilent81150A::trigger() {
    session_->write("*TRG");
    session_->sync();
}

void Agilent81150A::safe_state() { session_->write(":OUTP1 OFF"); remember("output", 0, ""); }

}  // namespace mtjlab::drivers
