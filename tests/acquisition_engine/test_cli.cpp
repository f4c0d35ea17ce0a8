// mtjlab run as a process: dry run, SIGINT once and twice, SIGKILL then --resume.
#include <fstream>
#include <regex>

#include <catch2/catch.hpp>

#include "mtjlab/storage/run_file.hpp"
#include "test_support.hpp"

using namespace mtjlab;

namespace {
std::string station_file(const test::TempDir& dir, double max_pulse = 2.5) {
    std::ifstream in(test::source_dir() / "recipes" / "station.example.toml");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = std::regex_replace(ss.str(), std::regex("max_pulse_amplitude_V = [0-9.]+"),
                                          "max_pulse_amplitude_V = " + std::to_string(max_pulse));
    const auto path = dir / "station.toml";
    std::ofstream(path) << text;
    return path.string();
}
std::string recipe_file(const test::TempDir& dir) {
    const auto path = dir / "rv.toml";
    std::ofstream(path) << "kind = \"rv_pulse_train\"\nname = \"rv\"\nmin_V = 0.1\nmax_V = 1.5\nstep_V = 0.1\n"
                           "polarities = [\"negative\"]\ndelay_s = 0.1\nassist_field_mT = 6\n"
                           "[read]\ntime_constant_s = 0.03\n";
    return path.string();
}
constexpr std::size_t rv_points = 29;  // 0.1..1.5 and back
void check_points(const std::filesystem::path& file) {
    auto r = storage::RunReader::open(file);
    const auto a = r.column("pulse_amplitude_V");
    REQUIRE(a.size() == rv_points);
    for (std::size_t i = 0; i < a.size(); ++i) {
        const double k = i < 15 ? static_cast<double>(i + 1) : static_cast<double>(29 - i);
        CHECK(a[i] == Approx(-0.1 * k));
    }
}
/// Starts the CLI in the background, sends `signals` (e.g. "INT", "INT INT", "KILL") after `delay` s.
test::CommandResult run_and_signal(const std::string& args, const std::string& signals, double delay) {
    std::string kills;
    for (std::size_t p = 0, q; p < signals.size(); p = q + 1) {
        q = signals.find(' ', p);
        if (q == std::string::npos) q = signals.size();
        kills += "kill -" + signals.substr(p, q - p) + " $pid; sleep 0.05; ";
    }
    const std::string cmd = "'" + test::cli_path().string() + "' " + args + " & pid=$!; sleep " + std::to_string(delay) +
                            "; " + kills + "wait $pid; echo \"rc=$?\"";
    return test::run_command("sh -c '" + std::regex_replace(cmd, std::regex("'"), "'\\''") + "'");
}
}  // namespace

TEST_CASE("mtjlab run --dry-run prints the plan and refuses what exceeds the station", "[integration]") {
    test::TempDir dir("dry");
    const std::string st = station_file(dir);
    auto r = test::run_cli("run '" + (test::source_dir() / "recipes" / "paper_campaign.toml").string() +
                           "' --station '" + st + "' --dry-run");
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("792 runs on 352 devices"));
    CHECK_THAT(r.out, Catch::Contains("dry run: OK"));
    const std::string low = station_file(dir, 1.45);
    r = test::run_cli("run '" + recipe_file(dir) + "' --station '" + low + "' --dry-run");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out, Catch::Contains("REFUSED"));
    CHECK_THAT(r.out, Catch::Contains("point 14 step 1 (pulse -1.5 V, 200 ns)"));
    r = test::run_cli("run '" + recipe_file(dir) + "' --station '" + low + "' -o '" + (dir / "o").string() + "' --virtual");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("preflight"));
    CHECK_FALSE(std::filesystem::exists(dir / "o" / "rv.h5"));
}

TEST_CASE("SIGINT once: the point finishes, the run is saved as aborted, exit 130; --resume completes it",
          "[integration][sim]") {
    test::TempDir dir("sigint");
    const std::string args = "run '" + recipe_file(dir) + "' --station '" + station_file(dir) + "' -o '" +
                             (dir / "o").string() + "' --virtual --realtime";
    auto r = run_and_signal(args, "INT", 2.0);
    CHECK_THAT(r.out, Catch::Contains("rc=130"));
    CHECK_THAT(r.err, Catch::Contains("--resume"));
    {
        auto rd = storage::RunReader::open(dir / "o" / "rv.h5");
        CHECK(rd.status() == storage::RunStatus::aborted);
        CHECK(rd.size() > 0);
        CHECK(rd.size() < rv_points);
        CHECK_THAT(rd.info().error_message, Catch::Contains("Ctrl-C"));
    }
    auto again = test::run_cli(args.substr(0, args.size() - std::string(" --realtime").size()));
    CHECK(again.exit_code == 2);  // exists: needs --resume
    auto res = test::run_cli(args + " --resume");
    CHECK(res.exit_code == 0);
    check_points(dir / "o" / "rv.h5");
    CHECK(storage::RunReader::open(dir / "o" / "rv.h5").status() == storage::RunStatus::complete);
}

TEST_CASE("SIGINT twice: abort at once, still saved and safe, exit 130", "[integration][sim]") {
    test::TempDir dir("sigint2");
    const std::string args = "run '" + recipe_file(dir) + "' --station '" + station_file(dir) + "' -o '" +
                             (dir / "o").string() + "' --virtual --realtime";
    auto r = run_and_signal(args, "INT INT", 2.0);
    CHECK_THAT(r.out, Catch::Contains("rc=130"));
    auto rd = storage::RunReader::open(dir / "o" / "rv.h5");
    CHECK(rd.status() == storage::RunStatus::aborted);
    CHECK(rd.size() < rv_points);
}

TEST_CASE("SIGKILL mid-run, then --resume: no duplicated or missing points", "[integration][sim]") {
    test::TempDir dir("sigkill");
    const std::string args = "run '" + recipe_file(dir) + "' --station '" + station_file(dir) + "' -o '" +
                             (dir / "o").string() + "' --virtual";
    auto r = run_and_signal(args + " --realtime", "KILL", 2.0);
    CHECK_THAT(r.out, Catch::Contains("rc=137"));
    std::size_t before = 0;
    {
        auto rd = storage::RunReader::open(dir / "o" / "rv.h5");
        before = rd.size();
        CHECK(rd.status() == storage::RunStatus::running);
        CHECK(before > 0);
        CHECK(before < rv_points);
    }
    auto res = test::run_cli(args + " --resume");
    INFO(res.err);
    CHECK(res.exit_code == 0);
    check_points(dir / "o" / "rv.h5");
}
