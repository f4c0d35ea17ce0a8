// Analysis throughput: R(H) loops of 800 points per second on one core (target > 20,000), beside a naive
// baseline (min/max plateaus, first threshold crossing per branch: what a quick script does, without the
// robustness), plus level clustering and a whole paper-sized campaign.
// On a shared machine run with repetitions, e.g.
//   bench_analysis --benchmark_filter=rh_loop --benchmark_repetitions=10 --benchmark_min_time=0.2
//                  --benchmark_report_aggregates_only=true
// and compare with the naive baseline of the same run: a fixed reference that shows how much the load slowed
// things (unloaded, session 1: 3.4 us).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "mtjlab/analysis/campaign.hpp"
#include "mtjlab/analysis/levels.hpp"
#include "mtjlab/analysis/rh.hpp"

using namespace mtjlab::analysis;

namespace {

/// 800-point minor loop: -30 -> +30 -> -30 mT in 0.15 mT steps, 0.1 % noise, with branch/direction.
Sweep loop800(std::uint64_t seed, double rp = 25e3, double tmr = 0.4, double hp = 11e-3, double hm = -8e-3,
              double noise = 0.001) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> n01;
    Sweep s;
    for (int dir : {1, -1})
        for (int k = 0; k < 400; ++k) {
            const double h = dir > 0 ? -30e-3 + k * 0.15e-3 : 30e-3 - k * 0.15e-3;
            const bool ap = dir > 0 ? h >= hp : h > hm;
            s.x.push_back(h);
            s.r_ohm.push_back(rp * (ap ? 1 + tmr : 1.0) * (1 + noise * n01(rng)));
            s.branch.push_back(dir > 0 ? 0 : 1);
            s.direction.push_back(dir);
        }
    return s;
}

struct Naive {
    double rp, rap, hp, hm;
};

/// The baseline: no cleaning, extremes as plateaus, first midpoint crossing in record order.
Naive naive_rh(const Sweep& s) {
    const auto [mn, mx] = std::minmax_element(s.r_ohm.begin(), s.r_ohm.end());
    const double mid = 0.5 * (*mn + *mx);
    Naive n{*mn, *mx, NAN, NAN};
    for (std::size_t i = 1; i < s.x.size(); ++i) {
        const bool up = s.direction[i] > 0;
        if (s.direction[i] != s.direction[i - 1]) continue;
        if (up && std::isnan(n.hp) && s.r_ohm[i - 1] < mid && s.r_ohm[i] >= mid) n.hp = s.x[i];
        if (!up && std::isnan(n.hm) && s.r_ohm[i - 1] > mid && s.r_ohm[i] <= mid) n.hm = s.x[i];
    }
    return n;
}

std::vector<Sweep> loops(int n) {
    std::vector<Sweep> v;
    for (int i = 0; i < n; ++i) v.push_back(loop800(static_cast<std::uint64_t>(i) + 1));
    return v;
}

