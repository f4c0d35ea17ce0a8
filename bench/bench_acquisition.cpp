// Per-point overhead of the run engine (guard checks, durable storage append through the row journal,
// progress bookkeeping) versus calling the drivers directly for the same measurement, on the virtual lab
// in process (real drivers, InProcessTransport: the harshest comparison, no transport cost at all) and
// over loopback TCP (how `mtjlab run --virtual` runs). Google Benchmark runs sweeps of 201 and 1001
// points; then a summary alternates direct and engine sweeps of 201 and 2001 points (so the load of a
// shared machine hits both alike) and prints medians: whole sweeps, and the per-point (marginal) cost
// T(2001) - T(201), which is free of per-run costs (run file creation with provenance, bench
// initialisation, ramps to the start field and back to zero).
//
//   bench_acquisition [--benchmark_filter=...]       MTJLAB_BENCH_REPS=N (summary repetitions, default 15)
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>

#include "mtjlab/acquisition/engine.hpp"
#include "mtjlab/acquisition/progress.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "mtjlab/drivers/registry.hpp"
#include "mtjlab/drivers/transport/in_process.hpp"
#include "mtjlab/drivers/transport/transport.hpp"

using namespace mtjlab;
using namespace mtjlab::acquisition;
namespace fs = std::filesystem;

namespace {

double thread_cpu_s() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// 20 -> -20 mT: 0.2 mT steps for 201 points, 0.04 mT for 1001.
double field_at(int i, int points) { return 0.02 - 0.04 * i / (points - 1); }

struct Lab {
    devices_sim::VirtualLab lab;
    std::unique_ptr<drivers::PulseGenerator> pulse;
    std::unique_ptr<drivers::LockIn> lockin;
    std::unique_ptr<drivers::MagnetSupply> magnet;
    BenchCalibration cal;
    BenchLimits limits;

