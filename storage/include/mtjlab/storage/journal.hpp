#pragma once
// The row journal of a run file (docs/data-format.md, "Row journal").
//
// RunWriter acknowledges a point once it is in the journal `<run file>.journal`: a file mapped MAP_SHARED
// into the writer, one fixed-size record per row. Storing a record is a memcpy into the page cache plus one
// 8-byte commit word written last (row number + CRC-32C of the record), so a record torn by a kill is
// recognised and dropped. The page cache belongs to the kernel: a SIGKILL of the writer at any instant keeps
// every committed record. The journal holds EVERY row of the run (it grows by whole windows of records), not
// only those waiting for the next HDF5 batch: a kill inside an HDF5 batch write can tear the file's chunk
// index and so make rows of earlier batches unreadable too (docs/reliability.md, "SIGKILL inside an HDF5
// batch write"). Clean close: the last batch is flushed and the file closed, then the journal deleted.
// Readers (RunReader, recover, resume) of an unfinished run take its rows from the journal. A version-2
// journal also carries a manifest (the run's provenance and columns, JSON written once at create), so the
// run survives in it even when a kill tore the HDF5 file's own metadata beyond opening.
//
// Not thread-safe. Errors: StorageError naming the journal file.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "mtjlab/storage/run_file.hpp"

namespace mtjlab::storage {

/// CRC-32C (Castagnoli; reflected polynomial 0x82F63B78, initial value and final XOR 0xFFFFFFFF, the iSCSI /
/// ext4 checksum) of `n` bytes, continuing from `crc` (0 to start): crc32c(crc32c(0, a), b) = CRC of a + b.
/// Uses the SSE4.2 instruction where the CPU has it (~20 ns for a record), a table otherwise; both give
/// the same value. crc32c(0, "123456789", 9) = 0xE3069283.
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t n);
/// The table implementation (for tests: equal to crc32c everywhere).
std::uint32_t crc32c_software(std::uint32_t crc, const void* data, std::size_t n);

/// `<run file>.journal` (e.g. `run.h5.journal`).
std::filesystem::path journal_path(const std::filesystem::path& run_file);

/// What ties a journal to its run file: the run (id + start time) and the columns (names + types).
struct JournalIdentity {
    std::uint32_t run_hash = 0;      ///< CRC-32C of run_id + '\n' + start_time
    std::uint32_t columns_hash = 0;  ///< CRC-32C of "name:f64;" / "name:i32;" per column, in order
    std::uint32_t columns = 0;
};
JournalIdentity journal_identity(std::string_view run_id, std::string_view start_time,
                                 const std::vector<ColumnSpec>& columns);

/// Fixed sizes of the format (version 2; version 1, a single window rebased after each batch, is still read).
inline constexpr std::size_t journal_header_size = 64;
inline constexpr std::uint32_t journal_format_version = 2;
inline constexpr std::uint32_t journal_max_columns = 1024;
/// Largest growth window (records).
inline constexpr std::uint32_t journal_max_capacity = 1u << 20;
/// Largest journal file (header + records): 4 GiB, e.g. 89 million rows of 5 columns. A run beyond it fails
/// with a StorageError naming the journal; readers refuse larger files (a hostile size cannot make them
/// allocate without bound).
inline constexpr std::uint64_t journal_max_bytes = std::uint64_t{1} << 32;
/// Largest manifest (the run's provenance: recipe, station, instrument settings as text).
inline constexpr std::uint32_t journal_max_manifest_bytes = 64u << 20;

/// Appends rows to a journal through a shared memory mapping; the file grows by `window` records whenever it
/// is full (ftruncate + mremap; the new slots are zero, which never validates). Move-only; the destructor
/// unmaps and closes but keeps the file (only remove() deletes it, after the rows are safe in the HDF5 file).
class JournalWriter {
public:
    JournalWriter() = default;
    /// Creates (or replaces) `path` with room for `window` rows whose first row is `base`; it grows by
    /// `window` rows at a time. `manifest` (any bytes, e.g. JSON; may be empty) is stored once after the
    /// header with its own CRC. `sync`: msync every record to the disk (Durability::power_loss). The file is
    /// made under `<path>.creating` and renamed into place with its header complete: a kill inside create()
    /// never leaves an empty or header-less journal beside a published run file (which readers would refuse).
    static JournalWriter create(const std::filesystem::path& path, const JournalIdentity& id, std::size_t window,
                                std::uint64_t base, bool sync, std::string_view manifest = {});
    JournalWriter(JournalWriter&&) noexcept;
    JournalWriter& operator=(JournalWriter&&) noexcept;
    JournalWriter(const JournalWriter&) = delete;
    JournalWriter& operator=(const JournalWriter&) = delete;
    ~JournalWriter();

    [[nodiscard]] bool is_open() const { return map_ != nullptr; }
    /// Slots in the file now (a whole number of windows).
    [[nodiscard]] std::size_t capacity() const { return capacity_; }
    [[nodiscard]] std::size_t window() const { return window_; }
    [[nodiscard]] std::uint64_t base() const { return base_; }
    /// Stores row `row` (must be the next one: base(), base() + 1, ...; the file grows when it is beyond
    /// its slots): payload first, the commit word last. `values` holds `columns` doubles. Durable against a
    /// process kill when it returns.
    void append(std::uint64_t row, const double* values);
    /// Unmaps, closes and deletes the journal file (rows are all in the HDF5 file).
    void remove();
    /// Unmaps and closes, keeping the file.
    void close() noexcept;

private:
    std::filesystem::path path_;
    unsigned char* map_ = nullptr;
    std::size_t map_size_ = 0;
    int fd_ = -1;
    std::size_t capacity_ = 0;
    std::size_t window_ = 0;
    std::size_t record_size_ = 0;
    std::size_t records_offset_ = journal_header_size;  // header + padded manifest
    std::uint32_t columns_ = 0;
    std::uint32_t seed_ = 0;
    std::uint64_t base_ = 0;
    std::uint64_t next_ = 0;  // the only row append() takes next
    bool sync_ = false;

    void grow(std::size_t slots);
};

/// What a journal holds.
struct JournalContents {
    std::uint64_t base = 0;        ///< row number of slot 0
    std::size_t rows = 0;          ///< committed rows base .. base + rows - 1
    std::vector<double> values;    ///< rows x columns, row-major
    /// The slot after the last committed row names that row but fails its CRC: a damaged record (e.g. a
    /// partial write-back after power loss), dropped. A record the writer was still copying when it was
    /// killed is not flagged: its commit word still names another row (it was never acknowledged).
    bool torn_tail = false;
    std::string manifest;          ///< as given to JournalWriter::create ("" for version 1)
    JournalIdentity identity;      ///< as recorded in the header
};

/// Reads and validates a journal. Throws StorageError naming the file when it is unreadable, not a
/// journal, of another version, of another run or other columns than `expected`, or its size is not a
/// whole number of windows (version 1: exactly one) or beyond journal_max_bytes. Committed records are those from slot 0 on whose commit word names the expected row
/// and whose CRC matches; reading stops at the first other slot. A committed record after a bad one
/// (damage, not a kill) is a StorageError too: rows are never dropped silently.
JournalContents read_journal(const std::filesystem::path& path, const JournalIdentity& expected);
/// The same without an expected identity, for a journal whose run file cannot be read: the caller checks
/// `identity` against the one its manifest describes.
JournalContents read_journal_unverified(const std::filesystem::path& path);

}  // namespace mtjlab::storage
