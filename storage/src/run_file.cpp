// Run-file writer, reader and recovery. Schema: docs/data-format.md.
#include "mtjlab/storage/run_file.hpp"

#include <fcntl.h>
#include <hdf5_hl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <regex>

#include <nlohmann/json.hpp>

#include "mtjlab/core/error.hpp"
#include "mtjlab/core/log.hpp"
#include "mtjlab/core/version.hpp"
#include "mtjlab/storage/h5.hpp"
#include "mtjlab/storage/journal.hpp"

namespace mtjlab::storage {
namespace fs = std::filesystem;

namespace {

// ---- names in the file (docs/data-format.md)
constexpr const char* data_group = "data";
constexpr const char* status_group = "status";
constexpr std::size_t state_len = 16;
constexpr std::size_t time_len = 40;
constexpr std::size_t error_len = 1024;
constexpr std::size_t writer_len = 256;
constexpr const char* recovered_message = "writer died (recovered by mtjlab recover)";
constexpr const char* recovered_from_journal_message =
    "writer died inside an HDF5 write that left the file unreadable (recovered by mtjlab recover from the row "
    "journal; the damaged file is kept as <file>.damaged)";

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return buf;
}

std::string writer_id() { return host_name() + ":" + std::to_string(::getpid()); }

/// Layout writing shared by create() and recover().
struct Layout {
    h5::File file;
    std::vector<h5::DataSet> data;
    h5::DataSet state, end_time, error, writer;
};

void validate_columns(const std::vector<ColumnSpec>& columns) {
    static const std::regex name_re("[A-Za-z][A-Za-z0-9_]*");
    if (columns.empty()) throw InputError("a run needs at least one column");
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto& c = columns[i];
        if (!std::regex_match(c.name, name_re))
            throw InputError("column name '" + c.name + "' is not [A-Za-z][A-Za-z0-9_]*");
        if (c.units.empty()) throw InputError("column '" + c.name + "' has no units (use \"1\" if dimensionless)");
        for (std::size_t j = 0; j < i; ++j)
            if (columns[j].name == c.name) throw InputError("column '" + c.name + "' given twice");
    }
}

std::string role_name(ColumnRole r) { return r == ColumnRole::swept ? "swept" : "measured"; }

void write_provenance(h5::File& f, const RunInfo& info) {
    f.set_attribute("mtjlab_format", std::string(format_name));
    f.set_attribute("format_version", format_version);
    f.set_attribute("mtjlab_version", std::string(mtjlab::version()));
    f.set_attribute("mtjlab_git_hash", std::string(mtjlab::git_hash()));
    f.set_attribute("title", "mtjlab " + info.kind + " run " + info.run_id);
    f.set_attribute("run_id", info.run_id);
    f.set_attribute("kind", info.kind);
    f.set_attribute("recipe_name", info.recipe_name);
    f.set_attribute("recipe_text", info.recipe_text);
    f.set_attribute("parameters_json", info.parameters_json);
    f.set_attribute("station_toml", info.station_toml);
    f.set_attribute("instruments_json", info.instruments_json);
    f.set_attribute("virtual", info.virtual_run);
    f.set_attribute("wafer_id", info.device.wafer_id);
    f.set_attribute("die", std::int64_t{info.device.die});
    f.set_attribute("device", std::int64_t{info.device.device});
    f.set_attribute("thickness_nm", info.device.thickness_nm);
    f.set_attribute("cells", std::int64_t{info.device.cells});
    f.set_attribute("start_time", info.start_time);
    f.set_attribute("status_location", "/status/state");
}

Layout write_layout(const fs::path& path, const RunInfo& info, const std::vector<ColumnSpec>& columns,
                    std::size_t chunk_rows) {
    Layout l;
    l.file = h5::File::create(path.string());
    write_provenance(l.file, info);

    h5::Group data = l.file.create_group(data_group);
    std::string names;
    for (const auto& c : columns) names += (names.empty() ? "" : ",") + c.name;
    data.set_attribute("columns", names);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::int32_t int_fill = std::numeric_limits<std::int32_t>::min();
    for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto& c = columns[i];
        const bool is_int = c.type == ColumnType::int32;
        h5::DataType t = h5::DataType::copy_of(is_int ? H5T_STD_I32LE : H5T_IEEE_F64LE);
        h5::DataSet d = data.create_extendible_1d(c.name, t, std::max<std::size_t>(chunk_rows, 1),
                                                  is_int ? static_cast<const void*>(&int_fill) : &nan);
        d.set_attribute("units", c.units);
        d.set_attribute("description", c.description);
        d.set_attribute("long_name", c.description);  // netCDF/xarray convention
        d.set_attribute("role", role_name(c.role));
        d.set_attribute("column_index", static_cast<std::int64_t>(i));
        if (is_int) d.set_attribute("_FillValue_note", "int32 minimum marks an element never written");
        l.data.push_back(std::move(d));
    }
    // Swept columns are dimension scales attached to every measured column.
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].role != ColumnRole::swept) continue;
        h5::check(H5DSset_scale(l.data[i].id(), columns[i].name.c_str()),
                  {path.string(), "/data/" + columns[i].name, "make dimension scale"});
    }
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].role != ColumnRole::swept) continue;
        for (std::size_t j = 0; j < columns.size(); ++j) {
            if (columns[j].role == ColumnRole::swept) continue;
            h5::check(H5DSattach_scale(l.data[j].id(), l.data[i].id(), 0),
                      {path.string(), "/data/" + columns[j].name, "attach dimension scale " + columns[i].name});
        }
    }

    h5::Group st = l.file.create_group(status_group);
    st.set_attribute("description",
                     "run state; datasets (not attributes) so that they can be rewritten while the file is in "
                     "SWMR write mode");
    l.state = st.create_scalar("state", h5::DataType::fixed_utf8(state_len));
    l.end_time = st.create_scalar("end_time", h5::DataType::fixed_utf8(time_len));
    l.error = st.create_scalar("error_message", h5::DataType::fixed_utf8(error_len));
    l.writer = st.create_scalar("writer", h5::DataType::fixed_utf8(writer_len));
    l.state.write_fixed_string(to_string(info.status));
    l.end_time.write_fixed_string(info.end_time);
    l.error.write_fixed_string(info.error_message);
    l.writer.write_fixed_string(writer_id());
    return l;
}

