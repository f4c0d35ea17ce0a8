// Each virtual instrument in process: identity, settings read back, documented errors, and the shared
// probe station (magnet current -> field -> gaussmeter; pulse -> device; lock-in -> junction resistance).
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "mtjlab/core/error.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"

using namespace mtjlab;
using namespace mtjlab::devices_sim;

namespace {

struct Lab {
    VirtualLab lab;
    explicit Lab(LabOptions o = {}) : lab(std::move(o)) {}
    std::string q(const std::string& name, const std::string& msg) {
        auto r = lab.handler(name)(msg);
        if (!r) FAIL("no reply from " << name << " to '" << msg << "'");
        return *r;
    }
    void w(const std::string& name, const std::string& msg) {
        auto r = lab.handler(name)(msg);
        if (r) FAIL("unexpected reply from " << name << " to '" << msg << "': " << *r);
    }
    double num(const std::string& name, const std::string& msg) { return std::stod(q(name, msg)); }
    Second now() {
        std::lock_guard l(lab.bench()->mutex());
        return lab.bench()->now_locked();
    }
    Tesla field() {
        std::lock_guard l(lab.bench()->mutex());
        return lab.bench()->field_locked();
    }
    std::uint64_t pulses() {
        std::lock_guard l(lab.bench()->mutex());
        return lab.bench()->pulses_applied_locked();
    }
};

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, sep)) out.push_back(item);
    return out;
}

}  // namespace

TEST_CASE("*IDN? answers in each model's real format", "[sim][vlab]") {
    Lab l;
    const auto pg = split(l.q("pulse_gen", "*IDN?"), ',');
    REQUIRE(pg.size() == 4);
    CHECK(pg[0] == "Keysight Technologies");
    CHECK(pg[1] == "33522B");
    CHECK(split(l.q("pulse_gen2", "*idn?"), ',')[1] == "81150A");
    CHECK(l.q("lockin", "*IDN?").rfind("Stanford_Research_Systems,SR830,", 0) == 0);
    CHECK(l.q("lockin2", "*IDN?").rfind("Stanford_Research_Systems,SR860,", 0) == 0);
    CHECK(l.q("magnet", "*IDN?").rfind("KEPCO,BOP 20-10M", 0) == 0);
    CHECK(l.q("magnet2", "*IDN?").rfind("KEITHLEY INSTRUMENTS INC.,MODEL 2400,", 0) == 0);
    CHECK(l.q("gaussmeter", "*IDN?").rfind("LSCI,MODEL425,", 0) == 0);
    for (const auto& e : l.lab.endpoints()) CHECK(split(e.idn, ',').size() == 4);
}

TEST_CASE("33522B: pulse settings read back, limits give SCPI errors, a trigger pulses the device", "[sim][vlab]") {
    Lab l;
    const std::string pg = "pulse_gen";
    l.w(pg, "*RST;*CLS");
    l.w(pg, "SOUR1:FUNC PULS;:FUNC:PULS:PER 1.5 S;WIDT 200 NS;TRAN 10 NS");
    l.w(pg, "VOLT:LOW 0;:VOLT:HIGH 0.5");
    CHECK(l.q(pg, "FUNC?") == "PULS");
    CHECK(l.num(pg, "SOURce1:FUNCtion:PULSe:WIDTh?") == Approx(200e-9));
    CHECK(l.num(pg, "FUNC:PULS:PER?") == Approx(1.5));
    CHECK(l.num(pg, "VOLT?") == Approx(0.5));
    CHECK(l.num(pg, "VOLT:OFFS?") == Approx(0.25));
    CHECK(l.q(pg, "SYST:ERR?") == "0,\"No error\"");
}

