// Every driver against scripted dialogues: the exact commands of docs/instruments.md, in order, and
// nothing else; every limit is checked before the first byte is written.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/gaussmeter/lakeshore_425.hpp"
#include "mtjlab/drivers/lockin/srs_lockin.hpp"
#include "mtjlab/drivers/magnet/keithley_2400.hpp"
#include "mtjlab/drivers/magnet/kepco_bop.hpp"
#include "mtjlab/drivers/pulse_gen/scpi_pulse_generator.hpp"
#include "mtjlab/drivers/registry.hpp"
#include "scripted.hpp"

using namespace mtjlab;
using namespace mtjlab::drivers;
using namespace mtjlab::units;
using mtjlab::test::Step;
using Script = std::deque<Step>;

namespace {

// A command followed by an empty error queue (write_checked).
void ok(Script& s, std::string cmd) {
    s.push_back({std::move(cmd), std::nullopt});
    s.push_back({"SYST:ERR?", "+0,\"No error\""});
}
void w(Script& s, std::string cmd) { s.push_back({std::move(cmd), std::nullopt}); }
void q(Script& s, std::string cmd, std::string reply) { s.push_back({std::move(cmd), std::move(reply)}); }

test::Scripted session_for(std::string_view model, Script script, std::string name) {
    return test::scripted(std::move(script), session_options_for(find_model(model), std::move(name)));
}

}  // namespace

TEST_CASE("Keysight 33500B: configure a 200 ns, +1 V pulse into 50 Ohm and fire it", "[unit][drivers][pulse_gen]") {
    Script s;
    ok(s, "FUNC PULS");
    ok(s, "OUTP:LOAD 50");
    ok(s, "FUNC:PULS:WIDT 2e-07");  // narrower than the *RST 100 us: width first, then period
    ok(s, "FUNC:PULS:PER 1e-06");
    ok(s, "VOLT:OFFS 0");
    ok(s, "VOLT 1");
    ok(s, "VOLT:OFFS 0.5");
    ok(s, "OUTP:POL NORM");
    ok(s, "BURS:MODE TRIG");
    ok(s, "BURS:NCYC 1");
    ok(s, "TRIG:SOUR BUS");
    ok(s, "BURS:STAT ON");
    ok(s, "OUTP ON");
    w(s, "*TRG");
    q(s, "*OPC?", "1");
    q(s, "SYST:ERR?", "+0,\"No error\"");  // a trigger ignored would be -211
    // Same sign: only the pulsed level moves, the output keeps resting at 0 V.
    ok(s, "VOLT:HIGH 2");
    // Negative pulse: levels -A..0 inverted; the change of sign passes through other resting levels, so the
    // output is off meanwhile.
    ok(s, "OUTP OFF");
    ok(s, "VOLT:OFFS 0");
    ok(s, "VOLT 1.5");
    ok(s, "VOLT:OFFS -0.75");
    ok(s, "OUTP:POL INV");
    ok(s, "OUTP ON");
    ok(s, "VOLT:LOW -0.5");
    // A wider pulse: the period grows first.
    ok(s, "FUNC:PULS:PER 0.002");
    ok(s, "FUNC:PULS:WIDT 0.001");
    w(s, "OUTP OFF");
    q(s, "OUTP?", "0");  // safe_state reads the output state back
    auto sc = session_for("keysight_33500b", s, "pulse_gen");
    Keysight33500B pg(sc.session);
    pg.configure({volts(1.0), nanoseconds(200), ohms(50)});
    pg.set_output(true);
    pg.trigger();
    pg.set_amplitude(volts(2.0));
    pg.set_amplitude(volts(-1.5));
    pg.set_amplitude(volts(-0.5));
    pg.set_width(milliseconds(1));
    pg.safe_state();
    CHECK(sc.t->remaining() == 0);
    const auto st = pg.settings();
    CHECK(std::any_of(st.begin(), st.end(), [](const Setting& x) { return x.name == "pulse_amplitude" && x.value == -0.5; }));
}