std::int64_t to_i64(double v) { return static_cast<std::int64_t>(v); }

void fsync_dir(const fs::path& file) {
    const fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd < 0) return;  // best effort: the data itself is already flushed
    (void)::fsync(fd);
    ::close(fd);
}

/// Moves the finished temporary `tmp` to `path` without ever replacing an existing file. The directory is
/// fsync'd only for power-loss durability: a process kill cannot undo a link/rename.
void publish(const fs::path& tmp, const fs::path& path, Durability durability) {
    if (::link(tmp.c_str(), path.c_str()) == 0) {
        ::unlink(tmp.c_str());
    } else if (errno == EEXIST) {
        throw StorageError(path.string() + ": cannot create run file: file exists (refusing to overwrite)");
    } else {
        // Filesystems without hard links: check-then-rename (a race with another creator is possible).
        std::error_code ec;
        if (fs::exists(path, ec))
            throw StorageError(path.string() + ": cannot create run file: file exists (refusing to overwrite)");
        if (::rename(tmp.c_str(), path.c_str()) != 0)
            throw StorageError(path.string() + ": cannot create run file: " + std::strerror(errno));
    }
    if (durability == Durability::power_loss) fsync_dir(path);
}

/// The journal's manifest (docs/data-format.md, "Row journal"): what write_layout needs to rebuild the run
/// file from the journal alone.
std::string journal_manifest(const RunInfo& info, const std::vector<ColumnSpec>& columns) {
    nlohmann::json cols = nlohmann::json::array();
    for (const auto& c : columns)
        cols.push_back({{"name", c.name},
                        {"units", c.units},
                        {"description", c.description},
                        {"type", c.type == ColumnType::int32 ? "int32" : "float64"},
                        {"role", role_name(c.role)}});
    const nlohmann::json m = {
        {"manifest", "mtjlab-run-journal"}, {"manifest_version", 1},
        {"run_id", info.run_id},           {"kind", info.kind},
        {"recipe_name", info.recipe_name}, {"recipe_text", info.recipe_text},
        {"parameters_json", info.parameters_json}, {"station_toml", info.station_toml},
        {"instruments_json", info.instruments_json}, {"virtual", info.virtual_run},
        {"wafer_id", info.device.wafer_id}, {"die", info.device.die},
        {"device", info.device.device},    {"thickness_nm", info.device.thickness_nm},
        {"cells", info.device.cells},      {"start_time", info.start_time},
        {"mtjlab_version", info.mtjlab_version.empty() ? std::string(mtjlab::version()) : info.mtjlab_version},
        {"mtjlab_git_hash", info.mtjlab_git_hash.empty() ? std::string(mtjlab::git_hash()) : info.mtjlab_git_hash},
        {"writer", writer_id()},           {"columns", cols}};
    // Invalid UTF-8 in a recipe or reply must not make the journal fail: replace it (the HDF5 file keeps
    // the exact bytes).
    return m.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct Manifest {
    RunInfo info;
    std::vector<ColumnSpec> columns;
    std::string writer;
};

Manifest parse_manifest(const std::string& text, const fs::path& journal) {
    try {
        const auto m = nlohmann::json::parse(text);
        if (m.at("manifest") != "mtjlab-run-journal" || m.at("manifest_version") != 1)
            throw StorageError(journal.string() + ": row journal manifest of an unknown kind or version");
        Manifest out;
        auto& i = out.info;
        i.run_id = m.at("run_id").get<std::string>();
        i.kind = m.at("kind").get<std::string>();
        i.recipe_name = m.at("recipe_name").get<std::string>();
        i.recipe_text = m.at("recipe_text").get<std::string>();
        i.parameters_json = m.at("parameters_json").get<std::string>();
        i.station_toml = m.at("station_toml").get<std::string>();
        i.instruments_json = m.at("instruments_json").get<std::string>();
        i.virtual_run = m.at("virtual").get<bool>();
        i.device.wafer_id = m.at("wafer_id").get<std::string>();
        i.device.die = m.at("die").get<int>();
        i.device.device = m.at("device").get<int>();
        i.device.thickness_nm = m.at("thickness_nm").get<double>();
        i.device.cells = m.at("cells").get<int>();
        i.start_time = m.at("start_time").get<std::string>();
        i.mtjlab_version = m.at("mtjlab_version").get<std::string>();
        i.mtjlab_git_hash = m.at("mtjlab_git_hash").get<std::string>();
        i.file_format_version = format_version;
        i.status = RunStatus::running;
        out.writer = m.at("writer").get<std::string>();
        for (const auto& c : m.at("columns")) {
            ColumnSpec spec;
            spec.name = c.at("name").get<std::string>();
            spec.units = c.at("units").get<std::string>();
            spec.description = c.at("description").get<std::string>();
            spec.type = c.at("type") == "int32" ? ColumnType::int32 : ColumnType::float64;
            spec.role = c.at("role") == "swept" ? ColumnRole::swept : ColumnRole::measured;
            out.columns.push_back(std::move(spec));
        }
        validate_columns(out.columns);
        return out;
    } catch (const nlohmann::json::exception& e) {
        throw StorageError(journal.string() + ": row journal manifest is invalid: " + e.what());
    } catch (const InputError& e) {
        throw StorageError(journal.string() + ": row journal manifest is invalid: " + e.what());
    }
}

}  // namespace

