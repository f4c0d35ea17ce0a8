// mtjlab run RECIPE.toml --station STATION.toml -o DIR [--dry-run] [--resume] [--virtual] [--realtime]
// Thin: load, expand, preflight, then hand the jobs to the run engine. Progress goes to stderr, the
// summary to stdout.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "mtjlab/acquisition/cancel.hpp"
#include "mtjlab/acquisition/progress.hpp"
#include "mtjlab/acquisition/runner.hpp"
#include "mtjlab/acquisition/station.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/recipes/recipe.hpp"
#include "mtjlab/recipes/runner.hpp"
#include "mtjlab/devices_sim/fault_injector.hpp"
#include "prober.hpp"
#include "virtual_bench.hpp"

namespace mtjlab::cli {
namespace {
using namespace acquisition;

struct RunArgs {
    std::string recipe;
    std::string station;
    std::string out;
    bool dry_run = false;
    bool resume = false;
    bool virtual_lab = false;
    bool realtime = false;
    std::uint64_t seed = 1;
    std::uint64_t wafer_seed = 7;
    double thickness_nm = 1.7;
    int cells = 1;
    std::optional<int> die, device;
    std::string prober_command;
    std::string faults;     // --faults SPEC: random faults in the virtual lab (docs/reliability.md, Soak)
    std::string fault_log;  // --fault-log FILE: every injected fault, appended
    double coil_error = 0.0;
};

int run_command(const RunArgs& a) {
    if ((!a.faults.empty() || !a.fault_log.empty()) && !a.virtual_lab)
        throw InputError("mtjlab run: --faults and --fault-log need --virtual");
    if (!a.fault_log.empty() && a.faults.empty()) throw InputError("mtjlab run: --fault-log needs --faults");
    (void)devices_sim::parse_fault_spec(a.faults);  // a bad spec is an error before anything starts
    const Station station = load_station(a.station);
    const recipes::Recipe recipe = recipes::load(a.recipe);

    // The device identity of a single run on the virtual lab.
    DeviceRef single;
    if (a.virtual_lab) {
        single.wafer_id = a.die && a.device ? fmt::format("virtual-{}", a.wafer_seed) : "virtual-nominal";
        single.die = a.die.value_or(-1);
        single.device = a.device.value_or(-1);
        single.thickness_nm = a.thickness_nm;
        single.cells = a.cells;
    }
    const recipes::PreparedRecipe prepared = recipes::prepare(recipe, station, single);
    if (a.dry_run) {
        std::cout << recipes::dry_run_report(prepared, station);
        return prepared.ok() ? exit_code::ok : exit_code::bad_input;
    }
    if (!prepared.ok()) (void)recipes::run(prepared, station, {});  // throws LimitError naming the step

    CancelToken cancel;
    SignalCancellation signals(cancel);
    Progress progress(std::cerr, isatty(STDERR_FILENO) != 0, prepared.total_points);
    SessionOptions so;
    so.output_dir = a.out;
    so.resume = a.resume;
    so.cancel = &cancel;
    so.progress = &progress;

    // The virtual lab (real sockets, same drivers) when asked for.
    std::optional<VirtualBench> vb;
    std::unique_ptr<devices_sim::FaultInjector> injector;  // declared after vb: disarmed before the lab stops
    if (a.virtual_lab) {
        VirtualBenchOptions vo;
        vo.seed = a.seed;
        vo.wafer_seed = a.wafer_seed;
        vo.realtime = a.realtime;
        vo.coil_error = a.coil_error;
        if (a.die && a.device) {
            vo.device.wafer_seed = a.wafer_seed;
            vo.device.die = *a.die;
            vo.device.device = *a.device;
        } else {
            vo.device.thickness_nm = a.thickness_nm;
            vo.device.cells = a.cells;
        }
        vb.emplace(start_virtual_bench(station, vo, prepared.campaign ? &prepared.campaign->wafer : nullptr));
        if (!a.faults.empty())
            injector = std::make_unique<devices_sim::FaultInjector>(
                *vb->lab, devices_sim::parse_fault_spec(a.faults),
                a.fault_log.empty() ? std::nullopt : std::optional<std::filesystem::path>(a.fault_log));
        vb->attach(so);
    } else if (prepared.is_campaign()) {
        so.move_to = real_prober(a.prober_command);
    }

    const RunSummary sum = recipes::run(prepared, vb ? vb->station : station, so);
    progress.finish("");
    for (const auto& o : sum.outcomes) {
        if (o.skipped && prepared.is_campaign()) continue;
        std::cout << fmt::format("{}: {} ({}/{} points){}\n", o.file.string(), storage::to_string(o.status), o.rows,
                                 o.total, o.message.empty() ? "" : " - " + o.message);
    }
    if (prepared.is_campaign())
        std::cout << fmt::format("campaign '{}': {} of {} runs complete or skipped ({} skipped: done in an earlier "
                                 "session or the device broke), {} points measured in {:.1f} s, manifest {}\n",
                                 prepared.campaign->name, sum.done + sum.skipped, sum.jobs, sum.skipped, sum.points,
                                 sum.wall_time_s, sum.manifest->string());
    if (!sum.unsafe.empty()) std::cerr << "mtjlab: WARNING: bench may not be safe: " << sum.unsafe << '\n';
    if (sum.aborted || sum.cancelled) {
        std::cerr << "mtjlab: run stopped by the user; bench safe; continue with --resume\n";
        return exit_code::interrupted;
    }
    return exit_code::ok;
}

}  // namespace

void register_run(CLI::App& app, const GlobalOptions& /*global*/) {
    auto args = std::make_shared<RunArgs>();
    CLI::App* cmd = app.add_subcommand("run", "Run a measurement recipe or campaign on the station (or the virtual lab)");
    cmd->add_option("recipe", args->recipe, "Recipe file (TOML): rh_loop, rv_pulse_train, ..., campaign")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--station", args->station, "Station file (TOML): instruments, calibration, limits")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("-o,--output", args->out, "Output directory for run files (and campaign.json)");
    cmd->add_flag("--dry-run", args->dry_run, "Expand and preflight only: print the plan summary and duration");
    cmd->add_flag("--resume", args->resume, "Continue an interrupted run or campaign in the output directory");
    cmd->add_flag("--virtual", args->virtual_lab,
                  "Run on the virtual lab on loopback sockets (the station's models, resources overridden)");
    cmd->add_flag("--realtime", args->realtime, "With --virtual: honour the delays in wall-clock time");
    cmd->add_option("--seed", args->seed, "With --virtual: seed of the probe station noise")->capture_default_str();
    cmd->add_option("--wafer-seed", args->wafer_seed, "With --virtual: seed of the virtual wafer")
        ->capture_default_str();
    cmd->add_option("--thickness", args->thickness_nm, "With --virtual, single run: free-layer thickness (nm)")
        ->capture_default_str();
    cmd->add_option("--cells", args->cells, "With --virtual, single run: cells of the compound device")
        ->capture_default_str();
    cmd->add_option("--die", args->die, "With --virtual, single run: die of the virtual wafer (with --device)");
    cmd->add_option("--device", args->device, "With --virtual, single run: device of the virtual wafer");
    cmd->add_option("--coil-error", args->coil_error,
                    "With --virtual: relative error of the station's coil constant (the virtual magnet gives "
                    "k * (1 + ERR) T/A); with field_control = \"gaussmeter\" the loop corrects it")
        ->capture_default_str();
    cmd->add_option("--prober-command", args->prober_command, k_prober_command_help);
    cmd->add_option("--faults", args->faults,
                    "With --virtual: inject random faults into every instrument "
                    "(rate=P[,seed=N][,kinds=drop+timeout+garbage+error+slow][,slow_ms=MS]; docs/reliability.md)");
    cmd->add_option("--fault-log", args->fault_log, "With --faults: append every injected fault to this file");
    cmd->callback([args] {
        if (!args->dry_run && args->out.empty()) throw InputError("mtjlab run: -o DIR is required (except with --dry-run)");
        const int code = run_command(*args);
        if (code != exit_code::ok) {
            std::cout.flush();
            std::exit(code);
        }
    });
}

}  // namespace mtjlab::cli
