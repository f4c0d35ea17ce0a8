// mtjlab run RECIPE.toml --station STATION.toml -o DIR [--dry-run] [--resume] [--virtual] [--realtime]
// Thin: load, expand, preflight, then hand the jobs to the run engine. Progress goes to stderr, the
// summary to stdout.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mtjlab/acquisition/bench_config.hpp"
#include "mtjlab/acquisition/engine.hpp"
#include "mtjlab/acquisition/preflight.hpp"
#include "mtjlab/acquisition/station.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "mtjlab/drivers/registry.hpp"
#include "mtjlab/physics/wafer.hpp"
#include "mtjlab/recipes/recipe.hpp"

namespace mtjlab::cli {
namespace {
namespace fs = std::filesystem;
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
};

/// The virtual lab's model name for a registry key.
std::string virtual_model(std::string_view key) {
    static const std::map<std::string_view, std::string> m = {
        {"keysight_33500b", "33522B"}, {"agilent_81150a", "81150A"}, {"srs_sr830", "SR830"}, {"srs_sr860", "SR860"},
        {"kepco_bop", "BOP 20-10M"},   {"keithley_2400", "2400"},     {"lakeshore_425", "425"}};
    const auto it = m.find(key);
    if (it == m.end()) throw InputError(fmt::format("--virtual: no virtual model for '{}'", key));
    return it->second;
}

/// Owns the drivers of the station.
struct OpenBench {
    std::unique_ptr<drivers::PulseGenerator> pulse;
    std::unique_ptr<drivers::LockIn> lockin;
    std::unique_ptr<drivers::MagnetSupply> magnet;
    std::unique_ptr<drivers::Gaussmeter> gaussmeter;
    std::vector<std::pair<const InstrumentConfig*, drivers::Instrument*>> all;
    std::map<std::string, std::string> idn;
};

OpenBench open_bench(const Station& st) {
    OpenBench b;
    for (const InstrumentConfig& ic : st.instruments) {
        auto session = open_session(ic);
        drivers::Instrument* base = nullptr;
        switch (ic.role) {
            case drivers::Role::pulse_gen:
                b.pulse = drivers::make_pulse_generator(ic.model, session);
                base = b.pulse.get();
                break;
            case drivers::Role::lockin:
                b.lockin = drivers::make_lock_in(ic.model, session);
                base = b.lockin.get();
                break;
            case drivers::Role::magnet:
                b.magnet = drivers::make_magnet_supply(ic.model, session);
                base = b.magnet.get();
                break;
            case drivers::Role::gaussmeter:
                b.gaussmeter = drivers::make_gaussmeter(ic.model, session);
                base = b.gaussmeter.get();
                break;
        }
        b.idn[std::string(drivers::to_string(ic.role))] = base->identify();
        b.all.emplace_back(&ic, base);
    }
    return b;
}

std::string snapshot(const OpenBench& b) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [cfg, inst] : b.all) {
        const std::string role(drivers::to_string(cfg->role));
        nlohmann::json s = nlohmann::json::object();
        for (const auto& set : inst->settings()) s[set.name] = {{"value", set.value}, {"unit", set.unit}};
        j[role] = {{"model", cfg->model}, {"resource", cfg->resource}, {"idn", b.idn.at(role)}, {"settings", s}};
    }
    return j.dump();
}