TEST_CASE("33522B error queue and trigger", "[sim][vlab]") {
    Lab l;
    const std::string pg = "pulse_gen";
    l.w(pg, "FUNC PULS;FUNC:PULS:PER 1 S;WIDT 200 NS;:VOLT:LOW 0;:VOLT:HIGH 0.8;:OUTP:LOAD INF");
    CHECK(l.q(pg, "SYST:ERR?") == "0,\"No error\"");
    l.w(pg, "FUNC:PULS:WIDT 1 NS");  // below the 16 ns minimum
    CHECK(l.q(pg, "SYST:ERR?").rfind("-222,\"Data out of range", 0) == 0);
    l.w(pg, "VOLT:HIGH 50");
    CHECK(l.q(pg, "SYST:ERR?").rfind("-222,", 0) == 0);
    l.w(pg, "OUTP3 ON");  // two channels only
    CHECK(l.q(pg, "SYST:ERR?").rfind("-114,", 0) == 0);
    l.w(pg, "FUNC:PULS:WID 1");  // neither the short nor the long form
    CHECK(l.q(pg, "SYST:ERR?").rfind("-113,", 0) == 0);
    CHECK(l.q(pg, "SYST:ERR?") == "0,\"No error\"");
    CHECK(l.num(pg, "*ESR?") > 0);
    CHECK(l.q(pg, "*ESR?") == "0");

    l.w(pg, "BURS:MODE TRIG;NCYC 3;STAT ON;:TRIG:SOUR BUS");
    const auto p0 = l.pulses();
    l.w(pg, "*TRG");
    CHECK(l.pulses() == p0);  // output still off: nothing reaches the device
    l.w(pg, "OUTP ON");
    const auto t0 = l.now();
    l.w(pg, "*TRG");
    CHECK(l.pulses() == p0 + 3);
    CHECK((l.now() - t0).si() > 2.0);  // three pulses 1 s apart
    CHECK(l.q(pg, "*OPC?") == "1");
}

TEST_CASE("single-channel 33511B rejects channel 2", "[sim][vlab]") {
    LabOptions o;
    o.instruments = {{"pg", "33511B", false}};
    Lab l(o);
    l.w("pg", "SOUR2:FREQ 1000");
    CHECK(l.q("pg", "SYST:ERR?").rfind("-114,", 0) == 0);
}

TEST_CASE("81150A: channel suffix at the end of the keyword, manual arm and software trigger", "[sim][vlab]") {
    Lab l;
    const std::string pg = "pulse_gen2";
    l.w(pg, ":FUNC2 PULS;:PULS:PER2 1 S;:PULS:WIDT2 100 NS;:VOLT2:HIGH 1.2;:VOLT2:LOW 0");
    CHECK(l.q(pg, ":FUNC2?") == "PULS");
    CHECK(l.num(pg, ":PULS:WIDT2?") == Approx(100e-9));
    CHECK(l.num(pg, ":VOLT2?") == Approx(1.2));
    CHECK(l.q(pg, ":SYST:ERR?") == "0,\"No error\"");
    l.w(pg, ":ARM:SOUR2 MAN;:TRIG:COUN2 2;:OUTP2 ON");
    const auto p0 = l.pulses();
    l.w(pg, ":TRIG");
    CHECK(l.pulses() == p0 + 2);
    l.w(pg, "*TRG");
    CHECK(l.pulses() == p0 + 4);
    l.w(pg, ":PULS:WIDT2 1 NS");
    CHECK(l.q(pg, ":SYST:ERR?").rfind("-222,", 0) == 0);
}

