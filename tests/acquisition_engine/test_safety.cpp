// Safety property: for thousands of random plans and station limits, no command beyond a limit ever
// reaches a transport (checked on the messages recorded at the transport seam), whether or not the plan
// went through preflight; preflight refuses exactly the plans with an offending step and names it.
#include <cmath>
#include <limits>
#include <random>
#include <regex>

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "lab_fixture.hpp"
#include "mtjlab/acquisition/engine.hpp"
#include "mtjlab/acquisition/preflight.hpp"
#include "mtjlab/core/error.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::acquisition;

namespace {

BenchLimits random_limits(std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    BenchLimits l;
    l.max_pulse_amplitude = Volt(0.3 + 2.7 * u(rng));
    l.max_pulse_width = Second(50e-9 + 950e-9 * u(rng));
    l.max_field = Tesla(0.005 + 0.095 * u(rng));
    l.max_coil_current = Ampere(0.2 + 7.8 * u(rng));
    l.max_ramp_rate_t_per_s = 0.01 + u(rng);
    // SR830 SLVL has 2 mV resolution: a limit on that grid keeps rounding from crossing it.
    l.max_read_voltage = Volt(0.002 * std::round((0.02 + 0.4 * u(rng)) / 0.002));
    return l;
}

/// Random plan whose values straddle the limits (about a third of the values beyond).
Plan random_plan(std::mt19937_64& rng, const BenchLimits& l, const BenchCalibration& cal) {
    std::uniform_real_distribution<double> u(0, 1);
    auto around = [&](double lim) { return (u(rng) < 0.5 ? -1 : 1) * lim * 1.5 * u(rng); };
    Plan plan;
    plan.kind = "rv_pulse_train";
    plan.recipe_name = "random";
    const int points = 1 + static_cast<int>(u(rng) * 4);
    for (int i = 0; i < points; ++i) {
        Point pt;
        const int steps = 1 + static_cast<int>(u(rng) * 4);
        for (int s = 0; s < steps; ++s) {
            const double pick = u(rng);
            if (pick < 0.35) {
                const Tesla f(around(std::min(l.max_field.si(), l.max_coil_current.si() * cal.coil_constant_t_per_a)));
                pt.steps.push_back(SetField{f, coil_current_for(f, cal)});
            } else if (pick < 0.7) {
                pt.steps.push_back(ApplyPulse{Volt(around(l.max_pulse_amplitude.si())),
                                              Second(1e-9 + l.max_pulse_width.si() * 1.4 * u(rng))});
            } else if (pick < 0.8) {
                pt.steps.push_back(Wait{Second(0.01 * u(rng))});
            } else {
                Read r;
                r.amplitude = Volt(0.004 + l.max_read_voltage.si() * 1.4 * u(rng));
                r.frequency = Hertz(13.7);
                r.time_constant = Second(0.01);
                pt.steps.push_back(r);
            }
        }
        pt.steps.push_back(Read{1, Volt(std::min(0.1, l.max_read_voltage.si())), Hertz(13.7), Second(0.01)});
        plan.points.push_back(std::move(pt));
    }
    return plan;
}

/// The first step of the plan beyond a limit, computed independently of preflight.
std::optional<std::pair<std::size_t, std::size_t>> first_offender(const Plan& plan, const BenchLimits& l) {
    for (std::size_t i = 0; i < plan.points.size(); ++i)
        for (std::size_t j = 0; j < plan.points[i].steps.size(); ++j) {
            const Step& s = plan.points[i].steps[j];
            bool bad = false;
            if (auto f = std::get_if<SetField>(&s))
                bad = std::abs(f->field.si()) > l.max_field.si() || std::abs(f->current.si()) > l.max_coil_current.si();
            if (auto p = std::get_if<ApplyPulse>(&s))
                bad = std::abs(p->amplitude.si()) > l.max_pulse_amplitude.si() || p->width.si() > l.max_pulse_width.si();
            if (auto r = std::get_if<Read>(&s)) bad = r->amplitude.si() > l.max_read_voltage.si();
            if (bad) return std::make_pair(i, j);
        }
    return std::nullopt;
}

/// Every recorded message that carries a setpoint is within the limits.
void check_seam(const test::Recorded& rec, const BenchLimits& l, std::size_t from) {
    static const std::regex num_cmd(R"(^\s*(VOLT|CURR|FUNC:PULS:WIDT|SLVL)\s+([-+0-9.eE]+)\s*$)",
                                    std::regex::icase);
    for (std::size_t k = from; k < rec.messages.size(); ++k) {
        const auto& [who, msg] = rec.messages[k];
        std::smatch m;
        if (!std::regex_match(msg, m, num_cmd)) continue;
        const std::string head = m[1].str();
        const double v = std::stod(m[2].str());
        INFO(who << ": " << msg);
        if (who == "pulse_gen" && (head == "VOLT" || head == "volt")) CHECK(std::abs(v) <= l.max_pulse_amplitude.si() * (1 + 1e-12));
        if (who == "pulse_gen" && head == "FUNC:PULS:WIDT") CHECK(v <= l.max_pulse_width.si() * (1 + 1e-12));
        if (who == "magnet" && head == "CURR") CHECK(std::abs(v) <= l.max_coil_current.si() * (1 + 1e-12));
        if (who == "lockin" && head == "SLVL") CHECK(v <= l.max_read_voltage.si() + 1e-12);
    }
}

}  // namespace

