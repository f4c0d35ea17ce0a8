// R(H) loop extraction against synthetic loops with known parameters.
#include <algorithm>
#include <cmath>
#include <random>

#include <catch2/catch.hpp>

#include "mtjlab/analysis/rh.hpp"
#include "synth.hpp"

using namespace mtjlab::analysis;
using mtjlab::test::synth::LoopSpec;
using mtjlab::test::synth::rh_loop;

namespace {
LoopSpec random_spec(std::mt19937_64& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    LoopSpec s;
    s.r_p = 15e3 + 20e3 * u(rng);
    s.tmr = 0.2 + 0.7 * u(rng);
    const double hc = (7 + 6 * u(rng)) * 1e-3;
    const double hex = (-3 + 6 * u(rng)) * 1e-3;
    s.h_plus = hex + hc;
    s.h_minus = hex - hc;
    s.noise = 0.001;
    s.step = 0.1e-3;
    return s;
}
}  // namespace

TEST_CASE("R(H): TMR within 0.5 pp and Hc, Hex within 0.2 mT at 0.1 % noise, 0.1 mT steps", "[unit]") {
    std::mt19937_64 rng(20261129);
    double worst_tmr = 0, worst_hc = 0, worst_hex = 0;
    for (int trial = 0; trial < 200; ++trial) {
        const auto spec = random_spec(rng);
        const auto res = analyze_rh(rh_loop(spec, rng));
        REQUIRE(res.error.empty());
        REQUIRE(res.tmr.ok());
        REQUIRE(res.hc_T.ok());
        REQUIRE(res.hex_T.ok());
        worst_tmr = std::max(worst_tmr, std::abs(*res.tmr - spec.tmr));
        worst_hc = std::max(worst_hc, std::abs(*res.hc_T - (spec.h_plus - spec.h_minus) / 2));
        worst_hex = std::max(worst_hex, std::abs(*res.hex_T - (spec.h_plus + spec.h_minus) / 2));
        CHECK(*res.r_p_ohm == Approx(spec.r_p).epsilon(0.002));
        CHECK(*res.squareness == Approx(1.0).margin(0.02));
    }
    INFO("worst |dTMR| " << worst_tmr << ", |dHc| " << worst_hc << " T, |dHex| " << worst_hex << " T");
    CHECK(worst_tmr < 0.005);
    CHECK(worst_hc < 0.2e-3);
    CHECK(worst_hex < 0.2e-3);
}

TEST_CASE("R(H): gradual transitions are located at the midpoint crossing", "[unit]") {
    std::mt19937_64 rng(7);
    LoopSpec s;
    s.width = 1.5e-3;
    const auto res = analyze_rh(rh_loop(s, rng));
    REQUIRE(res.hc_T.ok());
    CHECK(*res.h_sw_plus_T == Approx(s.h_plus).margin(0.1e-3));
    CHECK(*res.h_sw_minus_T == Approx(s.h_minus).margin(0.1e-3));
    CHECK(*res.tmr == Approx(s.tmr).margin(0.005));
}

TEST_CASE("R(H): robust to NaNs, missing points, spikes and shuffled rows", "[unit]") {
    std::mt19937_64 rng(42);
    LoopSpec s;
    auto sw = rh_loop(s, rng);
    std::uniform_int_distribution<std::size_t> pick(0, sw.x.size() - 1);
    // NaNs and infinities
    for (int k = 0; k < 20; ++k) sw.r_ohm[pick(rng)] = std::nan("");
    for (int k = 0; k < 5; ++k) sw.x[pick(rng)] = std::numeric_limits<double>::infinity();
    // spikes: 3x and 0.2x the resistance, and a negative read
    for (int k = 0; k < 15; ++k) sw.r_ohm[pick(rng)] *= (k % 2 ? 3.0 : 0.2);
    sw.r_ohm[pick(rng)] = -5;
    // missing points: erase a block of 30 rows (not across a switching field)
    sw.x.erase(sw.x.begin() + 10, sw.x.begin() + 40);
    sw.r_ohm.erase(sw.r_ohm.begin() + 10, sw.r_ohm.begin() + 40);
    sw.branch.erase(sw.branch.begin() + 10, sw.branch.begin() + 40);
    sw.direction.erase(sw.direction.begin() + 10, sw.direction.begin() + 40);
    // shuffle all rows (branch/direction columns keep the sweep recoverable)
    std::vector<std::size_t> perm(sw.x.size());
    for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    Sweep sh;
    for (auto i : perm) {
        sh.x.push_back(sw.x[i]);
        sh.r_ohm.push_back(sw.r_ohm[i]);
        sh.branch.push_back(sw.branch[i]);
        sh.direction.push_back(sw.direction[i]);
    }
    for (const Sweep* in : {&sw, &sh}) {
        const auto res = analyze_rh(*in);
        REQUIRE(res.tmr.ok());
        CHECK(*res.tmr == Approx(s.tmr).margin(0.005));
        CHECK(*res.hc_T == Approx((s.h_plus - s.h_minus) / 2).margin(0.2e-3));
        CHECK(*res.hex_T == Approx((s.h_plus + s.h_minus) / 2).margin(0.2e-3));
        CHECK(res.points_dropped > 0);
        CHECK(res.spikes_replaced > 0);
    }
    // Shuffled with only the direction column.
    Sweep dir_only = sh;
    dir_only.branch.clear();
    const auto r2 = analyze_rh(dir_only);
    REQUIRE(r2.hc_T.ok());
    CHECK(*r2.hc_T == Approx((s.h_plus - s.h_minus) / 2).margin(0.2e-3));
}

