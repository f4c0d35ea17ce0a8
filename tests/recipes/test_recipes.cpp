// Recipes: parsing (strict, precise errors), expansion into plans, preflight and the campaign layout.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "mtjlab/acquisition/preflight.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/recipes/recipe.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::acquisition;

namespace {
BenchCalibration cal() {
    BenchCalibration c;
    c.coil_constant_t_per_a = 0.05;
    return c;
}
BenchLimits wide() {
    BenchLimits l;
    l.max_pulse_amplitude = Volt(3.0);
    l.max_field = Tesla(0.4);
    l.max_coil_current = Ampere(10.0);
    return l;
}
recipes::RunRecipe run_recipe(const std::string& text) {
    auto r = recipes::parse(text, "test.toml");
    REQUIRE(std::holds_alternative<recipes::RunRecipe>(r));
    return std::get<recipes::RunRecipe>(r);
}
std::string error_of(const std::string& text) {
    try {
        (void)recipes::parse(text, "bad.toml");
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}
const Read& read_of(const Point& p) {
    for (const Step& s : p.steps)
        if (auto r = std::get_if<Read>(&s); r && r->role == ReadRole::main) return *r;
    FAIL("no read");
    throw;
}
}  // namespace

TEST_CASE("rh_loop example expands into a closed minor loop with branches and directions", "[unit]") {
    auto any = recipes::load(test::source_dir() / "recipes" / "rh_minor.toml");
    const auto& r = std::get<recipes::RunRecipe>(any);
    CHECK(r.kind == "rh_loop");
    const Plan plan = recipes::expand(r, cal());
    REQUIRE(plan.points.size() == 161);  // 20 -> -20 mT in 0.5 mT steps and back
    CHECK(plan.points.front().swept == Approx(0.020));
    CHECK(plan.points[80].swept == Approx(-0.020));
    CHECK(plan.points.back().swept == Approx(0.020));
    CHECK(plan.points[0].branch == 0);
    CHECK(plan.points[0].direction == -1);
    CHECK(plan.points[80].branch == 0);   // the turning point closes the down sweep
    CHECK(plan.points[81].branch == 1);
    CHECK(plan.points[81].direction == +1);
    const auto& f = std::get<SetField>(plan.points[10].steps[0]);
    CHECK(f.current.si() == Approx(f.field.si() / 0.05));
    CHECK(read_of(plan.points[0]).averages == 2);
    CHECK(read_of(plan.points[0]).amplitude == cal().read_amplitude);  // from the station calibration
    CHECK(check_plan(plan, wide(), cal()).ok());
}

TEST_CASE("rv_pulse_train: both polarities, there and back, assist field follows the polarity", "[unit]") {
    auto r = std::get<recipes::RunRecipe>(recipes::load(test::source_dir() / "recipes" / "rv_pulse_train.toml"));
    const Plan plan = recipes::expand(r, cal());
    REQUIRE(plan.points.size() == 78);  // (20 up + 19 down) x 2 polarities
    CHECK(plan.points[0].pulse_amplitude.si() == Approx(-0.1));
    CHECK(plan.points[19].pulse_amplitude.si() == Approx(-2.0));
    CHECK(plan.points[38].pulse_amplitude.si() == Approx(-0.1));
    CHECK(plan.points[39].pulse_amplitude.si() == Approx(0.1));
    CHECK(plan.points[0].field.si() == Approx(-0.006));
    CHECK(plan.points[50].field.si() == Approx(0.006));
    CHECK(plan.points[0].pulse_width.si() == Approx(200e-9));
    std::set<int> branches;
    for (const auto& p : plan.points) branches.insert(p.branch);
    CHECK(branches.size() == 4);
    const auto& pulse = std::get<ApplyPulse>(plan.points[5].steps[1]);
    CHECK(pulse.width.si() == Approx(200e-9));
    CHECK(std::get<Wait>(plan.points[5].steps[2]).duration.si() == Approx(1.5));
}

TEST_CASE("every example recipe parses and passes preflight on a wide station", "[unit]") {
    for (const char* name : {"rh_minor.toml", "rh_major.toml", "rv_pulse_train.toml", "field_free_rv.toml",
                             "switching_probability.toml", "breakdown_ramp.toml"}) {
        INFO(name);
        auto r = std::get<recipes::RunRecipe>(recipes::load(test::source_dir() / "recipes" / name));
        const Plan plan = recipes::expand(r, cal());
        CHECK(!plan.points.empty());
        CHECK(check_plan(plan, wide(), cal()).ok());
        CHECK(!r.parameters_json().empty());
    }
    auto fz = std::get<recipes::RunRecipe>(recipes::load(test::source_dir() / "recipes" / "field_free_rv.toml"));
    for (const auto& p : recipes::expand(fz, cal()).points) CHECK(p.field.si() == 0.0);
    auto sw = std::get<recipes::RunRecipe>(recipes::load(test::source_dir() / "recipes" / "switching_probability.toml"));
    const Plan sp = recipes::expand(sw, cal());
    CHECK(sp.points.size() == 13u * 20u);
    CHECK(sp.points[0].trial == 0);
    CHECK(sp.points[19].trial == 19);
    // reset pulse opposite to the write pulse, reset field opposite to the assist
    CHECK(std::get<ApplyPulse>(sp.points[0].steps[1]).amplitude.si() == Approx(1.8));
    CHECK(std::get<ApplyPulse>(sp.points[0].steps[5]).amplitude.si() == Approx(-0.4));
    CHECK(std::get<SetField>(sp.points[0].steps[0]).field.si() == Approx(0.008));
    CHECK(std::get<SetField>(sp.points[0].steps[4]).field.si() == Approx(-0.006));
    auto bd = std::get<recipes::RunRecipe>(recipes::load(test::source_dir() / "recipes" / "breakdown_ramp.toml"));
    CHECK(recipes::expand(bd, cal()).breakdown.has_value());
}

TEST_CASE("recipe errors name the file, line, column and key", "[unit]") {
    std::string e = error_of("kind = \"rh_loop\"\nstep_mT = 0.5\nsetle_s = 0.1\n");
    CHECK_THAT(e, Catch::Contains("bad.toml:3:"));
    CHECK_THAT(e, Catch::Contains("setle_s"));
    CHECK_THAT(e, Catch::Contains("unknown key"));
    e = error_of("kind = \"rh_loop\"\nstep_mT = \"fine\"\n");
    CHECK_THAT(e, Catch::Contains("bad.toml:2:11"));
    CHECK_THAT(e, Catch::Contains("step_mT"));
    e = error_of("kind = \"rv_pulse_train\"\nmin_V = 0.1\nmax_V = 2\nstep_V = 0.1\n[read]\naverages = 0\n");
    CHECK_THAT(e, Catch::Contains("bad.toml:6:"));
    CHECK_THAT(e, Catch::Contains("read.averages"));
    e = error_of("kind = \"rv_pulse_train\"\nmin_V = 0.1\nmax_V = [\n");
    CHECK_THAT(e, Catch::Contains("bad.toml:"));
    CHECK_THAT(e, Catch::Contains("syntax"));
    e = error_of("kind = \"rh_lop\"\n");
    CHECK_THAT(e, Catch::Contains("unknown recipe kind"));
    e = error_of("kind = \"field_free_rv\"\nmin_V = 0.1\nmax_V = 1\nstep_V = 0.1\nassist_field_mT = 5\n");
    CHECK_THAT(e, Catch::Contains("assist_field_mT"));
    e = error_of("kind = \"rv_pulse_train\"\namplitudes_V = [0.5, 1.0]\nmax_V = 1.0\n");
    CHECK_THAT(e, Catch::Contains("not both"));
    CHECK_THROWS_AS(recipes::load("/nonexistent/recipe.toml"), InputError);
}

TEST_CASE("preflight refuses a plan beyond the limits and names the offending step", "[unit]") {
    auto r = run_recipe("kind = \"rv_pulse_train\"\nmin_V = 0.1\nmax_V = 2.0\nstep_V = 0.1\n");
    const Plan plan = recipes::expand(r, cal());
    BenchLimits l = wide();
    l.max_pulse_amplitude = Volt(1.55);
    const auto rep = check_plan(plan, l, cal());
    CHECK_FALSE(rep.ok());
    CHECK(rep.violations.size() == 2u * 2u * 5u - 2u);  // 1.6..2.0 V: 5 up + 4 down per polarity
    CHECK(rep.violations.front().point == 15);
    CHECK(rep.violations.front().step == 1);
    try {
        preflight(plan, l, cal());
        FAIL("preflight accepted");
    } catch (const LimitError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains("point 15 step 1 (pulse -1.6 V, 200 ns)"));
        CHECK_THAT(std::string(e.what()), Catch::Contains("limit 1.55 V"));
    }
    l = wide();
    l.max_field = Tesla(0.005);  // the 6 mT assist is too much
    CHECK_THROWS_WITH(preflight(plan, l, cal()), Catch::Contains("|field| 6 mT > limit 5 mT"));
    l = wide();
    l.max_pulse_width = Second(100e-9);
    CHECK_THROWS_WITH(preflight(plan, l, cal()), Catch::Contains("pulse width 200 ns > limit 100 ns"));
    const std::string summary = format_report(check_plan(plan, wide(), cal()), wide());
    CHECK_THAT(summary, Catch::Contains("78 points"));
    CHECK_THAT(summary, Catch::Contains("estimated duration"));
    // 78 points of at least 1.5 s delay each
    CHECK(check_plan(plan, wide(), cal()).estimated_duration.si() > 78 * 1.5);
}

