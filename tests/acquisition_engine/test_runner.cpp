// The runner as a library call (acquisition::run_session, recipes::run_text) on the virtual lab over
// loopback sockets, the virtual prober, closed-loop field control with the gaussmeter, and the
// switching-probability protocol end to end through `mtjlab run --virtual` and `mtjlab analyze`.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <fstream>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "lab_fixture.hpp"
#include "mtjlab/acquisition/runner.hpp"
#include "mtjlab/acquisition/station.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/recipes/runner.hpp"
#include "mtjlab/storage/run_file.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::acquisition;
namespace fs = std::filesystem;

namespace {

std::string example_station_text(const std::string& field_control = "coil_constant") {
    std::ifstream in(test::source_dir() / "recipes" / "station.example.toml");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string t = std::regex_replace(ss.str(), std::regex("field_control = \"coil_constant\""),
                                       "field_control = \"" + field_control + "\"");
    return std::regex_replace(t, std::regex("time_constant_s = 0.3"), "time_constant_s = 0.03");
}

/// The example station served by a virtual lab on loopback TCP (the same glue `mtjlab run --virtual` uses).
struct LabStation {
    devices_sim::StationLab lab;
    Station station;
    explicit LabStation(const std::string& field_control = "coil_constant", double coil_error = 0.0,
                        Tesla remanence = Tesla(0.0)) {
        const Station st = parse_station(example_station_text(field_control), "station.example.toml");
        std::vector<devices_sim::StationInstrument> want;
        for (const auto& ic : st.instruments) want.push_back({std::string(drivers::to_string(ic.role)), ic.model});
        devices_sim::LabOptions lo;
        lo.serve_pty = false;
        lo.seed = 5;
        lo.device.thickness_nm = 1.7;
        lo.device.cells = 1;
        lab = devices_sim::start_lab_for(want, lo, *st.calibration.coil_constant_T_per_A, coil_error, remanence);
        station = with_resources(st, lab.resources);
    }
    SessionOptions options(const fs::path& dir) {
        SessionOptions o;
        o.output_dir = dir;
        devices_sim::VirtualLab* l = lab.lab.get();
        o.clock = BenchClock{[l](Second dt) { l->wait(dt); }, [l] { return l->now(); }};
        o.virtual_run = true;
        return o;
    }
};

const char* rh_text = "kind = \"rh_loop\"\nname = \"rh small\"\nfields_mT = [0, 5, 10, 15, 20, 15, 10, 5, 0, -5, -10, "
                      "-15, -20, -15, -10, -5, 0]\nsettle_s = 0.05\n";

}  // namespace

TEST_CASE("with_resources rewrites every role and refuses a missing one", "[unit]") {
    const Station st = parse_station(example_station_text(), "s.toml");
    std::map<std::string, std::string> res{{"pulse_gen", "SIM::a"}, {"lockin", "SIM::b"}, {"magnet", "SIM::c"}};
    CHECK_THROWS_AS(with_resources(st, res), InputError);
    res["gaussmeter"] = "SIM::d";
    const Station r = with_resources(st, res);
    for (const auto& ic : r.instruments) CHECK(ic.resource == res.at(std::string(drivers::to_string(ic.role))));
    CHECK(safe_file_stem("rh small/1") == "rh_small_1");
    CHECK(safe_file_stem("") == "run");
}

TEST_CASE("run_text on the virtual lab over sockets: summary, files, resume skips finished work",
          "[sim][integration]") {
    LabStation ls;
    test::TempDir dir("runner");
    const RunSummary s = recipes::run_text(rh_text, "rh.toml", ls.station, ls.options(dir.path()));
    CHECK(s.jobs == 1);
    CHECK(s.done == 1);
    CHECK(s.skipped == 0);
    CHECK(s.failed == 0);
    CHECK(s.points == 17);
    CHECK(s.unsafe.empty());
    CHECK_FALSE(s.manifest);
    REQUIRE(s.files.size() == 1);
    CHECK(s.files[0].filename() == "rh_small.h5");
    auto r = storage::RunReader::open(s.files[0]);
    CHECK(r.status() == storage::RunStatus::complete);
    CHECK(r.size() == 17);
    CHECK(r.info().virtual_run);
    CHECK_THAT(r.info().instruments_json, Catch::Contains("\"idn\""));
    // The field ends at zero, outputs off.
    {
        auto b = ls.lab.lab->bench();
        std::lock_guard lock(b->mutex());
        CHECK(b->field_locked().si() == Approx(0.0).margin(1e-12));
    }
    // Same directory again: the complete file is skipped, nothing measured.
    SessionOptions again = ls.options(dir.path());
    again.resume = true;
    const RunSummary s2 = recipes::run_text(rh_text, "rh.toml", ls.station, again);
    CHECK(s2.skipped == 1);
    CHECK(s2.done == 0);
    CHECK(s2.points == 0);
}

