// The server-side SCPI parser: keywords, numbers with units, message splitting, the command tree with
// relative paths, the error queue, and random input that must never crash an instrument.
#include <catch2/catch.hpp>

#include <random>

#include "mtjlab/devices_sim/scpi_parser.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"

using namespace mtjlab::devices_sim;

namespace {

int fault_code(const std::function<void()>& f) {
    try {
        f();
    } catch (const ScpiFault& e) {
        return e.code();
    }
    return 0;
}

// A small tree in the style of a function generator.
struct Tree {
    ScpiCommandSet set;
    ErrorQueue errors{5};
    StatusRegisters status;
    double freq[3] = {1e3, 1e3, 1e3};
    double width = 1e-6;
    int ncyc = 1;
    std::string mode = "TRIG";
    Tree() {
        set.add("[SOURce#]:FREQuency", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            freq[c.suffix(0, 2)] = c.number(0, {"HZ", 1e-6, 30e6, 1e3});
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::to_string(static_cast<long>(freq[c.suffix(0, 2)]));
        });
        set.add("[SOURce#]:FUNCtion:PULSe:WIDTh", [this](const ScpiCall& c) {
            width = c.number(0, {"S", 16e-9, 1.0, 1e-6});
            return std::string();
        }, nullptr);
        set.add("[SOURce#]:BURSt:NCYCles", [this](const ScpiCall& c) {
            ncyc = static_cast<int>(c.integer(0, 1, 1000));
            return std::string();
        }, [this](const ScpiCall&) { return std::to_string(ncyc); });
        set.add("[SOURce#]:BURSt:MODE", [this](const ScpiCall& c) {
            mode = c.choice(0, {"TRIGgered", "GATed"}) == 0 ? "TRIG" : "GAT";
            return std::string();
        }, [this](const ScpiCall&) { return mode; });
        set.add("SYSTem:ERRor:[NEXT]", nullptr, [this](const ScpiCall&) { return ErrorQueue::format(errors.pop()); });
        set.add("*IDN", nullptr, [](const ScpiCall&) { return std::string("ACME,T1,0,1"); });
    }
    std::optional<std::string> run(const std::string& m) { return set.execute(m, errors, status); }
    int next_error() { return errors.pop().code; }
};

}  // namespace

TEST_CASE("keywords match their short and long forms in any case", "[unit][scpi]") {
    CHECK(keyword_matches("FREQuency", "FREQ"));
    CHECK(keyword_matches("FREQuency", "frequency"));
    CHECK(keyword_matches("FREQuency", "Freq"));
    CHECK_FALSE(keyword_matches("FREQuency", "FREQU"));
    CHECK_FALSE(keyword_matches("FREQuency", "FRE"));
    CHECK(keyword_matches("*IDN", "*idn"));
}

TEST_CASE("numbers take units with SI prefixes, MIN/MAX/DEF and range checks", "[unit][scpi]") {
    const NumericSpec width{"S", 16e-9, 1.0, 1e-6};
    CHECK(parse_numeric("200 NS", width) == Approx(200e-9));
    CHECK(parse_numeric("200ns", width) == Approx(200e-9));
    CHECK(parse_numeric("1.5e-3", width) == Approx(1.5e-3));
    CHECK(parse_numeric("2 MS", width) == Approx(2e-3));
    CHECK(parse_numeric("3 US", width) == Approx(3e-6));
    CHECK(parse_numeric("MIN", width) == Approx(16e-9));
    CHECK(parse_numeric("max", width) == Approx(1.0));
    CHECK(parse_numeric("DEF", width) == Approx(1e-6));
    const NumericSpec freq{"HZ", 0.0, 1e8, 1e3};
    CHECK(parse_numeric("5 MHZ", freq) == Approx(5e6));  // MHZ is mega (SCPI exception)
    CHECK(parse_numeric("5 KHZ", freq) == Approx(5e3));
    CHECK(parse_numeric("5 MAHZ", freq) == Approx(5e6));
    const NumericSpec volts{"V", -10, 10, 0};
    CHECK(parse_numeric("2 V", volts) == Approx(2.0));
    CHECK(parse_numeric("-250 MV", volts) == Approx(-0.25));
    CHECK(fault_code([&] { (void)parse_numeric("2 S", volts); }) == scpi_code::invalid_suffix);
    CHECK(fault_code([&] { (void)parse_numeric("20 V", volts); }) == scpi_code::data_out_of_range);
    CHECK(fault_code([&] { (void)parse_numeric("abc", volts); }) == scpi_code::data_type_error);
    CHECK(fault_code([&] { (void)parse_numeric("1x2", volts); }) == scpi_code::invalid_character_in_number);
    CHECK(fault_code([&] { (void)parse_numeric("0x10", volts); }) == scpi_code::invalid_character_in_number);
    CHECK(fault_code([&] { (void)parse_numeric("inf", volts); }) == scpi_code::illegal_parameter_value);
    CHECK(fault_code([&] { (void)parse_numeric("3 V", NumericSpec{"", 0, 10, 0}); }) == scpi_code::suffix_not_allowed);
}

