// The two-level shortcut of find_levels (levels.hpp) must never change a result: on thousands of seeded
// loops (0-2 % noise, gradual transitions, spikes, NaNs, 3-level minor loops, quantized reads, one-branch
// loops, shuffled rows, R(V) pulse trains, random clusters and options) the outputs with the shortcut equal
// those of the general method (forced with detail::GeneralLevelsOnly). Exact for every figure, level value,
// count, step, assignment, crossing and note; the sums behind r_std_ohm, log_sigma and bic are added in
// another order, so those are compared to rounding.
#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "mtjlab/analysis/levels.hpp"
#include "mtjlab/analysis/rh.hpp"
#include "mtjlab/analysis/rv.hpp"
#include "synth.hpp"

using namespace mtjlab::analysis;
using mtjlab::test::synth::LoopSpec;
using mtjlab::test::synth::rh_loop;

namespace {

/// Differences between two level results, one line each ("" when equivalent).
std::string compare_levels(const Levels& a, const Levels& g) {
    std::ostringstream d;
    d.precision(17);
    if (a.levels.size() != g.levels.size()) d << "level count " << a.levels.size() << " vs " << g.levels.size() << "\n";
    for (std::size_t i = 0; i < std::min(a.levels.size(), g.levels.size()); ++i) {
        const Level &x = a.levels[i], &y = g.levels[i];
        if (x.r_ohm != y.r_ohm) d << "level " << i << " r " << x.r_ohm << " vs " << y.r_ohm << "\n";
        if (x.points != y.points) d << "level " << i << " points " << x.points << " vs " << y.points << "\n";
        if (!(std::abs(x.r_std_ohm - y.r_std_ohm) <= 1e-11 * std::max(y.r_std_ohm, 1e-9 * y.r_ohm)))
            d << "level " << i << " std " << x.r_std_ohm << " vs " << y.r_std_ohm << "\n";
    }
    if (a.steps != g.steps) d << "steps differ\n";
    if (a.assignment != g.assignment) d << "assignment differs\n";
    if (a.reason != g.reason) d << "reason '" << a.reason << "' vs '" << g.reason << "'\n";
    // The general method's within-level sum of squares comes from prefix sums of (ln R - centre)^2: it is
    // exact to ~1e-13 of that sum, not of the (much smaller) within-level sum itself.
    if (!(std::abs(a.log_sigma * a.log_sigma - g.log_sigma * g.log_sigma) <= 1e-12 + 1e-9 * g.log_sigma * g.log_sigma))
        d << "log_sigma " << a.log_sigma << " vs " << g.log_sigma << "\n";
    if (a.bic.size() != g.bic.size()) {
        d << "bic size\n";
    } else {
        for (std::size_t k = 0; k < a.bic.size(); ++k) {
            const bool fa = std::isfinite(a.bic[k]), fg = std::isfinite(g.bic[k]);
            if (fa != fg || (fa && !(std::abs(a.bic[k] - g.bic[k]) <= 1e-6 * (1 + std::abs(g.bic[k])))))
                d << "bic[" << k << "] " << a.bic[k] << " vs " << g.bic[k] << "\n";
        }
    }
    return d.str();
}

void compare_extracted(std::ostringstream& d, const char* name, const Extracted& a, const Extracted& g) {
    if (a.value != g.value || a.error != g.error || a.reason != g.reason)
        d << name << " " << a.value.value_or(NAN) << " +- " << a.error.value_or(NAN) << " '" << a.reason << "' vs "
          << g.value.value_or(NAN) << " +- " << g.error.value_or(NAN) << " '" << g.reason << "'\n";
}

std::string compare_rh(const RhResult& a, const RhResult& g) {
    std::ostringstream d;
    d.precision(17);
    compare_extracted(d, "r_p", a.r_p_ohm, g.r_p_ohm);
    compare_extracted(d, "r_ap", a.r_ap_ohm, g.r_ap_ohm);
    compare_extracted(d, "tmr", a.tmr, g.tmr);
    compare_extracted(d, "h+", a.h_sw_plus_T, g.h_sw_plus_T);
    compare_extracted(d, "h-", a.h_sw_minus_T, g.h_sw_minus_T);
    compare_extracted(d, "hc", a.hc_T, g.hc_T);
    compare_extracted(d, "hex", a.hex_T, g.hex_T);
    compare_extracted(d, "squareness", a.squareness, g.squareness);
    compare_extracted(d, "h_rl", a.h_rl_T, g.h_rl_T);
    if (a.crossings.size() != g.crossings.size()) {
        d << "crossings " << a.crossings.size() << " vs " << g.crossings.size() << "\n";
    } else {
        for (std::size_t i = 0; i < a.crossings.size(); ++i) {
            const Crossing &x = a.crossings[i], &y = g.crossings[i];
            if (x.branch != y.branch || x.direction != y.direction || x.field_T != y.field_T || x.to_high != y.to_high)
                d << "crossing " << i << " differs\n";
        }
    }
    if (a.branches_up != g.branches_up || a.branches_down != g.branches_down) d << "branches differ\n";
    if (a.points_used != g.points_used || a.points_dropped != g.points_dropped || a.spikes_replaced != g.spikes_replaced)
        d << "point counts differ\n";
    if (a.noise_rel != g.noise_rel) d << "noise differs\n";
    if (a.notes != g.notes) d << "notes differ\n";
    if (a.error != g.error) d << "error '" << a.error << "' vs '" << g.error << "'\n";
    d << compare_levels(a.levels, g.levels);
    return d.str();
}

/// One seeded R(H) loop of a random shape (the cases are chosen by `t`, so every shape appears often).
Sweep random_loop(std::mt19937_64& rng, int t) {
    std::uniform_real_distribution<double> u(0, 1);
    static const double noises[] = {0, 1e-7, 1e-5, 1e-4, 3e-4, 1e-3, 1e-3, 1.5e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2};
    LoopSpec s;
    s.r_p = 1e3 * std::pow(100.0, u(rng));  // 1 kOhm .. 100 kOhm
    s.tmr = t % 11 == 0 ? 0.002 + 0.02 * u(rng) : 0.05 + 1.5 * u(rng);
    const double hc = (2 + 12 * u(rng)) * 1e-3, hex = (-4 + 8 * u(rng)) * 1e-3;
    s.h_plus = hex + hc;
    s.h_minus = hex - hc;
    s.noise = noises[static_cast<std::size_t>(t) % std::size(noises)];
    s.step = (0.1 + 0.9 * u(rng)) * 1e-3;
    s.h_max = (20 + 20 * u(rng)) * 1e-3;
    s.width = t % 5 == 1 ? (0.2 + 2 * u(rng)) * 1e-3 : 0.0;  // gradual transitions
    s.loops = t % 7 == 2 ? 2 : 1;
    s.record_columns = t % 3 != 0;
    Sweep sw = rh_loop(s, rng);
    const std::size_t n = sw.r_ohm.size();
    if (t % 6 == 3) {  // 3-level minor loop: a partly switched state over part of each branch
        const double mid_level = s.r_p * (1 + s.tmr * (0.3 + 0.4 * u(rng)));
        for (std::size_t i = 0; i < n; ++i)
            if (std::abs(sw.x[i] - hex) < 0.4 * hc && sw.r_ohm[i] > s.r_p * (1 + 0.5 * s.tmr))
                sw.r_ohm[i] = mid_level * (1 + s.noise * (2 * u(rng) - 1));
    }
    if (t % 4 == 1)  // spikes
        for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) sw.r_ohm[rng() % n] *= u(rng) < 0.5 ? 2.5 : 0.4;
    if (t % 8 == 5) {  // NaNs, infinities, non-positive reads
        sw.r_ohm[rng() % n] = std::nan("");
        sw.r_ohm[rng() % n] = std::numeric_limits<double>::infinity();
        sw.x[rng() % n] = std::nan("");
        sw.r_ohm[rng() % n] = -5;
    }
    if (t % 9 == 4) {  // quantized reads (a 4-digit meter, or a coarse one)
        const double q = u(rng) < 0.5 ? s.r_p * 1e-4 : s.r_p * 3e-3;
        for (double& r : sw.r_ohm) r = std::round(r / q) * q;
    }
    if (t % 10 == 7) {  // one branch only
        const std::size_t half = n / (2 * static_cast<std::size_t>(s.loops));
        sw.x.resize(half);
        sw.r_ohm.resize(half);
        if (!sw.branch.empty()) {
            sw.branch.resize(half);
            sw.direction.resize(half);
        }
    }
    if (t % 13 == 6 && !sw.branch.empty()) {  // shuffled rows with recorded columns
        std::vector<std::size_t> idx(sw.x.size());
        for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
        std::shuffle(idx.begin(), idx.end(), rng);
        Sweep o;
        for (std::size_t i : idx) {
            o.x.push_back(sw.x[i]);
            o.r_ohm.push_back(sw.r_ohm[i]);
            o.branch.push_back(sw.branch[i]);
            o.direction.push_back(sw.direction[i]);
        }
        sw = o;
    }
    return sw;
}

}  // namespace