TEST_CASE("safety property: no command beyond a limit reaches a transport; preflight names the step",
          "[sim][safety]") {
    std::mt19937_64 rng(20261129);
    BenchCalibration cal;
    cal.coil_constant_t_per_a = 0.0125;
    cal.time_constant = Second(0.01);
    cal.ramp_step = Tesla(2e-3);
    test::LabBench lab(1.8, 1, cal.coil_constant_t_per_a, false);
    std::size_t refused = 0, accepted = 0, guard_stops = 0;
    const int iterations = 3000;
    for (int it = 0; it < iterations; ++it) {
        const BenchLimits l = random_limits(rng);
        BenchCalibration c = cal;
        c.ramp_rate_t_per_s = l.max_ramp_rate_t_per_s;
        c.read_amplitude = Volt(std::min(0.1, l.max_read_voltage.si()));
        const Plan plan = random_plan(rng, l, c);
        const auto offender = first_offender(plan, l);
        const PreflightReport rep = check_plan(plan, l, c);
        INFO("iteration " << it);
        if (offender) {
            ++refused;
            REQUIRE_FALSE(rep.ok());
            REQUIRE(!rep.violations.empty());
            CHECK(rep.violations.front().point == offender->first);
            CHECK(rep.violations.front().step == offender->second);
            try {
                preflight(plan, l, c);
                FAIL("preflight accepted a plan beyond the limits");
            } catch (const LimitError& e) {
                CHECK_THAT(std::string(e.what()),
                           Catch::Contains(fmt::format("point {} step {}", offender->first, offender->second)));
            }
        } else {
            ++accepted;
            CHECK(rep.ok());
        }
        // Execute the plan with NO preflight (as if preflight had a bug): the guard alone must stop it.
        const std::size_t from = lab.recorded->messages.size();
        GuardedBench bench(lab.instruments(), l, c, lab.clock());
        try {
            BenchGuard guard(bench);
            bench.initialize();
            for (const Point& p : plan.points)
                for (const Step& s : p.steps) {
                    if (auto f = std::get_if<SetField>(&s)) bench.set_field(*f);
                    if (auto pu = std::get_if<ApplyPulse>(&s)) bench.pulse(*pu);
                    if (auto w = std::get_if<Wait>(&s)) bench.wait(w->duration);
                    if (auto r = std::get_if<Read>(&s)) (void)bench.read(*r);
                }
            CHECK_FALSE(offender.has_value());
        } catch (const LimitError& e) {
            // Either the guard (a station limit) or a driver (the model's own range, e.g. the 16 ns
            // minimum width of a 33522B) refused before any I/O.
            const bool by_guard = std::string(e.what()).find("guard refused") != std::string::npos;
            if (by_guard) ++guard_stops;
            if (by_guard) CHECK(offender.has_value());
        }
        check_seam(*lab.recorded, l, from);
        CHECK(std::abs(lab.field().si()) < 1e-12);  // the guard left the bench at zero field
    }
    CHECK(refused > iterations / 4);
    CHECK(accepted > iterations / 10);
    CHECK(guard_stops <= refused);
    CHECK(guard_stops > refused * 3 / 4);
}