TEST_CASE("run refuses a plan beyond the limits before any instrument is opened", "[unit]") {
    Station st = parse_station(example_station_text(), "s.toml");
    // Resources nobody listens on: opening them would fail with a TransportError, not a LimitError.
    st = with_resources(st, {{"pulse_gen", "TCPIP0::127.0.0.1::1::SOCKET"},
                             {"lockin", "TCPIP0::127.0.0.1::1::SOCKET"},
                             {"magnet", "TCPIP0::127.0.0.1::1::SOCKET"},
                             {"gaussmeter", "TCPIP0::127.0.0.1::1::SOCKET"}});
    test::TempDir dir("refuse");
    SessionOptions o;
    o.output_dir = dir.path();
    const auto p = recipes::prepare(recipes::parse("kind = \"rh_loop\"\nfields_mT = [0, 150]\n", "big.toml"), st);
    CHECK_FALSE(p.ok());
    CHECK_THAT(recipes::dry_run_report(p, st), Catch::Contains("REFUSED"));
    CHECK_THROWS_AS(recipes::run(p, st, o), LimitError);
    CHECK_FALSE(fs::exists(dir.path() / "run.h5"));
}

TEST_CASE("virtual prober puts wafer devices on the stage", "[sim]") {
    devices_sim::LabOptions lo;
    lo.serve_pty = false;
    lo.instruments = {{"lockin", "SR830", false}};
    devices_sim::VirtualLab lab(lo);
    CHECK_THROWS_AS(lab.probe(0, 0), InputError);  // no wafer yet
    physics::WaferSpec spec;
    spec.dies = 3;
    spec.devices_per_die = 4;
    lab.load_wafer(spec, 11);
    CHECK_THROWS_AS(lab.probe(3, 0), InputError);
    CHECK_THROWS_AS(lab.probe(0, 4), InputError);
    const physics::Wafer wafer(spec, 11);
    for (int die : {0, 2})
        for (int dev : {0, 1, 2}) {
            lab.probe(die, dev);
            REQUIRE(lab.probed());
            CHECK(*lab.probed() == std::make_pair(die, dev));
            auto b = lab.bench();
            std::lock_guard lock(b->mutex());
            const auto& on_stage = b->station_locked().device();
            const auto expected = wafer.device(die, dev);
            CHECK(on_stage.identity.die == die);
            CHECK(on_stage.identity.device == dev);
            CHECK(on_stage.cell_count() == expected.cell_count());
            CHECK(on_stage.thickness_nm == Approx(expected.thickness_nm));
            CHECK(on_stage.cells.front().r_p.si() == Approx(expected.cells.front().r_p.si()));
        }
}