TEST_CASE("Keysight 33500B: limits are checked before any I/O", "[unit][drivers][pulse_gen]") {
    auto sc = session_for("keysight_33500b", {}, "pulse_gen");
    Keysight33500B pg(sc.session);
    CHECK_THROWS_AS(pg.set_amplitude(volts(5.5)), LimitError);   // 50 Ohm window is +-5 V
    CHECK_THROWS_AS(pg.set_amplitude(volts(-5.5)), LimitError);
    CHECK_THROWS_AS(pg.set_amplitude(volts(0.0)), LimitError);   // below 1 mV
    CHECK_THROWS_AS(pg.set_width(nanoseconds(10)), LimitError);  // below 16 ns
    CHECK_THROWS_AS(pg.set_width(seconds(std::nan(""))), LimitError);
    CHECK_THROWS_AS(pg.configure({volts(1), nanoseconds(5), ohms(50)}), LimitError);
    CHECK_THROWS_AS(pg.configure({volts(7), nanoseconds(200), ohms(50)}), LimitError);
    CHECK(sc.t->writes() == 0);
    try {
        pg.set_amplitude(volts(6));
    } catch (const LimitError& e) {
        CHECK_THAT(e.what(), Catch::Contains("pulse_gen"));
        CHECK_THAT(e.what(), Catch::Contains("keysight_33500b"));
    }
    CHECK(pg.max_amplitude() == volts(5));
}

TEST_CASE("Keysight 33500B: high-Z load allows 10 V; instrument errors surface", "[unit][drivers][pulse_gen]") {
    Script s;
    ok(s, "OUTP:LOAD INF");
    ok(s, "VOLT:OFFS 0");
    ok(s, "VOLT 8");
    w(s, "VOLT:OFFS 4");
    q(s, "SYST:ERR?", "-221,\"Settings conflict\"");
    q(s, "SYST:ERR?", "+0,\"No error\"");
    // The levels are unknown after the failure: the next change takes the whole sequence, not VOLT:HIGH.
    ok(s, "VOLT:OFFS 0");
    ok(s, "VOLT 7");
    ok(s, "VOLT:OFFS 3.5");
    ok(s, "OUTP:POL NORM");
    auto sc = session_for("keysight_33500b", s, "pulse_gen");
    Keysight33500B pg(sc.session);
    pg.set_load(std::nullopt);
    CHECK(pg.max_amplitude() == volts(10));
    CHECK_THROWS_WITH(pg.set_amplitude(volts(8)),
                      Catch::Contains("-221") && Catch::Contains("writing 'VOLT:OFFS 4' to pulse_gen"));
    pg.set_amplitude(volts(7));
    CHECK(sc.t->remaining() == 0);
}

TEST_CASE("pulse generator: a trigger the instrument ignored is an error, not a pulse", "[unit][drivers][pulse_gen]") {
    // Trigger source changed at the front panel or by a reset: *TRG is ignored (-211) and *OPC? still says 1.
    Script s;
    w(s, "*TRG");
    q(s, "*OPC?", "1");
    q(s, "SYST:ERR?", "-211,\"Trigger ignored\"");
    q(s, "SYST:ERR?", "+0,\"No error\"");
    auto sc = session_for("keysight_33500b", s, "pulse_gen");
    Keysight33500B pg(sc.session);
    CHECK_THROWS_WITH(pg.trigger(), Catch::Contains("-211") && Catch::Contains("after '*TRG' to pulse_gen"));
    CHECK(sc.t->remaining() == 0);
}