std::string safe_name(std::string s) {
    for (char& c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            c = '_';
    return s.empty() ? "run" : s;
}

int run_command(const RunArgs& a) {
    Station station = load_station(a.station);
    const BenchLimits limits = limits_of(station);
    const BenchCalibration cal = calibration_of(station);
    const recipes::Recipe recipe = recipes::load(a.recipe);

    std::vector<Job> jobs;
    std::string campaign_name, campaign_text;
    const recipes::Campaign* campaign = std::get_if<recipes::Campaign>(&recipe);
    if (campaign) {
        jobs = recipes::expand(*campaign, cal);
        campaign_name = campaign->name;
        campaign_text = campaign->text;
    } else {
        jobs.push_back(recipes::make_job(std::get<recipes::RunRecipe>(recipe), cal));
        jobs.back().name = safe_name(jobs.back().name);
        if (a.virtual_lab) {
            DeviceRef& d = jobs.back().device;
            d.wafer_id = a.die && a.device ? fmt::format("virtual-{}", a.wafer_seed) : "virtual-nominal";
            d.die = a.die.value_or(-1);
            d.device = a.device.value_or(-1);
            d.thickness_nm = a.thickness_nm;
            d.cells = a.cells;
        }
    }

    // Preflight: every setpoint of every plan, before anything is touched.
    std::size_t total_points = 0;
    Second total_time{0.0};
    std::map<std::string, PreflightReport> by_run;  // one report per distinct run of a campaign
    std::size_t refused = 0;
    for (const Job& j : jobs) {
        PreflightReport rep = check_plan(j.plan, limits, cal);
        total_points += rep.points;
        total_time += rep.estimated_duration;
        if (!rep.ok()) ++refused;
        if (!by_run.count(j.run_name) || !rep.ok()) by_run[j.run_name] = std::move(rep);
    }
    if (a.dry_run) {
        std::cout << fmt::format("recipe {} ({}), station {}\n", a.recipe,
                                 campaign ? "campaign '" + campaign_name + "'" : jobs.front().kind, a.station);
        for (const auto& [name, rep] : by_run) std::cout << format_report(rep, limits);
        if (campaign) {
            std::set<std::pair<int, int>> devices;
            for (const Job& j : jobs) devices.insert({j.device.die, j.device.device});
            std::cout << fmt::format("campaign: {} runs on {} devices, {} points, estimated {} on a real bench\n",
                                     jobs.size(), devices.size(), total_points, format_duration(total_time));
        }
        std::cout << (refused ? fmt::format("dry run: REFUSED ({} of {} runs exceed the limits)\n", refused, jobs.size())
                              : std::string("dry run: OK (nothing was sent to any instrument)\n"));
        return refused ? exit_code::bad_input : exit_code::ok;
    }
    for (const Job& j : jobs) (void)preflight(j.plan, limits, cal);  // LimitError names the step

    // The virtual lab (real sockets, same drivers) when asked for.
    std::unique_ptr<devices_sim::VirtualLab> lab;
    std::optional<physics::Wafer> wafer;
    if (a.virtual_lab) {
        devices_sim::LabOptions lo;
        lo.seed = a.seed;
        lo.bench.realtime = a.realtime;
        lo.serve_pty = false;
        lo.instruments.clear();
        for (const auto& ic : station.instruments)
            lo.instruments.push_back({std::string(drivers::to_string(ic.role)), virtual_model(ic.model), false});
        if (a.die && a.device) {
            lo.device.wafer_seed = a.wafer_seed;
            lo.device.die = *a.die;
            lo.device.device = *a.device;
        } else {
            lo.device.thickness_nm = a.thickness_nm;
            lo.device.cells = a.cells;
        }
        lab = std::make_unique<devices_sim::VirtualLab>(lo);
        lab->set_coil(cal.coil_constant_t_per_a, Tesla(0.0));
        lab->start();
        std::map<std::string, std::string> resources;
        for (const auto& ep : lab->endpoints()) resources[ep.name] = ep.tcp_resource;
        for (auto& ic : station.instruments) ic.resource = resources.at(std::string(drivers::to_string(ic.role)));
        if (campaign) {
            physics::WaferSpec spec;
            spec.t_min_nm = campaign->wafer.t_min_nm;
            spec.t_max_nm = campaign->wafer.t_max_nm;
            spec.dies = campaign->wafer.dies;
            spec.devices_per_die = campaign->wafer.devices_per_die;
            spec.cell_pattern = campaign->wafer.cell_pattern;
            wafer.emplace(spec, a.wafer_seed);
        }
    }

    OpenBench ob = open_bench(station);
    Instruments inst{ob.pulse.get(), ob.lockin.get(), ob.magnet.get(), ob.gaussmeter.get()};
    if (!inst.pulse || !inst.lockin || !inst.magnet)
        throw InputError(a.station + ": a run needs [instruments.pulse_gen], [instruments.lockin] and "
                                     "[instruments.magnet]");
    BenchClock clock = real_clock();
    if (lab) {
        auto bench = lab->bench();
        const bool realtime = a.realtime;
        clock.wait = [bench, realtime](Second dt) {
            Second debt{0.0};
            {
                std::lock_guard lock(bench->mutex());
                bench->advance_locked(dt);
                debt = bench->take_sleep_debt_locked();
            }
            if (realtime && debt.si() > 0) std::this_thread::sleep_for(std::chrono::duration<double>(debt.si()));
        };
        clock.now = [bench] {
            std::lock_guard lock(bench->mutex());
            return bench->now_locked();
        };
    }

    CancelToken cancel;
    SignalCancellation signals(cancel);
    GuardedBench gb(inst, limits, cal, clock, &cancel);
    BenchGuard guard(gb);  // field to zero and outputs off on every way out of this scope

    Progress progress(std::cerr, isatty(STDERR_FILENO) != 0, total_points);
    RunOptions ro;
    ro.directory = a.out;
    ro.resume = a.resume;
    ro.cancel = &cancel;
    ro.progress = &progress;
    ro.provenance.station_toml = station.text;
    ro.provenance.virtual_run = a.virtual_lab;
    ro.instruments_snapshot = [&ob] { return snapshot(ob); };
    if (campaign) {
        ro.manifest = fs::path(a.out) / "campaign.json";
        ro.campaign_name = campaign_name;
        ro.campaign_text = campaign_text;
        if (lab && wafer) {
            ro.move_to = [&lab, &wafer, seed = a.seed](const DeviceRef& d) {
                // The virtual prober: put device (die, device) of the wafer on the stage.
                auto bench = lab->bench();
                std::lock_guard lock(bench->mutex());
                auto& st = bench->station_locked();
                const physics::ReadChain chain = st.read_chain();
                const Second t = st.now();
                st = physics::ProbeStation(wafer->device(d.die, d.device), chain,
                                           seed * 1000003u + static_cast<std::uint64_t>(d.die * 1000 + d.device));
                (void)t;
            };
        } else if (!a.prober_command.empty()) {
            ro.move_to = [cmd = a.prober_command](const DeviceRef& d) {
                const std::string line = fmt::format("{} {} {} {} {:.3f} {}", cmd, d.wafer_id, d.die, d.device,
                                                     d.thickness_nm, d.cells);
                if (std::system(line.c_str()) != 0)
                    throw InstrumentError("prober command failed: " + line);
            };
        } else {
            ro.move_to = [](const DeviceRef& d) {
                std::cerr << fmt::format("\nMove the probes to wafer {} die {} device {} ({:.2f} nm, {} cells), "
                                         "then press Enter (field is at zero)... ",
                                         d.wafer_id, d.die, d.device, d.thickness_nm, d.cells);
                std::string line;
                if (!std::getline(std::cin, line)) throw InputError("no answer on stdin to the probe-move prompt");
            };
        }
    }
    const auto outcomes = run_jobs(jobs, gb, ro);
    const std::string unsafe = gb.make_safe();
    std::size_t complete = 0, skipped = 0;
    bool aborted = false;
    for (const auto& o : outcomes) {
        if (o.status == storage::RunStatus::complete) ++complete;
        if (o.skipped) ++skipped;
        if (o.status == storage::RunStatus::aborted) aborted = true;
    }
    progress.finish("");
    for (const auto& o : outcomes) {
        if (o.skipped && campaign) continue;
        std::cout << fmt::format("{}: {} ({}/{} points){}\n", o.file.string(), storage::to_string(o.status), o.rows,
                                 o.total, o.message.empty() ? "" : " - " + o.message);
    }
    if (campaign)
        std::cout << fmt::format("campaign '{}': {} of {} runs complete or skipped ({} skipped: done in an earlier "
                                 "session or the device broke), manifest {}\n",
                                 campaign_name, complete, jobs.size(), skipped, ro.manifest->string());
    if (!unsafe.empty()) std::cerr << "mtjlab: WARNING: bench may not be safe: " << unsafe << '\n';
    if (aborted || cancel.level() >= 1) {
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
    cmd->add_option("--prober-command", args->prober_command,
                    "Campaign on a real bench: command run before each new device with arguments "
                    "WAFER DIE DEVICE THICKNESS_NM CELLS (default: prompt on the terminal)");
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