std::string utc_now_iso8601() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto secs = time_point_cast<seconds>(now);
    const auto ms = duration_cast<milliseconds>(now - secs).count();
    const std::time_t t = system_clock::to_time_t(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
    return out;
}

// ======================================================================= writer

struct RunWriter::Impl {
    fs::path path;
    Layout l;
    std::vector<ColumnSpec> columns;
    WriterOptions options;
    std::size_t rows = 0;      // acknowledged (journal or HDF5)
    std::size_t written = 0;   // in the HDF5 file
    bool finished = false;
    std::vector<double> dbuf;
    std::vector<std::int32_t> ibuf;
    JournalWriter journal;           // every row of the run (from row 0), until finish
    std::vector<double> pending;     // rows written - rows, row-major, waiting for the next batch
    std::chrono::steady_clock::time_point last_batch = std::chrono::steady_clock::now();

    void make_durable() {
        l.file.flush();
        if (options.durability == Durability::power_loss) l.file.fsync();
    }
    /// Writes `n` rows (row-major) to the HDF5 file after the `written` rows; no flush.
    void write_block(const double* values, std::size_t n) {
        const std::size_t nc = columns.size();
        const auto offset = static_cast<hsize_t>(written);
        for (std::size_t c = 0; c < nc; ++c) {
            auto& d = l.data[c];
            d.set_length(offset + n);
            if (columns[c].type == ColumnType::int32) {
                ibuf.resize(n);
                for (std::size_t r = 0; r < n; ++r) ibuf[r] = static_cast<std::int32_t>(to_i64(values[r * nc + c]));
                d.write_1d(offset, n, H5T_NATIVE_INT32, ibuf.data());
            } else {
                dbuf.resize(n);
                for (std::size_t r = 0; r < n; ++r) dbuf[r] = values[r * nc + c];
                d.write_1d(offset, n, H5T_NATIVE_DOUBLE, dbuf.data());
            }
        }
        written += n;
    }
    /// The rows waiting in the journal go to HDF5 with one flush. They stay in the journal: a kill inside
    /// this write can tear the HDF5 chunk index, which can make rows of earlier batches unreadable too.
    void flush_batch() {
        if (written < rows) {
            write_block(pending.data(), rows - written);
            pending.clear();
            make_durable();
        }
        last_batch = std::chrono::steady_clock::now();
    }
    /// Starts the journal at row 0 and copies the `written` rows already in the HDF5 file into it (resume),
    /// so that it holds the whole run.
    void open_journal(const RunInfo& info) {
        const std::size_t window = std::max<std::size_t>(options.batch_rows, 1024);
        journal = JournalWriter::create(journal_path(path), journal_identity(info.run_id, info.start_time, columns),
                                        window, 0, options.durability == Durability::power_loss,
                                        journal_manifest(info, columns));
        if (written > 0) {
            const std::size_t nc = columns.size();
            std::vector<double> values(written * nc);
            std::vector<double> col(written);
            for (std::size_t c = 0; c < nc; ++c) {
                l.data[c].read_1d(0, written, H5T_NATIVE_DOUBLE, col.data());
                for (std::size_t r = 0; r < written; ++r) values[r * nc + c] = col[r];
            }
            for (std::size_t r = 0; r < written; ++r) journal.append(r, values.data() + r * nc);
        }
        pending.reserve(std::min<std::size_t>(options.batch_rows, 1u << 16) * columns.size());
    }
};

namespace {
void check_options(const fs::path& path, const WriterOptions& o) {
    if (o.batch_rows > journal_max_capacity)
        throw InputError(path.string() + ": batch_rows " + std::to_string(o.batch_rows) + " > " +
                         std::to_string(journal_max_capacity));
    if (!(o.batch_interval_s >= 0) || !std::isfinite(o.batch_interval_s))
        throw InputError(path.string() + ": batch_interval_s must be a finite number >= 0");
}
}  // namespace

RunWriter::RunWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RunWriter::RunWriter(RunWriter&&) noexcept = default;
RunWriter& RunWriter::operator=(RunWriter&& o) noexcept {
    if (this != &o) {
        if (impl_ && !impl_->finished) {
            try {
                finish(RunStatus::aborted, "writer closed without finish()");
            } catch (...) {
            }
        }
        impl_ = std::move(o.impl_);
    }
    return *this;
}

RunWriter::~RunWriter() {
    if (impl_ && !impl_->finished) {
        try {
            finish(RunStatus::aborted, "writer closed without finish()");
        } catch (const std::exception& e) {
            log::get("storage")->error("{}: could not record the final status: {}", impl_->path.string(), e.what());
        }
    }
}