TEST_CASE("pulse generators refuse edges that do not fit in the pulse, so every accepted pulse can be fired",
          "[sim][vlab]") {
    // Fuzz finding (session 6, fuzz_vinstrument): an 81150A with a 10 ns pulse and 100 ns edges accepted the
    // settings, and its trigger made the probe station refuse the pulse with an exception that stopped the
    // lab's io thread. The rule (33500B guide): each edge <= 0.625 x width, refused with -221.
    Lab l;
    SECTION("81150A") {
        const std::string pg = "pulse_gen2";
        l.w(pg, ":FUNC1 PULS;:PULS:PER1 1E-6;:PULS:WIDT1 1E-8;:VOLT1:HIGH 1.0;:VOLT1:LOW 0");
        CHECK(l.q(pg, ":SYST:ERR?") == "0,\"No error\"");
        l.w(pg, "PULS:TRAN 1e-7");
        CHECK(l.q(pg, ":SYST:ERR?").rfind("-221,", 0) == 0);
        CHECK(l.num(pg, ":PULS:TRAN1?") == Approx(2.5e-9));  // refused: unchanged
        l.w(pg, ":PULS:TRAN1:TRA 6.25E-9");                   // exactly 0.625 x 10 ns: accepted
        CHECK(l.q(pg, ":SYST:ERR?") == "0,\"No error\"");
        l.w(pg, ":PULS:WIDT1 9E-9");                          // a narrower pulse no longer holds that edge
        CHECK(l.q(pg, ":SYST:ERR?").rfind("-221,", 0) == 0);
        CHECK(l.num(pg, ":PULS:WIDT1?") == Approx(1e-8));
        l.w(pg, ":ARM:SOUR1 MAN;:TRIG:COUN1 1;:OUTP1 ON");
        const auto p0 = l.pulses();
        l.w(pg, "*TRG");
        CHECK(l.pulses() == p0 + 1);
        CHECK(l.q(pg, ":SYST:ERR?") == "0,\"No error\"");
    }
    SECTION("33522B") {
        const std::string pg = "pulse_gen";
        l.w(pg, "FUNC PULS;FUNC:PULS:PER 1E-3;WIDT 100 NS;:VOLT:LOW 0;:VOLT:HIGH 0.8");
        CHECK(l.q(pg, "SYST:ERR?") == "0,\"No error\"");
        l.w(pg, "FUNC:PULS:TRAN 100 NS");
        CHECK(l.q(pg, "SYST:ERR?").rfind("-221,", 0) == 0);
        l.w(pg, "FUNC:PULS:TRAN:LEAD 62 NS");
        CHECK(l.q(pg, "SYST:ERR?") == "0,\"No error\"");
        l.w(pg, "FUNC:PULS:WIDT 50 NS");
        CHECK(l.q(pg, "SYST:ERR?").rfind("-221,", 0) == 0);
        l.w(pg, "FUNC:PULS:DCYC 0.005");  // 50 ns again, through the duty cycle
        CHECK(l.q(pg, "SYST:ERR?").rfind("-221,", 0) == 0);
        CHECK(l.num(pg, "FUNC:PULS:WIDT?") == Approx(100e-9));
        l.w(pg, "BURS:MODE TRIG;NCYC 2;STAT ON;:TRIG:SOUR BUS;:OUTP ON");
        const auto p0 = l.pulses();
        l.w(pg, "*TRG");
        CHECK(l.pulses() == p0 + 2);
        CHECK(l.q(pg, "SYST:ERR?") == "0,\"No error\"");
    }
}

