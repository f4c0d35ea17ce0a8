// Fuzzes the row journal `<run file>.journal` (docs/data-format.md, "Row journal") as `mtjlab h5 info`,
// `analyze` and `recover` meet it after a crash: next to a run file that is not HDF5 at all (a kill tore it
// beyond opening), so the whole run comes from the journal: header, manifest JSON (provenance and columns),
// the manifest's identity against the header's, and the committed records.
//
// Input: one flag byte, then the journal file. Every part of a journal is guarded by a CRC-32C, which random
// mutations practically never keep valid, so the flags let the harness repair them before writing the file
// (the fuzzer then reaches what lies behind the checks):
//   bit 0: recompute the header CRC (bytes 0..35, stored at 36);
//   bit 1: recompute the manifest CRC (stored at 48) when the header's manifest size fits the input;
//   bit 2: recompute the commit word of every whole record whose commit word already names its row (a slot
//          that names another row stays invalid: the fuzzer decides which records count as committed);
//   bit 3: also recover the run (rebuild the HDF5 file from the journal; ~10x the cost of the reads, so only
//          for the inputs that ask for it).
// Calls: storage::read_journal_unverified, RunReader::open (journal alone: info, status, every column),
// storage::recover on what opened (flag bit 3), then RunReader::open of the rebuilt file. Only mtjlab::Error may escape.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/storage/journal.hpp"
#include "mtjlab/storage/run_file.hpp"

namespace {

// Header offsets, as storage/src/journal.cpp and docs/data-format.md define them.
constexpr std::size_t off_columns = 12, off_record_size = 16, off_run_hash = 24, off_manifest_size = 32,
                      off_header_crc = 36, off_base = 40, off_manifest_crc = 48, header_crc_span = 36;

template <class T>
T load(const std::uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <class T>
void store(std::uint8_t* p, T v) {
    std::memcpy(p, &v, sizeof v);
}

void repair(std::vector<std::uint8_t>& j, std::uint8_t flags) {
    namespace st = mtjlab::storage;
    const std::size_t h = st::journal_header_size;
    if (j.size() < h) return;
    std::uint8_t* b = j.data();
    if (flags & 1) store<std::uint32_t>(b + off_header_crc, st::crc32c(0, b, header_crc_span));
    const std::uint64_t manifest = load<std::uint32_t>(b + off_manifest_size);
    if (manifest > j.size() - h) return;
    if (flags & 2) store<std::uint32_t>(b + off_manifest_crc, st::crc32c(0, b + h, static_cast<std::size_t>(manifest)));
    const std::uint32_t columns = load<std::uint32_t>(b + off_columns);
    const std::uint32_t record = load<std::uint32_t>(b + off_record_size);
    if (!(flags & 4) || columns == 0 || columns > st::journal_max_columns || record != 8u * columns + 8u) return;
    const std::uint32_t seed = load<std::uint32_t>(b + off_run_hash);
    const std::uint64_t base = load<std::uint64_t>(b + off_base);
    const std::size_t payload = 8u * columns;
    const std::size_t first = h + static_cast<std::size_t>(manifest);
    for (std::size_t k = 0; first + (k + 1) * record <= j.size(); ++k) {
        std::uint8_t* rec = b + first + k * record;
        const std::uint64_t row = base + k;
        const std::uint64_t word = load<std::uint64_t>(rec + payload);
        if (static_cast<std::uint32_t>(word >> 32) != static_cast<std::uint32_t>(row)) continue;
        std::uint8_t r[8];
        store(r, row);
        const std::uint32_t crc = st::crc32c(st::crc32c(seed, r, sizeof r), rec, payload);
        store<std::uint64_t>(rec + payload, (static_cast<std::uint64_t>(static_cast<std::uint32_t>(row)) << 32) | crc);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace st = mtjlab::storage;
    namespace fs = std::filesystem;
    if (size == 0) return 0;
    std::vector<std::uint8_t> journal(data + 1, data + size);
    repair(journal, data[0]);
    const std::uint8_t not_hdf5[] = "torn beyond opening\n";
    const fs::path run = mtjlab::fuzz::write_scratch("run.h5", not_hdf5, sizeof not_hdf5 - 1);
    const fs::path jp = st::journal_path(run);
    (void)mtjlab::fuzz::write_scratch(jp.filename().string(), journal.data(), journal.size());
    try {
        const auto jc = st::read_journal_unverified(jp);
        if (jc.values.size() != jc.rows * jc.identity.columns) __builtin_trap();
    } catch (const mtjlab::Error&) {
    }
    bool opened = false;
    try {  // h5 info / analyze: the run from the journal alone
        auto reader = st::RunReader::open(run);
        opened = true;
        if (!reader.from_journal_only()) __builtin_trap();  // run.h5 is not HDF5
        (void)reader.info();
        (void)reader.status();
        (void)reader.writer_alive();
        for (const auto& name : reader.column_names()) {
            (void)reader.units(name);
            if (reader.column(name).size() != reader.size()) __builtin_trap();
        }
    } catch (const mtjlab::Error&) {
    }
    if (opened && (data[0] & 8)) {
        try {  // recover (force: the recorded writer may be any pid on this host)
            const auto res = st::recover(run, true);
            auto reader = st::RunReader::open(run);
            if (reader.from_journal_only() || reader.size() != res.rows) __builtin_trap();
        } catch (const mtjlab::Error&) {
        }
    }
    std::error_code ec;
    fs::remove(run, ec);
    fs::remove(jp, ec);
    fs::remove(run.string() + ".damaged", ec);
    return 0;
}