namespace {

BenchCalibration loop_calibration(bool closed) {
    BenchCalibration c;
    c.coil_constant_t_per_a = 0.0125;  // what the station believes
    c.time_constant = Second(0.03);
    c.ramp_rate_t_per_s = 0.05;
    c.ramp_step = Tesla(1e-3);
    c.field_closed_loop = closed;
    c.field_tolerance = Tesla(50e-6);
    c.field_max_corrections = 6;
    return c;
}
BenchLimits loop_limits(double max_current_A) {
    BenchLimits l;
    l.max_pulse_amplitude = Volt(2.5);
    l.max_pulse_width = Second(1e-6);
    l.max_coil_current = Ampere(max_current_A);
    l.max_field = Tesla(0.1);
    l.max_ramp_rate_t_per_s = 0.05;
    l.max_read_voltage = Volt(0.2);
    return l;
}
/// Largest |CURR| the magnet was sent after message `from`.
double max_current_sent(const test::Recorded& rec, std::size_t from = 0) {
    static const std::regex curr(R"(^\s*CURR\s+([-+0-9.eE]+)\s*$)", std::regex::icase);
    double m = 0;
    for (std::size_t k = from; k < rec.messages.size(); ++k) {
        std::smatch sm;
        if (rec.messages[k].first == "magnet" && std::regex_match(rec.messages[k].second, sm, curr))
            m = std::max(m, std::abs(std::stod(sm[1].str())));
    }
    return m;
}
const double targets_mT[] = {5, 10, 20, 12.5, -20, -7.5, 0, 15, 1};

}  // namespace

TEST_CASE("closed-loop field control corrects a coil-constant error and remanence", "[sim]") {
    // The real coil is 8 % stronger than the station's coil constant and has 0.4 mT remanence.
    test::LabBench lab(1.7, 1, 0.0125 * 1.08, /*sockets=*/false, /*gaussmeter=*/true, 3);
    lab.lab->set_coil(0.0125 * 1.08, Tesla(0.4e-3));
    SECTION("open loop misses the targets (the error the loop has to fix)") {
        GuardedBench b(lab.instruments(), loop_limits(8), loop_calibration(false), lab.clock());
        b.initialize();
        b.set_field({Tesla(20e-3), Ampere(1.6)});
        CHECK(std::abs(lab.field().si() - 20e-3) > 1e-3);  // 22 mT instead of 20
        CHECK_FALSE(b.field_measured());
        b.make_safe();
    }
    SECTION("closed loop reaches every target within the tolerance, with few corrections once learned") {
        const BenchCalibration cal = loop_calibration(true);
        GuardedBench b(lab.instruments(), loop_limits(8), cal, lab.clock());
        b.initialize();
        unsigned before = 0;
        std::vector<unsigned> per_step;
        for (double t : targets_mT) {
            const Tesla target(t * 1e-3);
            b.set_field({target, coil_current_for(target, cal)});
            INFO("target " << t << " mT, true field " << lab.field().si() * 1e3 << " mT");
            REQUIRE(b.field_measured());
            CHECK(std::abs(b.field_measured()->si() - target.si()) <= cal.field_tolerance.si());
            // The gaussmeter noise is 5 uT rms: the true field is inside tolerance + 5 sigma.
            CHECK(std::abs(lab.field().si() - target.si()) <= cal.field_tolerance.si() + 25e-6);
            per_step.push_back(b.field_corrections() - before);
            before = b.field_corrections();
        }
        CHECK(per_step.front() >= 1);  // the first change had something to fix
        for (std::size_t k = 3; k < per_step.size(); ++k) CHECK(per_step[k] <= 1);  // the model has learned k and b0
        CHECK(b.coil_model_k() == Approx(0.0125 * 1.08).epsilon(0.01));
        CHECK(b.coil_model_offset().si() == Approx(0.4e-3).margin(0.1e-3));
        CHECK(b.make_safe().empty());
        CHECK(max_current_sent(*lab.recorded) <= 8.0);
        // Safe state: coil current zero (only the remanence is left).
        CHECK(lab.field().si() == Approx(0.4e-3).margin(1e-9));
    }
}

