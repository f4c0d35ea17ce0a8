#pragma once
// Run files: one HDF5 file per measurement run (schema "mtjlab-run", docs/data-format.md).
//
//   RunWriter w = RunWriter::create("run.h5", info, columns_for("rh_loop"));
//   w.append({h, h_meas, r, x, y, branch, dir, t});      // returns once the point is durable
//   w.finish(RunStatus::complete);
//
//   RunReader r = RunReader::open("run.h5");
//   std::vector<double> h = r.column("field_T");
//
// Crash safety: append() returns once the row is in the row journal `<run>.journal` (journal.hpp: one
// memcpy into a shared mapping, survives a SIGKILL of the process at any instant). The HDF5 file (SWMR
// write mode) receives the rows in batches: every `batch_rows` rows, at least every `batch_interval_s`
// seconds (checked at each append), on flush() and at finish(); each batch is one H5Fflush. A reader
// (h5py swmr=True) follows the HDF5 file live, batch by batch. The journal keeps every row of the run until
// finish(), because a kill inside a batch write can tear the HDF5 chunk index; RunReader takes an unfinished
// run's rows from the journal, so it sees every acknowledged row even then. After SIGKILL, RunReader still
// reads the file (SWMR read + journal) and recover() turns it into a normal closed file marked `interrupted`
// with every acknowledged row.
// All functions throw mtjlab::StorageError (file problems, HDF5 failures) or InputError (bad arguments,
// not an mtjlab run file). Not thread-safe.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mtjlab::storage {

/// Name and version of the file schema written into every run file (root attributes
/// `mtjlab_format` and `format_version`). Bump the version on any incompatible change.
inline constexpr std::string_view format_name = "mtjlab-run";
inline constexpr std::int64_t format_version = 1;

/// Final (or present) state of a run. `interrupted` is set only by recover(): the writer died
/// (SIGKILL, power loss, crash) without calling finish().
enum class RunStatus { running, complete, aborted, failed, interrupted };
std::string_view to_string(RunStatus s);
/// Parses "running", "complete", ...; throws InputError on anything else.
RunStatus parse_run_status(std::string_view s);

/// Which device was measured.
struct DeviceIdentity {
    std::string wafer_id;      ///< e.g. "W07"; "" if unknown
    int die = -1;              ///< die index on the wafer, -1 if unknown
    int device = -1;           ///< device index on the die, -1 if unknown
    double thickness_nm = 0;   ///< free-layer thickness in nm (0 if unknown)
    int cells = 0;             ///< number of MTJ cells in the compound device (0 if unknown)
};

/// Provenance and state of one run. The writer takes it at create(); the reader returns it.
struct RunInfo {
    std::string run_id;            ///< unique id of the run (e.g. "20261129T010203Z-rh-W07-3-5")
    std::string kind;              ///< rh_loop, rv_pulse_train, field_free_rv, switching_probability, breakdown_ramp, ...
    std::string recipe_name;
    std::string recipe_text;       ///< the full recipe (TOML) as run
    std::string parameters_json;   ///< resolved parameters (JSON text)
    std::string station_toml;      ///< station configuration (TOML text)
    std::string instruments_json;  ///< per instrument: *IDN? and settings snapshot (JSON text)
    bool virtual_run = false;      ///< true when the virtual lab produced the data
    DeviceIdentity device;
    std::string start_time;        ///< ISO 8601 UTC ("2026-11-29T01:02:03.456Z"); create() fills it if empty
    std::string end_time;          ///< set by finish() / recover(); "" while running
    RunStatus status = RunStatus::running;
    std::string error_message;     ///< why the run was aborted/failed/interrupted; "" otherwise

    // Read back from the file (ignored by create()): who wrote it.
    std::string mtjlab_version;    ///< e.g. "0.1.0"
    std::string mtjlab_git_hash;
    std::int64_t file_format_version = 0;
};

/// Storage type of a column. Integer columns (branch, direction, trial, switched) are int32 in the file;
/// the API passes every value as double and checks that integer columns get integral values.
enum class ColumnType { float64, int32 };

/// A swept column (the independent variable: field setpoint, pulse amplitude) becomes an HDF5
/// dimension scale attached to every measured column, so xarray/netCDF readers see it as a coordinate.
enum class ColumnRole { swept, measured };