TEST_CASE("the paper campaign expands device by device with sacrificial breakdown ramps", "[unit]") {
    auto any = recipes::load(test::source_dir() / "recipes" / "paper_campaign.toml");
    REQUIRE(std::holds_alternative<recipes::Campaign>(any));
    const auto& c = std::get<recipes::Campaign>(any);
    CHECK(c.thicknesses_nm.size() == 11);
    const auto jobs = recipes::expand(c, cal());
    // per thickness: 30 devices x (rh + rv) + 10 one-cell field-free + 2 sacrificial breakdowns
    CHECK(jobs.size() == 11u * (60u + 10u + 2u));
    std::set<std::string> names;
    std::set<std::pair<int, int>> devices;
    int breakdowns = 0;
    for (const auto& j : jobs) {
        names.insert(j.name);
        devices.insert({j.device.die, j.device.device});
        if (j.kind == "breakdown_ramp") {
            ++breakdowns;
            CHECK((j.device.cells == 1 || j.device.cells == 3));
        }
        if (j.kind == "field_free_rv") CHECK(j.device.cells == 1);
        CHECK(check_plan(*j.plan, wide(), cal()).ok());
    }
    CHECK(names.size() == jobs.size());
    CHECK(devices.size() == 11u * 32u);
    CHECK(breakdowns == 22);
    CHECK(jobs.front().device.thickness_nm == Approx(1.6));
    CHECK(jobs.back().device.thickness_nm == Approx(2.6));
    // a selection the wafer cannot satisfy is refused with the reason
    auto bad = c;
    bad.devices_per_group = 12;
    CHECK_THROWS_WITH(recipes::expand(bad, cal()), Catch::Contains("only 11 1-cell devices"));
}

