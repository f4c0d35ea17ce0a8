// `mtjlab campaign` end to end through the CLI: the smoke preset on the virtual lab (seconds), the report's
// contents, summary.json, model reuse, bad input, the report in headless Chromium; the paper preset [slow].
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mtjlab/ann/dataset.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using mtjlab::test::run_cli;
using mtjlab::test::run_command;
using mtjlab::test::TempDir;

using mtjlab::test::slurp;

namespace {

/// Both datasets can be loaded (the ANN stage needs them); otherwise the test says why and skips.
bool datasets_available() {
    try {
        (void)mtjlab::ann::load_test_split(mtjlab::ann::DatasetKind::mnist);
        (void)mtjlab::ann::load_test_split(mtjlab::ann::DatasetKind::fashion);
        (void)mtjlab::ann::load_dataset(mtjlab::ann::DatasetKind::mnist);
        return true;
    } catch (const std::exception& e) {
        WARN("SKIPPED: datasets not available (run scripts/setup): " << e.what());
        return false;
    }
}

const std::vector<std::string> kFigures = {"fig3e", "fig3f", "fig4c", "fig4d", "fig4g",
                                           "fig4h", "fig5b", "fig5c", "fig5d", "fig5e"};

/// One smoke campaign per test process, shared by the test cases that only read its outputs.
struct SmokeRun {
    TempDir dir{"campaign-smoke"};
    mtjlab::test::CommandResult result;
    fs::path out() const { return dir / "out"; }
    fs::path cache() const { return dir / "models"; }
};

const SmokeRun& smoke() {
    static std::unique_ptr<SmokeRun> run = [] {
        auto r = std::make_unique<SmokeRun>();
        r->result = run_cli("campaign --virtual --preset smoke -o '" + r->out().string() + "' --model-cache '" +
                            r->cache().string() + "' --jobs 2");
        return r;
    }();
    return *run;
}

const json* find_row(const json& cmp, const std::string& id) {
    for (const auto& r : cmp)
        if (r.at("id") == id) return &r;
    return nullptr;
}

}  // namespace