TEST_CASE("a burst is refused whole when it is more work than one message may ask of the virtual lab",
          "[sim][vlab]") {
    SECTION("the default budget stops a 10^8-pulse burst and a 2,000-pulse LLG burst at once") {
        Lab l;
        l.w("pulse_gen", "FUNC PULS;FUNC:PULS:WIDT 100 NS;PER 1E-6;:VOLT:LOW 0;:VOLT:HIGH 0.1");
        l.w("pulse_gen", "BURS:MODE TRIG;NCYC 1E8;STAT ON;:TRIG:SOUR BUS;:OUTP ON");
        const auto p0 = l.pulses();
        l.w("pulse_gen", "*TRG");
        CHECK(l.pulses() == p0);
        CHECK(l.q("pulse_gen", "SYST:ERR?").rfind("-221,\"Settings conflict;burst of 100000000 pulses", 0) == 0);
        // 5 ns pulses are resolved with the LLG macrospin: 1000 work units per cell and pulse.
        const std::string pg = "pulse_gen2";
        l.w(pg, ":FUNC1 PULS;:PULS:PER1 1E-6;:PULS:WIDT1 5E-9;:VOLT1:HIGH 0.5;:VOLT1:LOW 0");
        l.w(pg, ":ARM:SOUR1 MAN;:TRIG:COUN1 2000;:OUTP1 ON");
        l.w(pg, "*TRG");
        CHECK(l.pulses() == p0);
        CHECK(l.q(pg, ":SYST:ERR?").rfind("-221,", 0) == 0);
        l.w(pg, ":TRIG:COUN1 3;*TRG");
        CHECK(l.pulses() == p0 + 3);
    }
    SECTION("the budget is per message") {
        LabOptions o;
        o.bench.max_work_per_message = 50;
        Lab l(o);
        const std::string pg = "pulse_gen";
        l.w(pg, "FUNC PULS;FUNC:PULS:WIDT 100 NS;PER 1E-6;:VOLT:LOW 0;:VOLT:HIGH 0.1");
        l.w(pg, "BURS:MODE TRIG;NCYC 30;STAT ON;:TRIG:SOUR BUS;:OUTP ON");
        const auto p0 = l.pulses();
        l.w(pg, "*TRG");
        l.w(pg, "*TRG");
        CHECK(l.pulses() == p0 + 60);
        CHECK(l.q(pg, "SYST:ERR?") == "0,\"No error\"");
        l.w(pg, "*TRG;*TRG");  // 60 in one message: the second burst is refused whole
        CHECK(l.pulses() == p0 + 90);
        CHECK(l.q(pg, "SYST:ERR?").rfind("-221,", 0) == 0);
        l.w(pg, "BURS:NCYC 50;*TRG");
        CHECK(l.pulses() == p0 + 140);
        l.w(pg, "BURS:NCYC 51;*TRG");
        CHECK(l.pulses() == p0 + 140);
        CHECK(l.q(pg, "SYST:ERR?").rfind("-221,", 0) == 0);
    }
}

TEST_CASE("SR830: its own syntax, the manual's index tables, status bytes for errors", "[sim][vlab]") {
    Lab l;
    const std::string li = "lockin";
    l.w(li, "*RST;*CLS");
    l.w(li, "SENS 19;OFLT 9;OFSL 1;SLVL 0.100;FREQ 13.7");
    CHECK(l.q(li, "SENS?") == "19");
    CHECK(l.q(li, "OFLT?") == "9");
    CHECK(l.num(li, "SLVL?") == Approx(0.1));
    CHECK(l.num(li, "FREQ?") == Approx(13.7));
    CHECK(l.q(li, "*ESR?") == "0");
    l.w(li, "SENS 27");  // index table ends at 26 (1 V)
    CHECK(l.q(li, "*ESR? 4") == "1");  // EXE bit
    CHECK(l.q(li, "SENS?") == "19");   // unchanged
    l.w(li, "FROB 3");
    CHECK(l.q(li, "*ESR?") == std::to_string(0x20));  // CMD bit
    l.w(li, "SLVL 9");
    CHECK(l.num(li, "*ESR?") == 0x10);

    // X through the 1 MOhm reference: V_junction = V R/(R + R_ref), here ~2.4 mV on a ~25 kOhm junction.
    Ohm r{};
    {
        std::lock_guard lk(l.lab.bench()->mutex());
        r = l.lab.bench()->station_locked().junction_resistance();
    }
    const double expect = 0.1 * r.si() / (r.si() + 1e6);
    const auto t0 = l.now();
    const double x1 = l.num(li, "OUTP? 1");
    CHECK(x1 == Approx(expect).epsilon(0.03));
    CHECK(l.num(li, "OUTP?1") == Approx(expect).epsilon(0.03));
    CHECK((l.now() - t0).si() >= 7 * 0.3 * 0.99);  // settled: 7 tau at 12 dB/oct, tau = 300 ms
    const auto snap = split(l.q(li, "SNAP? 1,2,9"), ',');
    REQUIRE(snap.size() == 3);
    CHECK(std::stod(snap[0]) == Approx(expect).epsilon(0.03));
    CHECK(std::abs(std::stod(snap[1])) < 0.2 * expect);
    CHECK(std::stod(snap[2]) == Approx(13.7));
    l.w(li, "SNAP? 1");  // needs two to six parameters
    CHECK(l.num(li, "*ESR?") == 0x20);
    // Overload: 2 nV full scale cannot hold millivolts.
    l.w(li, "SENS 0");
    (void)l.q(li, "OUTP? 3");
    CHECK(l.q(li, "LIAS? 2") == "1");
    l.w(li, "AGAN");
    CHECK(std::stoi(l.q(li, "SENS?")) >= 18);  // back to a millivolt range
}

