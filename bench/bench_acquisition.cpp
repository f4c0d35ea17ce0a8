// Per-point overhead of the run engine (guard checks, durable storage append through the row journal,
// progress bookkeeping) versus calling the drivers directly for the same measurement, on the virtual lab
// in process (real drivers, InProcessTransport: the harshest comparison, no transport cost at all) and
// over loopback TCP (how `mtjlab run --virtual` runs). Each variant runs sweeps of 201 and 1001 points:
// the difference between the two gives the per-point (marginal) cost, free of the per-run costs (run
// file creation with provenance, bench initialisation, ramps to the start field and back to zero).
// A summary table with both figures follows the Google Benchmark output.
//
//   bench_acquisition [--benchmark_filter=...]
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
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

/// Wall and main-thread CPU seconds per sweep, per (variant, transport, points), for the summary.
struct Timing {
    double wall = 0, cpu = 0;
    long sweeps = 0;
};
std::map<std::string, Timing>& timings() {
    static std::map<std::string, Timing> t;
    return t;
}
double thread_cpu_s() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}
/// Times one sweep into the summary (the benchmark's own timing stays Google Benchmark's).
template <class F>
void timed(const std::string& key, F&& sweep) {
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_s();
    sweep();
    auto& t = timings()[key];
    t.cpu += thread_cpu_s() - c0;
    t.wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    ++t.sweeps;
}
std::string key_of(const char* variant, bool sockets, int points) {
    return std::string(variant) + (sockets ? "/loopback_tcp/" : "/in_process/") + std::to_string(points);
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

/// The same transactions as the engine, written by hand: one current step, settle, SNAP?, SENS?.
void BM_DirectDrivers(benchmark::State& state, bool sockets) {
    const int points = static_cast<int>(state.range(0));
    Lab l(sockets);
    auto clock = l.clock();
    l.magnet->configure_current_mode();
    l.magnet->set_output(true);
    l.lockin->set_reference_frequency(l.cal.read_frequency);
    l.lockin->set_reference_amplitude(l.cal.read_amplitude);
    l.lockin->set_time_constant(l.cal.time_constant);
    (void)l.lockin->autorange();
    std::vector<double> r(static_cast<std::size_t>(points));
    const std::string key = key_of("direct", sockets, points);
    for (auto _ : state) {
        timed(key, [&] {
            for (int i = 0; i < points; ++i) {
                const double f = field_at(i, points);
                l.magnet->set_current(Ampere(f / l.cal.coil_constant_t_per_a));
                clock.wait(Second(0.005));
                clock.wait(Second(0.05));
                clock.wait(Second(5 * 0.03));
                const auto rd = l.lockin->read();
                const double fs = l.lockin->sensitivity().si();
                benchmark::DoNotOptimize(fs);
                r[static_cast<std::size_t>(i)] =
                    resistance_from(rd.x, l.cal.read_amplitude, l.cal.reference_resistor).si();
            }
            l.magnet->set_current(Ampere(0.0));
        });
        benchmark::DoNotOptimize(r.data());
    }
    // Seconds per point (main-thread CPU time of an iteration / points per iteration).
    state.counters["s_per_point"] =
        benchmark::Counter(points, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

/// The engine: guard checks on every command, ramp, durable append per point (row journal, HDF5 batches),
/// progress (non-TTY, to a string), provenance and run-file creation.
void BM_Engine(benchmark::State& state, bool sockets) {
    const int points = static_cast<int>(state.range(0));
    Lab l(sockets);
    const fs::path dir = fs::temp_directory_path() / ("mtjlab_bench_acq_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    Job job;
    job.name = "bench";
    job.run_name = "bench";
    job.kind = "rh_loop";
    job.plan = l.plan(points);
    GuardedBench bench({l.pulse.get(), l.lockin.get(), l.magnet.get(), nullptr}, l.limits, l.cal, l.clock());
    std::ostringstream sink;
    Progress progress(sink, false, 0, 5.0);
    RunOptions ro;
    ro.directory = dir;
    ro.progress = &progress;
    const std::string key = key_of("engine", sockets, points);
    int k = 0;
    for (auto _ : state) {
        const fs::path file = dir / ("run" + std::to_string(k++) + ".h5");
        timed(key, [&] {
            const RunOutcome o = run_job(job, bench, file, ro);
            benchmark::DoNotOptimize(o.rows);
        });
        state.PauseTiming();
        fs::remove(file);
        sink.str("");
        state.ResumeTiming();
    }
    bench.make_safe();
    fs::remove_all(dir);
    state.counters["s_per_point"] =
        benchmark::Counter(points, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void summary() {
    auto& t = timings();
    auto mean = [&](const std::string& k, bool cpu) {
        const auto it = t.find(k);
        if (it == t.end() || it->second.sweeps == 0) return -1.0;
        return (cpu ? it->second.cpu : it->second.wall) / static_cast<double>(it->second.sweeps);
    };
    std::printf("\nsummary (means per sweep; marginal = (T(1001) - T(201)) / 800 points; fixed = T(201) - 201 x marginal)\n");
    for (const bool sockets : {false, true}) {
        for (const bool cpu : {false, true}) {
            const double d201 = mean(key_of("direct", sockets, 201), cpu), d1001 = mean(key_of("direct", sockets, 1001), cpu);
            const double e201 = mean(key_of("engine", sockets, 201), cpu), e1001 = mean(key_of("engine", sockets, 1001), cpu);
            if (d201 < 0 || d1001 < 0 || e201 < 0 || e1001 < 0) continue;
            const double dm = (d1001 - d201) / 800, em = (e1001 - e201) / 800;
            std::printf("%-12s %-4s  201-point sweep: direct %7.2f ms, engine %7.2f ms (%+6.1f %%) | per point: direct "
                        "%6.2f us, engine %6.2f us (%+6.1f %%) | per run fixed: direct %6.2f ms, engine %6.2f ms\n",
                        sockets ? "loopback_tcp" : "in_process", cpu ? "cpu" : "wall", d201 * 1e3, e201 * 1e3,
                        (e201 / d201 - 1) * 100, dm * 1e6, em * 1e6, (em / dm - 1) * 100, (d201 - 201 * dm) * 1e3,
                        (e201 - 201 * em) * 1e3);
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
    summary();
    return 0;
}