TEST_CASE("campaign --preset smoke measures, analyses, evaluates and reports", "[integration][campaign]") {
    if (!datasets_available()) return;
    const auto& s = smoke();
    INFO(s.result.err);
    REQUIRE(s.result.exit_code == 0);
    // stdout names the report; progress went to stderr.
    CHECK(s.result.out.find("report:") != std::string::npos);
    CHECK(s.result.out.find((s.out() / "report.html").string()) != std::string::npos);
    CHECK(s.result.err.find("measuring the campaign") != std::string::npos);

    // Everything landed where the docs say.
    CHECK(fs::exists(s.out() / "campaign" / "campaign.json"));
    CHECK(fs::exists(s.out() / "campaign-recipe.toml"));
    CHECK(fs::exists(s.out() / "station.toml"));
    CHECK(fs::exists(s.out() / "analysis" / "conductance_states.csv"));
    CHECK(fs::exists(s.out() / "analysis" / "results.h5"));
    CHECK(fs::exists(s.out() / "ann" / "mnist-sweep.csv"));
    CHECK(fs::exists(s.out() / "ann" / "fashion-sweep.csv"));

    const json sum = json::parse(slurp(s.out() / "summary.json"));
    CHECK(sum.at("format") == "mtjlab-reproduction");
    const auto& prov = sum.at("provenance");
    CHECK(prov.at("preset") == "smoke");
    CHECK(prov.at("virtual_lab") == true);
    CHECK(prov.at("git_hash").get<std::string>().size() >= 7);
    CHECK(prov.at("command_line").get<std::string>().find("--preset") != std::string::npos);
    CHECK(prov.at("measurement").at("jobs_complete").get<int>() > 0);

    // Stages were timed.
    std::set<std::string> stages;
    for (const auto& t : sum.at("timings")) {
        stages.insert(t.at("stage"));
        CHECK(t.at("seconds").get<double>() >= 0);
    }
    CHECK(stages == std::set<std::string>{"measurement", "analysis", "training", "evaluation", "report"});

    // Networks: one seed per dataset, trained in this run (empty cache), far better than chance.
    REQUIRE(sum.at("ann").size() == 2);
    for (const auto& d : sum.at("ann")) {
        REQUIRE(d.at("models").size() == 1);
        CHECK(d.at("models")[0].at("cached") == false);
        CHECK(d.at("float_accuracy_mean").get<double>() > 0.5);
        CHECK(d.at("test_images").get<int>() == 10000);
        // Fig. 5b/c: every measured (thickness, cells) group for both mappings; Fig. 5d/e: 3 TMR x 3 cells each.
        CHECK(d.at("fig5de_grid").size() == 2 * 3 * 3);
        CHECK(d.at("fig5bc_measured").size() >= 2 * 2);
        for (const auto& c : d.at("fig5de_grid")) {
            CHECK(c.at("accuracy_mean").get<double>() >= 0.0);
            CHECK(c.at("accuracy_mean").get<double>() <= 1.0);
            CHECK(c.at("states").get<int>() == c.at("cells").get<int>() + 1);
        }
    }

    // The comparison: computed values, plausible for the virtual wafer at both ends of the wedge.
    const auto& cmp = sum.at("comparison");
    REQUIRE(cmp.size() > 20);
    for (const auto& r : cmp) {
        CHECK(!r.at("paper").get<std::string>().empty());
        CHECK(!r.at("ours").get<std::string>().empty());
        CHECK(!r.at("tolerance").get<std::string>().empty());
    }
    const json* tmr16 = find_row(cmp, "tmr_1.6nm");
    const json* tmr26 = find_row(cmp, "tmr_2.6nm");
    REQUIRE(tmr16);
    REQUIRE(tmr26);
    REQUIRE(tmr16->at("ours_value").is_number());
    REQUIRE(tmr26->at("ours_value").is_number());
    CHECK(tmr16->at("ours_value").get<double>() > 25);
    CHECK(tmr16->at("ours_value").get<double>() < 45);
    CHECK(tmr26->at("ours_value").get<double>() > tmr16->at("ours_value").get<double>() + 20);
    const json* ff = find_row(cmp, "ff_probability");
    REQUIRE(ff);
    CHECK(ff->at("ours").get<std::string>().find("1.6:") != std::string::npos);
    // Not measurable in this campaign: said so, never a number.
    const json* hs = find_row(cmp, "hs_film");
    REQUIRE(hs);
    CHECK(hs->at("met").is_null());
    CHECK(hs->at("ours_value").is_null());
    CHECK(sum.at("tensions").size() >= 6);

    // report.html: self-contained, every figure inline, the table and the provenance.
    const std::string html = slurp(s.out() / "report.html");
    for (const auto& id : kFigures) {
        INFO(id);
        CHECK(html.find("<figure id=\"" + id + "\"><svg") != std::string::npos);
    }
    CHECK(html.find("id=comparison") != std::string::npos);
    CHECK(html.find("id=tensions") != std::string::npos);
    CHECK(html.find("id=provenance") != std::string::npos);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("src=\"http") == std::string::npos);
    CHECK(html.find("href=\"http") == std::string::npos);
    CHECK(html.find("@import") == std::string::npos);
}

TEST_CASE("campaign --measured reuses the cached models and reproduces the same accuracies",
          "[integration][campaign]") {
    if (!datasets_available()) return;
    const auto& s = smoke();
    REQUIRE(s.result.exit_code == 0);
    TempDir again("campaign-again");
    const auto r = run_cli("campaign --measured '" + (s.out() / "campaign").string() + "' --preset smoke -o '" +
                           again.path().string() + "' --model-cache '" + s.cache().string() + "' --jobs 2 --json");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json sum = json::parse(r.out);  // --json: summary on stdout, nothing else
    const json first = json::parse(slurp(s.out() / "summary.json"));
    CHECK(r.err.find("reusing") != std::string::npos);
    for (std::size_t d = 0; d < 2; ++d) {
        CHECK(sum.at("ann")[d].at("models")[0].at("cached") == true);
        const auto& a = sum.at("ann")[d].at("fig5de_grid");
        const auto& b = first.at("ann")[d].at("fig5de_grid");
        REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < a.size(); ++i)
            CHECK(a[i].at("accuracy_mean").get<double>() == b[i].at("accuracy_mean").get<double>());
    }
    // No measuring stage in this run.
    for (const auto& t : sum.at("timings")) CHECK(t.at("stage") != "measurement");
}