TEST_CASE("SR860: SCAL counts down from 1 V, outputs by name", "[sim][vlab]") {
    Lab l;
    const std::string li = "lockin2";
    l.w(li, "SCAL 9;OFLT 10;SLVL 0.1;FREQ 1000");
    CHECK(l.q(li, "SCAL?") == "9");  // 1 mV
    l.w(li, "SCAL 28");
    CHECK(l.q(li, "*ESR? 4") == "1");
    const double x = l.num(li, "OUTP? X");
    CHECK(x == Approx(l.num(li, "OUTP? 0")).epsilon(0.05));
    const auto snap = split(l.q(li, "SNAP? X,Y,R"), ',');
    REQUIRE(snap.size() == 3);
    CHECK(std::stod(snap[2]) >= std::abs(std::stod(snap[0])));
    CHECK(l.q(li, "*OPC?") == "1");
}

TEST_CASE("Kepco BOP drives the coil: current -> field after a ramp in virtual time", "[sim][vlab]") {
    Lab l;
    const std::string m = "magnet";
    l.w(m, "FUNC:MODE CURR;:VOLT 20;:CURR 2");
    CHECK(l.field().si() == Approx(0.0));  // output off
    const auto t0 = l.now();
    l.w(m, "OUTP ON");
    CHECK(l.field().si() == Approx(0.1));  // 50 mT/A
    CHECK((l.now() - t0).si() >= 0.2 * 0.99);  // 2 A at 10 A/s
    CHECK(l.num(m, "MEAS:CURR?") == Approx(2.0));
    CHECK(l.num(m, "MEAS:VOLT?") == Approx(3.0));  // 1.5 Ohm coil
    CHECK(l.q(m, "FUNC:MODE?") == "CURR");
    l.w(m, "CURR 11");
    CHECK(l.q(m, "SYST:ERR?").rfind("-222,", 0) == 0);
    // Compliance: 2 V limit into 1.5 Ohm caps the current at 1.33 A.
    l.w(m, "VOLT 2");
    CHECK(l.num(m, "MEAS:CURR?") == Approx(2.0 / 1.5));
    l.w(m, "OUTP OFF");
    CHECK(l.field().si() == Approx(0.0).margin(1e-12));
    // The gaussmeter sees the shared field.
    l.w(m, "VOLT 20;CURR -1;OUTP ON");
    const double b = l.num("gaussmeter", "RDGFIELD?");
    CHECK(b == Approx(-0.05).margin(1e-4));  // tesla, 5 uT noise
}