TEST_CASE("message units split on semicolons but not inside strings or blocks", "[unit][scpi]") {
    const auto u = split_message_units("DISP:TEXT \"a;b\";*IDN?;DATA #15ab;cd;FREQ 1");
    REQUIRE(u.size() == 4);
    CHECK(u[0] == "DISP:TEXT \"a;b\"");
    CHECK(u[1] == "*IDN?");
    CHECK(u[2] == "DATA #15ab;cd");
    CHECK(u[3] == "FREQ 1");
    CHECK(fault_code([] { (void)split_message_units("TEXT \"open"); }) == scpi_code::syntax_error);
    CHECK(fault_code([] { (void)split_message_units("DATA #9123"); }) == scpi_code::syntax_error);
    const auto p = split_parameters(" 1, 'x,y' ,3 ");
    REQUIRE(p.size() == 3);
    CHECK(p[1] == "'x,y'");
}

TEST_CASE("the command tree resolves optional nodes, suffixes and relative paths", "[unit][scpi]") {
    Tree t;
    CHECK_FALSE(t.run("FREQ 2000").has_value());
    CHECK(t.freq[1] == Approx(2000));
    t.run(":source2:frequency 5 kHz");
    CHECK(t.freq[2] == Approx(5000));
    CHECK(t.run("SOUR2:FREQ?;:FREQ?") == "5000;2000");
    CHECK(t.run("FREQ?;FREQ?") == "2000;2000");
    // After BURS:MODE the path is BURSt: NCYC is relative to it (IEEE 488.2 A.1).
    t.run("BURS:MODE GAT;NCYC 7");
    CHECK(t.ncyc == 7);
    CHECK(t.mode == "GAT");
    CHECK(t.next_error() == 0);
    // FREQ is not under BURSt: relative lookup fails with -113; a leading ':' goes back to the root.
    t.run("BURS:MODE TRIG;FREQ 10");
    CHECK(t.next_error() == scpi_code::undefined_header);
    t.run("BURS:MODE TRIG;:FREQ 10");
    CHECK(t.freq[1] == Approx(10));
    CHECK(t.next_error() == 0);
    // Common commands do not change the path.
    CHECK(t.run("BURS:NCYC 3;*IDN?;NCYC?") == "ACME,T1,0,1;3");
    t.run("FUNC:PULS:WIDT 200 NS");
    CHECK(t.width == Approx(200e-9));
    t.run("SOUR3:FREQ 1");
    CHECK(t.next_error() == scpi_code::header_suffix_out_of_range);
}

