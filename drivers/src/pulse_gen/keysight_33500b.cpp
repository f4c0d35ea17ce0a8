#include "mtjlab/drivers/pulse_gen/keysight_33500b.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace mtjlab::drivers {

namespace {
// Keysight 33500B series data sheet: 10 Vpp into 50 Ohm / 20 Vpp into high-Z, output window +-5 V /
// +-10 V, 1 mVpp minimum, pulse width 16 ns minimum. A 0 -> A pulse uses Vpp = |A| centred at A/2,
// so the window bounds |A|.
constexpr PulseLimits k33500b{Volt(5.0), Volt(10.0), Volt(1e-3), Second(16e-9), Second(1000.0)};
constexpr double k_min_period = 1e-6;  // pulse period used for the 1-cycle burst: max(2 W, 1 us)
double period_for(double width) { return std::max(2.0 * width, k_min_period); }
}  // namespace

Keysight33500B::Keysight33500B(std::shared_ptr<ScpiSession> session) : PulseGenerator(std::move(session)) {}

PulseLimits Keysight33500B::limits() const { return k33500b; }

void Keysight33500B::configure(const PulseSettings& s) {
    check_settings(s, 1.0, 10e3);  // everything before the first byte goes out
    session_->write_checked("FUNC PULS");
    set_load(s.load);
    set_width(s.width);
    set_amplitude(s.amplitude);
    session_->write_checked("BURS:MODE TRIG");
    session_->write_checked("BURS:NCYC 1");
    session_->write_checked("TRIG:SOUR BUS");
    session_->write_checked("BURS:STAT ON");
}

void Keysight33500B::set_amplitude(Volt a) {
    check_range(name(), model(), "|pulse amplitude|", std::abs(a.si()), limits().min_amplitude.si(),
                max_amplitude().si(), "V");
    const double v = std::abs(a.si());
    // Offset to 0 first so no intermediate level leaves the output window.
    session_->write_checked("VOLT:OFFS 0");
    session_->write_checked("VOLT " + scpi_number(v));
    session_->write_checked("VOLT:OFFS " + scpi_number(a.si() / 2.0));
    // Positive: 0 -> +A. Negative: levels -A..0 inverted about the offset: idles at 0, pulses to -A.
    session_->write_checked(a.si() >= 0 ? "OUTP:POL NORM" : "OUTP:POL INV");
    remember("pulse_amplitude", a.si(), "V");
}

void Keysight33500B::set_width(Second w) {
    check_range(name(), model(), "pulse width", w.si(), limits().min_width.si(), limits().max_width.si(), "s");
    const double period = period_for(w.si());
    // Keep width < period at every step: a longer pulse needs the longer period first.
    double old_width = 100e-6;  // *RST default
    for (const auto& st : settings()) if (st.name == "pulse_width") old_width = st.value;
    if (w.si() > old_width) {
        session_->write_checked("FUNC:PULS:PER " + scpi_number(period));
        session_->write_checked("FUNC:PULS:WIDT " + scpi_number(w.si()));
    } else {
        session_->write_checked("FUNC:PULS:WIDT " + scpi_number(w.si()));
        session_->write_checked("FUNC:PULS:PER " + scpi_number(period));
    }
    remember("pulse_width", w.si(), "s");
}

void Keysight33500B::set_load(std::optional<Ohm> load) {
    if (load) check_range(name(), model(), "load", load->si(), 1.0, 10e3, "Ohm");
    session_->write_checked(load ? "OUTP:LOAD " + scpi_number(load->si()) : std::string("OUTP:LOAD INF"));
    load_ = load;
    remember("load", load ? load->si() : INFINITY, "Ohm");
}

void Keysight33500B::set_output(bool on) {
    session_->write_checked(on ? "OUTP ON" : "OUTP OFF");
    remember("output", on ? 1 : 0, "");
}

void Keysight33500B::trigger() {
    session_->write("*TRG");
    session_->sync();
}

void Keysight33500B::safe_state() { session_->write("OUTP OFF"); remember("output", 0, ""); }

}  // namespace mtjlab::drivers