TEST_CASE("R(H): branches inferred from point order when not recorded", "[unit]") {
    std::mt19937_64 rng(3);
    LoopSpec s;
    s.record_columns = false;
    s.loops = 2;
    const auto res = analyze_rh(rh_loop(s, rng));
    CHECK(res.branches_up == 2);
    CHECK(res.branches_down == 2);
    REQUIRE(res.hc_T.ok());
    CHECK(*res.hc_T == Approx((s.h_plus - s.h_minus) / 2).margin(0.2e-3));
    REQUIRE(res.hc_T.error.has_value());
}

TEST_CASE("R(H): bad loops give empty figures with reasons, never numbers", "[unit]") {
    std::mt19937_64 rng(5);
    SECTION("never switches") {
        LoopSpec s;
        s.h_plus = 1;  // beyond the sweep: stays P on both branches
        s.h_minus = 0.9;
        const auto res = analyze_rh(rh_loop(s, rng));
        CHECK_FALSE(res.tmr.ok());
        CHECK_FALSE(res.r_p_ohm.ok());
        CHECK_FALSE(res.hc_T.ok());
        CHECK(res.tmr.reason.find("never switches") != std::string::npos);
    }
    SECTION("one branch") {
        LoopSpec s;
        auto sw = rh_loop(s, rng);
        const std::size_t half = sw.x.size() / 2;
        sw.x.resize(half);
        sw.r_ohm.resize(half);
        sw.branch.resize(half);
        sw.direction.resize(half);
        const auto res = analyze_rh(sw);
        CHECK(res.tmr.ok());  // both states were seen
        CHECK(res.h_sw_plus_T.ok());
        CHECK_FALSE(res.h_sw_minus_T.ok());
        CHECK_FALSE(res.hc_T.ok());
        CHECK(res.hc_T.reason.find("falling") != std::string::npos);
    }
    SECTION("empty and all-NaN") {
        CHECK_FALSE(analyze_rh(Sweep{}).error.empty());
        Sweep s;
        s.x = {1, 2, 3, 4, 5, 6, 7};
        s.r_ohm.assign(7, std::nan(""));
        const auto res = analyze_rh(s);
        CHECK_FALSE(res.error.empty());
        CHECK_FALSE(res.tmr.ok());
    }
    SECTION("mismatched columns") {
        Sweep s;
        s.x = {1, 2, 3};
        s.r_ohm = {1, 2};
        CHECK_FALSE(analyze_rh(s).error.empty());
    }
}

TEST_CASE("R(H): major loop gives the reference-layer rotation field", "[unit]") {
    // -300 -> +300 -> -300 mT: FL P->AP at +10, RL rotates (AP->P) at +120 rising; falling: RL at +90
    // (P->AP), FL AP->P at -10.
    std::mt19937_64 rng(11);
    std::normal_distribution<double> n01;
    Sweep sw;
    const double rp = 25.2e3, rap = 33.8e3;
    for (int dir : {1, -1}) {
        for (int k = 0; k <= 600; ++k) {
            const double h = dir > 0 ? -0.3 + k * 1e-3 : 0.3 - k * 1e-3;
            bool ap;
            if (dir > 0) ap = h >= 10.2e-3 && h < 120.4e-3;
            else ap = h <= 90.3e-3 && h > -9.6e-3;
            sw.x.push_back(h);
            sw.r_ohm.push_back((ap ? rap : rp) * (1 + 0.001 * n01(rng)));
            sw.direction.push_back(dir);
        }
    }
    const auto res = analyze_rh(sw);
    REQUIRE(res.h_rl_T.ok());
    CHECK(*res.h_rl_T == Approx(90.3e-3).margin(1e-3));
    REQUIRE(res.hc_T.ok());
    CHECK(*res.h_sw_plus_T == Approx(10.2e-3).margin(0.6e-3));
    CHECK(*res.h_sw_minus_T == Approx(-9.6e-3).margin(0.6e-3));
    CHECK(*res.tmr == Approx(rap / rp - 1).margin(0.005));
}