TEST_CASE("campaign refuses bad input with exit code 2 and one line", "[integration][campaign]") {
    TempDir tmp("campaign-bad");
    auto r = run_cli("campaign -o '" + tmp.path().string() + "'");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("exactly one of --virtual") != std::string::npos);
    r = run_cli("campaign --virtual --preset nope -o '" + tmp.path().string() + "'");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("unknown preset") != std::string::npos);
    r = run_cli("campaign --virtual --measured /nonexistent -o '" + tmp.path().string() + "'");
    CHECK(r.exit_code == 2);
    r = run_cli("campaign --measured '" + (tmp / "missing").string() + "' -o '" + (tmp / "o").string() + "'");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("not a directory") != std::string::npos);
    r = run_cli("campaign --virtual --preset smoke --seeds 0 -o '" + (tmp / "o2").string() + "'");
    CHECK(r.exit_code == 2);
    // An existing campaign is never overwritten without --resume.
    fs::create_directories(tmp / "o3" / "campaign");
    std::ofstream(tmp / "o3" / "campaign" / "campaign.json") << "{}";
    r = run_cli("campaign --virtual --preset smoke -o '" + (tmp / "o3").string() + "'");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--resume") != std::string::npos);
    CHECK(slurp(tmp / "o3" / "campaign" / "campaign.json") == "{}");
    // An endless --recipe is refused after 1 MiB, not read into memory forever.
    r = run_cli("campaign --virtual --preset smoke --recipe /dev/zero -o '" + (tmp / "o4").string() + "'");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("/dev/zero: larger than") != std::string::npos);
}

/// `mtjlab lab serve` as a separate process: to the campaign it is a real bench behind a station file.
class ServedLab {
public:
    explicit ServedLab(const fs::path& dir) : listing_(dir / "lab.txt"), pid_file_(dir / "lab.pid") {
        const auto r = run_command("'" + mtjlab::test::cli_path().string() + "' lab serve --thickness 2.0 --cells 1 > '" +
                                   listing_.string() + "' 2>&1 & echo $! > '" + pid_file_.string() +
                                   "'; for i in $(seq 300); do grep -q gaussmeter '" + listing_.string() +
                                   "' && break; sleep 0.1; done");
        REQUIRE(r.exit_code == 0);
    }
    ~ServedLab() {
        (void)run_command("kill -INT $(cat '" + pid_file_.string() + "') 2>/dev/null");
    }
    /// The TCP resource string the lab printed for an instrument name.
    std::string resource(const std::string& name) const {
        std::istringstream in(slurp(listing_));
        std::string line;
        while (std::getline(in, line)) {
            std::smatch m;
            if (line.rfind(name + " ", 0) == 0 && std::regex_search(line, m, std::regex(R"(TCPIP0::\S+::SOCKET)")))
                return m.str();
        }
        FAIL("lab serve printed no resource for " << name << ": " << slurp(listing_));
        return {};
    }

private:
    fs::path listing_, pid_file_;
};

TEST_CASE("campaign on a real bench moves the probes with --prober-command", "[integration][campaign]") {
    if (!datasets_available()) return;
    TempDir tmp("campaign-prober");
    const ServedLab lab(tmp.path());
    std::ofstream(tmp / "station.toml") << "[instruments.pulse_gen]\nmodel = \"keysight_33500b\"\nresource = \""
                                        << lab.resource("pulse_gen") << "\"\n[instruments.lockin]\nmodel = \"srs_sr830\"\n"
                                        << "resource = \"" << lab.resource("lockin") << "\"\n[instruments.magnet]\n"
                                        << "model = \"kepco_bop\"\nresource = \"" << lab.resource("magnet") << "\"\n"
                                        << R"([calibration]
coil_constant_T_per_A = 0.05
reference_resistor_ohm = 1.0e6
read_amplitude_V = 0.1
read_frequency_Hz = 13.7
time_constant_s = 0.001
[limits]
max_pulse_amplitude_V = 2.5
max_pulse_width_s = 1.0e-6
max_coil_current_A = 8.0
max_field_T = 0.1
max_ramp_rate_T_per_s = 10
max_read_voltage_V = 0.2
)";
    // Real time passes on a real bench: short settle and delay times keep this a few seconds.
    std::ofstream(tmp / "campaign.toml") << R"(kind = "campaign"