TEST_CASE("closed loop: the offset current held against the remanence is ramped to 0 A, not dropped",
          "[sim][safety]") {
    // 3 mT of remanence: zero field needs about -0.24 A, three ramp steps (1 mT = 0.08 A). Both ways back to
    // 0 A (make_safe, and initialize before the next run) must step like any other field change.
    test::LabBench lab(1.7, 1, 0.0125, /*sockets=*/false, /*gaussmeter=*/true, 3);
    lab.lab->set_coil(0.0125, Tesla(3e-3));
    const BenchCalibration cal = loop_calibration(true);
    const double max_step = cal.ramp_step.si() / cal.coil_constant_t_per_a;
    static const std::regex curr(R"(^\s*CURR\s+([-+0-9.eE]+)\s*$)", std::regex::icase);
    auto currents = [&](std::size_t from, std::size_t to) {
        std::vector<double> out;
        for (std::size_t k = from; k < to; ++k) {
            std::smatch sm;
            if (lab.recorded->messages[k].first == "magnet" && std::regex_match(lab.recorded->messages[k].second, sm, curr))
                out.push_back(std::stod(sm[1].str()));
        }
        return out;
    };
    GuardedBench b(lab.instruments(), loop_limits(8), cal, lab.clock());
    for (const bool via_make_safe : {false, true}) {
        INFO((via_make_safe ? "make_safe" : "initialize"));
        b.initialize();
        b.set_field({Tesla(0.0), Ampere(0.0)});
        REQUIRE(b.field_measured());
        const std::size_t from = lab.recorded->messages.size();
        const auto held = currents(0, from);
        REQUIRE_FALSE(held.empty());
        REQUIRE(held.back() < -2 * max_step);  // the offset current, more than two steps
        if (via_make_safe) CHECK(b.make_safe().empty());
        else b.initialize();
        const auto sent = currents(from, lab.recorded->messages.size());
        REQUIRE_FALSE(sent.empty());
        double prev = held.back();
        for (double i : sent) {
            CHECK(std::abs(i - prev) <= max_step + 1e-9);
            prev = i;
        }
        CHECK(sent.back() == 0.0);
    }
}

TEST_CASE("closed-loop field control never sends a current beyond the limit while correcting", "[sim][safety]") {
    // The real coil is 10 % weaker: 20 mT needs 1.78 A but the limit is 1.7 A (the nominal 1.6 A passes
    // preflight). The guard must refuse the correction before it is sent.
    test::LabBench lab(1.7, 1, 0.0125 * 0.9, /*sockets=*/false, /*gaussmeter=*/true, 3);
    const BenchCalibration cal = loop_calibration(true);
    const BenchLimits lim = loop_limits(1.7);
    GuardedBench b(lab.instruments(), lim, cal, lab.clock());
    b.initialize();
    b.set_field({Tesla(10e-3), Ampere(0.8)});  // fine: about 0.89 A
    CHECK(std::abs(b.field_measured()->si() - 10e-3) <= cal.field_tolerance.si());
    try {
        b.set_field({Tesla(20e-3), Ampere(1.6)});
        FAIL("expected LimitError");
    } catch (const LimitError& e) {
        // Refused either by the ramp (the learned coil model already asks for ~1.78 A) or by the correction.
        CHECK_THAT(std::string(e.what()), Catch::Contains("coil current"));
        CHECK_THAT(std::string(e.what()), Catch::Contains("limit 1.7 A"));
    }
    CHECK(max_current_sent(*lab.recorded) <= lim.max_coil_current.si() * (1 + 1e-12));
    CHECK(b.make_safe().empty());
    CHECK(lab.field().si() == Approx(0.0).margin(1e-12));
}

TEST_CASE("closed-loop field control gives up after the bounded number of corrections", "[sim]") {
    // A gaussmeter that reads nothing useful (the probe is not at the sample: the lab's coil constant is
    // tiny, so the field barely moves) must stop the run, not chase the field forever.
    test::LabBench lab(1.7, 1, 0.0125 * 0.3, /*sockets=*/false, /*gaussmeter=*/true, 3);
    BenchCalibration cal = loop_calibration(true);
    cal.field_max_corrections = 3;
    GuardedBench b(lab.instruments(), loop_limits(8), cal, lab.clock());
    b.initialize();
    try {
        b.set_field({Tesla(20e-3), Ampere(1.6)});
        FAIL("expected InstrumentError");
    } catch (const InstrumentError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains("3 corrections"));
    }
    CHECK(b.field_corrections() == 3);
    CHECK(max_current_sent(*lab.recorded) <= 8.0);
    CHECK(b.make_safe().empty());
}

