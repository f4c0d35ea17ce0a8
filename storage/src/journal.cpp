// Row journal of a run file: format and reasons in docs/data-format.md ("Row journal").
#include "mtjlab/storage/journal.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <utility>

#include "mtjlab/core/error.hpp"

namespace mtjlab::storage {
namespace fs = std::filesystem;

static_assert(std::endian::native == std::endian::little, "the journal format is little-endian");
static_assert(sizeof(double) == 8);

namespace {

// Header layout (docs/data-format.md): offsets in bytes.
constexpr char magic[8] = {'M', 'T', 'J', 'L', 'J', 'R', 'N', 'L'};
constexpr std::size_t off_version = 8, off_columns = 12, off_record_size = 16, off_capacity = 20,
                      off_run_hash = 24, off_columns_hash = 28, off_manifest_size = 32, off_header_crc = 36,
                      off_base = 40, off_manifest_crc = 48;
constexpr std::size_t header_crc_span = 36;  // bytes 0..35 are covered by the header CRC

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(std::uint32_t crc, const unsigned char* p, std::size_t n) {
    std::uint64_t c = ~crc;
    for (; n >= 8; n -= 8, p += 8) {
        std::uint64_t v;
        std::memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
    }
    auto c32 = static_cast<std::uint32_t>(c);
    for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
    return ~c32;
}
#endif

template <class T>
T load(const unsigned char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <class T>
void store(unsigned char* p, T v) {
    std::memcpy(p, &v, sizeof v);
}

std::size_t record_size_for(std::uint32_t columns) { return 8u * columns + 8u; }

/// CRC of a record: seeded with the run hash (so a zero slot or another run's record never validates),
/// over the 8-byte row number and the payload.
std::uint32_t record_crc(std::uint32_t seed, std::uint64_t row, const unsigned char* payload, std::size_t bytes) {
    unsigned char r[8];
    store(r, row);
    return crc32c(crc32c(seed, r, sizeof r), payload, bytes);
}

std::uint64_t commit_word(std::uint64_t row, std::uint32_t record_crc_value) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(row)) << 32) | record_crc_value;
}

[[noreturn]] void sys_fail(const fs::path& p, const std::string& what) {
    throw StorageError(p.string() + ": " + what + ": " + std::strerror(errno));
}

/// The journal is only ever a regular file mtjlab made next to its run file; a symbolic link there is refused
/// (neither read nor written through), as the engine refuses a run file that is one.
[[noreturn]] void refuse_link(const fs::path& p) {
    throw StorageError(p.string() + ": the row journal is a symbolic link; refused (mtjlab reads and writes its "
                                    "journal only as a regular file next to the run file)");
}

}  // namespace

std::uint32_t crc32c_software(std::uint32_t crc, const void* data, std::size_t n) {
    static const std::array<std::uint32_t, 256> table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            t[i] = c;
        }
        return t;
    }();
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint32_t c = ~crc;
    for (std::size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    return ~c;
}

std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t n) {
#if defined(__x86_64__)
    static const bool sse42 = __builtin_cpu_supports("sse4.2");
    if (sse42) return crc32c_sse42(crc, static_cast<const unsigned char*>(data), n);
#endif
    return crc32c_software(crc, data, n);
}

fs::path journal_path(const fs::path& run_file) { return fs::path(run_file.string() + ".journal"); }

JournalIdentity journal_identity(std::string_view run_id, std::string_view start_time,
                                 const std::vector<ColumnSpec>& columns) {
    JournalIdentity id;
    const std::string run = std::string(run_id) + "\n" + std::string(start_time);
    id.run_hash = crc32c(0, run.data(), run.size());
    std::string cols;
    for (const auto& c : columns) cols += c.name + (c.type == ColumnType::int32 ? ":i32;" : ":f64;");
    id.columns_hash = crc32c(0, cols.data(), cols.size());
    id.columns = static_cast<std::uint32_t>(columns.size());
    return id;
}

// ======================================================================= writer