struct ColumnSpec {
    std::string name;         ///< dataset name, [A-Za-z0-9_]+, e.g. "field_T"
    std::string units;        ///< SI units: "T", "V", "Ohm", "s", "A", "1" (dimensionless)
    std::string description;  ///< one line for humans (HDFView, h5dump)
    ColumnType type = ColumnType::float64;
    ColumnRole role = ColumnRole::measured;
};

/// The agreed columns (contract A) for a run kind: rh_loop, rv_pulse_train, field_free_rv,
/// switching_probability, breakdown_ramp. Throws InputError for an unknown kind.
std::vector<ColumnSpec> columns_for(std::string_view kind);

/// How far a point must travel before append() returns.
enum class Durability {
    process_crash,  ///< H5Fflush: the data is in the OS; survives SIGKILL / a crash of mtjlab (default)
    power_loss      ///< H5Fflush + fsync: the data is on the disk; survives power loss (slower)
};

struct WriterOptions {
    Durability durability = Durability::process_crash;
    std::size_t chunk_rows = 1024;  ///< rows per HDF5 chunk
    /// Rows acknowledged through the row journal before they go to HDF5 as one batch (0..2^20).
    /// 0 or 1: every append also writes and flushes the HDF5 file (after the journal; the behaviour before
    /// batching: ~60 us per single-row append on the development machine instead of ~1 us).
    std::size_t batch_rows = 1024;
    /// A batch is written at the first append this long after the previous batch, however few rows it has
    /// (so an h5py SWMR reader lags at most about this much behind a slow run).
    double batch_interval_s = 1.0;
};
/// Writes one run file. Move-only; the destructor of a writer that was not finished records status
/// `aborted` with "writer closed without finish()" (it never throws).
class RunWriter {
public:
    /// Creates `path` (refuses to overwrite an existing file), writes provenance, creates one dataset per
    /// column, then switches to SWMR write mode. Throws InputError for bad column specs.
    static RunWriter create(const std::filesystem::path& path, const RunInfo& info,
                            const std::vector<ColumnSpec>& columns, WriterOptions options = {});
    /// Continues an unfinished run (status running/interrupted/aborted/failed, not complete): if its writer
    /// died, the file is recovered first; then status goes back to `running` and appends continue after
    /// the last complete row. Columns are taken from the file.
    static RunWriter resume(const std::filesystem::path& path, WriterOptions options = {});

    RunWriter(RunWriter&&) noexcept;
    RunWriter& operator=(RunWriter&&) noexcept;
    ~RunWriter();

    /// Appends one row (values in column order, SI units). Returns once the row is durable.
    void append(std::span<const double> row);
    void append(std::initializer_list<double> row) { append(std::span<const double>(row.begin(), row.size())); }
    /// Appends `rows` rows given row-major (rows * columns().size() values), through the journal like
    /// append(); a block that fills the batch is written to HDF5 at once (one flush).
    void append_rows(std::span<const double> values, std::size_t rows);
    /// Writes the rows waiting in the journal to the HDF5 file now (one H5Fflush), e.g. at the end of a
    /// sweep branch, so that HDF5-only readers see them. No-op when nothing waits.
    void flush();

    [[nodiscard]] std::size_t size() const;  ///< rows acknowledged (durable in the journal or the HDF5 file)
    [[nodiscard]] std::size_t pending() const;  ///< acknowledged rows not yet in the HDF5 file
    [[nodiscard]] const std::vector<ColumnSpec>& columns() const;
    [[nodiscard]] const std::filesystem::path& path() const;
    [[nodiscard]] bool finished() const;

    /// Records the final status (complete, aborted or failed) and end time, and closes the file.
    /// Afterwards the file opens normally everywhere. Throws InputError for status running/interrupted.
    void finish(RunStatus status, std::string_view error_message = {});

    struct Impl;

private:
    explicit RunWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Description of a column as found in a file.
struct ColumnInfo {
    ColumnSpec spec;
    std::size_t length = 0;  ///< elements in the dataset (may exceed RunReader::size() after a crash)
};

/// Reads a run file: complete ones, live ones (SWMR) and ones whose writer died.
class RunReader {
public:
    /// Opens `path`. Throws StorageError (missing, unreadable, not HDF5, truncated) or InputError (an HDF5
    /// file that is not an mtjlab run file, or a newer format version). An unfinished run whose HDF5 file
    /// cannot be read is read from its row journal instead (from_journal_only()).
    static RunReader open(const std::filesystem::path& path);