TEST_CASE("Agilent 81150A: configure, fire, safe state", "[unit][drivers][pulse_gen]") {
    Script s;
    ok(s, ":FUNC1 PULS");
    ok(s, ":OUTP1:IMP:EXT 50");
    ok(s, ":PULS:WIDT1 2e-07");
    ok(s, ":PULS:PER1 1e-06");
    ok(s, ":VOLT1:OFFS 0");
    ok(s, ":VOLT1 2");
    ok(s, ":VOLT1:OFFS -1");
    ok(s, ":OUTP1:POL INV");
    ok(s, ":ARM:SOUR1 MAN");
    ok(s, ":TRIG:COUN1 1");
    ok(s, ":OUTP1 ON");
    w(s, "*TRG");
    q(s, "*OPC?", "1");
    q(s, "SYST:ERR?", "+0,\"No error\"");  // a trigger ignored would be -211
    ok(s, ":VOLT1:LOW -1");
    w(s, ":OUTP1 OFF");
    q(s, ":OUTP1?", "0");  // safe_state reads the output state back
    auto sc = session_for("agilent_81150a", s, "pulse_gen");
    Agilent81150A pg(sc.session);
    CHECK_THROWS_AS(pg.set_amplitude(volts(2.6)), LimitError);  // +-2.5 V into 50 Ohm
    CHECK_THROWS_AS(pg.set_amplitude(volts(0.01)), LimitError); // below 50 mV
    CHECK_THROWS_AS(pg.set_width(nanoseconds(4)), LimitError);  // below 4.1 ns
    CHECK(sc.t->writes() == 0);
    pg.configure({volts(-2.0), nanoseconds(200), ohms(50)});
    pg.set_output(true);
    pg.trigger();
    pg.set_amplitude(volts(-1.0));
    pg.safe_state();
    CHECK(sc.t->remaining() == 0);
}

TEST_CASE("SR830: reference, sensitivity and time-constant index tables, SNAP?", "[unit][drivers][lockin]") {
    Script s;
    w(s, "SLVL 0.100");
    w(s, "SLVL 0.010");  // 10.9 mV: toward zero, never above what was asked (a limit may lie between steps)
    w(s, "SLVL 0.004");  // 4.0 mV stays 4 mV (no floating-point step down)
    w(s, "SLVL 0.007");
    w(s, "FMOD 1");
    w(s, "FREQ 13.7");
    w(s, "SENS 17");   // 1 mV
    w(s, "SENS 18");   // 1.5 mV -> 2 mV (smallest full scale above)
    w(s, "SENS 0");    // 2 nV
    w(s, "SENS 26");   // 1 V
    w(s, "OFLT 9");    // 300 ms
    w(s, "OFLT 10");   // 0.5 s -> 1 s
    w(s, "OFLT 0");    // 10 us
    w(s, "OFLT 19");   // 30 ks
    q(s, "SENS?", "17");
    q(s, "OFLT?", "9");
    q(s, "SNAP? 1,2,3,4", "1.0e-4,-2.0e-5,1.0198e-4,-11.31");
    w(s, "SLVL 0.004");
    q(s, "SLVL?", "0.004");  // safe_state reads it back (the SR830 has no *OPC?)
    auto sc = session_for("srs_sr830", s, "lockin");
    SrsSr830 li(sc.session);
    li.set_reference_amplitude(volts(0.1));
    li.set_reference_amplitude(volts(0.0109));
    li.set_reference_amplitude(volts(0.004));
    li.set_reference_amplitude(volts(0.007));
    li.set_reference_frequency(hertz(13.7));
    li.set_sensitivity(millivolts(1));
    li.set_sensitivity(millivolts(1.5));
    li.set_sensitivity(Volt(2e-9));
    li.set_sensitivity(volts(1));
    li.set_time_constant(milliseconds(300));
    li.set_time_constant(milliseconds(500));
    li.set_time_constant(microseconds(10));
    li.set_time_constant(seconds(30e3));
    CHECK(li.sensitivity() == millivolts(1));
    CHECK(li.time_constant().si() == Approx(0.3));
    const auto r = li.read();
    CHECK(r.x.si() == 1.0e-4);
    CHECK(r.y.si() == -2.0e-5);
    CHECK(r.r.si() == 1.0198e-4);
    CHECK(r.theta_rad == Approx(-11.31 * std::numbers::pi / 180));
    li.safe_state();
    CHECK(sc.t->remaining() == 0);
}