TEST_CASE("a recipe whose plan would exceed the point limits is refused when parsed, before it is made", "[unit]") {
    // Found by tests/fuzz/fuzz_recipe_toml: this recipe asked for 2 x 10^8 R(H) points (> 2 GiB before the plan
    // existed); switching_probability multiplied up to 10^5 repeats by up to 4 x 10^5 amplitudes.
    const std::string rh = "kind = \"rh_loop\"\nname = \"x\"\nloop = \"major\"\nstep_mT = 0.006\ncycles = 1000\n";
    const auto e = error_of(rh);
    CHECK_THAT(e, Catch::Contains("bad.toml") && Catch::Contains("cycles") &&
                      Catch::Contains("a run has at most 1000000 points"));
    CHECK_THAT(error_of("kind = \"rh_loop\"\nname = \"x\"\nloop = \"major\"\nstep_mT = 0.3\ncycles = 501\n"),
               Catch::Contains("501 cycles of 2001 fields give 2004001 points"));
    // Just below the limit is accepted and made exactly: 2001 fields there and back, 250 cycles.
    const auto ok = run_recipe("kind = \"rh_loop\"\nname = \"x\"\nloop = \"major\"\nstep_mT = 0.3\ncycles = 249\n");
    CHECK(recipes::expand(ok, cal()).points.size() == 2001u + 248u * 2000u + 249u * 2000u);
    CHECK(recipes::expand(ok, cal()).points.size() <= recipes::max_run_points);

    const std::string sw = "kind = \"switching_probability\"\nname = \"s\"\nmin_V = 0.01\nmax_V = 1.0\nstep_V = 0.001\n"
                           "repeats = 100000\n";
    CHECK_THAT(error_of(sw), Catch::Contains("repeats") && Catch::Contains("a run has at most 1000000 points"));
    CHECK_NOTHROW(run_recipe("kind = \"switching_probability\"\nname = \"s\"\nmin_V = 0.01\nmax_V = 1.0\n"
                             "step_V = 0.001\nrepeats = 1000\n"));

    // Amplitude sweeps: polarities may repeat, each one a sweep of up to 10^5 amplitudes (there and back).
    std::string pols = "[";
    for (int i = 0; i < 1000; ++i) pols += "\"positive\",";
    pols += "]";
    for (const char* kind : {"rv_pulse_train", "field_free_rv", "breakdown_ramp", "switching_probability"}) {
        INFO(kind);
        const std::string rv = fmt::format("kind = \"{}\"\nname = \"v\"\nmin_V = 0.01\nmax_V = 1.0\nstep_V = 0.0001\n"
                                           "polarities = {}\n",
                                           kind, pols);
        CHECK_THAT(error_of(rv), Catch::Contains("polarities") && Catch::Contains("a run has at most 1000000 points"));
    }
    CHECK_NOTHROW(run_recipe("kind = \"rv_pulse_train\"\nname = \"v\"\nmin_V = 0.01\nmax_V = 1.0\nstep_V = 0.0001\n"));
    std::string many = "kind = \"breakdown_ramp\"\nname = \"b\"\namplitudes_V = [";
    for (int i = 0; i < 1'000'001; ++i) many += "0.1,";
    many += "]\n";
    CHECK_THAT(error_of(many), Catch::Contains("amplitudes_V") && Catch::Contains("has 1000001 amplitudes"));
}

TEST_CASE("a campaign whose jobs would hold more than the point limit in all is refused", "[unit]") {
    auto any = recipes::load(test::source_dir() / "recipes" / "paper_campaign.toml");
    REQUIRE(std::holds_alternative<recipes::Campaign>(any));
    auto c = std::get<recipes::Campaign>(any);
    std::size_t total = 0;
    for (const auto& j : recipes::expand(c, cal())) total += j.plan->points.size();
    CHECK(total < recipes::max_campaign_points / 10);  // the paper campaign is far below the limit
    // The same runs on a wafer of 1000 dies of 10000 devices, all selected, exceed it: refused, not allocated.
    c.wafer.dies = 1000;
    c.wafer.devices_per_die = 10000;
    c.thicknesses_nm.clear();
    for (int d = 0; d < c.wafer.dies; ++d) c.thicknesses_nm.push_back(c.wafer.die_thickness_nm(d));
    c.devices_per_group = 3000;
    CHECK_THROWS_WITH(recipes::expand(c, cal()), Catch::Contains("would hold more than 5000000 points"));
}