    RunReader(RunReader&&) noexcept;
    RunReader& operator=(RunReader&&) noexcept;
    ~RunReader();

    [[nodiscard]] const RunInfo& info() const;
    [[nodiscard]] RunStatus status() const;
    [[nodiscard]] std::vector<std::string> column_names() const;
    [[nodiscard]] const std::vector<ColumnInfo>& columns() const;
    [[nodiscard]] bool has_column(std::string_view name) const;
    [[nodiscard]] std::string units(std::string_view name) const;  ///< throws InputError if no such column
    /// Complete rows: the shortest column length (a row is complete when every column has it), plus the rows
    /// of an unfinished run's row journal beyond it (journal_rows()).
    [[nodiscard]] std::size_t size() const;
    /// Rows of size() that are only in the row journal `<file>.journal` (0 for finished runs): a writer that
    /// is still running has not written them to HDF5 yet, or it died before (then `recover` writes them).
    /// (An unfinished run's rows are all read from its journal; this counts those beyond the HDF5 rows.)
    [[nodiscard]] std::size_t journal_rows() const;
    /// Values of one column (size() of them), converted to double. Throws InputError if no such column.
    [[nodiscard]] std::vector<double> column(std::string_view name) const;
    /// True when the file had to be opened in SWMR-read mode: a writer is running or died without
    /// closing it (see writer_alive()).
    [[nodiscard]] bool opened_swmr() const;
    /// True when the HDF5 file could not be read at all (a kill inside a batch write tore its metadata) and
    /// the run was read from its row journal alone (provenance from its manifest, every acknowledged row);
    /// hdf5_error() says what failed. `mtjlab recover` rebuilds the file from it.
    [[nodiscard]] bool from_journal_only() const;
    [[nodiscard]] const std::string& hdf5_error() const;
    /// For a `running` file: whether the recorded writer process (same host) still exists.
    /// nullopt when it cannot be told (another host, or no writer recorded).
    [[nodiscard]] std::optional<bool> writer_alive() const;
    /// "host:pid" of the process that last opened the file for writing ("" after finish/recover).
    [[nodiscard]] const std::string& writer() const;
    /// SWMR readers: picks up rows (HDF5 and journal) and status written since open (no-op for closed files).
    void refresh();

    struct Impl;

private:
    explicit RunReader(std::unique_ptr<Impl> impl);
    static std::unique_ptr<Impl> open_hdf5(const std::filesystem::path& path);
    std::unique_ptr<Impl> impl_;
};

/// What recover() did.
struct RecoverResult {
    bool changed = false;        ///< false: the file was already a closed, finished file (idempotent)
    RunStatus status = RunStatus::interrupted;  ///< status after recovery
    std::size_t rows = 0;        ///< complete rows kept
    std::size_t dropped = 0;     ///< trailing elements of incomplete rows dropped (never acknowledged)
    std::size_t journal_rows = 0;  ///< rows of `rows` that came from the row journal
};

/// Makes a run file whose writer died a normal, closed, readable file: every complete row (HDF5 rows plus the
/// row journal's rows beyond them) is kept, status
/// becomes `interrupted` with error "writer died (recovered by mtjlab recover)", end time = recovery time.
/// Works by reading the file in SWMR-read mode and writing a fresh copy next to it, fsync'd and then
/// atomically renamed over the original, so an interrupted recover() leaves the original intact.
/// Idempotent: a file that already opens normally and is not `running` is left untouched (a stale journal
/// next to it, whose rows all reached HDF5 before the run was finished, is deleted).
/// The journal is deleted once the recovered copy has replaced the original.
/// Refuses (StorageError) while the recorded writer process is still alive on this host, unless `force`.
RecoverResult recover(const std::filesystem::path& path, bool force = false);

/// Current time as ISO 8601 UTC with milliseconds.
std::string utc_now_iso8601();

}  // namespace mtjlab::storage