TEST_CASE("SR830: limits before I/O and malformed SNAP replies", "[unit][drivers][lockin]") {
    Script s;
    q(s, "SNAP? 1,2,3,4", "1,2,3");
    q(s, "SENS?", "31");
    auto sc = session_for("srs_sr830", s, "lockin");
    SrsSr830 li(sc.session);
    CHECK_THROWS_AS(li.set_reference_amplitude(volts(0.001)), LimitError);
    CHECK_THROWS_AS(li.set_reference_amplitude(volts(5.1)), LimitError);
    CHECK_THROWS_AS(li.set_reference_frequency(hertz(103e3)), LimitError);
    CHECK_THROWS_AS(li.set_sensitivity(volts(1.5)), LimitError);
    CHECK_THROWS_AS(li.set_time_constant(seconds(40e3)), LimitError);
    CHECK_THROWS_AS(li.set_sensitivity_raw(27), LimitError);
    CHECK(sc.t->writes() == 0);
    CHECK_THROWS_WITH(li.read(), Catch::Contains("3 values"));
    CHECK_THROWS_AS(li.sensitivity(), ProtocolError);
}

TEST_CASE("SR860: descending SCAL table, OFLT from 1 us, SNAP? 0,1,3", "[unit][drivers][lockin]") {
    Script s;
    w(s, "SLVL 0.1");
    w(s, "RSRC 0");
    w(s, "FREQ 1000");
    w(s, "SCAL 0");    // 1 V
    w(s, "SCAL 9");    // 1 mV
    w(s, "SCAL 8");    // 1.5 mV -> 2 mV
    w(s, "SCAL 27");   // 1 nV
    w(s, "OFLT 0");    // 1 us
    w(s, "OFLT 12");   // 1 s
    w(s, "OFLT 21");   // 30 ks
    q(s, "SCAL?", "9");
    q(s, "OFLT?", "12");
    q(s, "SNAP? 0,1,3", "3e-4,4e-4,53.13");
    w(s, "SLVL 1e-09");
    q(s, "SLVL?", "1.0000E-09");  // safe_state reads it back
    auto sc = session_for("srs_sr860", s, "lockin");
    SrsSr860 li(sc.session);
    li.set_reference_amplitude(volts(0.1));
    li.set_reference_frequency(hertz(1000));
    li.set_sensitivity(volts(1));
    li.set_sensitivity(millivolts(1));
    li.set_sensitivity(millivolts(1.5));
    li.set_sensitivity(Volt(1e-9));
    li.set_time_constant(microseconds(1));
    li.set_time_constant(seconds(0.7));
    li.set_time_constant(seconds(30e3));
    CHECK(li.sensitivity() == millivolts(1));
    CHECK(li.time_constant() == seconds(1));
    const auto r = li.read();
    CHECK(r.r.si() == Approx(5e-4));
    CHECK(r.theta_rad == Approx(53.13 * std::numbers::pi / 180));
    li.safe_state();
    CHECK(sc.t->remaining() == 0);
    CHECK_THROWS_AS(li.set_reference_amplitude(volts(2.1)), LimitError);
    CHECK_THROWS_AS(li.set_reference_frequency(hertz(600e3)), LimitError);
    CHECK_THROWS_AS(li.set_sensitivity(volts(2)), LimitError);
}

TEST_CASE("lock-in autorange moves to the range that holds R", "[unit][drivers][lockin]") {
    Script s;
    q(s, "SENS?", "26");                                  // 1 V full scale
    q(s, "SNAP? 1,2,3,4", "1e-4,0,1e-4,0");               // R = 100 uV: 1e-4 of full scale
    w(s, "SENS 15");                                      // smallest >= 100 uV / 0.9 = 111 uV: 200 uV
    q(s, "SNAP? 1,2,3,4", "1.2e-4,0,1.2e-4,0");           // 60 % of 200 uV: done
    auto sc = session_for("srs_sr830", s, "lockin");
    SrsSr830 li(sc.session);
    CHECK(li.autorange() == Volt(200e-6));
    CHECK(sc.t->remaining() == 0);
}

