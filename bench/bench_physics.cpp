// Physics benchmarks (printed, not asserted): LLG cost per step per cell, single and batched, beside a
// naive baseline (array-of-structs Eigen vectors, std::normal_distribution); fast-layer pulse events
// per second beside a naive time-stepped Monte Carlo of the same rate equation.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include <Eigen/Dense>

#include "mtjlab/physics/constants.hpp"
#include "mtjlab/physics/fast_layer.hpp"
#include "mtjlab/physics/llg.hpp"
#include "mtjlab/physics/probe_station.hpp"

using namespace mtjlab;
using namespace mtjlab::physics;

namespace {

// Naive baseline: the same stochastic Heun step written the obvious way.
struct NaiveLlg {
    LlgParams p;
    std::vector<Eigen::Vector3d> m;
    std::mt19937_64 gen{1};
    std::normal_distribution<double> normal{0.0, 1.0};

    Eigen::Vector3d rhs(const Eigen::Vector3d& v, const Eigen::Vector3d& b_th, double c1, double c2) const {
        const double g = gamma_e / (1.0 + p.alpha * p.alpha);
        const Eigen::Vector3d b = b_th + Eigen::Vector3d(0.0, p.b_k.si() * v.y(), -p.mu0_meff.si() * v.z());
        const Eigen::Vector3d s(0.0, 1.0, 0.0);
        return -g * (v.cross(b) + p.alpha * v.cross(v.cross(b)) + c1 * v.cross(s) + c2 * v.cross(v.cross(s)));
    }
    void step(double dt, double current) {
        const double sigma = std::sqrt(2.0 * p.alpha * k_boltzmann * p.temperature_K /
                                       (gamma_e * p.ms_A_per_m * p.volume_m3 * dt));
        const double b_dl = p.b_dl_per_ampere() * current;
        const double c1 = p.fl_ratio * b_dl - p.alpha * b_dl;
        const double c2 = b_dl + p.alpha * p.fl_ratio * b_dl;
        for (auto& v : m) {
            const Eigen::Vector3d b_th(sigma * normal(gen), sigma * normal(gen), sigma * normal(gen));
            const Eigen::Vector3d k1 = rhs(v, b_th, c1, c2);
            const Eigen::Vector3d k2 = rhs(v + dt * k1, b_th, c1, c2);
            v = (v + 0.5 * dt * (k1 + k2)).normalized();
        }
    }
};

void set_per_cell_step(benchmark::State& state, double cells) {
    const double steps = static_cast<double>(state.iterations());
    state.SetItemsProcessed(static_cast<std::int64_t>(steps * cells));
    // Seconds per step per cell (printed with an SI prefix: 95n = 95 ns).
    state.counters["s_per_step_cell"] =
        benchmark::Counter(steps * cells, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_LlgNaive(benchmark::State& state) {
    NaiveLlg n;
    n.m.assign(static_cast<std::size_t>(state.range(0)), Eigen::Vector3d(0.0, 1.0, 0.0));
    for (auto _ : state) {
        n.step(1e-12, -1e-4);
        benchmark::DoNotOptimize(n.m.data());
    }
    set_per_cell_step(state, static_cast<double>(state.range(0)));
}
BENCHMARK(BM_LlgNaive)->Arg(1)->Arg(256);

void BM_LlgBatch(benchmark::State& state) {
    LlgBatch b(LlgParams{}, static_cast<int>(state.range(0)), 1);
    for (auto _ : state) {
        b.step(units::nanoseconds(0.001), Tesla(0.0), Ampere(-1e-4));
        benchmark::DoNotOptimize(b.my().data());
    }
    set_per_cell_step(state, static_cast<double>(state.range(0)));
}
BENCHMARK(BM_LlgBatch)->Arg(1)->Arg(64)->Arg(256)->Arg(1024);

// Fast layer: one 200 ns pulse (with 2.5 ns edges or rectangular) on a 1-cell device near V_c.
void BM_FastPulse(benchmark::State& state) {
    auto d = nominal_device(1.9, 1);
    d.breakdown.v_b = units::volts(100.0);
    ProbeStation st(d, ReadChain{}, 1);
    const Second edge = state.range(0) ? units::nanoseconds(2.5) : Second(0.0);
    const Pulse p{units::volts(-1.0), units::nanoseconds(200), edge, edge};
    for (auto _ : state) {
        st.apply_pulse(p);
        st.set_states(+1);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["pulses_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                        benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FastPulse)->Arg(0)->Arg(1);

// Naive baseline: step the same rate equation in 1 ns slices with a random draw each.
void BM_FastPulseNaive(benchmark::State& state) {
    const auto d = nominal_device(1.9, 1);
    const CellParams& c = d.cells[0];
    const Ampere i = d.channel.current(units::volts(-1.0));
    std::mt19937_64 gen(1);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (auto _ : state) {
        int s = +1;
        for (int k = 0; k < 200; ++k) {
            const double p = -std::expm1(-escape_rate(c, s, Tesla(0.0), i) * 1e-9);
            if (u(gen) < p) s = -s;
        }
        benchmark::DoNotOptimize(s);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["pulses_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                        benchmark::Counter::kIsRate);
}
BENCHMARK(BM_FastPulseNaive);

}  // namespace

BENCHMARK_MAIN();
