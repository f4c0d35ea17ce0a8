#pragma once
// The row journal of a run file (docs/data-format.md, "Row journal").
//
// RunWriter acknowledges a point once it is in the journal `<run file>.journal`: a small file mapped
// MAP_SHARED into the writer, one fixed-size record per row. Storing a record is a memcpy into the page
// cache plus one 8-byte commit word written last (row number + CRC-32C of the record), so a record torn by
// a kill is recognised and dropped. The page cache belongs to the kernel: a SIGKILL of the writer at any
// instant keeps every committed record. The HDF5 file receives the rows in batches (one H5Fflush per
// batch); after each batch the journal is rebased (its slot 0 becomes the first row not yet in HDF5), so
// it never holds more than one batch. Clean close: the last batch is flushed, then the journal deleted.
// Readers (RunReader, recover, resume) merge the journal's rows beyond the HDF5 row count.
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

/// Fixed sizes of the format (version 1).
inline constexpr std::size_t journal_header_size = 64;
inline constexpr std::uint32_t journal_format_version = 1;
inline constexpr std::uint32_t journal_max_columns = 1024;
inline constexpr std::uint32_t journal_max_capacity = 1u << 20;

/// Appends rows to a journal through a shared memory mapping. Move-only; the destructor unmaps and
/// closes but keeps the file (only remove() deletes it, after the rows are safe in the HDF5 file).
class JournalWriter {
public:
    JournalWriter() = default;
    /// Creates (or truncates) `path` with room for `capacity` rows whose first row is `base`.
    /// `sync`: msync every record to the disk (Durability::power_loss).
    static JournalWriter create(const std::filesystem::path& path, const JournalIdentity& id, std::size_t capacity,
                                std::uint64_t base, bool sync);
    JournalWriter(JournalWriter&&) noexcept;
    JournalWriter& operator=(JournalWriter&&) noexcept;
    JournalWriter(const JournalWriter&) = delete;
    JournalWriter& operator=(const JournalWriter&) = delete;
    ~JournalWriter();

    [[nodiscard]] bool is_open() const { return map_ != nullptr; }
    [[nodiscard]] std::size_t capacity() const { return capacity_; }
    [[nodiscard]] std::uint64_t base() const { return base_; }
    /// Rows the journal can still take before a rebase is needed.
    [[nodiscard]] std::size_t room(std::uint64_t next_row) const { return capacity_ - static_cast<std::size_t>(next_row - base_); }
    /// Stores row `row` (must be base() + k with k < capacity, in increasing order): payload first, the
    /// commit word last. `values` holds `columns` doubles. Durable against a process kill when it returns.
    void append(std::uint64_t row, const double* values);
    /// Every row < `base` is now durable in the HDF5 file: slot 0 becomes row `base`.
    void rebase(std::uint64_t base);
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
    std::size_t record_size_ = 0;
    std::uint32_t columns_ = 0;
    std::uint32_t seed_ = 0;
    std::uint64_t base_ = 0;
    bool sync_ = false;
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
};

/// Reads and validates a journal. Throws StorageError naming the file when it is unreadable, not a
/// journal, of another version, of another run or other columns than `expected`, or its size does not
/// match its header. Committed records are those from slot 0 on whose commit word names the expected row
/// and whose CRC matches; reading stops at the first other slot. A committed record after a bad one
/// (damage, not a kill) is a StorageError too: rows are never dropped silently.
JournalContents read_journal(const std::filesystem::path& path, const JournalIdentity& expected);

}  // namespace mtjlab::storage
