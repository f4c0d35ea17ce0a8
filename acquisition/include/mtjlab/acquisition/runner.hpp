#pragma once
// Running jobs on a station as a library call (used by `mtjlab run` and `mtjlab campaign`).
//
//   Station st = load_station("station.toml");
//   SessionOptions o; o.output_dir = "out"; o.resume = true;
//   RunSummary s = run_session(jobs, st, o);   // opens the drivers, guards the bench, runs, makes safe
//
// The bench is the station's instruments opened through the driver registry (real bench), or whatever
// the resource strings point at (the virtual lab on loopback: see apps/mtjlab/virtual_bench.hpp, which
// rewrites the resources and supplies the virtual clock and prober). acquisition knows nothing about
// the virtual lab. recipes/runner.hpp adds recipe files (load, expand, preflight) on top of this.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mtjlab/acquisition/cancel.hpp"
#include "mtjlab/acquisition/engine.hpp"
#include "mtjlab/acquisition/guard.hpp"
#include "mtjlab/acquisition/plan.hpp"
#include "mtjlab/acquisition/progress.hpp"
#include "mtjlab/acquisition/station.hpp"

namespace mtjlab::acquisition {

/// The drivers of a station, opened (transport + session + *IDN?) and owned.
class StationBench {
public:
    /// Opens every instrument of the station. Throws TransportError/TimeoutError/ProtocolError naming the
    /// role and resource when one cannot be reached, InputError when a required role (pulse_gen, lockin,
    /// magnet) is missing.
    explicit StationBench(const Station& station);
    ~StationBench();
    StationBench(const StationBench&) = delete;
    StationBench& operator=(const StationBench&) = delete;

    /// The capability interfaces (not owned by the caller; valid while this object lives).
    [[nodiscard]] Instruments instruments() const;
    /// Per role: model, resource, *IDN? reply and the driver's current settings (JSON object text).
    [[nodiscard]] std::string snapshot_json() const;
    /// *IDN? replies by role name ("pulse_gen", "lockin", "magnet", "gaussmeter").
    [[nodiscard]] const std::map<std::string, std::string>& idn() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// How a session runs.
struct SessionOptions {
    std::filesystem::path output_dir;  ///< run files <job name>.h5 (and campaign.json) go here; created
    bool resume = false;               ///< continue unfinished files, skip complete ones
    /// Time source and waits. Unset: real_clock() (a real bench sleeps). The virtual lab supplies its
    /// virtual clock here.
    std::optional<BenchClock> clock;
    bool virtual_run = false;          ///< provenance flag written into every file
    CancelToken* cancel = nullptr;     ///< checked between transactions; null: not cancellable
    Progress* progress = nullptr;      ///< progress sink (bar/lines); null: silent
    /// Probe move before the first job on a new device (field at zero when called). Unset: no move (a
    /// single device on the stage). A throw stops the session (bench made safe first).
    std::function<void(const DeviceRef&)> move_to;
    /// Campaign manifest: when `campaign_name` is non-empty, output_dir/campaign.json lists every job.
    std::string campaign_name;
    std::string campaign_text;
};

/// What a session did.
struct RunSummary {
    std::vector<RunOutcome> outcomes;  ///< one per job that was reached, in order
    std::size_t jobs = 0;              ///< jobs asked for
    std::size_t done = 0;              ///< finished complete in this session
    std::size_t skipped = 0;           ///< already complete (resume) or skipped (device broke earlier)
    std::size_t failed = 0;            ///< failed (instrument/link error)
    std::size_t aborted = 0;           ///< stopped by cancellation
    std::size_t points = 0;            ///< rows measured in this session (all files)
    std::vector<std::filesystem::path> files;     ///< run files written or resumed in this session
    std::optional<std::filesystem::path> manifest; ///< campaign.json when written
    double wall_time_s = 0;            ///< wall-clock time of the session
    bool cancelled = false;            ///< the cancel token was raised
    std::string unsafe;                ///< make_safe() problems at the end ("" = bench safe)
};

/// Opens the station's drivers, guards them with the station limits and calibration (closed-loop field
/// control when the station asks for it), runs the jobs and makes the bench safe on every exit path.
/// The jobs must have passed preflight (recipes::prepare does it). Instrument errors propagate after the
/// bench is made safe (the failing file records the error and every earlier point).
RunSummary run_session(const std::vector<Job>& jobs, const Station& station, const SessionOptions& options);

/// The same on drivers the caller already opened (tests, benches, or a caller that keeps them open).
RunSummary run_session(const std::vector<Job>& jobs, const Station& station, StationBench& bench,
                       const SessionOptions& options);

/// A copy of `station` whose instrument resource strings are replaced by `resources` (role name ->
/// resource). Throws InputError when a station role has no entry.
Station with_resources(Station station, const std::map<std::string, std::string>& resources);

/// Lower-case letters, digits, '_' and '-' only (everything else becomes '_'); "run" when empty.
std::string safe_file_stem(std::string name);

}  // namespace mtjlab::acquisition