TEST_CASE("gaussmeter field control from station.toml: mtjlab's runner records field_measured_T on target",
          "[sim][integration]") {
    LabStation ls("gaussmeter", /*coil_error=*/0.06, Tesla(0.3e-3));
    test::TempDir dir("loop");
    const RunSummary s = recipes::run_text(rh_text, "rh.toml", ls.station, ls.options(dir.path()));
    REQUIRE(s.done == 1);
    auto r = storage::RunReader::open(s.files.at(0));
    const auto set = r.column("field_T");
    const auto meas = r.column("field_measured_T");
    REQUIRE(meas.size() == set.size());
    for (std::size_t i = 0; i < set.size(); ++i) {
        INFO("point " << i << ": set " << set[i] * 1e3 << " mT, measured " << meas[i] * 1e3 << " mT");
        // The read happens after the settle: the gaussmeter reading is on target within tolerance + noise.
        CHECK(std::abs(meas[i] - set[i]) <= 50e-6 + 25e-6);
    }
}

TEST_CASE("switching probability end to end over sockets: P_sw rises 0 -> 1 and analyze fits V50 inside the sweep",
          "[sim][integration]") {
    test::TempDir dir("psw");
    std::ofstream(dir / "station.toml") << example_station_text();
    // 25 mV steps: the virtual 1.8 nm cell's transition is ~0.1 V wide at 200 ns. With 0.1 V steps one amplitude
    // at most fell inside it, the data were separated but for one point, and the probit fit rightly found no
    // finite width (the maximum-likelihood width goes to 0).
    std::ofstream(dir / "psw.toml") << "kind = \"switching_probability\"\nname = \"psw\"\nmin_V = 0.4\nmax_V = 1.2\n"
                                       "step_V = 0.025\npolarities = [\"negative\"]\nrepeats = 16\nwidth_ns = 200\n"
                                       "delay_s = 0.05\nassist_field_mT = 6.0\nreset_amplitude_V = 1.8\n"
                                       "reset_field_mT = 8.0\nswitch_threshold = 0.05\n";
    auto r = test::run_cli("run '" + (dir / "psw.toml").string() + "' --station '" + (dir / "station.toml").string() +
                           "' -o '" + (dir / "out").string() + "' --virtual --thickness 1.8 --cells 1 --seed 4");
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const fs::path file = dir / "out" / "psw.h5";
    auto rd = storage::RunReader::open(file);
    REQUIRE(rd.status() == storage::RunStatus::complete);
    const auto amp = rd.column("pulse_amplitude_V");
    const auto sw = rd.column("switched");
    REQUIRE(amp.size() == 33 * 16);
    std::map<double, std::pair<int, int>> p;  // |V| -> (switched, trials)
    for (std::size_t i = 0; i < amp.size(); ++i) {
        auto& e = p[std::round(std::abs(amp[i]) * 40) / 40];
        e.first += static_cast<int>(sw[i]);
        ++e.second;
    }
    const double p_low = static_cast<double>(p.begin()->second.first) / p.begin()->second.second;
    const double p_high = static_cast<double>(p.rbegin()->second.first) / p.rbegin()->second.second;
    for (const auto& [v, e] : p) UNSCOPED_INFO(v << " V: " << e.first << "/" << e.second);
    CHECK(p_low <= 0.1);
    CHECK(p_high >= 0.9);

    auto a = test::run_cli("analyze '" + file.string() + "' -o '" + (dir / "an").string() + "' --json");
    INFO(a.out << a.err);
    REQUIRE(a.exit_code == 0);
    const auto j = nlohmann::json::parse(a.out);
    // Find the run's V50 wherever the per-run object keeps it.
    std::optional<double> v50;
    std::function<void(const nlohmann::json&)> find = [&](const nlohmann::json& n) {
        if (v50) return;
        if (n.is_object()) {
            for (auto it = n.begin(); it != n.end(); ++it) {
                if (it.key() == "v50_V") {
                    const auto& x = it.value();
                    if (x.is_number()) v50 = x.get<double>();
                    else if (x.is_object() && x.contains("value") && x["value"].is_number()) v50 = x["value"].get<double>();
                }
                find(it.value());
            }
        } else if (n.is_array()) {
            for (const auto& e : n) find(e);
        }
    };
    find(j);
    REQUIRE(v50);
    CHECK(std::abs(*v50) > 0.4);
    CHECK(std::abs(*v50) < 1.2);
}