RunWriter RunWriter::create(const fs::path& path, const RunInfo& info, const std::vector<ColumnSpec>& columns,
                            WriterOptions options) {
    validate_columns(columns);
    check_options(path, options);
    RunInfo i = info;
    if (i.start_time.empty()) i.start_time = utc_now_iso8601();
    i.status = RunStatus::running;
    i.end_time.clear();
    i.error_message.clear();
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->columns = columns;
    impl->options = options;
    const std::string p = path.string();
    std::error_code ec;
    if (fs::exists(path, ec)) throw StorageError(p + ": cannot create run file: file exists (refusing to overwrite)");
    // Build the file under a temporary name and link it into place only once it is complete and in SWMR
    // mode: a kill during create() never leaves a half-made file at `path`.
    const fs::path tmp = p + ".creating-" + std::to_string(::getpid());
    fs::remove(tmp, ec);
    try {
        impl->l = write_layout(tmp, i, columns, options.chunk_rows);
        impl->l.file.flush();
        impl->l.file.start_swmr_write();
        impl->make_durable();
        publish(tmp, path, options.durability);
    } catch (...) {
        impl->l = Layout{};
        fs::remove(tmp, ec);
        throw;
    }
    for (h5::Object* o : {static_cast<h5::Object*>(&impl->l.file), static_cast<h5::Object*>(&impl->l.state),
                          static_cast<h5::Object*>(&impl->l.end_time), static_cast<h5::Object*>(&impl->l.error),
                          static_cast<h5::Object*>(&impl->l.writer)})
        o->set_context_file(p);
    for (auto& d : impl->l.data) d.set_context_file(p);
    log::get("storage")->info("{}: run {} ({}) created, {} columns, SWMR write mode, journal batches of {} rows",
                              path.string(), i.run_id, i.kind, columns.size(), options.batch_rows);
    RunWriter w(std::move(impl));
    // If this throws, the writer's destructor records `aborted` in the (still empty) run file.
    w.impl_->open_journal(i);
    return w;
}

