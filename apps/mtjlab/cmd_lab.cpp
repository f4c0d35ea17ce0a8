// mtjlab lab serve: the virtual lab on loopback sockets and pseudo-terminals until SIGINT/SIGTERM.
#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "commands.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/devices_sim/fault_injector.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"

namespace mtjlab::cli {

namespace {

struct LabServeOptions {
    std::uint64_t wafer_seed = 0;
    int die = 0;
    int device = 0;
    double thickness_nm = 1.6;
    int cells = 1;
    unsigned port_base = 0;
    std::string listen = "127.0.0.1";
    std::uint64_t seed = 1;
    double coil_mT_per_A = 50.0;
    double remanence_mT = 0.0;
    bool realtime = false;
    std::string faults;     // random fault spec (docs/reliability.md), empty: none
    std::string fault_log;  // append every injected fault here
};

int serve(const LabServeOptions& o, bool from_wafer) {
    devices_sim::LabOptions lo;
    if (from_wafer) {
        lo.device.wafer_seed = o.wafer_seed;
        lo.device.die = o.die;
        lo.device.device = o.device;
    } else {
        lo.device.thickness_nm = o.thickness_nm;
        lo.device.cells = o.cells;
    }
    lo.port_base = o.port_base;
    lo.listen = o.listen;
    lo.seed = o.seed;
    lo.bench.coil_constant_t_per_a = o.coil_mT_per_A * 1e-3;
    lo.bench.remanence = units::millitesla(o.remanence_mT);
    lo.bench.realtime = o.realtime;
    if (!(o.coil_mT_per_A > 0.0)) throw InputError("--coil must be > 0 mT/A");
    const devices_sim::RandomFaults faults = devices_sim::parse_fault_spec(o.faults);
    if (!o.fault_log.empty() && !faults.enabled()) throw InputError("--fault-log needs --faults");

    // Block the stop signals before any thread starts, so that only sigwait() below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    devices_sim::VirtualLab lab(lo);
    lab.start();
    std::optional<devices_sim::FaultInjector> injector;
    if (faults.enabled()) {
        injector.emplace(lab, faults,
                         o.fault_log.empty() ? std::nullopt : std::optional<std::filesystem::path>(o.fault_log));
        std::cerr << "mtjlab: fault injection on: " << devices_sim::describe(faults) << '\n';
    }
    if (o.listen != "127.0.0.1" && o.listen != "::1" && o.listen != "localhost")
        std::cerr << "mtjlab: warning: the virtual lab listens on " << o.listen << ", not only on loopback\n";
    for (const auto& e : lab.endpoints()) {
        std::printf("%-11s %-11s %s", e.name.c_str(), e.model.c_str(), e.tcp_resource.c_str());
        if (!e.pty_resource.empty()) std::printf("  %s", e.pty_resource.c_str());
        std::printf("\n");
    }
    std::fflush(stdout);
    std::cerr << "mtjlab: virtual lab running; Ctrl-C to stop\n";
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (injector) {
        std::cerr << "mtjlab: fault injection: " << injector->summary() << '\n';
        injector.reset();
    }
    lab.stop();
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
    return exit_code::ok;
}

}  // namespace

void register_lab(CLI::App& app, const GlobalOptions& /*global*/) {
    auto* lab = app.add_subcommand("lab", "The virtual lab: simulated instruments on real sockets");
    lab->require_subcommand(1);
    auto* s = lab->add_subcommand("serve", "Serve the virtual instruments until interrupted (prints resource strings)");
    auto o = std::make_shared<LabServeOptions>();
    auto* seed_opt = s->add_option("--wafer-seed", o->wafer_seed, "Put a device of this virtual wafer on the stage");
    auto* die_opt = s->add_option("--die", o->die, "Die of the wafer (with --wafer-seed)")->capture_default_str();
    auto* dev_opt = s->add_option("--device", o->device, "Device of the die (with --wafer-seed)")->capture_default_str();
    auto* t_opt = s->add_option("--thickness", o->thickness_nm, "Nominal device: free-layer thickness (nm, 1.6-2.6)")
                      ->capture_default_str();
    auto* c_opt = s->add_option("--cells", o->cells, "Nominal device: number of cells (1-7)")->capture_default_str();
    die_opt->needs(seed_opt);
    dev_opt->needs(seed_opt);
    t_opt->excludes(seed_opt);
    c_opt->excludes(seed_opt);
    s->add_option("--port-base", o->port_base, "First TCP port (instrument k gets P+k); 0 picks free ports")
        ->capture_default_str();
    s->add_option("--listen", o->listen, "Address to bind (loopback unless you name another)")->capture_default_str();
    s->add_option("--seed", o->seed, "Seed of the probe station noise and switching")->capture_default_str();
    s->add_option("--coil", o->coil_mT_per_A, "Coil constant of the electromagnet (mT per A)")->capture_default_str();
    s->add_option("--remanence", o->remanence_mT, "Remanent field of the magnet (mT)")->capture_default_str();
    s->add_flag("--realtime", o->realtime, "Let virtual time pass in real time (sleeps)");
    s->add_option("--faults", o->faults,
                  "Inject random faults: rate=P[,seed=N][,kinds=drop+timeout+garbage+error+slow][,slow_ms=MS]");
    s->add_option("--fault-log", o->fault_log, "With --faults: append every injected fault to this file");
    s->callback([o, seed_opt] {
        const int rc = serve(*o, seed_opt->count() > 0);
        if (rc != exit_code::ok) throw Error("lab serve failed");
    });
}

}  // namespace mtjlab::cli