TEST_CASE("lock-in autorange steps up while overloaded, then settles on the best range", "[unit][drivers][lockin]") {
    Script s;
    q(s, "SCAL?", "9");                                   // SR860: 1 mV full scale
    q(s, "SNAP? 0,1,3", "1e-3,0,0");                      // clipped at full scale: overload
    w(s, "SCAL 6");                                       // x10: 10 mV
    q(s, "SNAP? 0,1,3", "1.09e-3,0,0");                   // 1.09 mV: best is 2 mV (55 %)
    w(s, "SCAL 8");
    q(s, "SNAP? 0,1,3", "1.09e-3,0,0");
    auto sc = session_for("srs_sr860", s, "lockin");
    SrsSr860 li(sc.session);
    CHECK(li.autorange() == millivolts(2));
    CHECK(sc.t->remaining() == 0);
}

TEST_CASE("Kepco BOP: current mode, compliance, ramp, measure, safe state", "[unit][drivers][magnet]") {
    Script s;
    q(s, "*IDN?", "KEPCO,BOP 20-5M,E1234,2.05");
    ok(s, "FUNC:MODE CURR");
    ok(s, "VOLT 10");
    ok(s, "OUTP ON");
    q(s, "CURR?", "+0.0000E+00");  // the first ramp starts from the instrument's own setpoint
    ok(s, "CURR 0.5");
    ok(s, "CURR 1");
    ok(s, "CURR 1.5");
    ok(s, "CURR 2");
    q(s, "MEAS:CURR?", "+1.9990E+00");
    w(s, "CURR 0");
    w(s, "OUTP OFF");
    q(s, "OUTP?", "0");  // safe_state reads the output state back
    auto sc = session_for("kepco_bop", s, "magnet");
    KepcoBop m(sc.session);
    m.identify_model();
    CHECK(m.limits().max_current == amperes(5));
    m.configure_current_mode();
    m.set_compliance(volts(10));
    m.set_output(true);
    std::vector<double> waits;
    m.ramp_to(amperes(2), 1.0, amperes(0.5), [&](Second dt) { waits.push_back(dt.si()); });
    CHECK(waits == std::vector<double>{0.5, 0.5, 0.5});
    CHECK(m.setpoint() == amperes(2));
    CHECK(m.measure_current().si() == Approx(1.999));
    m.safe_state();
    CHECK(sc.t->remaining() == 0);
}

TEST_CASE("Kepco BOP: model and user limits before I/O", "[unit][drivers][magnet]") {
    auto sc = session_for("kepco_bop", {}, "magnet");
    KepcoBop m(sc.session, "BOP 20-10");
    CHECK_THROWS_AS(m.set_current(amperes(10.5)), LimitError);
    m.set_current_limit(amperes(3));
    CHECK_THROWS_AS(m.set_current(amperes(-3.1)), LimitError);
    CHECK_THROWS_AS(m.ramp_to(amperes(4), 1.0, amperes(0.1), [](Second) {}), LimitError);
    CHECK_THROWS_AS(m.ramp_to(amperes(1), 0.0, amperes(0.1), [](Second) {}), LimitError);
    CHECK_THROWS_AS(m.set_compliance(volts(25)), LimitError);
    CHECK_THROWS_AS(m.set_current_limit(amperes(11)), LimitError);
    CHECK(sc.t->writes() == 0);
    CHECK_THROWS_AS(KepcoBop(sc.session, "BOP 7-7"), InputError);
}

