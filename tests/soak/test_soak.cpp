// Fault injection by rate and seed (devices_sim::RandomFaults, FaultInjector), the run-file comparison
// (`mtjlab h5 compare`) and the short soak (scripts/soak --short): a reduced paper campaign on the virtual lab
// with ~50 random faults and one SIGKILL + --resume, compared against a fault-free run of the same seed.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "mtjlab/core/error.hpp"
#include "mtjlab/devices_sim/fault_injector.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "mtjlab/storage/run_file.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using devices_sim::FaultKind;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// One instrument lab (in process, no sockets) with the given models.
devices_sim::LabOptions one(const std::string& name, const std::string& model) {
    devices_sim::LabOptions o;
    o.instruments = {{name, model, false}};
    o.serve_pty = false;
    return o;
}

/// Sends `n` queries and commands through the in-process handler; returns what came back per message
/// ("T" for a TransportError, "-" for no reply, else the reply).
std::vector<std::string> drive(devices_sim::VirtualLab& lab, const std::string& name, int n) {
    auto h = lab.handler(name);
    std::vector<std::string> out;
    for (int k = 0; k < n; ++k) {
        const std::string msg = k % 2 ? "*IDN?" : "*CLS";
        try {
            auto r = h(msg);
            out.push_back(r ? *r : "-");
        } catch (const TransportError&) {
            out.push_back("T");
        }
    }
    return out;
}

}  // namespace

TEST_CASE("fault spec: parse, defaults, canonical text, errors", "[unit]") {
    auto f = devices_sim::parse_fault_spec("rate=0.01,seed=7,kinds=drop+garbage,slow_ms=20");
    CHECK(f.rate == 0.01);
    CHECK(f.seed == 7);
    REQUIRE(f.kinds.size() == 2);
    CHECK(f.kinds[0] == FaultKind::drop);
    CHECK(f.kinds[1] == FaultKind::garbage);
    CHECK(f.slow_delay.si() == Approx(0.02));
    CHECK(devices_sim::describe(f) == "rate=0.01,seed=7,kinds=drop+garbage,slow_ms=20");
    const auto back = devices_sim::parse_fault_spec(devices_sim::describe(f));
    CHECK(back.rate == f.rate);
    CHECK(back.kinds == f.kinds);

    const auto d = devices_sim::parse_fault_spec(" rate = 0.5 ");
    CHECK(d.kinds.size() == 5);
    CHECK(d.seed == 1);
    CHECK_FALSE(devices_sim::parse_fault_spec("").enabled());
    CHECK_FALSE(devices_sim::parse_fault_spec("off").enabled());
    CHECK_FALSE(devices_sim::parse_fault_spec("rate=0").enabled());

    CHECK_THROWS_WITH(devices_sim::parse_fault_spec("seed=3"), Catch::Contains("rate=P"));
    CHECK_THROWS_WITH(devices_sim::parse_fault_spec("rate=2"), Catch::Contains("0..1"));
    CHECK_THROWS_WITH(devices_sim::parse_fault_spec("rate=0.1x"), Catch::Contains("'rate=0.1x'"));
    CHECK_THROWS_WITH(devices_sim::parse_fault_spec("rate=0.1,kinds=drop+fire"), Catch::Contains("'fire'"));
    CHECK_THROWS_WITH(devices_sim::parse_fault_spec("rate=0.1,colour=red"), Catch::Contains("unknown key 'colour'"));
    CHECK_THROWS_WITH(devices_sim::parse_fault_spec("rate=0.1,,seed=2"), Catch::Contains("empty item"));
    CHECK_THROWS_WITH(devices_sim::parse_fault_spec("rate=0.1,seed=-4"), Catch::Contains("whole number"));
    CHECK_THROWS_AS(devices_sim::parse_fault_spec("rate=0.1," + std::string(2000, 'x')), InputError);
}