TEST_CASE("level shortcut: analyze_rh gives the general method's results on 3,000 seeded loops", "[unit]") {
    std::mt19937_64 rng(2024);
    auto& counts = detail::level_shortcut_counts();
    const auto before = counts;
    int mismatches = 0, shown = 0;
    for (int t = 0; t < 3000; ++t) {
        const Sweep sw = random_loop(rng, t);
        const RhResult fast = analyze_rh(sw);
        RhResult general;
        {
            detail::GeneralLevelsOnly only;
            general = analyze_rh(sw);
        }
        const std::string diff = compare_rh(fast, general);
        if (!diff.empty()) {
            ++mismatches;
            if (shown++ < 5) {
                INFO("loop " << t << ":\n" << diff);
                CHECK(diff.empty());
            }
        }
    }
    CHECK(mismatches == 0);
    const std::size_t tried = counts.tried - before.tried, taken = counts.taken - before.taken;
    INFO("shortcut taken in " << taken << " of " << tried << " loops");
    CHECK(tried == 3000);      // every fast call tried it; none of the forced general calls did
    CHECK(taken > 900);        // the shortcut was exercised on many loops ...
    CHECK(taken < tried - 600);  // ... and refused on many (noisy, 3-level, gradual, never switching)
}

TEST_CASE("level shortcut: find_levels equals the general method on random clusters, options and R(V) loops",
          "[unit]") {
    std::mt19937_64 rng(2025);
    std::uniform_real_distribution<double> u(0, 1);
    std::normal_distribution<double> g;
    auto& counts = detail::level_shortcut_counts();
    const auto before = counts;
    int mismatches = 0, shown = 0;
    auto check = [&](const std::vector<double>& r, const LevelOptions& opt, int t) {
        const Levels fast = find_levels(r, opt);
        Levels general;
        {
            detail::GeneralLevelsOnly only;
            general = find_levels(r, opt);
        }
        const Levels direct = detail::find_levels_general(r, opt);
        std::string diff = compare_levels(fast, general) + compare_levels(direct, general);
        if (direct.log_sigma != general.log_sigma) diff += "forced and direct general paths differ\n";
        if (!diff.empty()) {
            ++mismatches;
            if (shown++ < 5) {
                INFO("case " << t << ":\n" << diff);
                CHECK(diff.empty());
            }
        }
    };
    for (int t = 0; t < 3000; ++t) {
        // 1-4 clusters of random sizes (some of 1-3 points), steps 0.3-60 %, noise 0-3 %, outliers.
        const int k = 1 + static_cast<int>(rng() % 4);
        std::vector<double> centres{std::exp(u(rng) * 12)};
        for (int c = 1; c < k; ++c) centres.push_back(centres.back() * (1.003 + 0.6 * u(rng) * u(rng)));
        const double noise = (t % 4 == 0 ? 0 : 1e-6) + 0.03 * std::pow(u(rng), 3);
        const std::size_t n = t % 10 == 0 ? 2 + rng() % 60 : 20 + rng() % 1500;
        std::vector<double> r(n);
        const double heavy = u(rng);  // share of the first cluster
        for (auto& x : r) {
            const auto c = u(rng) < heavy ? 0 : rng() % centres.size();
            x = centres[c] * (1 + noise * g(rng));
        }
        if (t % 5 == 0) r[rng() % n] *= 3;
        if (t % 7 == 0) r[rng() % n] = std::nan("");
        if (t % 11 == 0) r[rng() % n] = 0;
        LevelOptions opt;
        if (t % 3 == 1) opt = rv_level_defaults();
        if (t % 3 == 2) {
            opt.max_levels = 1 + static_cast<int>(rng() % 8);
            opt.min_points = rng() % 6;
            opt.min_step = 0.002 + 0.1 * u(rng);
            opt.noise_floor = u(rng) < 0.3 ? 0 : 1e-5 * std::pow(100.0, u(rng));
        }
        check(r, opt, t);
    }
    // R(V) pulse trains of 1- to 3-cell devices (the levels analyze_rv clusters).
    for (int t = 0; t < 600; ++t) {
        mtjlab::test::synth::Compound c;
        const int cells = 1 + t % 3;
        for (int i = 0; i < cells; ++i) {
            c.r_p.push_back(20e3 * (1 + 0.1 * u(rng)));
            c.tmr.push_back(0.3 + 0.8 * u(rng));
            c.vc_minus.push_back(-0.4 - 0.5 * u(rng));
            c.vc_plus.push_back(0.4 + 0.5 * u(rng));
        }
        const Sweep sw = mtjlab::test::synth::rv_loop(c, 1.2, 0.025, t % 2 ? 0.001 : 0.005, rng);
        check(sw.r_ohm, rv_level_defaults(), 10000 + t);
        const RvResult fast = analyze_rv(sw, false);
        RvResult general;
        {
            detail::GeneralLevelsOnly only;
            general = analyze_rv(sw, false);
        }
        const std::string diff = compare_levels(fast.levels, general.levels);
        const bool same = diff.empty() && fast.vc_ap_to_p_V.value == general.vc_ap_to_p_V.value &&
                          fast.vc_p_to_ap_V.value == general.vc_p_to_ap_V.value &&
                          fast.r_p_ohm.value == general.r_p_ohm.value && fast.r_ap_ohm.value == general.r_ap_ohm.value &&
                          fast.tmr.value == general.tmr.value && fast.notes == general.notes &&
                          fast.error == general.error;
        if (!same) {
            ++mismatches;
            if (shown++ < 5) {
                INFO("R(V) loop " << t << ":\n" << diff);
                CHECK(same);
            }
        }
    }
    CHECK(mismatches == 0);
    const std::size_t taken = counts.taken - before.taken;
    INFO("shortcut taken " << taken << " times");
    CHECK(taken > 500);
}