TEST_CASE("Kepco BOP: a ramp starts from a setpoint read back, never from a reply no supply can hold",
          "[unit][drivers][magnet]") {
    Script s;
    q(s, "CURR?", "9.91E37");  // an overflow marker
    q(s, "CURR?", "-2.0E+38");
    w(s, "CURR 1");            // the command goes out and the instrument reports an error: unknown now
    q(s, "SYST:ERR?", "-222,\"Data out of range\"");
    q(s, "SYST:ERR?", "+0,\"No error\"");
    q(s, "CURR?", "1.5");
    ok(s, "CURR 1");           // ramp_to reads the setpoint back first and ramps from 1.5 A
    auto sc = session_for("kepco_bop", s, "magnet");
    KepcoBop m(sc.session, "BOP 20-10");
    CHECK_THROWS_WITH(m.read_setpoint(), Catch::Contains("not a current this supply can hold"));
    CHECK_THROWS_AS(m.ramp_to(amperes(0), 1.0, amperes(0.5), [](Second) {}), InstrumentError);
    CHECK_THROWS_AS(m.set_current(amperes(1)), InstrumentError);
    m.ramp_to(amperes(1), 1.0, amperes(0.5), [](Second) {});
    CHECK(m.setpoint() == amperes(1));
    CHECK(sc.t->remaining() == 0);
}

TEST_CASE("Kepco BOP: an unknown *IDN? model is an InstrumentError", "[unit][drivers][magnet]") {
    Script s;
    q(s, "*IDN?", "KEPCO,BOP 999-1,E1,1");
    auto sc = session_for("kepco_bop", s, "magnet");
    KepcoBop m(sc.session);
    CHECK_THROWS_AS(m.identify_model(), InstrumentError);
}

TEST_CASE("Keithley 2400: current source with compliance, power envelope", "[unit][drivers][magnet]") {
    Script s;
    ok(s, ":SOUR:FUNC CURR");
    ok(s, ":SOUR:CURR:MODE FIX");
    ok(s, ":SENS:FUNC \"CURR\"");
    ok(s, ":FORM:ELEM CURR");
    ok(s, ":SENS:VOLT:PROT 20");
    ok(s, ":OUTP ON");
    ok(s, ":SOUR:CURR -0.5");
    q(s, ":READ?", "-4.99990E-01");
    w(s, ":SOUR:CURR 0");
    w(s, ":OUTP OFF");
    q(s, ":OUTP?", "0");  // safe_state reads the output state back
    q(s, ":SOUR:CURR?", "+1.000000E-01");
    ok(s, ":SOUR:CURR 0.05");
    ok(s, ":SOUR:CURR 0");
    auto sc = session_for("keithley_2400", s, "magnet");
    Keithley2400 k(sc.session);
    k.configure_current_mode();
    k.set_compliance(volts(20));
    k.set_output(true);
    k.set_current(amperes(-0.5));
    CHECK_THROWS_AS(k.set_compliance(volts(50)), LimitError);   // 21 V above 105 mA
    CHECK_THROWS_AS(k.set_current(amperes(1.1)), LimitError);
    CHECK(k.measure_current().si() == Approx(-0.49999));
    k.safe_state();
    // A fresh driver ramps from what the instrument is programmed to, not from an assumed 0 A.
    Keithley2400 fresh(sc.session);
    fresh.ramp_to(amperes(0), 10.0, amperes(0.05), [](Second) {});
    CHECK(sc.t->remaining() == 0);
}

TEST_CASE("Lake Shore 425: units, range, autorange, field in tesla", "[unit][drivers][gaussmeter]") {
    Script s;
    q(s, "UNIT?", "1");
    q(s, "RDGFIELD?", "+123.45");   // gauss
    w(s, "UNIT 2");
    q(s, "RDGFIELD?", "-0.0123");   // tesla
    w(s, "RANGE 2");                // 20 mT -> 35 mT (350 G)
    w(s, "RANGE 4");
    w(s, "AUTO 1");
    auto sc = session_for("lakeshore_425", s, "gaussmeter");
    LakeShore425 g(sc.session);
    CHECK(g.read_field().si() == Approx(0.012345));
    g.set_units_tesla();
    CHECK(g.read_field().si() == Approx(-0.0123));
    g.set_range(millitesla(20));
    g.set_range(tesla(3.5));
    g.set_autorange(true);
    CHECK(sc.t->remaining() == 0);
    CHECK_THROWS_AS(g.set_range(tesla(4)), LimitError);
}