RunWriter RunWriter::resume(const fs::path& path, WriterOptions options) {
    check_options(path, options);
    bool orphaned = false;
    RunInfo info;
    {
        RunReader r = RunReader::open(path);
        info = r.info();
        if (r.status() == RunStatus::complete)
            throw InputError(path.string() + ": run is complete; refusing to resume it");
        // Its writer died: recover first, which also writes the journal's rows into the file (and refuses
        // while that writer is alive).
        orphaned = r.status() == RunStatus::running || r.journal_rows() > 0;
    }
    if (orphaned) recover(path);
    // A file whose writer died cannot be opened for writing (HDF5 keeps its SWMR flags set): recover first.
    h5::File f;
    try {
        f = h5::File::open(path.string(), h5::Access::read_write);
    } catch (const StorageError&) {
        recover(path);
        f = h5::File::open(path.string(), h5::Access::read_write);
    }
    const std::string run_id = f.optional_string_attribute("run_id").value_or("");
    const std::string start_time = f.optional_string_attribute("start_time").value_or("");
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->options = options;
    h5::Group data = f.open_group(data_group);
    const std::string names = data.string_attribute("columns");
    std::size_t rows = std::numeric_limits<std::size_t>::max();
    std::size_t start = 0;
    while (start <= names.size()) {
        const std::size_t comma = names.find(',', start);
        const std::string name = names.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        h5::DataSet d = data.open_dataset(name);
        ColumnSpec spec;
        spec.name = name;
        spec.units = d.string_attribute("units");
        spec.description = d.optional_string_attribute("description").value_or("");
        spec.type = d.type_class() == H5T_INTEGER ? ColumnType::int32 : ColumnType::float64;
        spec.role = d.optional_string_attribute("role").value_or("measured") == "swept" ? ColumnRole::swept
                                                                                       : ColumnRole::measured;
        rows = std::min<std::size_t>(rows, d.length());
        impl->columns.push_back(spec);
        impl->l.data.push_back(std::move(d));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    for (auto& d : impl->l.data)
        if (d.length() != rows) d.set_length(rows);  // drop never-acknowledged partial rows
    impl->rows = rows;
    impl->written = rows;
    h5::Group st = f.open_group(status_group);
    impl->l.state = st.open_dataset("state");
    impl->l.end_time = st.open_dataset("end_time");
    impl->l.error = st.open_dataset("error_message");
    impl->l.writer = st.open_dataset("writer");
    impl->l.state.write_fixed_string(to_string(RunStatus::running));
    impl->l.end_time.write_fixed_string("");
    impl->l.error.write_fixed_string("");
    impl->l.writer.write_fixed_string(writer_id());
    impl->l.file = std::move(f);
    impl->l.file.flush();
    impl->l.file.start_swmr_write();
    impl->make_durable();
    log::get("storage")->info("{}: resumed after {} rows", path.string(), rows);
    RunWriter w(std::move(impl));
    info.run_id = run_id;
    info.start_time = start_time;
    w.impl_->open_journal(info);  // replaces a stale journal of a finished session
    return w;
}

void RunWriter::append(std::span<const double> row) { append_rows(row, 1); }

void RunWriter::append_rows(std::span<const double> values, std::size_t n) {
    if (!impl_) throw StorageError("run writer was moved from");
    auto& m = *impl_;
    if (m.finished) throw StorageError(m.path.string() + ": run already finished; cannot append");
    const std::size_t nc = m.columns.size();
    if (values.size() != n * nc)
        throw InputError(m.path.string() + ": append of " + std::to_string(values.size()) + " values for " +
                         std::to_string(n) + " rows of " + std::to_string(nc) + " columns");
    if (n == 0) return;
    // Validate everything before touching the file.
    for (std::size_t c = 0; c < nc; ++c) {
        if (m.columns[c].type != ColumnType::int32) continue;
        for (std::size_t r = 0; r < n; ++r) {
            const double v = values[r * nc + c];
            if (!std::isfinite(v) || v != std::trunc(v) || v <= std::numeric_limits<std::int32_t>::min() ||
                v > std::numeric_limits<std::int32_t>::max())
                throw InputError(m.path.string() + ": column '" + m.columns[c].name +
                                 "' holds integers; got " + std::to_string(v));
        }
    }
    if (!m.journal.is_open()) throw StorageError(m.path.string() + ": the row journal is closed; cannot append");
    for (std::size_t r = 0; r < n; ++r) m.journal.append(m.rows + r, values.data() + r * nc);
    m.pending.insert(m.pending.end(), values.begin(), values.end());
    m.rows += n;
    // Acknowledged (the journal holds them). A full batch, or an old one, goes to HDF5 now.
    if (m.rows - m.written >= m.options.batch_rows ||
        std::chrono::duration<double>(std::chrono::steady_clock::now() - m.last_batch).count() >=
            m.options.batch_interval_s)
        m.flush_batch();
}

void RunWriter::flush() {
    if (!impl_) throw StorageError("run writer was moved from");
    if (impl_->finished) throw StorageError(impl_->path.string() + ": run already finished; cannot flush");
    impl_->flush_batch();
}

std::size_t RunWriter::pending() const { return impl_ ? impl_->rows - impl_->written : 0; }

std::size_t RunWriter::size() const { return impl_ ? impl_->rows : 0; }
const std::vector<ColumnSpec>& RunWriter::columns() const { return impl_->columns; }
const fs::path& RunWriter::path() const { return impl_->path; }
bool RunWriter::finished() const { return !impl_ || impl_->finished; }

void RunWriter::finish(RunStatus status, std::string_view error_message) {
    if (!impl_) throw StorageError("run writer was moved from");
    auto& m = *impl_;
    if (m.finished) throw StorageError(m.path.string() + ": run already finished");
    if (status == RunStatus::running || status == RunStatus::interrupted)
        throw InputError("finish() takes complete, aborted or failed, not " + std::string(to_string(status)));
    m.finished = true;  // whatever happens below, never try again from the destructor
    // The last batch first. If that fails the journal stays, the state stays `running`, and recover()
    // writes the journal's rows later.
    m.flush_batch();
    m.l.error.write_fixed_string(error_message);
    m.l.end_time.write_fixed_string(utc_now_iso8601());
    m.l.state.write_fixed_string(to_string(status));
    m.l.writer.write_fixed_string("");
    m.make_durable();
    m.l.data.clear();
    m.l.state.reset();
    m.l.end_time.reset();
    m.l.error.reset();
    m.l.writer.reset();
    m.l.file.close();
    // Every row is in the closed HDF5 file now; a kill before this line leaves a stale journal that
    // readers ignore (the run is not `running`) and recover/resume delete.
    if (m.journal.is_open()) m.journal.remove();
    log::get("storage")->info("{}: run finished: {} after {} rows", m.path.string(), to_string(status), m.rows);
}

// ======================================================================= reader

struct RunReader::Impl {
    fs::path path;
    h5::File file;
    bool swmr = false;
    RunInfo info;
    std::vector<ColumnInfo> columns;
    std::vector<h5::DataSet> data;
    std::string writer;
    std::size_t hdf5_rows = 0;                  // complete rows in the HDF5 file
    std::size_t journal_rows = 0;               // rows after them, only in the journal
    bool has_journal = false;                   // an unfinished run with a row journal: its rows come from there
    bool journal_only = false;                  // the HDF5 file was unreadable: everything from the journal
    std::string hdf5_error;                     // why (journal_only)
    std::size_t journal_base = 0;               // row number of the journal's first committed row
    std::vector<std::vector<double>> journal;   // per column, every committed journal row (from journal_base)

    void read_status() {
        h5::Group st = file.open_group(status_group);
        info.status = parse_run_status(st.open_dataset("state").read_string());
        info.end_time = st.open_dataset("end_time").read_string();
        info.error_message = st.open_dataset("error_message").read_string();
        writer = st.exists("writer") ? st.open_dataset("writer").read_string() : "";
    }
    void read_lengths() {
        for (std::size_t i = 0; i < data.size(); ++i) columns[i].length = data[i].length();
        hdf5_rows = columns.empty() ? 0 : std::numeric_limits<std::size_t>::max();
        for (const auto& c : columns) hdf5_rows = std::min(hdf5_rows, c.length);
    }
    /// Rows of an unfinished run that are only in its row journal (docs/data-format.md, "Row journal").
    void read_journal_rows() {
        journal_rows = 0;
        has_journal = false;
        journal.assign(columns.size(), {});
        if (info.status != RunStatus::running) return;  // finished runs have every row in HDF5
        const fs::path jp = journal_path(path);
        std::error_code ec;
        if (!fs::exists(jp, ec)) return;
        std::vector<ColumnSpec> specs;
        for (const auto& c : columns) specs.push_back(c.spec);
        const JournalIdentity id = journal_identity(info.run_id, info.start_time, specs);
        JournalContents jc = read_journal(jp, id);
        // A live writer may write a batch and rebase the journal between our reads of the lengths and of
        // the journal: read the lengths again (its HDF5 batch is flushed before the rebase).
        for (int attempt = 0; jc.base > hdf5_rows && attempt < 3; ++attempt) {
            if (swmr)
                for (auto& d : data) d.refresh();
            read_lengths();
            jc = read_journal(jp, id);
        }
        if (jc.base > hdf5_rows)
            throw StorageError(jp.string() + ": row journal starts at row " + std::to_string(jc.base) +
                               " but the run file holds only " + std::to_string(hdf5_rows) +
                               " complete rows (journal of another copy of this run?)");
        // Rows base.. are the journal's: the acknowledged values. Where HDF5 has a copy it is not read at all:
        // a kill inside a batch write may have cut that batch short or torn the chunk index (which can make
        // rows of earlier batches unreadable). A version-2 journal starts at row 0, so an unfinished run is
        // read entirely from its journal; a version-1 journal only from its base on.
        set_journal(jc);
    }
    void set_journal(const JournalContents& jc) {
        has_journal = true;
        journal_base = static_cast<std::size_t>(jc.base);
        journal_rows = journal_base + jc.rows > hdf5_rows ? journal_base + jc.rows - hdf5_rows : 0;
        const std::size_t nc = columns.size();
        journal.assign(nc, {});
        for (std::size_t c = 0; c < nc; ++c) {
            journal[c].resize(jc.rows);
            for (std::size_t r = 0; r < jc.rows; ++r) journal[c][r] = jc.values[r * nc + c];
        }
    }
    std::size_t index_of(std::string_view name) const {
        for (std::size_t i = 0; i < columns.size(); ++i)
            if (columns[i].spec.name == name) return i;
        throw InputError(path.string() + ": no column '" + std::string(name) + "' in this run");
    }
};

RunReader::RunReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RunReader::RunReader(RunReader&&) noexcept = default;
RunReader& RunReader::operator=(RunReader&&) noexcept = default;
RunReader::~RunReader() = default;

namespace {
/// An unfinished run whose HDF5 file cannot be read (a kill inside a batch write tore its metadata): the run
/// as its row journal holds it (manifest + every acknowledged row), or nullptr when there is no version-2
/// journal next to it. Throws StorageError when there is one but it is unusable.
std::unique_ptr<RunReader::Impl> open_from_journal(const fs::path& path, const std::string& hdf5_error) {
    const fs::path jp = journal_path(path);
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(jp, ec)) || ec) return nullptr;
    JournalContents jc = read_journal_unverified(jp);
    if (jc.manifest.empty()) return nullptr;  // version 1: rows without the run's description
    Manifest mf = parse_manifest(jc.manifest, jp);
    const JournalIdentity id = journal_identity(mf.info.run_id, mf.info.start_time, mf.columns);
    if (id.run_hash != jc.identity.run_hash || id.columns_hash != jc.identity.columns_hash ||
        id.columns != jc.identity.columns)
        throw StorageError(jp.string() + ": row journal manifest does not match its header");
    if (jc.base != 0)
        throw StorageError(jp.string() + ": row journal starts at row " + std::to_string(jc.base) +
                           "; the rows before it were only in the unreadable run file");
    auto m = std::make_unique<RunReader::Impl>();
    m->path = path;
    m->info = std::move(mf.info);
    m->writer = std::move(mf.writer);
    m->journal_only = true;
    m->hdf5_error = hdf5_error;
    for (auto& spec : mf.columns) m->columns.push_back({std::move(spec), 0});
    m->set_journal(jc);
    log::get("storage")->warn("{}: the HDF5 file cannot be read ({}); the run is read from its row journal ({} rows)",
                              path.string(), hdf5_error, jc.rows);
    return m;
}
}  // namespace