TEST_CASE("Keithley 2400 as a coil current source", "[sim][vlab]") {
    Lab l;
    const std::string k = "magnet2";
    l.w(k, ":SOUR:FUNC CURR;:SOUR:CURR:MODE FIX;:SOUR:CURR 0.5;:SENS:VOLT:PROT 10");
    l.w(k, ":READ?");  // output off: no reading, error 803
    CHECK(l.q(k, ":SYST:ERR?").rfind("+803,", 0) == 0);
    l.w(k, ":OUTP ON");
    CHECK(l.field().si() == Approx(0.025));
    const auto v = split(l.q(k, ":READ?"), ',');
    REQUIRE(v.size() == 5);
    CHECK(std::stod(v[0]) == Approx(0.75));
    CHECK(std::stod(v[1]) == Approx(0.5));
    l.w(k, ":FORM:ELEM CURR");
    CHECK(std::stod(l.q(k, ":READ?")) == Approx(0.5));
    l.w(k, ":SOUR:CURR 2");
    CHECK(l.q(k, ":SYST:ERR?").rfind("-222,", 0) == 0);
    l.w(k, ":SENS:VOLT:PROT 0.3");  // compliance: 0.3 V / 1.5 Ohm = 0.2 A
    CHECK(std::stod(l.q(k, ":READ?")) == Approx(0.2));
    CHECK(l.q(k, ":SENS:VOLT:PROT:TRIP?") == "1");
}

TEST_CASE("Lake Shore 425: units, range, errors in the status register", "[sim][vlab]") {
    Lab l;
    const std::string g = "gaussmeter";
    l.w(g, "*CLS");
    l.w("magnet", "FUNC:MODE CURR;:VOLT 20;:CURR 0.4;:OUTP ON");  // 20 mT
    l.w(g, "UNIT 2");
    CHECK(l.num(g, "RDGFIELD?") == Approx(0.02).margin(1e-4));
    l.w(g, "UNIT 1");
    CHECK(l.q(g, "UNIT?") == "1");
    CHECK(l.num(g, "RDGFIELD?") == Approx(200.0).margin(1.0));  // gauss
    CHECK(l.q(g, "RANGE?") == "2");  // autorange picked 35 mT (350 G)
    l.w(g, "RANGE 5");
    CHECK(l.q(g, "*ESR?") == std::to_string(0x10));
    l.w(g, "FOO?");
    CHECK(l.q(g, "*ESR?") == std::to_string(0x20));
    CHECK(l.lab.instrument(g).serial()->baud == 57600);
    CHECK(l.lab.instrument(g).serial()->data_bits == 7);
    CHECK(l.lab.instrument(g).serial()->parity == 'O');
}

TEST_CASE("pushed errors and faults in process", "[sim][vlab][fault]") {
    Lab l;
    l.lab.instrument("pulse_gen").push_error(-241, "injected");
    CHECK(l.q("pulse_gen", "SYST:ERR?") == "-241,\"Hardware missing;injected\"");
    l.lab.instrument("lockin").push_error(-222, "injected");
    CHECK(l.q("lockin", "*ESR? 4") == "1");
    FaultPlan f;
    f.stuck_opc = true;
    l.lab.instrument("pulse_gen").set_faults(f);
    CHECK_FALSE(l.lab.handler("pulse_gen")("*OPC?").has_value());
    CHECK(l.q("pulse_gen", "*IDN?").find("33522B") != std::string::npos);
    f = {};
    f.drop_connection = 1;
    l.lab.instrument("pulse_gen").set_faults(f);
    CHECK_THROWS_AS(l.lab.handler("pulse_gen")("*IDN?"), TransportError);
    CHECK(l.q("pulse_gen", "*IDN?").find("33522B") != std::string::npos);
    f = {};
    f.garbage_replies = 1;
    l.lab.instrument("lockin").set_faults(f);
    const auto g = l.q("lockin", "*IDN?");
    CHECK(g.find("SR830") == std::string::npos);
    CHECK(g.find('\n') == std::string::npos);
    CHECK(l.q("lockin", "*IDN?").find("SR830") != std::string::npos);
}

TEST_CASE("unknown models and bad lab options are input errors", "[unit][vlab]") {
    LabOptions o;
    o.instruments = {{"x", "HP3456A", false}};
    CHECK_THROWS_AS(VirtualLab(o), InputError);
    o.instruments = {{"a", "SR830", false}, {"a", "SR860", false}};
    CHECK_THROWS_AS(VirtualLab(o), InputError);
    LabOptions d;
    d.device.thickness_nm = 9.0;
    CHECK_THROWS_AS(VirtualLab(d), InputError);
}
