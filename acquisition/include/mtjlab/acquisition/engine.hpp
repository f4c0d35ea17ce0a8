#pragma once
// The run engine: executes plans on a guarded bench, one durable row per point, with cancellation
// between transactions, resume, progress and provenance. A campaign is a list of jobs with a manifest.
//
//   GuardedBench bench(instruments, limits, cal, clock, &cancel);
//   BenchGuard safe(bench);                       // safe state on every exit path
//   RunOutcome r = run_job(job, bench, context);  // or run_jobs(jobs, bench, options)
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mtjlab/acquisition/cancel.hpp"
#include "mtjlab/acquisition/guard.hpp"
#include "mtjlab/acquisition/plan.hpp"
#include "mtjlab/acquisition/progress.hpp"
#include "mtjlab/storage/run_file.hpp"

namespace mtjlab::acquisition {

/// Provenance shared by every run of a session (filled by the caller).
struct Provenance {
    std::string station_toml;
    std::string instruments_json;  ///< per instrument: role, model, resource, *IDN?, settings
    bool virtual_run = false;
};

/// What happened to one job.
struct RunOutcome {
    std::string name;
    std::filesystem::path file;
    storage::RunStatus status = storage::RunStatus::running;
    std::size_t rows = 0;          ///< rows in the file at the end
    std::size_t total = 0;         ///< points of the plan
    std::size_t measured = 0;      ///< rows appended by this call (0 for a skipped job)
    bool skipped = false;          ///< already complete (resume)
    std::string message;           ///< error or note (breakdown, switching summary)
    std::optional<double> breakdown_amplitude_V;  ///< breakdown_ramp: where the junction broke
    std::optional<double> first_switch_V;         ///< R(V) runs: first amplitude that switched the device
    std::size_t switches = 0;      ///< R(V) runs: reads that changed by more than the switch threshold
};

/// Options of run_jobs.
struct RunOptions {
    std::filesystem::path directory;                 ///< run files go here as <job name>.h5
    std::optional<std::filesystem::path> manifest;   ///< campaign manifest (JSON), rewritten after each job
    std::string campaign_name;
    std::string campaign_text;
    bool resume = false;   ///< continue unfinished files, skip complete ones; otherwise existing files are an error
    Provenance provenance;
    CancelToken* cancel = nullptr;
    Progress* progress = nullptr;
    /// Called before the first job on a new device (probe move; virtual prober or a prompt). The bench is in
    /// its safe state when it is called (field ramped to zero, every output off: GuardedBench::make_safe).
    std::function<void(const DeviceRef&)> move_to;
    /// Collect the *IDN?/settings snapshot after the bench is configured for a job (JSON text); defaults
    /// to provenance.instruments_json.
    std::function<std::string()> instruments_snapshot;
    /// Run-file writing: durability (process crash / power loss) and the row-journal batch (rows, seconds).
    /// chunk_rows is chosen per run (min(points, batch_rows)).
    storage::WriterOptions writer;
};

/// Runs one job into `file` (creating it, or resuming it when `resume` and it is unfinished).
/// Returns aborted on Ctrl-C (after saving the point and making the bench safe) and failed/throws on
/// instrument errors (the file records the failure and every earlier point).
RunOutcome run_job(const Job& job, GuardedBench& bench, const std::filesystem::path& file, const RunOptions& options);

/// Runs jobs in order; stops at the first aborted or failed job, and (returning what was done) at a second
/// Ctrl-C between runs. The manifest (when set) lists every job
/// with its file, device, status and row count, and is rewritten atomically after each job.
std::vector<RunOutcome> run_jobs(const std::vector<Job>& jobs, GuardedBench& bench, const RunOptions& options);

/// Manifest format name/version written into campaign.json.
inline constexpr const char* manifest_format = "mtjlab-campaign";
inline constexpr int manifest_version = 1;

}  // namespace mtjlab::acquisition