    static devices_sim::LabOptions options() {
        devices_sim::LabOptions lo;
        lo.serve_pty = false;
        lo.device.thickness_nm = 1.8;
        lo.device.cells = 1;
        lo.instruments = {{"pulse_gen", "33522B", false}, {"lockin", "SR830", false}, {"magnet", "BOP 20-10M", false}};
        return lo;
    }
    /// `sockets`: serve the lab on loopback TCP and connect the drivers there (how `mtjlab run --virtual`
    /// and the campaign run); otherwise in process (no transport cost at all: the harshest comparison).
    explicit Lab(bool sockets = false) : lab(options()) {
        cal.coil_constant_t_per_a = 0.0125;
        cal.time_constant = Second(0.03);
        cal.ramp_rate_t_per_s = 0.05;
        cal.ramp_step = Tesla(1e-3);
        limits.max_field = Tesla(0.1);
        limits.max_coil_current = Ampere(8);
        limits.max_ramp_rate_t_per_s = 0.05;
        lab.set_coil(cal.coil_constant_t_per_a, Tesla(0.0));
        if (sockets) lab.start();
        auto session = [&](const std::string& name, const char* model) {
            std::unique_ptr<drivers::Transport> t;
            if (sockets) {
                for (const auto& ep : lab.endpoints())
                    if (ep.name == name) t = drivers::open_transport(ep.tcp_resource);
            } else {
                t = std::make_unique<drivers::InProcessTransport>(lab.handler(name), "SIM::" + name);
            }
            return std::make_shared<drivers::ScpiSession>(std::move(t),
                                                          drivers::session_options_for(drivers::find_model(model), name));
        };
        pulse = drivers::make_pulse_generator("keysight_33500b", session("pulse_gen", "keysight_33500b"));
        lockin = drivers::make_lock_in("srs_sr830", session("lockin", "srs_sr830"));
        magnet = drivers::make_magnet_supply("kepco_bop", session("magnet", "kepco_bop"));
    }
    BenchClock clock() {
        auto bench = lab.bench();
        return {[bench](Second dt) {
                    std::lock_guard lock(bench->mutex());
                    bench->advance_locked(dt);
                },
                [bench] {
                    std::lock_guard lock(bench->mutex());
                    return bench->now_locked();
                }};
    }
    Plan plan(int points) const {
        Plan p;
        p.kind = "rh_loop";
        p.recipe_name = "bench";
        for (int i = 0; i < points; ++i) {
            const Tesla f(field_at(i, points));  // one magnet step (<= 1 mT) per point
            Point pt;
            pt.steps = {SetField{f, coil_current_for(f, cal)}, Wait{Second(0.05)},
                        Read{1, cal.read_amplitude, cal.read_frequency, cal.time_constant, ReadRole::main}};
            pt.swept = f.si();
            pt.field = f;
            pt.direction = -1;
            p.points.push_back(pt);
        }
        return p;
    }
};

/// Configures the instruments for the hand-written sweep (once per lab).
void prepare_direct(Lab& l) {
    l.magnet->configure_current_mode();
    l.magnet->set_output(true);
    l.lockin->set_reference_frequency(l.cal.read_frequency);
    l.lockin->set_reference_amplitude(l.cal.read_amplitude);
    l.lockin->set_time_constant(l.cal.time_constant);
    (void)l.lockin->autorange();
}

/// The same transactions as the engine, written by hand: one current step, settle, SNAP?, SENS?.
void direct_sweep(Lab& l, BenchClock& clock, int points, std::vector<double>& r) {
    r.resize(static_cast<std::size_t>(points));
    for (int i = 0; i < points; ++i) {
        const double f = field_at(i, points);
        l.magnet->set_current(Ampere(f / l.cal.coil_constant_t_per_a));
        clock.wait(Second(0.005));
        clock.wait(Second(0.05));
        clock.wait(Second(5 * 0.03));
        const auto rd = l.lockin->read();
        const double fs = l.lockin->sensitivity().si();
        benchmark::DoNotOptimize(fs);
        r[static_cast<std::size_t>(i)] = resistance_from(rd.x, l.cal.read_amplitude, l.cal.reference_resistor).si();
    }
    l.magnet->set_current(Ampere(0.0));
    benchmark::DoNotOptimize(r.data());
}

void BM_DirectDrivers(benchmark::State& state, bool sockets) {
    const int points = static_cast<int>(state.range(0));
    Lab l(sockets);
    auto clock = l.clock();
    prepare_direct(l);
    std::vector<double> r;
    for (auto _ : state) direct_sweep(l, clock, points, r);
    // Seconds per point (main-thread CPU time of an iteration / points per iteration).
    state.counters["s_per_point"] =
        benchmark::Counter(points, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

/// The engine's side: guard checks on every command, ramps, durable append per point (row journal, HDF5
/// batches), progress (non-TTY, to a string), provenance and run-file creation.
struct EngineRig {
    fs::path dir = fs::temp_directory_path() / ("mtjlab_bench_acq_" + std::to_string(::getpid()));
    GuardedBench bench;
    std::ostringstream sink;
    Progress progress{sink, false, 0, 5.0};
    RunOptions ro;
    int k = 0;
    explicit EngineRig(Lab& l)
        : bench({l.pulse.get(), l.lockin.get(), l.magnet.get(), nullptr}, l.limits, l.cal, l.clock()) {
        fs::create_directories(dir);
        ro.directory = dir;
        ro.progress = &progress;
    }
    ~EngineRig() {
        bench.make_safe();
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    static Job job(const Lab& l, int points) {
        Job j;
        j.name = "bench";
        j.run_name = "bench";
        j.kind = "rh_loop";
        j.plan = std::make_shared<const Plan>(l.plan(points));
        return j;
    }
    fs::path next_file() { return dir / ("run" + std::to_string(k++) + ".h5"); }
    void sweep(const Job& j, const fs::path& file) {
        const RunOutcome o = run_job(j, bench, file, ro);
        benchmark::DoNotOptimize(o.rows);
    }
};

void BM_Engine(benchmark::State& state, bool sockets) {
    const int points = static_cast<int>(state.range(0));
    Lab l(sockets);
    EngineRig rig(l);
    const Job job = EngineRig::job(l, points);
    for (auto _ : state) {
        const fs::path file = rig.next_file();
        rig.sweep(job, file);
        state.PauseTiming();
        fs::remove(file);
        rig.sink.str("");
        state.ResumeTiming();
    }
    state.counters["s_per_point"] =
        benchmark::Counter(points, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

/// Interleaved comparison (direct and engine sweeps alternate, so load from other processes hits both
/// alike): medians of wall and main-thread CPU time per sweep, for a short and a long sweep; the difference
/// gives the per-point (marginal) cost, free of per-run costs.
void summary(int reps) {
    constexpr int short_n = 201, long_n = 2001;
    std::printf("\nsummary: %d interleaved repetitions, medians per sweep; per point = (T(%d) - T(%d)) / %d\n", reps,
                long_n, short_n, long_n - short_n);
    for (const bool sockets : {false, true}) {
        Lab l(sockets);
        auto clock = l.clock();
        prepare_direct(l);
        EngineRig rig(l);
        const Job js = EngineRig::job(l, short_n), jl = EngineRig::job(l, long_n);
        std::vector<double> r;
        // [variant][length][wall/cpu] samples
        std::vector<double> t[2][2][2];
        auto measure = [&](int variant, int length) {
            const fs::path file = rig.next_file();
            const auto w0 = std::chrono::steady_clock::now();
            const double c0 = thread_cpu_s();
            if (variant == 0) direct_sweep(l, clock, length == 0 ? short_n : long_n, r);
            else rig.sweep(length == 0 ? js : jl, file);
            t[variant][length][1].push_back(thread_cpu_s() - c0);
            t[variant][length][0].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count());
            std::error_code ec;
            fs::remove(file, ec);
            rig.sink.str("");
        };
        for (int rep = 0; rep < reps; ++rep)
            for (int length = 0; length < 2; ++length)
                for (int variant = 0; variant < 2; ++variant) measure(rep % 2 == 0 ? variant : 1 - variant, length);
        for (int m = 0; m < 2; ++m) {
            const double d_s = median(t[0][0][m]), d_l = median(t[0][1][m]);
            const double e_s = median(t[1][0][m]), e_l = median(t[1][1][m]);
            const double dp = (d_l - d_s) / (long_n - short_n), ep = (e_l - e_s) / (long_n - short_n);
            std::printf("%-12s %-4s | %d points: direct %7.2f ms, engine %7.2f ms (%+6.1f %%) | %d points: direct "
                        "%7.2f ms, engine %7.2f ms (%+6.1f %%) | per point: direct %6.2f us, engine %6.2f us "
                        "(%+5.1f %%)\n",
                        sockets ? "loopback_tcp" : "in_process", m == 0 ? "wall" : "cpu", short_n, d_s * 1e3,
                        e_s * 1e3, (e_s / d_s - 1) * 100, long_n, d_l * 1e3, e_l * 1e3, (e_l / d_l - 1) * 100,
                        dp * 1e6, ep * 1e6, (ep / dp - 1) * 100);
        }
    }
}

}  // namespace

BENCHMARK_CAPTURE(BM_DirectDrivers, in_process, false)->Arg(201)->Arg(1001)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(BM_Engine, in_process, false)->Arg(201)->Arg(1001)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(BM_DirectDrivers, loopback_tcp, true)->Arg(201)->Arg(1001)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(BM_Engine, loopback_tcp, true)->Arg(201)->Arg(1001)->Unit(benchmark::kMillisecond)->MinTime(2.0);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    const char* reps = std::getenv("MTJLAB_BENCH_REPS");  // interleaved repetitions of the summary (default 15)
    summary(reps ? std::max(1, std::atoi(reps)) : 15);
    return 0;
}