void BM_rh_loop_800_points(benchmark::State& state) {
    const auto data = loops(64);
    std::size_t i = 0;
    for (auto _ : state) {
        auto r = analyze_rh(data[i++ % data.size()]);
        benchmark::DoNotOptimize(r.tmr.value);
    }
    state.counters["loops_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_rh_loop_800_points);

void BM_rh_loop_800_points_naive_baseline(benchmark::State& state) {
    const auto data = loops(64);
    std::size_t i = 0;
    for (auto _ : state) {
        auto r = naive_rh(data[i++ % data.size()]);
        benchmark::DoNotOptimize(r);
    }
    state.counters["loops_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_rh_loop_800_points_naive_baseline);

/// The same loops through the general level clustering only (no two-level shortcut): what a loop the
/// shortcut refuses costs.
void BM_rh_loop_general_path_800(benchmark::State& state) {
    const auto data = loops(64);
    detail::GeneralLevelsOnly general;
    std::size_t i = 0;
    for (auto _ : state) {
        auto r = analyze_rh(data[i++ % data.size()]);
        benchmark::DoNotOptimize(r.tmr.value);
    }
}
BENCHMARK(BM_rh_loop_general_path_800);

/// 0.5 % read noise: the clusters span more than 1 %, the shortcut is tried and refused (its cost on top of
/// the general path is the difference to BM_rh_noisy_loop_800_general).
void BM_rh_noisy_loop_800(benchmark::State& state) {
    std::vector<Sweep> data;
    for (int k = 0; k < 64; ++k) data.push_back(loop800(static_cast<std::uint64_t>(k) + 1, 25e3, 0.4, 11e-3, -8e-3, 0.005));
    const bool general = state.range(0) != 0;
    std::size_t i = 0;
    for (auto _ : state) {
        if (general) {
            detail::GeneralLevelsOnly only;
            auto r = analyze_rh(data[i++ % data.size()]);
            benchmark::DoNotOptimize(r.tmr.value);
        } else {
            auto r = analyze_rh(data[i++ % data.size()]);
            benchmark::DoNotOptimize(r.tmr.value);
        }
    }
}
BENCHMARK(BM_rh_noisy_loop_800)->Arg(0)->Arg(1)->ArgName("general");

void BM_find_levels_800(benchmark::State& state) {
    const auto data = loops(16);
    std::size_t i = 0;
    for (auto _ : state) {
        auto l = find_levels(data[i++ % data.size()].r_ohm);
        benchmark::DoNotOptimize(l.levels.data());
    }
}
BENCHMARK(BM_find_levels_800);

void BM_find_levels_general_800(benchmark::State& state) {
    const auto data = loops(16);
    std::size_t i = 0;
    for (auto _ : state) {
        auto l = detail::find_levels_general(data[i++ % data.size()].r_ohm);
        benchmark::DoNotOptimize(l.levels.data());
    }
}
BENCHMARK(BM_find_levels_general_800);

/// A paper-sized campaign: 6 thicknesses x {1, 3} cells x 10 devices, R(H) + R(V) + breakdown per device
/// (360 runs), analysed end to end without output files.
void BM_paper_campaign(benchmark::State& state) {
    std::vector<Run> runs;
    std::mt19937_64 rng(1);
    std::normal_distribution<double> n01;
    for (int ti = 0; ti < 6; ++ti)
        for (int cells : {1, 3})
            for (int d = 0; d < 10; ++d) {
                const double t = 1.6 + 0.2 * ti;
                Run rh;
                rh.kind = RunKind::rh_loop;
                rh.name = "rh" + std::to_string(runs.size());
                rh.device.thickness_nm = t;
                rh.device.cells = cells;
                rh.device.device = std::to_string(d) + "-" + std::to_string(cells);
                rh.sweep = loop800(runs.size() + 7, 25e3 * (1 + 0.05 * n01(rng)), 0.217 + 0.113 * std::exp((t - 1.6) / 0.623));
                Run rv = rh;
                rv.kind = RunKind::rv_pulse_train;
                rv.name = "rv" + std::to_string(runs.size());
                for (double& x : rv.sweep.x) x *= 100;  // same shape as a pulse loop, in volts
                Run bd = rh;
                bd.kind = RunKind::breakdown_ramp;
                bd.name = "bd" + std::to_string(runs.size());
                bd.sweep = Sweep{};
                for (int k = 1; k <= 50; ++k) {
                    bd.sweep.x.push_back(0.05 * k);
                    bd.sweep.r_ohm.push_back(0.05 * k > 1.9 ? 100.0 : 30e3);
                }
                runs.push_back(rh);
                runs.push_back(rv);
                runs.push_back(bd);
            }
    for (auto _ : state) {
        auto c = analyze_campaign(runs);
        benchmark::DoNotOptimize(c.groups.data());
    }
    state.counters["runs"] = static_cast<double>(runs.size());
}
BENCHMARK(BM_paper_campaign)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