JournalWriter JournalWriter::create(const fs::path& path, const JournalIdentity& id, std::size_t window,
                                    std::uint64_t base, bool sync, std::string_view manifest) {
    if (id.columns == 0 || id.columns > journal_max_columns)
        throw StorageError(path.string() + ": journal: " + std::to_string(id.columns) + " columns (1.." +
                           std::to_string(journal_max_columns) + ")");
    if (window == 0 || window > journal_max_capacity)
        throw StorageError(path.string() + ": journal: window " + std::to_string(window) + " rows (1.." +
                           std::to_string(journal_max_capacity) + ")");
    if (manifest.size() > journal_max_manifest_bytes)
        throw StorageError(path.string() + ": journal: manifest of " + std::to_string(manifest.size()) +
                           " bytes (at most " + std::to_string(journal_max_manifest_bytes) + ")");
    const std::size_t manifest_padded = (manifest.size() + 7) / 8 * 8;  // records stay 8-byte aligned
    JournalWriter w;
    w.path_ = path;
    w.records_offset_ = journal_header_size + manifest_padded;
    w.columns_ = id.columns;
    w.record_size_ = record_size_for(id.columns);
    w.capacity_ = window;
    w.window_ = window;
    w.seed_ = id.run_hash;
    w.base_ = base;
    w.next_ = base;
    w.sync_ = sync;
    w.map_size_ = w.records_offset_ + window * w.record_size_;
    // A symbolic link planted at the journal's name (resume replaces a stale journal) is refused, not replaced:
    // nothing of mtjlab's goes through a link, and the user learns of it.
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) refuse_link(path);
    // Built under a temporary name (O_EXCL | O_NOFOLLOW: never through a link planted there either) and renamed
    // into place once its header is complete.
    const fs::path tmp = path.string() + ".creating";
    (void)::unlink(tmp.c_str());  // left by a kill inside an earlier create()
    w.fd_ = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (w.fd_ < 0) sys_fail(tmp, "cannot create the row journal");
    struct RemoveUnlessPublished {
        const fs::path& tmp;
        bool published = false;
        ~RemoveUnlessPublished() {
            if (!published) (void)::unlink(tmp.c_str());
        }
    } cleanup{tmp};
    // Zero-filled: a zero commit word never validates (row numbers and the seeded CRC disagree).
    if (::ftruncate(w.fd_, static_cast<off_t>(w.map_size_)) != 0) sys_fail(path, "cannot size the row journal");
    void* m = ::mmap(nullptr, w.map_size_, PROT_READ | PROT_WRITE, MAP_SHARED, w.fd_, 0);
    if (m == MAP_FAILED) sys_fail(path, "cannot map the row journal");
    w.map_ = static_cast<unsigned char*>(m);
    unsigned char* h = w.map_;
    std::memcpy(h, magic, sizeof magic);
    store<std::uint32_t>(h + off_version, journal_format_version);
    store<std::uint32_t>(h + off_columns, id.columns);
    store<std::uint32_t>(h + off_record_size, static_cast<std::uint32_t>(w.record_size_));
    store<std::uint32_t>(h + off_capacity, static_cast<std::uint32_t>(window));
    store<std::uint32_t>(h + off_run_hash, id.run_hash);
    store<std::uint32_t>(h + off_columns_hash, id.columns_hash);
    store<std::uint32_t>(h + off_manifest_size, static_cast<std::uint32_t>(manifest_padded));
    store<std::uint32_t>(h + off_header_crc, crc32c(0, h, header_crc_span));
    if (!manifest.empty()) std::memcpy(h + journal_header_size, manifest.data(), manifest.size());
    store<std::uint32_t>(h + off_manifest_crc, crc32c(0, h + journal_header_size, manifest_padded));
    store<std::uint64_t>(h + off_base, base);
    if (sync) {
        if (::msync(w.map_, w.map_size_, MS_SYNC) != 0) sys_fail(path, "cannot sync the row journal");
        if (::fsync(w.fd_) != 0) sys_fail(path, "cannot sync the row journal");
    }
    // The mapping and descriptor stay valid across the rename. It replaces a stale journal atomically.
    if (::rename(tmp.c_str(), path.c_str()) != 0) sys_fail(path, "cannot put the row journal in place");
    cleanup.published = true;
    if (sync) {
        const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
        const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            (void)::fsync(dfd);
            ::close(dfd);
        }
    }
    return w;
}

JournalWriter::JournalWriter(JournalWriter&& o) noexcept { *this = std::move(o); }

JournalWriter& JournalWriter::operator=(JournalWriter&& o) noexcept {
    if (this != &o) {
        close();
        path_ = std::move(o.path_);
        map_ = std::exchange(o.map_, nullptr);
        map_size_ = std::exchange(o.map_size_, 0);
        fd_ = std::exchange(o.fd_, -1);
        capacity_ = o.capacity_;
        window_ = o.window_;
        record_size_ = o.record_size_;
        records_offset_ = o.records_offset_;
        columns_ = o.columns_;
        seed_ = o.seed_;
        base_ = o.base_;
        next_ = o.next_;
        sync_ = o.sync_;
    }
    return *this;
}

JournalWriter::~JournalWriter() { close(); }