TEST_CASE("random faults: reproducible by seed, counted, at the requested rate", "[unit]") {
    const auto spec = devices_sim::parse_fault_spec("rate=0.05,seed=11,slow_ms=0");
    auto run = [&] {
        devices_sim::VirtualLab lab(one("pulse_gen", "33522B"));
        lab.instrument("pulse_gen").set_random_faults(spec);
        auto replies = drive(lab, "pulse_gen", 4000);
        return std::make_pair(replies, lab.instrument("pulse_gen").fault_counts());
    };
    const auto [r1, c1] = run();
    const auto [r2, c2] = run();
    CHECK(r1 == r2);  // the same seed gives the same faults on the same messages
    CHECK(c1.messages == 4000);
    CHECK(c1.total() == c2.total());
    // 4000 draws at 5 %: mean 200, sd ~14; 5 sd either side.
    CHECK(c1.total() >= 130);
    CHECK(c1.total() <= 270);
    CHECK(c1.drop > 0);
    CHECK(c1.timeout > 0);
    CHECK(c1.garbage > 0);
    CHECK(c1.error > 0);
    CHECK(c1.slow > 0);
    std::size_t transport = 0, none_for_query = 0, garbage = 0;
    for (std::size_t k = 0; k < r1.size(); ++k) {
        if (r1[k] == "T") ++transport;
        if (k % 2 == 1 && r1[k] == "-") ++none_for_query;
        if (!r1[k].empty() && static_cast<unsigned char>(r1[k][0]) >= 0x80) ++garbage;
    }
    CHECK(transport == c1.drop);          // a drop is a TransportError in process
    CHECK(none_for_query == c1.timeout);  // a timeout is a query without a reply
    CHECK(garbage == c1.garbage);         // garbage replaces the reply of a query

    // Another seed gives another sequence.
    devices_sim::VirtualLab lab(one("pulse_gen", "33522B"));
    lab.instrument("pulse_gen").set_random_faults(devices_sim::parse_fault_spec("rate=0.05,seed=12,slow_ms=0"));
    CHECK(drive(lab, "pulse_gen", 4000) != r1);
}

TEST_CASE("random faults: an error fault reaches the instrument's error queue", "[unit]") {
    devices_sim::VirtualLab lab(one("magnet", "BOP 20-10M"));
    auto h = lab.handler("magnet");
    lab.instrument("magnet").set_random_faults(devices_sim::parse_fault_spec("rate=1,kinds=error"));
    CHECK_FALSE(h("CURR 0.1").has_value());
    lab.instrument("magnet").set_random_faults(devices_sim::RandomFaults{});
    CHECK(*h("SYST:ERR?") == "-300,\"Device-specific error;injected fault\"");
    CHECK(lab.instrument("magnet").fault_counts().error == 1);
}

TEST_CASE("fault injector: log lines, counts, safety report", "[sim]") {
    test::TempDir dir("soak-inj");
    const fs::path log = dir / "faults.log";
    devices_sim::LabOptions o;
    o.serve_pty = false;
    devices_sim::VirtualLab lab(o);
    {
        devices_sim::FaultInjector inj(lab, devices_sim::parse_fault_spec("rate=0.2,seed=3,slow_ms=0"), log);
        auto pg = lab.handler("pulse_gen");
        int transport = 0;
        for (int k = 0; k < 200; ++k) {
            try {
                (void)pg("*IDN?");
            } catch (const TransportError&) {
                ++transport;
            }
        }
        const auto c = inj.counts();
        CHECK(c.messages == 200);
        CHECK(c.total() > 10);
        CHECK(static_cast<std::uint64_t>(transport) == c.drop);
        CHECK(inj.safety_report().empty());
        // A live output is reported (and so is a current in the coil).
        lab.instrument("pulse_gen").set_random_faults(devices_sim::RandomFaults{});
        (void)pg("OUTP ON");
        CHECK(inj.safety_report() == "pulse_gen: output 1 on");
        (void)pg("OUTP OFF");
        CHECK(inj.safety_report().empty());
    }
    const std::string text = read_all(log);
    CHECK(text.rfind("session ", 0) == 0);
    CHECK(text.find(" start rate=0.2,seed=3,") != std::string::npos);
    CHECK(text.find(" pulse_gen ") != std::string::npos);
    const std::regex end_line(R"(session \d+ end messages=\d+ faults=(\d+) .* bench=safe\n$)");
    std::smatch m;
    REQUIRE(std::regex_search(text, m, end_line));
    std::size_t fault_lines = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind("fault ", 0) == 0) ++fault_lines;
    CHECK(std::to_string(fault_lines) == m[1].str());
    // After the injector is gone the instruments are disarmed.
    const auto before = lab.instrument("pulse_gen").fault_counts().total();
    drive(lab, "pulse_gen", 200);
    CHECK(lab.instrument("pulse_gen").fault_counts().total() == before);
}