TEST_CASE("a coil current left by a killed session is ramped down at the first contact, not dropped to 0 A",
          "[sim][safety]") {
    // The supply keeps its setpoint when the process that programmed it dies; the next session's guard
    // must start its ramp from there (steps of at most ramp_step / k), or refuse when it is beyond the limit.
    test::LabBench lab(1.8, 1, 0.0125, false);
    const BenchCalibration c = test::bench_calibration();
    BenchLimits l = test::bench_limits();
    auto magnet = lab.lab->handler("magnet");
    for (const char* m : {"FUNC:MODE CURR", "CURR 5", "OUTP ON"}) (void)magnet(m);
    auto coil_commands = [&](std::size_t from) {
        std::vector<double> out;
        std::lock_guard lock(lab.recorded->mutex);
        for (std::size_t i = from; i < lab.recorded->messages.size(); ++i) {
            const auto& [who, msg] = lab.recorded->messages[i];
            if (who == "magnet" && msg.rfind("CURR ", 0) == 0) out.push_back(std::stod(msg.substr(5)));
        }
        return out;
    };
    const std::size_t from = lab.recorded->messages.size();
    SECTION("within the limit: a ramp from 5 A") {
        GuardedBench bench(lab.instruments(), l, c, lab.clock());
        bench.initialize();
        const auto sent = coil_commands(from);
        REQUIRE(sent.size() >= 60);  // 5 A in steps of at most 0.08 A
        double prev = 5.0;
        for (double i : sent) {
            CHECK(std::abs(i - prev) <= c.ramp_step.si() / c.coil_constant_t_per_a + 1e-9);
            prev = i;
        }
        CHECK(sent.back() == 0.0);
        CHECK(std::abs(lab.field().si()) < 1e-12);
    }
    SECTION("beyond the coil-current limit: refused with the reason, no current command sent") {
        l.max_coil_current = Ampere(4.0);
        GuardedBench bench(lab.instruments(), l, c, lab.clock());
        CHECK_THROWS_WITH(bench.initialize(), Catch::Contains("holds 5 A, left by an earlier session") &&
                                                  Catch::Contains("ramp it to 0 A by hand"));
        CHECK(coil_commands(from).empty());
        // make_safe (the BenchGuard) does not touch the magnet either: no ramp, no jump, no OUTP OFF.
        CHECK_THAT(bench.make_safe(), Catch::Contains("magnet supply: not touched, it holds 5 A"));
        CHECK(coil_commands(from).empty());
        std::lock_guard lock(lab.recorded->mutex);
        for (std::size_t i = from; i < lab.recorded->messages.size(); ++i)
            if (lab.recorded->messages[i].first == "magnet") CHECK(lab.recorded->messages[i].second == "CURR?");
    }
}

TEST_CASE("the guard refuses limits it cannot compare against (NaN, infinite, zero, negative)", "[sim][safety]") {
    // Preflight refuses them too; the guard is the second line and must not depend on it: with a NaN limit
    // every `value > limit` is false and every command would pass.
    test::LabBench lab(1.8, 1, 0.0125, false);
    const BenchCalibration c = test::bench_calibration();
    const auto good = test::bench_limits;
    CHECK_NOTHROW(GuardedBench(lab.instruments(), good(), c, lab.clock()));
    for (const double bad : {std::nan(""), std::numeric_limits<double>::infinity(), 0.0, -1.0}) {
        INFO(bad);
        BenchLimits l = good();
        l.max_pulse_amplitude = Volt(bad);
        CHECK_THROWS_WITH(GuardedBench(lab.instruments(), l, c, lab.clock()),
                          Catch::Contains("station limits") && Catch::Contains("max_pulse_amplitude"));
        l = good();
        l.max_field = Tesla(bad);
        CHECK_THROWS_AS(GuardedBench(lab.instruments(), l, c, lab.clock()), InputError);
        CHECK_FALSE(check_plan(Plan{}, l, c).ok());
    }
    BenchCalibration nan_k = c;
    nan_k.coil_constant_t_per_a = std::nan("");
    CHECK_THROWS_WITH(GuardedBench(lab.instruments(), good(), nan_k, lab.clock()), Catch::Contains("coil constant"));
    CHECK(lab.recorded->messages.empty());  // refused before any I/O
}
