#pragma once
// Glue between the acquisition runner and the virtual lab (acquisition does not depend on devices_sim):
// start the lab for a station's instruments, rewrite the station's resources to the lab's loopback
// addresses, and give the runner the lab's virtual clock and prober. Used by `mtjlab run --virtual` and
// `mtjlab campaign --virtual`.
//
//   VirtualBench vb = start_virtual_bench(station, prepared, {.seed = 1});
//   acquisition::SessionOptions o = ...; vb.attach(o);
//   recipes::run(prepared, vb.station, o);
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mtjlab/acquisition/runner.hpp"
#include "mtjlab/acquisition/station.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "mtjlab/drivers/registry.hpp"
#include "mtjlab/recipes/recipe.hpp"

namespace mtjlab::cli {

struct VirtualBenchOptions {
    std::uint64_t seed = 1;          ///< probe-station noise / thermal switching
    std::uint64_t wafer_seed = 7;    ///< virtual wafer (campaigns, or a single run with die/device)
    bool realtime = false;           ///< sleep for the virtual time that passes
    double coil_error = 0.0;         ///< true coil constant = station's * (1 + coil_error)
    Tesla remanence{0.0};            ///< pole-piece remanence of the virtual magnet
    devices_sim::LabDevice device;   ///< the device on the stage for a single run
};

/// A started virtual lab standing in for a station.
struct VirtualBench {
    std::unique_ptr<devices_sim::VirtualLab> lab;
    acquisition::Station station;  ///< the station with its resources rewritten to the lab
    bool has_wafer = false;

    /// The lab's virtual clock, the virtual prober (campaigns) and the provenance flag.
    void attach(acquisition::SessionOptions& options) const {
        devices_sim::VirtualLab* l = lab.get();
        options.virtual_run = true;
        options.clock = acquisition::BenchClock{[l](Second dt) { l->wait(dt); }, [l] { return l->now(); }};
        if (has_wafer)
            options.move_to = [l](const acquisition::DeviceRef& d) { l->probe(d.die, d.device); };
    }
};

/// The wafer layout of a campaign's wafer map (same layout as the virtual wafer).
inline physics::WaferSpec wafer_spec_of(const recipes::WaferMap& m) {
    physics::WaferSpec spec;
    spec.t_min_nm = m.t_min_nm;
    spec.t_max_nm = m.t_max_nm;
    spec.dies = m.dies;
    spec.devices_per_die = m.devices_per_die;
    spec.cell_pattern = m.cell_pattern;
    return spec;
}

/// Starts the virtual lab for the station's instruments (one loopback TCP port each, the station's
/// models), with the station's coil constant (times 1 + coil_error). With a campaign wafer map the lab
/// holds a seeded wafer of that layout and the prober moves between its devices.
inline VirtualBench start_virtual_bench(const acquisition::Station& station, const VirtualBenchOptions& o,
                                        const recipes::WaferMap* wafer = nullptr) {
    std::vector<devices_sim::StationInstrument> want;
    for (const auto& ic : station.instruments) want.push_back({std::string(drivers::to_string(ic.role)), ic.model});
    devices_sim::LabOptions lo;
    lo.seed = o.seed;
    lo.bench.realtime = o.realtime;
    lo.serve_pty = false;
    lo.device = o.device;
    const double k = station.calibration.coil_constant_T_per_A.value_or(0.05);
    devices_sim::StationLab sl = devices_sim::start_lab_for(want, lo, k, o.coil_error, o.remanence);
    VirtualBench vb{std::move(sl.lab), acquisition::with_resources(station, sl.resources), false};
    if (wafer) {
        vb.lab->load_wafer(wafer_spec_of(*wafer), o.wafer_seed);
        vb.has_wafer = true;
    }
    return vb;
}

}  // namespace mtjlab::cli