TEST_CASE("level shortcut: refuses what it cannot prove", "[unit]") {
    auto& counts = detail::level_shortcut_counts();
    auto taken_for = [&](const std::vector<double>& r, const LevelOptions& opt = {}) {
        const auto before = counts.taken;
        const Levels l = find_levels(r, opt);
        return std::make_pair(counts.taken - before, l.levels.size());
    };
    std::mt19937_64 rng(7);
    std::normal_distribution<double> g;
    std::vector<double> two, three, wide;
    for (int i = 0; i < 400; ++i) {
        two.push_back((i % 2 ? 25e3 : 35e3) * (1 + 1e-3 * g(rng)));
        three.push_back((i % 3 == 0 ? 25e3 : i % 3 == 1 ? 30e3 : 35e3) * (1 + 1e-3 * g(rng)));
        wide.push_back((i % 2 ? 25e3 : 35e3) * (1 + 5e-3 * g(rng)));  // clusters span > 1 %
    }
    CHECK(taken_for(two) == std::make_pair(std::size_t{1}, std::size_t{2}));
    CHECK(taken_for(three) == std::make_pair(std::size_t{0}, std::size_t{3}));
    CHECK(taken_for(wide).first == 0);
    LevelOptions one;
    one.max_levels = 1;
    CHECK(taken_for(two, one) == std::make_pair(std::size_t{0}, std::size_t{1}));
    std::vector<double> flat(400, 25e3);
    CHECK(taken_for(flat) == std::make_pair(std::size_t{0}, std::size_t{1}));
    // A lone far read next to one cluster: the two "clusters" would be 399 points and 1 point.
    std::vector<double> lone(399, 25e3);
    for (auto& x : lone) x *= 1 + 1e-4 * g(rng);
    lone.push_back(90e3);
    CHECK(taken_for(lone).first == 0);
}