RunReader RunReader::open(const fs::path& path) {
    const std::string p = path.string();
    std::error_code ec;
    if (!fs::exists(path, ec)) throw StorageError(p + ": no such file");
    if (!fs::is_regular_file(path, ec)) throw StorageError(p + ": not a regular file");
    if (::access(p.c_str(), R_OK) != 0) throw StorageError(p + ": cannot read: " + std::strerror(errno));
    // A crafted file can crash libhdf5 itself: the HDF5 reads of h5 info / analyze / recover run in a probe
    // process first (h5.hpp, crash_probe), and a crash there is this file's error.
    h5::crash_probe(p, [&] {
        const auto probe = open_hdf5(path);
        std::vector<double> v(probe->hdf5_rows);
        for (const auto& d : probe->data) d.read_1d(0, v.size(), H5T_NATIVE_DOUBLE, v.data());
    });
    std::unique_ptr<Impl> m;
    try {
        m = open_hdf5(path);
    } catch (const StorageError& e) {
        // The HDF5 file is damaged. If it belongs to an unfinished run, its row journal holds the whole run.
        try {
            m = open_from_journal(path, e.what());
        } catch (const StorageError& je) {
            throw StorageError(std::string(e.what()) + "; its row journal cannot stand in: " + je.what());
        }
        if (!m) throw;
        return RunReader(std::move(m));
    }
    // The HDF5 file is sound: its journal must be this run's (a journal error is never a reason to read the
    // journal alone: it may be another run's).
    try {
        m->read_journal_rows();
    } catch (const StorageError& e) {
        throw StorageError(std::string(e.what()) + (m->swmr ? " (file opened in SWMR-read mode)" : ""));
    }
    return RunReader(std::move(m));
}

