// Per-point overhead of the run engine (guard checks, durable storage append, progress bookkeeping)
// versus calling the drivers directly for the same measurement, both on the in-process virtual lab
// (real drivers, InProcessTransport), so the difference is the engine's own cost.
#include <filesystem>
#include <memory>
#include <mutex>

#include <unistd.h>

#include <benchmark/benchmark.h>

#include "mtjlab/acquisition/engine.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "mtjlab/drivers/registry.hpp"
#include "mtjlab/drivers/transport/in_process.hpp"
#include "mtjlab/drivers/transport/transport.hpp"

using namespace mtjlab;
using namespace mtjlab::acquisition;
namespace fs = std::filesystem;

namespace {

constexpr int kPoints = 201;

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
    Plan plan() const {
        Plan p;
        p.kind = "rh_loop";
        p.recipe_name = "bench";
        for (int i = 0; i < kPoints; ++i) {
            const Tesla f(0.02 - 0.0002 * i);  // 20 -> -20 mT in 0.2 mT steps: one magnet step per point
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
    Lab l(sockets);
    auto clock = l.clock();
    l.magnet->configure_current_mode();
    l.magnet->set_output(true);
    l.lockin->set_reference_frequency(l.cal.read_frequency);
    l.lockin->set_reference_amplitude(l.cal.read_amplitude);
    l.lockin->set_time_constant(l.cal.time_constant);
    (void)l.lockin->autorange();
    std::vector<double> r(kPoints);
    for (auto _ : state) {
        for (int i = 0; i < kPoints; ++i) {
            const double f = 0.02 - 0.0002 * i;
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
    // Seconds per point (wall time of an iteration / points per iteration).
    state.counters["s_per_point"] =
        benchmark::Counter(kPoints, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

/// The engine: guard checks on every command, ramp, durable append per point, progress, provenance.
void BM_Engine(benchmark::State& state, bool sockets) {
    Lab l(sockets);
    const fs::path dir = fs::temp_directory_path() / ("mtjlab_bench_acq_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    Job job;
    job.name = "bench";
    job.run_name = "bench";
    job.kind = "rh_loop";
    job.plan = l.plan();
    GuardedBench bench({l.pulse.get(), l.lockin.get(), l.magnet.get(), nullptr}, l.limits, l.cal, l.clock());
    RunOptions ro;
    ro.directory = dir;
    int k = 0;
    for (auto _ : state) {
        const fs::path file = dir / ("run" + std::to_string(k++) + ".h5");
        const RunOutcome o = run_job(job, bench, file, ro);
        benchmark::DoNotOptimize(o.rows);
        state.PauseTiming();
        fs::remove(file);
        state.ResumeTiming();
    }
    bench.make_safe();
    fs::remove_all(dir);
    // Seconds per point (wall time of an iteration / points per iteration).
    state.counters["s_per_point"] =
        benchmark::Counter(kPoints, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

}  // namespace

BENCHMARK_CAPTURE(BM_DirectDrivers, in_process, false)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(BM_Engine, in_process, false)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(BM_DirectDrivers, loopback_tcp, true)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_CAPTURE(BM_Engine, loopback_tcp, true)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK_MAIN();
