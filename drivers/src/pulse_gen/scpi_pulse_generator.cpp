#include "mtjlab/drivers/pulse_gen/scpi_pulse_generator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace mtjlab::drivers {

namespace {
constexpr double k_min_period = 1e-6;  // pulse period used for the 1-cycle burst: max(2 W, 1 us)
double period_for(double width) { return std::max(2.0 * width, k_min_period); }

std::string cmd(std::string_view header, std::string_view argument) {
    return fmt::format("{} {}", header, argument);
}

// 33500B: trigger-mode burst of one cycle, bus trigger, burst on.
constexpr std::array<std::string_view, 4> k_33500b_burst{"BURS:MODE TRIG", "BURS:NCYC 1", "TRIG:SOUR BUS",
                                                         "BURS:STAT ON"};
// 81150A: manual arm source, one pulse per trigger.
constexpr std::array<std::string_view, 2> k_81150a_burst{":ARM:SOUR1 MAN", ":TRIG:COUN1 1"};
}  // namespace

const PulseGeneratorModel& keysight_33500b_model() {
    // Data sheet: 10 Vpp into 50 Ohm / 20 Vpp into high-Z, output window +-5 V / +-10 V, 1 mVpp minimum, pulse
    // width 16 ns minimum. A 0 -> A pulse uses Vpp = |A| centred at A/2, so the window bounds |A|.
    static const PulseGeneratorModel m{"keysight_33500b",
                                       {Volt(5.0), Volt(10.0), Volt(1e-3), Second(16e-9), Second(1000.0)},
                                       1.0, 10e3, "FUNC PULS", k_33500b_burst, "VOLT:OFFS", "VOLT", "OUTP:POL",
                                       "FUNC:PULS:PER", "FUNC:PULS:WIDT", 100e-6, "OUTP:LOAD", "INF", "OUTP"};
    return m;
}

const PulseGeneratorModel& agilent_81150a_model() {
    // Data sheet, normal output: 50 mVpp..5 Vpp into 50 Ohm (10 Vpp into high-Z), window +-2.5 V (+-5 V high-Z);
    // pulse width 4.1 ns .. 999.5 s. High impedance is the :OUTP:IMP:EXT maximum, 1 MOhm.
    static const PulseGeneratorModel m{"agilent_81150a",
                                       {Volt(2.5), Volt(5.0), Volt(50e-3), Second(4.1e-9), Second(999.5)},
                                       0.3, 1e6, ":FUNC1 PULS", k_81150a_burst, ":VOLT1:OFFS", ":VOLT1",
                                       ":OUTP1:POL", ":PULS:PER1", ":PULS:WIDT1", 500e-9, ":OUTP1:IMP:EXT", "1000000",
                                       ":OUTP1"};
    return m;
}

ScpiPulseGenerator::ScpiPulseGenerator(std::shared_ptr<ScpiSession> session, const PulseGeneratorModel& model)
    : PulseGenerator(std::move(session)), m_(model) {}

void ScpiPulseGenerator::configure(const PulseSettings& s) {
    check_settings(s, m_.min_load_ohm, m_.max_load_ohm);  // everything before the first byte goes out
    session_->write_checked(std::string(m_.pulse_function));
    set_load(s.load);
    set_width(s.width);
    set_amplitude(s.amplitude);
    for (std::string_view c : m_.burst) session_->write_checked(std::string(c));
}

void ScpiPulseGenerator::set_amplitude(Volt a) {
    check_range(name(), model(), "|pulse amplitude|", std::abs(a.si()), limits().min_amplitude.si(),
                max_amplitude().si(), "V");
    const double v = a.si();
    // Between pulses the output rests at 0 V: the low level with NORM (0 -> +A), the high level with INV
    // (levels -A..0 inverted about the offset: rests at 0, pulses to -A). A change must not move that level
    // while the output is on: the device would see a DC level for milliseconds instead of a pulse.
    const bool output_on = output_on_;
    try {
        if (levels_ && (*levels_ >= 0) == (v >= 0)) {
            // Same sign: only the pulsed level moves (HIGH with NORM, LOW with INV); the resting level stays 0 V.
            session_->write_checked(cmd(fmt::format("{}:{}", m_.amplitude, v >= 0 ? "HIGH" : "LOW"), scpi_number(v)));
        } else {
            // First setting or a change of sign: the sequence passes through other resting levels, so the
            // output is off while it runs. Offset to 0 first so no intermediate level leaves the output window.
            if (output_on) set_output(false);
            session_->write_checked(cmd(m_.offset, "0"));
            session_->write_checked(cmd(m_.amplitude, scpi_number(std::abs(v))));
            session_->write_checked(cmd(m_.offset, scpi_number(v / 2.0)));
            session_->write_checked(cmd(m_.polarity, v >= 0 ? "NORM" : "INV"));
            if (output_on) set_output(true);
        }
    } catch (...) {
        levels_.reset();  // unknown now: the next change takes the full sequence
        throw;
    }
    levels_ = v;
    remember("pulse_amplitude", v, "V");
}

void ScpiPulseGenerator::set_width(Second w) {
    check_range(name(), model(), "pulse width", w.si(), limits().min_width.si(), limits().max_width.si(), "s");
    const std::string period = cmd(m_.period, scpi_number(period_for(w.si())));
    const std::string width = cmd(m_.width, scpi_number(w.si()));
    // Keep width < period at every step: a longer pulse needs the longer period first.
    double old_width = m_.reset_width_s;
    for (const auto& st : settings())
        if (st.name == "pulse_width") old_width = st.value;
    session_->write_checked(w.si() > old_width ? period : width);
    session_->write_checked(w.si() > old_width ? width : period);
    remember("pulse_width", w.si(), "s");
}

void ScpiPulseGenerator::set_load(std::optional<Ohm> load) {
    if (load) check_range(name(), model(), "load", load->si(), m_.min_load_ohm, m_.max_load_ohm, "Ohm");
    session_->write_checked(cmd(m_.load, load ? scpi_number(load->si()) : std::string(m_.high_z)));
    load_ = load;
    remember("load", load ? load->si() : INFINITY, "Ohm");
}

void ScpiPulseGenerator::set_output(bool on) {
    output_on_ = true;  // until confirmed off: a failed OFF may have left it on
    session_->write_checked(cmd(m_.output, on ? "ON" : "OFF"));
    output_on_ = on;
    remember("output", on ? 1 : 0, "");
}

void ScpiPulseGenerator::trigger() {
    session_->write("*TRG");
    session_->sync();
    // An instrument whose trigger source is no longer the bus (front panel, a reset) ignores *TRG and queues
    // -211 "Trigger ignored": the pulse did not happen and must not be recorded as if it had.
    session_->check_errors("*TRG");
}

void ScpiPulseGenerator::safe_state() {
    confirm_output_off({cmd(m_.output, "OFF")}, std::string(m_.output) + "?");
    output_on_ = false;
    remember("output", 0, "");
}

}  // namespace mtjlab::drivers
