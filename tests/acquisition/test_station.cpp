#include <catch2/catch.hpp>

#include <fstream>
#include <regex>

#include "mtjlab/acquisition/bench_config.hpp"
#include "mtjlab/acquisition/station.hpp"
#include "mtjlab/core/error.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::acquisition;
using drivers::Role;

namespace {

const char* k_good = R"(
[station]
name = "bench"

[instruments.pulse_gen]
model = "Keysight33500B"
resource = "TCPIP0::127.0.0.1::5025::SOCKET"
timeout_ms = 1500

[instruments.lockin]
model = "sr830"
resource = "ASRL/dev/ttyUSB0::INSTR"

[instruments.magnet]
model = "kepco_bop"
resource = "SIM::magnet"

[calibration]
coil_constant_T_per_A = 0.01
reference_resistor_ohm = 1e6
read_amplitude_V = 0.1
read_frequency_Hz = 13
time_constant_s = 0.3

[limits]
max_pulse_amplitude_V = 2
max_pulse_width_s = 1e-6
max_coil_current_A = 5
max_field_T = 0.03
max_ramp_rate_T_per_s = 0.05
max_read_voltage_V = 0.2
)";

std::string error_of(const std::string& text) {
    try {
        (void)parse_station(text, "st.toml");
    } catch (const InputError& e) {
        return e.what();
    }
    return "no error";
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    const auto pos = s.find(from);
    REQUIRE(pos != std::string::npos);
    return s.replace(pos, from.size(), to);
}

}  // namespace

TEST_CASE("station: a complete file parses into typed values", "[unit][acquisition][station]") {
    const auto st = parse_station(k_good, "st.toml");
    CHECK(st.name == "bench");
    REQUIRE(st.instrument(Role::pulse_gen));
    CHECK(st.instrument(Role::pulse_gen)->model == "keysight_33500b");
    CHECK(st.instrument(Role::pulse_gen)->timeout == std::chrono::milliseconds(1500));
    CHECK(st.instrument(Role::lockin)->model == "srs_sr830");
    CHECK(st.instrument(Role::lockin)->serial.baud == 9600);  // the model's factory settings
    CHECK(st.instrument(Role::magnet)->resource == "SIM::magnet");
    CHECK(st.instrument(Role::gaussmeter) == nullptr);
    CHECK(st.calibration.field_control == FieldControl::coil_constant);
    CHECK(st.calibration.coil_constant_T_per_A == 0.01);
    CHECK(st.calibration.read_frequency.si() == 13.0);
    CHECK(st.limits.max_field.si() == 0.03);
    CHECK(st.limits.max_pulse_width.si() == 1e-6);
    // 0.03 T / 0.01 T/A = 3 A < 5 A.
    CHECK(st.max_coil_current_for_field().si() == Approx(3.0));
    CHECK(st.text == k_good);
}

TEST_CASE("station: the annotated example in recipes/ is valid", "[unit][acquisition][station]") {
    const auto st = load_station(test::source_dir() / "recipes" / "station.example.toml");
    CHECK(st.instruments.size() == 4);
    CHECK(st.instrument(Role::gaussmeter)->serial.baud == 57600);
    CHECK(st.instrument(Role::gaussmeter)->serial.data_bits == 7);
    CHECK(st.instrument(Role::lockin)->serial.parity == drivers::SerialSettings::Parity::none);
}

TEST_CASE("station: malformed TOML names file, line and column", "[unit][acquisition][station]") {
    const auto msg = error_of("[limits]\nmax_field_T = 0.1\nmax_pulse_width_s = = 3\n");
    CHECK_THAT(msg, Catch::StartsWith("st.toml:3:"));
    CHECK_THAT(msg, Catch::Contains("malformed TOML"));
    CHECK(std::regex_search(msg, std::regex("^st\\.toml:3:[0-9]+: ")));
}