TEST_CASE("bad input gets the right SCPI error code", "[unit][scpi]") {
    Tree t;
    t.run("FROB 1");
    CHECK(t.next_error() == scpi_code::undefined_header);
    t.run("FREQ");
    CHECK(t.next_error() == scpi_code::missing_parameter);
    t.run("FREQ 1,2");
    CHECK(t.next_error() == scpi_code::parameter_not_allowed);
    t.run("FREQ 1e12");
    CHECK(t.next_error() == scpi_code::data_out_of_range);
    t.run("BURS:MODE SIDEWAYS");
    CHECK(t.next_error() == scpi_code::illegal_parameter_value);
    t.run("FREQ 1 V");
    CHECK(t.next_error() == scpi_code::invalid_suffix);
    t.run("FR$Q 1");
    CHECK(t.next_error() == scpi_code::invalid_character);
    t.run("FREQ::X 1");
    CHECK(t.next_error() == scpi_code::syntax_error);
    t.run("TEXT \"unterminated");
    CHECK(t.next_error() == scpi_code::syntax_error);
    t.run("*IDN");  // query-only header used as a command
    CHECK(t.next_error() == scpi_code::undefined_header);
    // A command error abandons the rest of the message; an execution error does not.
    CHECK_FALSE(t.run("FROB;FREQ?").has_value());
    CHECK(t.next_error() == scpi_code::undefined_header);
    CHECK(t.run("FREQ 1e12;FREQ?") == "1000");
    CHECK(t.next_error() == scpi_code::data_out_of_range);
    CHECK(t.next_error() == 0);
    CHECK(t.run("SYST:ERR?") == "0,\"No error\"");
}

TEST_CASE("the error queue is FIFO and reports overflow as -350", "[unit][scpi]") {
    ErrorQueue q(4);
    CHECK(ErrorQueue::format(q.pop()) == "0,\"No error\"");
    for (int k = 0; k < 10; ++k) q.push(scpi_code::undefined_header, "X" + std::to_string(k));
    CHECK(q.size() == 4);
    CHECK(ErrorQueue::format(q.pop()) == "-113,\"Undefined header;X0\"");
    CHECK(q.pop().code == -113);
    CHECK(q.pop().code == -113);
    CHECK(ErrorQueue::format(q.pop()) == "-350,\"Queue overflow\"");
    CHECK(q.pop().code == 0);
    q.push(-222, "a \"quoted\"\nvalue");
    const auto text = ErrorQueue::format(q.pop());
    CHECK(text == "-222,\"Data out of range;a 'quoted''value\"");
}

TEST_CASE("status registers follow IEEE 488.2", "[unit][scpi]") {
    StatusRegisters s;
    s.esr = 0;
    s.record_error(-113);
    CHECK((s.esr & StatusRegisters::cme) != 0);
    s.record_error(-222);
    CHECK((s.esr & StatusRegisters::exe) != 0);
    s.record_error(-410);
    CHECK((s.esr & StatusRegisters::qye) != 0);
    s.record_error(-350);
    CHECK((s.esr & StatusRegisters::dde) != 0);
    s.ese = StatusRegisters::cme;
    CHECK(s.status_byte(true, false) == (0x04 | 0x20));
    s.sre = 0x20;
    CHECK((s.status_byte(false, false) & 0x40) != 0);
}

TEST_CASE("random bytes never crash a virtual instrument", "[unit][scpi][fuzz]") {
    LabOptions o;
    o.instruments = default_lab_instruments();
    VirtualLab lab(o);  // not started: in-process handlers only
    std::mt19937_64 rng(20261129);
    const std::string alphabet = "*?:;, \"'#0123456789.+-eEABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\t[]()";
    std::uniform_int_distribution<int> len(0, 120);
    std::uniform_int_distribution<int> any(0, 255);
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    const char* keywords[] = {"FREQ", "OUTP", "*IDN?", "SENS", "SNAP?", "VOLT", ":SOUR2:", "RDGFIELD?", "CURR"};
    for (const auto& li : o.instruments) {
        auto h = lab.handler(li.name);
        for (int iter = 0; iter < 1500; ++iter) {
            std::string m;
            const int n = len(rng);
            for (int k = 0; k < n; ++k) {
                const int mode = any(rng) % 10;
                if (mode < 6) m += alphabet[pick(rng)];
                else if (mode < 8) m += keywords[static_cast<std::size_t>(any(rng)) % 9];
                else m += static_cast<char>(any(rng));
            }
            REQUIRE_NOTHROW(h(m));
        }
        const auto idn = h("*IDN?");
        REQUIRE(idn.has_value());
        CHECK(*idn == lab.instrument(li.name).idn());
    }
}