void JournalWriter::close() noexcept {
    if (map_) ::munmap(map_, map_size_);
    map_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void JournalWriter::grow(std::size_t slots) {
    const std::size_t new_size = records_offset_ + slots * record_size_;
    if (new_size > journal_max_bytes)
        throw StorageError(path_.string() + ": the run outgrew the row journal's limit of " +
                           std::to_string(journal_max_bytes >> 30) + " GiB (" + std::to_string(capacity_) +
                           " rows); split the run");
    // ftruncate is one step for a concurrent reader or a kill: the file is either the old or the new whole
    // number of windows, and the new slots read as zero (never a committed record).
    if (::ftruncate(fd_, static_cast<off_t>(new_size)) != 0) sys_fail(path_, "cannot grow the row journal");
    if (sync_ && ::fdatasync(fd_) != 0) sys_fail(path_, "cannot sync the row journal");
    void* m = ::mremap(map_, map_size_, new_size, MREMAP_MAYMOVE);
    if (m == MAP_FAILED) sys_fail(path_, "cannot map the grown row journal");
    map_ = static_cast<unsigned char*>(m);
    map_size_ = new_size;
    capacity_ = slots;
}

void JournalWriter::append(std::uint64_t row, const double* values) {
    if (!map_) throw StorageError(path_.string() + ": row journal is closed");
    if (row != next_)
        throw StorageError(path_.string() + ": row " + std::to_string(row) + " appended, but the next row is " +
                           std::to_string(next_) + " (rows are stored once, in order)");
    if (row - base_ >= capacity_) {
        const std::uint64_t need = row - base_ + 1;
        grow(static_cast<std::size_t>((need + window_ - 1) / window_ * window_));
    }
    unsigned char* rec = map_ + records_offset_ + static_cast<std::size_t>(row - base_) * record_size_;
    const std::size_t payload = 8u * columns_;
    std::memcpy(rec, values, payload);
    const std::uint64_t word = commit_word(row, record_crc(seed_, row, rec, payload));
    // The commit word goes last, with release ordering: whoever sees it (a reader, or the page cache
    // after a kill) sees the whole payload. The slot is 8-byte aligned (64 + k * (8n + 8)).
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(rec + payload))
        .store(word, std::memory_order_release);
    if (sync_) {
        const long page = ::sysconf(_SC_PAGESIZE);
        const auto start = reinterpret_cast<std::uintptr_t>(rec) & ~static_cast<std::uintptr_t>(page - 1);
        const auto end = reinterpret_cast<std::uintptr_t>(rec) + record_size_;
        if (::msync(reinterpret_cast<void*>(start), end - start, MS_SYNC) != 0)
            sys_fail(path_, "cannot sync the row journal");
    }
    ++next_;
}

void JournalWriter::remove() {
    close();
    if (!path_.empty() && ::unlink(path_.c_str()) != 0 && errno != ENOENT)
        sys_fail(path_, "cannot delete the row journal");
}

// ======================================================================= reader