namespace {

/// A small R(V) run file: setpoints, R on two levels (P 1000, AP 2000 Ohm) with a switch at row 5.
void write_run(const fs::path& path, std::size_t rows, const std::function<void(std::vector<double>&, std::size_t,
                                                                                const std::vector<std::string>&)>& tweak = {}) {
    storage::RunInfo info;
    info.run_id = "test";
    info.kind = "rv_pulse_train";
    info.recipe_text = "kind = \"rv_pulse_train\"";
    info.device = {"W1", 1, 2, 1.6, 1};
    const auto cols = storage::columns_for("rv_pulse_train");
    std::vector<std::string> names;
    for (const auto& c : cols) names.push_back(c.name);
    auto w = storage::RunWriter::create(path, info, cols);
    for (std::size_t i = 0; i < rows; ++i) {
        std::vector<double> row(cols.size(), 0.0);
        for (std::size_t c = 0; c < names.size(); ++c) {
            const auto& n = names[c];
            const double r = i < 5 ? 1000.0 : 2000.0;
            if (n == "pulse_amplitude_V") row[c] = 0.1 * static_cast<double>(i + 1);
            else if (n == "pulse_width_s") row[c] = 200e-9;
            else if (n == "assist_field_T") row[c] = 0.008;
            else if (n == "resistance_ohm") row[c] = r * (1 + 1e-4 * std::sin(static_cast<double>(i)));
            else if (n == "time_s") row[c] = static_cast<double>(i);
            else if (n == "direction") row[c] = 1;
        }
        if (tweak) tweak(row, i, names);
        w.append(row);
    }
    w.finish(storage::RunStatus::complete);
}

std::size_t col(const std::vector<std::string>& names, const std::string& n) {
    for (std::size_t c = 0; c < names.size(); ++c)
        if (names[c] == n) return c;
    throw std::runtime_error("no column " + n);
}

}  // namespace

