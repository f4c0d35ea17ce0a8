// Running jobs on a station as one library call: open the drivers, guard them, run, make safe.
#include "mtjlab/acquisition/runner.hpp"

#include <chrono>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mtjlab/acquisition/bench_config.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/registry.hpp"

namespace mtjlab::acquisition {

struct StationBench::Impl {
    std::unique_ptr<drivers::PulseGenerator> pulse;
    std::unique_ptr<drivers::LockIn> lockin;
    std::unique_ptr<drivers::MagnetSupply> magnet;
    std::unique_ptr<drivers::Gaussmeter> gaussmeter;
    std::vector<std::pair<InstrumentConfig, drivers::Instrument*>> all;
    std::map<std::string, std::string> idn;
};

StationBench::StationBench(const Station& station) : impl_(std::make_unique<Impl>()) {
    for (const InstrumentConfig& ic : station.instruments) {
        auto session = open_session(ic);
        drivers::Instrument* base = nullptr;
        switch (ic.role) {
            case drivers::Role::pulse_gen:
                impl_->pulse = drivers::make_pulse_generator(ic.model, session);
                base = impl_->pulse.get();
                break;
            case drivers::Role::lockin:
                impl_->lockin = drivers::make_lock_in(ic.model, session);
                base = impl_->lockin.get();
                break;
            case drivers::Role::magnet:
                impl_->magnet = drivers::make_magnet_supply(ic.model, session);
                base = impl_->magnet.get();
                break;
            case drivers::Role::gaussmeter:
                impl_->gaussmeter = drivers::make_gaussmeter(ic.model, session);
                base = impl_->gaussmeter.get();
                break;
        }
        impl_->idn[std::string(drivers::to_string(ic.role))] = base->identify();
        impl_->all.emplace_back(ic, base);
    }
    if (!impl_->pulse || !impl_->lockin || !impl_->magnet)
        throw InputError(station.source + ": a run needs [instruments.pulse_gen], [instruments.lockin] and "
                                          "[instruments.magnet]");
    if (station.calibration.field_control == FieldControl::gaussmeter && !impl_->gaussmeter)
        throw InputError(station.source + ": calibration.field_control = \"gaussmeter\" needs [instruments.gaussmeter]");
}

StationBench::~StationBench() = default;

Instruments StationBench::instruments() const {
    return Instruments{impl_->pulse.get(), impl_->lockin.get(), impl_->magnet.get(), impl_->gaussmeter.get()};
}

std::string StationBench::snapshot_json() const {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [cfg, inst] : impl_->all) {
        const std::string role(drivers::to_string(cfg.role));
        nlohmann::json s = nlohmann::json::object();
        for (const auto& set : inst->settings()) s[set.name] = {{"value", set.value}, {"unit", set.unit}};
        j[role] = {{"model", cfg.model}, {"resource", cfg.resource}, {"idn", impl_->idn.at(role)}, {"settings", s}};
    }
    // Replies are outside input: an *IDN? answered with bytes that are not UTF-8 (a garbled link) must not
    // make the provenance unwritable (nlohmann throws type_error 316); such bytes become U+FFFD.
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const std::map<std::string, std::string>& StationBench::idn() const { return impl_->idn; }

RunSummary run_session(const std::vector<Job>& jobs, const Station& station, const SessionOptions& options) {
    StationBench bench(station);
    return run_session(jobs, station, bench, options);
}

RunSummary run_session(const std::vector<Job>& jobs, const Station& station, StationBench& opened,
                       const SessionOptions& options) {
    const auto t_start = std::chrono::steady_clock::now();
    const BenchLimits limits = limits_of(station);
    const BenchCalibration cal = calibration_of(station);
    RunSummary sum;
    sum.jobs = jobs.size();

    GuardedBench gb(opened.instruments(), limits, cal, options.clock ? *options.clock : real_clock(), options.cancel);
    BenchGuard guard(gb);  // field to zero and outputs off on every way out of this scope

    RunOptions ro;
    ro.directory = options.output_dir;
    ro.resume = options.resume;
    ro.cancel = options.cancel;
    ro.progress = options.progress;
    ro.provenance.station_toml = station.text;
    ro.provenance.virtual_run = options.virtual_run;
    ro.instruments_snapshot = [&opened] { return opened.snapshot_json(); };
    ro.move_to = options.move_to;
    if (!options.campaign_name.empty()) {
        ro.manifest = options.output_dir / "campaign.json";
        ro.campaign_name = options.campaign_name;
        ro.campaign_text = options.campaign_text;
        sum.manifest = ro.manifest;
    }
    sum.outcomes = run_jobs(jobs, gb, ro);
    sum.unsafe = gb.make_safe();
    for (const RunOutcome& o : sum.outcomes) {
        if (o.skipped) ++sum.skipped;
        else if (o.status == storage::RunStatus::complete) ++sum.done;
        else if (o.status == storage::RunStatus::aborted) ++sum.aborted;
        else if (o.status == storage::RunStatus::failed) ++sum.failed;
        sum.points += o.measured;
        if (!o.skipped) sum.files.push_back(o.file);
    }
    sum.cancelled = options.cancel && options.cancel->level() >= 1;
    sum.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    return sum;
}

Station with_resources(Station station, const std::map<std::string, std::string>& resources) {
    for (InstrumentConfig& ic : station.instruments) {
        const std::string role(drivers::to_string(ic.role));
        const auto it = resources.find(role);
        if (it == resources.end())
            throw InputError(fmt::format("{}: no resource given for instrument role '{}'", station.source, role));
        ic.resource = it->second;
    }
    return station;
}

std::string safe_file_stem(std::string s) {
    for (char& c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            c = '_';
    return s.empty() ? "run" : s;
}

}  // namespace mtjlab::acquisition