TEST_CASE("station: missing and out-of-range keys are named", "[unit][acquisition][station]") {
    const std::string good = k_good;
    CHECK_THAT(error_of(replace(good, "max_field_T = 0.03\n", "")), Catch::Contains("'limits.max_field_T': missing"));
    CHECK_THAT(error_of(replace(good, "max_field_T = 0.03", "max_field_T = -1")),
               Catch::Contains("limits.max_field_T") && Catch::Contains("outside"));
    CHECK_THAT(error_of(replace(good, "max_field_T = 0.03", "max_field_T = \"high\"")),
               Catch::Contains("limits.max_field_T") && Catch::Contains("must be a number"));
    CHECK_THAT(error_of(replace(good, "read_amplitude_V = 0.1", "read_amplitude_V = 0.5")),
               Catch::Contains("calibration.read_amplitude_V") && Catch::Contains("max_read_voltage"));
    CHECK_THAT(error_of(replace(good, "max_field_T = 0.03", "max_feld_T = 0.03")),
               Catch::Contains("limits.max_feld_T") && Catch::Contains("unknown key"));
    CHECK_THAT(error_of(replace(good, "coil_constant_T_per_A = 0.01\n", "")),
               Catch::Contains("calibration.coil_constant_T_per_A"));
    CHECK_THAT(error_of(replace(good, "[calibration]", "[calibration]\nfield_control = \"gaussmeter\"")),
               Catch::Contains("instruments.gaussmeter"));
    CHECK_THAT(error_of(replace(good, "model = \"sr830\"", "model = \"sr999\"")),
               Catch::Contains("instruments.lockin.model") && Catch::Contains("unknown instrument model"));
    CHECK_THAT(error_of(replace(good, "model = \"sr830\"", "model = \"kepco_bop\"")),
               Catch::Contains("instruments.lockin.model") && Catch::Contains("not a lockin"));
    CHECK_THAT(error_of(replace(good, "SIM::magnet", "GPIB0::3::INSTR")),
               Catch::Contains("instruments.magnet.resource") && Catch::Contains("unknown interface"));
    CHECK_THAT(error_of(replace(good, "timeout_ms = 1500", "timeout_ms = 0")), Catch::Contains("timeout_ms"));
    CHECK_THAT(error_of(replace(good, "[instruments.magnet]\nmodel = \"kepco_bop\"\nresource = \"SIM::magnet\"\n", "")),
               Catch::Contains("instruments.magnet': missing"));
    CHECK_THAT(error_of(replace(good, "[limits]", "[limit]")), Catch::Contains("'limit'"));
    CHECK_THAT(error_of(replace(good, "[instruments.magnet]", "[instruments.magnetx]")),
               Catch::Contains("instruments.magnetx"));
}

TEST_CASE("station: serial settings are validated", "[unit][acquisition][station]") {
    const std::string good = k_good;
    const auto with_serial = [&](const std::string& body) {
        return replace(good, "resource = \"ASRL/dev/ttyUSB0::INSTR\"\n",
                       "resource = \"ASRL/dev/ttyUSB0::INSTR\"\n[instruments.lockin.serial]\n" + body + "\n");
    };
    const auto st = parse_station(with_serial("baud = 19200\nparity = \"even\"\nstop_bits = 2\nflow_control = \"hardware\""), "st.toml");
    CHECK(st.instrument(Role::lockin)->serial.baud == 19200);
    CHECK(st.instrument(Role::lockin)->serial.parity == drivers::SerialSettings::Parity::even);
    CHECK(st.instrument(Role::lockin)->serial.stop_bits == 2);
    CHECK(st.instrument(Role::lockin)->serial.flow_control == drivers::SerialSettings::FlowControl::hardware);
    CHECK_THAT(error_of(with_serial("parity = \"mark\"")), Catch::Contains("instruments.lockin.serial.parity"));
    CHECK_THAT(error_of(with_serial("data_bits = 9")), Catch::Contains("instruments.lockin.serial.data_bits"));
    CHECK_THAT(error_of(with_serial("speed = 9600")), Catch::Contains("instruments.lockin.serial.speed"));
    CHECK_THAT(error_of(replace(good, "resource = \"SIM::magnet\"\n", "resource = \"SIM::magnet\"\n[instruments.magnet.serial]\nbaud = 9600\n")),
               Catch::Contains("non-serial"));
}

TEST_CASE("station: unreadable file", "[unit][acquisition][station]") {
    CHECK_THROWS_WITH(load_station("/no/such/station.toml"), Catch::Contains("/no/such/station.toml"));
}

TEST_CASE("station: closed-loop field control keys reach the bench calibration", "[unit][acquisition][station]") {
    const std::string good = k_good;
    // Defaults.
    Station st = parse_station(good, "st.toml");
    CHECK(st.calibration.field_tolerance.si() == Approx(50e-6));
    CHECK(st.calibration.field_max_corrections == 6);
    CHECK_FALSE(calibration_of(st).field_closed_loop);
    // Gaussmeter control needs a gaussmeter.
    const std::string gm = replace(good, "coil_constant_T_per_A = 0.01",
                                   "field_control = \"gaussmeter\"\ncoil_constant_T_per_A = 0.01\n"
                                   "field_tolerance_mT = 0.02\nfield_max_corrections = 4");
    CHECK_THAT(error_of(gm), Catch::Contains("instruments.gaussmeter"));
    const std::string with_gm =
        replace(gm, "[calibration]", "[instruments.gaussmeter]\nmodel = \"lakeshore_425\"\nresource = \"SIM::g\"\n\n"
                                     "[calibration]");
    st = parse_station(with_gm, "st.toml");
    const BenchCalibration cal = calibration_of(st);
    CHECK(cal.field_closed_loop);
    CHECK(cal.field_tolerance.si() == Approx(20e-6));
    CHECK(cal.field_max_corrections == 4);
    CHECK_THAT(error_of(replace(with_gm, "field_max_corrections = 4", "field_max_corrections = 2.5")),
               Catch::Contains("calibration.field_max_corrections") && Catch::Contains("whole number"));
    CHECK_THAT(error_of(replace(with_gm, "field_max_corrections = 4", "field_max_corrections = 0")),
               Catch::Contains("calibration.field_max_corrections"));
    CHECK_THAT(error_of(replace(with_gm, "field_tolerance_mT = 0.02", "field_tolerance_mT = 0")),
               Catch::Contains("calibration.field_tolerance_mT"));
}