TEST_CASE("Lake Shore 425 uses CR LF and has no SYST:ERR?", "[unit][drivers][gaussmeter]") {
    const auto& m = find_model("LakeShore425");
    CHECK(m.termination.write == "\r\n");
    CHECK_FALSE(m.has_error_queue);
    REQUIRE(m.serial);
    CHECK(m.serial->baud == 57600);
    CHECK(m.serial->data_bits == 7);
    CHECK(m.serial->parity == SerialSettings::Parity::odd);
}

TEST_CASE("registry makes every model by any spelling and refuses wrong roles", "[unit][drivers][registry]") {
    auto sc = test::scripted({});
    CHECK(make_pulse_generator("Keysight33500B", sc.session)->model() == "keysight_33500b");
    CHECK(make_pulse_generator("81150A", sc.session)->model() == "agilent_81150a");
    CHECK(make_lock_in("SR830", sc.session)->model() == "srs_sr830");
    CHECK(make_lock_in("srs-sr860", sc.session)->model() == "srs_sr860");
    CHECK(make_magnet_supply("KepcoBop", sc.session)->model() == "kepco_bop");
    CHECK(make_magnet_supply("keithley_2400", sc.session)->model() == "keithley_2400");
    CHECK(make_gaussmeter("LAKESHORE 425", sc.session)->model() == "lakeshore_425");
    CHECK_THROWS_WITH(make_lock_in("keysight_33500b", sc.session), Catch::Contains("is a pulse_gen"));
    CHECK_THROWS_WITH(find_model("hp3458a"), Catch::Contains("known: keysight_33500b"));
    CHECK(known_models().size() == 7);
}

TEST_CASE("safe states are sent again until the instrument confirms them, then the failure propagates",
          "[unit][drivers][safety]") {
    SECTION("pulse generator: a lost read-back, then an output still on (OUTP OFF refused), then off") {
        Script s;
        w(s, "OUTP OFF");
        w(s, "OUTP?");  // no reply: a timeout
        w(s, "OUTP OFF");
        q(s, "OUTP?", "1");  // *OPC? would have said 1 here too
        w(s, "OUTP OFF");
        q(s, "OUTP?", "0");
        auto sc = session_for("keysight_33500b", s, "pulse_gen");
        Keysight33500B pg(sc.session);
        pg.safe_state();
        CHECK(sc.t->remaining() == 0);
    }
    SECTION("SR830: a read-back that is not the floor amplitude, then garbage, then the floor") {
        Script s;
        w(s, "SLVL 0.004");
        q(s, "SLVL?", "0.100");
        w(s, "SLVL 0.004");
        q(s, "SLVL?", "\x9f\x80");
        w(s, "SLVL 0.004");
        q(s, "SLVL?", "0.004");
        auto sc = session_for("srs_sr830", s, "lockin");
        SrsSr830 li(sc.session);
        li.safe_state();
        CHECK(sc.t->remaining() == 0);
    }
    SECTION("Kepco BOP: never confirmed: three attempts, then the timeout names the instrument") {
        Script s;
        for (int k = 0; k < 3; ++k) {
            w(s, "CURR 0");
            w(s, "OUTP OFF");
            w(s, "OUTP?");
        }
        auto sc = session_for("kepco_bop", s, "magnet");
        KepcoBop m(sc.session);
        try {
            m.safe_state();
            FAIL("safe_state returned without a confirmation");
        } catch (const TimeoutError& e) {
            CHECK(std::string(e.what()).find("magnet") != std::string::npos);
        }
        CHECK(sc.t->remaining() == 0);
    }
    SECTION("a confirming query other than *OPC? without a check of its reply is refused before any I/O") {
        Script s;
        auto sc = session_for("srs_sr830", s, "lockin");
        CHECK_THROWS_AS(sc.session->write_confirmed({"SLVL 0.004"}, "SLVL?"), InputError);
        CHECK(sc.t->remaining() == 0);
    }
}