TEST_CASE("h5 compare: same, lost and extra points, changed setpoints, other states, corrupted readings",
          "[integration]") {
    test::TempDir dir("soak-cmp");
    const fs::path ref = dir / "ref.h5";
    write_run(ref, 12);
    auto compare = [&](const fs::path& cand) {
        return test::run_cli("h5 compare " + ref.string() + " " + cand.string());
    };
    {
        write_run(dir / "same.h5", 12, [](std::vector<double>& row, std::size_t, const std::vector<std::string>& n) {
            row[col(n, "resistance_ohm")] *= 1.001;  // read noise
            row[col(n, "time_s")] += 0.5;           // retries take time
        });
        const auto r = compare(dir / "same.h5");
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("SAME: 1 files, 12 rows: 12 in the same state, 0 in another") != std::string::npos);
    }
    {
        write_run(dir / "lost.h5", 11);
        const auto r = compare(dir / "lost.h5");
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("12 rows vs 11 (points lost)") != std::string::npos);
    }
    {
        write_run(dir / "extra.h5", 13);
        const auto r = compare(dir / "extra.h5");
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("points duplicated or extra") != std::string::npos);
    }
    {
        write_run(dir / "setpoint.h5", 12, [](std::vector<double>& row, std::size_t i, const std::vector<std::string>& n) {
            if (i == 7) row[col(n, "pulse_amplitude_V")] = 0.75;
        });
        const auto r = compare(dir / "setpoint.h5");
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("row 7 pulse_amplitude_V") != std::string::npos);
    }
    {
        write_run(dir / "dup.h5", 12, [](std::vector<double>& row, std::size_t i, const std::vector<std::string>& n) {
            if (i == 9) row[col(n, "time_s")] = 3;  // a row written again after a later one
        });
        const auto r = compare(dir / "dup.h5");
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("time_s goes back") != std::string::npos);
    }
    {
        // The switch happens one pulse later (stochastic): rows on the other level are allowed.
        write_run(dir / "late.h5", 12, [](std::vector<double>& row, std::size_t i, const std::vector<std::string>& n) {
            if (i == 5) row[col(n, "resistance_ohm")] = 1000.0;
        });
        const auto r = compare(dir / "late.h5");
        CHECK(r.exit_code == 0);
        CHECK(r.out.find("11 in the same state, 1 in another") != std::string::npos);
    }
    {
        // A reading on no level the device has (a mixed-up reply, a wrong range): corrupted.
        write_run(dir / "bad.h5", 12, [](std::vector<double>& row, std::size_t i, const std::vector<std::string>& n) {
            if (i == 8) row[col(n, "resistance_ohm")] = 1500.0;
        });
        const auto r = compare(dir / "bad.h5");
        CHECK(r.exit_code == 1);
        CHECK(r.out.find("row 8 resistance_ohm") != std::string::npos);
        CHECK(r.out.find("1 corrupted") != std::string::npos);
    }
    {
        write_run(dir / "nan.h5", 12, [](std::vector<double>& row, std::size_t i, const std::vector<std::string>& n) {
            if (i == 2) row[col(n, "resistance_ohm")] = std::nan("");
        });
        CHECK(compare(dir / "nan.h5").exit_code == 1);
    }
    // Directories: a missing file is a difference.
    fs::create_directories(dir / "A");
    fs::create_directories(dir / "B");
    fs::copy_file(ref, dir / "A" / "x.h5");
    fs::copy_file(ref, dir / "A" / "y.h5");
    fs::copy_file(ref, dir / "B" / "x.h5");
    const auto r = test::run_cli("h5 compare " + (dir / "A").string() + " " + (dir / "B").string());
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("y.h5: missing from") != std::string::npos);
    fs::copy_file(ref, dir / "B" / "y.h5");
    CHECK(test::run_cli("h5 compare " + (dir / "A").string() + " " + (dir / "B").string()).exit_code == 0);
    CHECK(test::run_cli("h5 compare " + (dir / "A").string() + " " + ref.string()).exit_code == 2);

    // A resumed process may find the device in a state this run never visited but another run on the same
    // device did: within a campaign directory that state counts, for a single file it does not.
    auto flat = [](double first) {
        return [first](std::vector<double>& row, std::size_t i, const std::vector<std::string>& n) {
            row[col(n, "resistance_ohm")] = i == 0 ? first : 1000.0;
        };
    };
    fs::create_directories(dir / "C");
    fs::create_directories(dir / "D");
    fs::copy_file(ref, dir / "C" / "loop.h5");
    fs::copy_file(ref, dir / "D" / "loop.h5");
    write_run(dir / "C" / "flat.h5", 12, flat(1000.0));
    write_run(dir / "D" / "flat.h5", 12, flat(2000.0));
    const auto dirs = test::run_cli("h5 compare " + (dir / "C").string() + " " + (dir / "D").string());
    CHECK(dirs.exit_code == 0);
    CHECK(dirs.out.find("1 in another (stochastic) state") != std::string::npos);
    CHECK(test::run_cli("h5 compare " + (dir / "C" / "flat.h5").string() + " " + (dir / "D" / "flat.h5").string())
              .exit_code == 1);
}

TEST_CASE("short soak: reduced paper campaign, ~50 random faults and a SIGKILL, run files match a fault-free run",
          "[integration]") {
    test::TempDir dir("soak-short");
    const std::string cmd = "bash " + (test::source_dir() / "scripts" / "soak").string() + " --short --keep --dir " +
                            (dir / "work").string() + " --mtjlab " + test::cli_path().string();
    const auto r = test::run_command(cmd);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("soak: VERDICT PASS") != std::string::npos);
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex(R"(soak: injected (\d+) faults)")));
    CHECK(std::stoul(m[1].str()) >= 50);
    REQUIRE(std::regex_search(r.out, m, std::regex(R"(\((\d+) SIGKILLed)")));
    CHECK(std::stoul(m[1].str()) >= 1);
    CHECK(r.out.find("compare: SAME") != std::string::npos);
}