namespace {
JournalContents read_journal_impl(const fs::path& path, const JournalIdentity* expected) {
    const std::string p = path.string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ELOOP) refuse_link(path);
    if (fd < 0) sys_fail(path, "cannot open the row journal");
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) sys_fail(path, "cannot stat the row journal");
    if (!S_ISREG(st.st_mode)) throw StorageError(p + ": row journal is not a regular file");
    auto read_at = [&](unsigned char* buf, std::size_t n, std::size_t offset) {
        std::size_t done = 0;
        while (done < n) {
            const ssize_t k = ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) sys_fail(path, "cannot read the row journal");
            if (k == 0) throw StorageError(p + ": row journal is truncated");
            done += static_cast<std::size_t>(k);
        }
    };
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size < journal_header_size)
        throw StorageError(p + ": not an mtjlab row journal (" + std::to_string(size) + " bytes, shorter than its header)");
    unsigned char h[journal_header_size];
    read_at(h, sizeof h, 0);
    if (std::memcmp(h, magic, sizeof magic) != 0) throw StorageError(p + ": not an mtjlab row journal (bad magic)");
    if (load<std::uint32_t>(h + off_header_crc) != crc32c(0, h, header_crc_span))
        throw StorageError(p + ": row journal header is corrupt (CRC mismatch)");
    const auto version = load<std::uint32_t>(h + off_version);
    if (version != 1 && version != journal_format_version)
        throw StorageError(p + ": row journal format version " + std::to_string(version) + " is not supported (reads 1.." +
                           std::to_string(journal_format_version) + ")");
    const auto columns = load<std::uint32_t>(h + off_columns);
    const auto record_size = load<std::uint32_t>(h + off_record_size);
    const auto capacity = load<std::uint32_t>(h + off_capacity);
    if (columns == 0 || columns > journal_max_columns || record_size != record_size_for(columns) || capacity == 0 ||
        capacity > journal_max_capacity)
        throw StorageError(p + ": row journal header is invalid (" + std::to_string(columns) + " columns, " +
                           std::to_string(record_size) + "-byte records, capacity " + std::to_string(capacity) + ")");
    const auto manifest_bytes = load<std::uint32_t>(h + off_manifest_size);  // 0 (reserved) in version 1
    if (manifest_bytes % 8 != 0 || manifest_bytes > journal_max_manifest_bytes ||
        manifest_bytes > size - journal_header_size)
        throw StorageError(p + ": row journal header is invalid (manifest of " + std::to_string(manifest_bytes) +
                           " bytes)");
    // Version 2 grows by whole windows of `capacity` records; version 1 is exactly one window.
    const std::uint64_t window_bytes = std::uint64_t{capacity} * record_size;
    const std::uint64_t body_bytes = size - journal_header_size - manifest_bytes;
    if (body_bytes == 0 || body_bytes % window_bytes != 0 || (version == 1 && body_bytes != window_bytes))
        throw StorageError(p + ": row journal is " + std::to_string(size) + " bytes; its header says " +
                           std::to_string(journal_header_size + manifest_bytes) + " + " +
                           (version == 1 ? std::string("") : std::string("k x ")) + std::to_string(window_bytes));
    if (size > journal_max_bytes)
        throw StorageError(p + ": row journal is " + std::to_string(size) + " bytes, beyond the limit of " +
                           std::to_string(journal_max_bytes) + "");
    const std::size_t slots = static_cast<std::size_t>(body_bytes / record_size);
    if (expected && (columns != expected->columns || load<std::uint32_t>(h + off_columns_hash) != expected->columns_hash))
        throw StorageError(p + ": row journal does not match its run file (other columns: " + std::to_string(columns) +
                           " vs " + std::to_string(expected->columns) + "); move it away and run mtjlab recover");
    const auto seed = load<std::uint32_t>(h + off_run_hash);
    if (expected && seed != expected->run_hash)
        throw StorageError(p + ": row journal belongs to another run than its run file (run id/start time differ); "
                               "move it away and run mtjlab recover");
    JournalContents out;
    out.identity = {seed, load<std::uint32_t>(h + off_columns_hash), columns};
    out.base = load<std::uint64_t>(h + off_base);
    if (manifest_bytes > 0) {
        std::string m(manifest_bytes, '\0');
        read_at(reinterpret_cast<unsigned char*>(m.data()), m.size(), journal_header_size);
        if (load<std::uint32_t>(h + off_manifest_crc) != crc32c(0, m.data(), m.size()))
            throw StorageError(p + ": row journal manifest is corrupt (CRC mismatch)");
        m.erase(m.find_last_not_of('\0') + 1);  // the padding
        out.manifest = std::move(m);
    }
    std::vector<unsigned char> body(static_cast<std::size_t>(body_bytes));
    read_at(body.data(), body.size(), journal_header_size + manifest_bytes);
    const std::size_t payload = 8u * columns;
    out.values.reserve(slots * columns);
    for (std::size_t k = 0; k < slots; ++k) {
        const unsigned char* rec = body.data() + k * record_size;
        const std::uint64_t row = out.base + k;
        const auto word = load<std::uint64_t>(rec + payload);
        if (word != commit_word(row, record_crc(seed, row, rec, payload))) {
            // End of the committed rows. A slot whose commit word names this row but whose CRC fails is a
            // damaged record (dropped, reported). Zero slots, stale slots of an earlier batch and records
            // whose payload was being copied when the writer died all carry a commit word naming another row.
            out.torn_tail = static_cast<std::uint32_t>(word >> 32) == static_cast<std::uint32_t>(row) && word != 0;
            // Committed records after a bad one would be lost silently: refuse instead.
            for (std::size_t j = k + 1; j < slots; ++j) {
                const unsigned char* later = body.data() + j * record_size;
                const std::uint64_t lrow = out.base + j;
                if (load<std::uint64_t>(later + payload) == commit_word(lrow, record_crc(seed, lrow, later, payload)))
                    throw StorageError(p + ": row journal is damaged: row " + std::to_string(row) +
                                       " fails its check but row " + std::to_string(lrow) + " after it is intact");
            }
            break;
        }
        const std::size_t at = out.values.size();
        out.values.resize(at + columns);
        std::memcpy(out.values.data() + at, rec, payload);
        ++out.rows;
    }
    return out;
}

}  // namespace

JournalContents read_journal(const fs::path& path, const JournalIdentity& expected) {
    return read_journal_impl(path, &expected);
}

JournalContents read_journal_unverified(const fs::path& path) { return read_journal_impl(path, nullptr); }

}  // namespace mtjlab::storage