name = "prober_test"
[wafer]
id = "W7"
t_min_nm = 1.6
t_max_nm = 2.6
dies = 11
devices_per_die = 33
cell_pattern = [1, 2, 3]
[select]
thickness_nm = [2.0]
cells = [1]
devices_per_group = 2
[[run]]
kind = "rh_loop"
name = "rh_minor"
loop = "minor"
start_mT = 20.0
stop_mT = -20.0
step_mT = 5.0
settle_s = 0.001
[[run]]
kind = "rv_pulse_train"
name = "rv_assist8"
min_V = 0.2
max_V = 1.6
step_V = 0.2
polarities = ["positive", "negative"]
width_ns = 200
delay_s = 0.001
assist_field_mT = 8.0
)";
    std::ofstream(tmp / "prober.sh") << "#!/bin/sh\necho \"$@\" >> '" << (tmp / "moves.txt").string() << "'\n";
    fs::permissions(tmp / "prober.sh", fs::perms::owner_all);
    const auto r = run_cli("campaign --station '" + (tmp / "station.toml").string() + "' --recipe '" +
                           (tmp / "campaign.toml").string() +
                           "' --preset smoke --seeds 1 --epochs 1 --train-limit 500 --prober-command '" +
                           (tmp / "prober.sh").string() + "' -o '" + (tmp / "out").string() + "'");
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    // One move per device (two devices of the 2.0 nm die, 1 cell), before its first run: WAFER DIE DEVICE T CELLS.
    std::istringstream moves(slurp(tmp / "moves.txt"));
    std::vector<std::string> lines;
    for (std::string line; std::getline(moves, line);) lines.push_back(line);
    REQUIRE(lines.size() == 2);
    for (const auto& line : lines) CHECK(std::regex_match(line, std::regex(R"(W7 \d+ \d+ 2\.000 1)")));
    CHECK(lines[0] != lines[1]);
    CHECK(fs::exists(tmp / "out" / "report.html"));
    // A prober command is for a real bench only.
    const auto v = run_cli("campaign --virtual --preset smoke --prober-command /bin/true -o '" +
                           (tmp / "v").string() + "'");
    CHECK(v.exit_code == 2);
    CHECK(v.err.find("--prober-command is for a real bench") != std::string::npos);
}

TEST_CASE("the report opens in headless Chromium with every figure drawn", "[integration][campaign][browser]") {
    const auto which = run_command("command -v chromium || command -v chromium-browser");
    if (which.exit_code != 0 || which.out.empty()) {
        WARN("SKIPPED: chromium is not installed (scripts/setup installs it); the report was not checked in a browser");
        return;
    }
    if (!datasets_available()) return;
    const auto& s = smoke();
    REQUIRE(s.result.exit_code == 0);
    std::string browser = which.out.substr(0, which.out.find('\n'));
    TempDir profile("chromium-profile");
    const auto r = run_command("timeout 120 '" + browser +
                               "' --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir='" +
                               profile.path().string() + "' --dump-dom 'file://" +
                               fs::absolute(s.out() / "report.html").string() + "'");
    INFO(r.err.substr(0, 2000));
    REQUIRE(r.exit_code == 0);
    const std::string& dom = r.out;
    REQUIRE(dom.find("</html>") != std::string::npos);
    for (const auto& id : kFigures) {
        INFO(id);
        // The browser parsed the figure, its inline SVG and drawn content inside it.
        const auto at = dom.find("<figure id=\"" + id + "\">");
        REQUIRE(at != std::string::npos);
        const auto end = dom.find("</figure>", at);
        REQUIRE(end != std::string::npos);
        const std::string fig = dom.substr(at, end - at);
        CHECK(fig.find("<svg") != std::string::npos);
        CHECK(fig.find("</svg>") != std::string::npos);
        CHECK((fig.find("<path") != std::string::npos || fig.find("<polyline") != std::string::npos));
        CHECK(fig.find("<figcaption>") != std::string::npos);
    }
    CHECK(dom.find("id=\"comparison\"") != std::string::npos);
}

TEST_CASE("campaign --preset paper reproduces the paper on the virtual lab", "[slow][campaign]") {
    if (!datasets_available()) return;
    TempDir tmp("campaign-paper");
    const char* cache = std::getenv("MTJLAB_MODEL_CACHE");
    const std::string cache_arg =
        cache && *cache ? std::string() : " --model-cache '" + (tmp / "models").string() + "'";
    const auto r = run_cli("campaign --virtual --preset paper -o '" + (tmp / "out").string() + "'" + cache_arg);
    INFO(r.err.substr(r.err.size() > 4000 ? r.err.size() - 4000 : 0));
    REQUIRE(r.exit_code == 0);
    const json sum = json::parse(slurp(tmp / "out" / "summary.json"));
    for (const auto& d : sum.at("ann")) {
        CHECK(d.at("models").size() == 5);
        CHECK(d.at("fig5de_grid").size() == 2 * 21 * 6);
        CHECK(d.at("fig5bc_measured").size() >= 2 * 30);  // 11 thicknesses x 3 cells, a few may lack levels
    }
    CHECK(json::parse(slurp(tmp / "out" / "summary.json")).at("comparison_counts").at("met").get<int>() > 10);
    const auto* mn = &sum.at("ann")[0];
    CHECK(mn->at("float_accuracy_mean").get<double>() > 0.94);
}