std::unique_ptr<RunReader::Impl> RunReader::open_hdf5(const fs::path& path) {
    const std::string p = path.string();
    if (!h5::is_hdf5(p)) throw StorageError(p + ": not an HDF5 file");
    auto m = std::make_unique<Impl>();
    m->path = path;
    try {
        m->file = h5::File::open(p, h5::Access::read_only);
    } catch (const StorageError& first) {
        // A file still being written, or whose writer died, carries SWMR status flags that refuse a
        // normal open ("file is already open for write"); a SWMR read works on both. Other failures
        // (truncated, corrupt) are reported as they are: a SWMR read would skip HDF5's EOF check.
        if (std::string(first.what()).find("already open for") == std::string::npos) throw;
        try {
            m->file = h5::File::open(p, h5::Access::read_swmr);
            m->swmr = true;
        } catch (const StorageError&) {
            throw StorageError(first.what());
        }
    }
    try {
        auto& f = m->file;
        const auto fmt = f.optional_string_attribute("mtjlab_format");
        if (!fmt || *fmt != format_name)
            throw InputError(p + ": not an mtjlab run file (HDF5 file without mtjlab_format = \"" +
                             std::string(format_name) + "\")");
        auto& i = m->info;
        i.file_format_version = f.int_attribute("format_version");
        if (i.file_format_version > format_version || i.file_format_version < 1)
            throw InputError(p + ": run-file format version " + std::to_string(i.file_format_version) +
                             " is not supported by this mtjlab (reads 1.." + std::to_string(format_version) + ")");
        auto s = [&](const char* name) { return f.optional_string_attribute(name).value_or(""); };
        i.mtjlab_version = s("mtjlab_version");
        i.mtjlab_git_hash = s("mtjlab_git_hash");
        i.run_id = s("run_id");
        i.kind = s("kind");
        i.recipe_name = s("recipe_name");
        i.recipe_text = s("recipe_text");
        i.parameters_json = s("parameters_json");
        i.station_toml = s("station_toml");
        i.instruments_json = s("instruments_json");
        i.start_time = s("start_time");
        i.virtual_run = f.has_attribute("virtual") && f.int_attribute("virtual") != 0;
        i.device.wafer_id = s("wafer_id");
        if (f.has_attribute("die")) i.device.die = static_cast<int>(f.int_attribute("die"));
        if (f.has_attribute("device")) i.device.device = static_cast<int>(f.int_attribute("device"));
        if (f.has_attribute("thickness_nm")) i.device.thickness_nm = f.double_attribute("thickness_nm");
        if (f.has_attribute("cells")) i.device.cells = static_cast<int>(f.int_attribute("cells"));
        m->read_status();

        h5::Group data = f.open_group(data_group);
        const std::string names = data.string_attribute("columns");
        std::size_t start = 0;
        while (start <= names.size() && !names.empty()) {
            const std::size_t comma = names.find(',', start);
            const std::string name =
                names.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            h5::DataSet d = data.open_dataset(name);
            ColumnInfo ci;
            ci.spec.name = name;
            ci.spec.units = d.string_attribute("units");
            ci.spec.description = d.optional_string_attribute("description").value_or("");
            const auto cls = d.type_class();
            if (cls != H5T_INTEGER && cls != H5T_FLOAT)
                throw StorageError(p + ": /data/" + name + ": not a numeric dataset");
            ci.spec.type = cls == H5T_INTEGER ? ColumnType::int32 : ColumnType::float64;
            ci.spec.role = d.optional_string_attribute("role").value_or("measured") == "swept" ? ColumnRole::swept
                                                                                               : ColumnRole::measured;
            m->columns.push_back(std::move(ci));
            m->data.push_back(std::move(d));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        m->read_lengths();
    } catch (const InputError&) {
        throw;
    } catch (const StorageError& e) {
        throw StorageError(std::string(e.what()) + (m->swmr ? " (file opened in SWMR-read mode)" : ""));
    }
    return m;
}

const RunInfo& RunReader::info() const { return impl_->info; }
RunStatus RunReader::status() const { return impl_->info.status; }
std::vector<std::string> RunReader::column_names() const {
    std::vector<std::string> out;
    for (const auto& c : impl_->columns) out.push_back(c.spec.name);
    return out;
}
const std::vector<ColumnInfo>& RunReader::columns() const { return impl_->columns; }
bool RunReader::has_column(std::string_view name) const {
    return std::any_of(impl_->columns.begin(), impl_->columns.end(),
                       [&](const ColumnInfo& c) { return c.spec.name == name; });
}
std::string RunReader::units(std::string_view name) const { return impl_->columns[impl_->index_of(name)].spec.units; }

std::size_t RunReader::size() const { return impl_->hdf5_rows + impl_->journal_rows; }
std::size_t RunReader::journal_rows() const { return impl_->journal_rows; }

std::vector<double> RunReader::column(std::string_view name) const {
    const auto& m = *impl_;
    const std::size_t i = m.index_of(name);
    std::vector<double> v(size());
    if (!m.has_journal) {
        m.data[i].read_1d(0, v.size(), H5T_NATIVE_DOUBLE, v.data());
        return v;
    }
    // From the journal where it has the row; HDF5 only before its first row (version-1 journals) and after
    // its last (rows written to HDF5 but never acknowledged; not produced by version 2).
    const auto& j = m.journal[i];
    const std::size_t first = m.journal_base, end = first + j.size();
    if (first > 0) m.data[i].read_1d(0, first, H5T_NATIVE_DOUBLE, v.data());
    std::copy(j.begin(), j.end(), v.begin() + static_cast<std::ptrdiff_t>(first));
    if (m.hdf5_rows > end) m.data[i].read_1d(end, m.hdf5_rows - end, H5T_NATIVE_DOUBLE, v.data() + end);
    return v;
}

bool RunReader::opened_swmr() const { return impl_->swmr; }
bool RunReader::from_journal_only() const { return impl_->journal_only; }
const std::string& RunReader::hdf5_error() const { return impl_->hdf5_error; }
const std::string& RunReader::writer() const { return impl_->writer; }

std::optional<bool> RunReader::writer_alive() const {
    const std::string& w = impl_->writer;
    const auto colon = w.rfind(':');
    if (colon == std::string::npos || w.substr(0, colon) != host_name()) return std::nullopt;
    long pid = 0;
    try {
        pid = std::stol(w.substr(colon + 1));
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (pid <= 0) return std::nullopt;
    if (::kill(static_cast<pid_t>(pid), 0) == 0) return true;
    return errno == EPERM;
}

void RunReader::refresh() {
    if (impl_->journal_only) {
        std::vector<ColumnSpec> specs;
        for (const auto& c : impl_->columns) specs.push_back(c.spec);
        impl_->set_journal(read_journal(journal_path(impl_->path),
                                        journal_identity(impl_->info.run_id, impl_->info.start_time, specs)));
        return;
    }
    // (Within one process HDF5 shares the file with the writer: nothing to refresh, just re-read.)
    if (impl_->swmr) {
        for (auto& d : impl_->data) d.refresh();
        h5::Group st = impl_->file.open_group(status_group);
        for (const char* n : {"state", "end_time", "error_message", "writer"}) st.open_dataset(n).refresh();
    }
    impl_->read_status();
    impl_->read_lengths();
    impl_->read_journal_rows();
}

// ======================================================================= recover

namespace {
void fsync_path(const fs::path& p, bool directory) {
    const int fd = ::open(p.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) throw StorageError(p.string() + ": cannot open for fsync: " + std::strerror(errno));
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) throw StorageError(p.string() + ": fsync failed: " + std::strerror(err));
}
}  // namespace

RecoverResult recover(const fs::path& path, bool force) {
    RecoverResult res;
    const std::string p = path.string();
    RunInfo info;
    std::vector<ColumnSpec> specs;
    std::vector<std::vector<double>> values;
    bool journal_only = false;
    {
        RunReader r = RunReader::open(path);
        journal_only = r.from_journal_only();
        res.status = r.status();
        res.rows = r.size();
        if (!r.opened_swmr() && r.status() != RunStatus::running) {
            // Closed and finished: nothing to do. A journal left by a kill between the final close and its
            // deletion holds only rows that are in the file.
            std::error_code jec;
            if (fs::remove(journal_path(path), jec))
                log::get("storage")->info("{}: deleted the stale row journal of a finished run", p);
            return res;
        }
        if (r.status() == RunStatus::running && !force && r.writer_alive().value_or(false))
            throw StorageError(p + ": its writer (" + r.writer() +
                               ") is still running; recover only files whose writer died (or use --force)");
        info = r.info();
        res.journal_rows = r.journal_rows();
        for (const auto& c : r.columns()) {
            specs.push_back(c.spec);
            if (c.length > res.rows) res.dropped += c.length - res.rows;
            values.push_back(r.column(c.spec.name));
        }
    }
    if (info.status == RunStatus::running) {
        info.status = RunStatus::interrupted;
        info.error_message = journal_only ? recovered_from_journal_message : recovered_message;
        info.end_time = utc_now_iso8601();
    }
    res.status = info.status;

    // Write the copy next to the original, make it durable, then atomically replace the original.
    const fs::path tmp = fs::path(p + ".recover-tmp");
    std::error_code ec;
    fs::remove(tmp, ec);
    try {
        Layout l = write_layout(tmp, info, specs, 1024);
        // The provenance must be the original writer's, not this process's.
        l.file.set_attribute("mtjlab_version", info.mtjlab_version);
        l.file.set_attribute("mtjlab_git_hash", info.mtjlab_git_hash);
        l.file.set_attribute("recovered_by", std::string(mtjlab::version_string()));
        l.file.set_attribute("recovered_at", utc_now_iso8601());
        for (std::size_t c = 0; c < specs.size(); ++c) {
            l.data[c].set_length(res.rows);
            l.data[c].write_1d(0, res.rows, H5T_NATIVE_DOUBLE, values[c].data());
        }
        l.writer.write_fixed_string("");
        l.data.clear();
        l.state.reset();
        l.end_time.reset();
        l.error.reset();
        l.writer.reset();
        l.file.close();
        fsync_path(tmp, false);
    } catch (...) {
        fs::remove(tmp, ec);
        throw;
    }
    // A damaged original is kept beside the recovered file for inspection (the journal held every row).
    if (journal_only && ::rename(p.c_str(), (p + ".damaged").c_str()) != 0) {
        const int err = errno;
        fs::remove(tmp, ec);
        throw StorageError(p + ": cannot keep the damaged file as " + p + ".damaged: " + std::strerror(err));
    }
    if (::rename(tmp.c_str(), p.c_str()) != 0) {
        const int err = errno;
        fs::remove(tmp, ec);
        throw StorageError(p + ": cannot replace with the recovered copy: " + std::strerror(err));
    }
    fsync_path(path.parent_path().empty() ? fs::path(".") : path.parent_path(), true);
    // Only now, with every row in the renamed file, the journal goes (a kill before leaves it next to a
    // file that is no longer `running`: ignored by readers, deleted by the next recover/resume).
    fs::remove(journal_path(path), ec);
    if (ec) log::get("storage")->warn("{}: cannot delete the row journal: {}", p, ec.message());
    res.changed = true;
    log::get("storage")->info("{}: recovered {} rows ({} from the row journal), status {}", p, res.rows,
                              res.journal_rows, to_string(res.status));
    return res;
}

}  // namespace mtjlab::storage
