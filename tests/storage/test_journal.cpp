// The row journal (storage/journal.hpp): format, torn and damaged records, run/journal mismatch, and the
// guarantee it carries: a SIGKILL between two HDF5 batches loses no acknowledged row.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include <nlohmann/json.hpp>

#include "child_process.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/storage/journal.hpp"
#include "mtjlab/storage/run_file.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::storage;
namespace fs = std::filesystem;

namespace {
// Same formula as crash_writer.cpp.
double crash_value(std::size_t i, std::size_t c, bool is_int) {
    if (is_int) return static_cast<double>((i * 7 + c) % 1000) - 500.0;
    return static_cast<double>(i) * 0.5 + static_cast<double>(c) * 1000.0 + 0.125;
}

std::vector<double> row_values(std::size_t i, std::size_t columns) {
    std::vector<double> v(columns);
    for (std::size_t c = 0; c < columns; ++c) v[c] = static_cast<double>(i) * 10.0 + static_cast<double>(c);
    return v;
}

JournalIdentity test_identity() { return journal_identity("run-A", "2026-11-29T00:00:00.000Z", columns_for("breakdown_ramp")); }

/// Overwrites `n` bytes at `offset` of `path`.
void poke(const fs::path& path, std::size_t offset, const void* data, std::size_t n) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, data, n, static_cast<off_t>(offset)) == static_cast<ssize_t>(n));
    ::close(fd);
}

std::size_t slot_offset(std::size_t k, std::size_t columns) { return journal_header_size + k * (8 * columns + 8); }

/// Starts the crash writer, waits for `acks` acknowledged rows, kills it with SIGKILL. Returns rows acked.
std::size_t write_and_kill(const fs::path& path, std::size_t acks, const std::string& batch_rows,
                           const std::string& batch_s, const fs::path& err) {
    // 300 us between appends: the kill lands a few rows after `acks`, well before the next 1024-row batch.
    test::ChildProcess child({MTJLAB_CRASH_WRITER, "create", path.string(), "1000000", "7", "300", "wait", batch_rows,
                              batch_s},
                             err.string());
    std::size_t acked = 0;
    while (acked < acks) {
        const auto line = child.read_line();
        REQUIRE(line);
        if (line->rfind("ack ", 0) == 0) acked = std::max(acked, std::stoul(line->substr(4)) + 1);
    }
    child.kill9();
    while (const auto line = child.read_line()) {
        if (line->rfind("ack ", 0) == 0 && line->size() > 4) acked = std::max(acked, std::stoul(line->substr(4)) + 1);
    }
    const int st = child.wait();
    REQUIRE(WIFSIGNALED(st));
    return acked;
}

void check_crash_rows(const RunReader& r, std::size_t n) {
    REQUIRE(r.size() == n);
    for (const auto& c : r.columns()) {
        const auto v = r.column(c.spec.name);
        REQUIRE(v.size() == n);
        const std::size_t ci = static_cast<std::size_t>(&c - r.columns().data());
        for (std::size_t i = 0; i < n; ++i)
            if (v[i] != crash_value(i, ci, c.spec.type == ColumnType::int32))
                FAIL("row " << i << " column " << c.spec.name << ": " << v[i]);
    }
}
}  // namespace

TEST_CASE("CRC-32C: the standard check value, chaining, hardware and table agree", "[unit]") {
    CHECK(crc32c(0, "123456789", 9) == 0xE3069283u);
    CHECK(crc32c_software(0, "123456789", 9) == 0xE3069283u);
    CHECK(crc32c(crc32c(0, "1234", 4), "56789", 5) == 0xE3069283u);
    CHECK(crc32c(0, "", 0) == 0u);
    std::vector<unsigned char> data(1000);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>((i * 131 + 7) % 251);
    for (std::size_t n : {1u, 7u, 8u, 9u, 72u, 1000u})
        for (std::uint32_t seed : {0u, 0xDEADBEEFu}) CHECK(crc32c(seed, data.data(), n) == crc32c_software(seed, data.data(), n));
}

TEST_CASE("row journal: appears at its name only with its header complete; a kill's leftover is replaced",
          "[unit]") {
    // Killed inside create() after the run file was published, a journal made in place was left empty (0 bytes,
    // or zero-filled): readers refused the run file ("not an mtjlab row journal"). It is made under
    // <journal>.creating and renamed into place.
    test::TempDir dir("journal");
    const auto path = dir / "j.journal";
    const fs::path tmp = path.string() + ".creating";
    const auto id = test_identity();
    std::ofstream(tmp) << "";  // what such a kill leaves: an empty file under the temporary name
    std::ofstream(path) << "";  // and, from before the fix, at the journal's own name: replaced as a stale journal
    {
        auto w = JournalWriter::create(path, id, 4, 0, false);
        CHECK_FALSE(fs::exists(tmp));
        CHECK(read_journal(path, id).rows == 0);
        w.append(0, row_values(0, 2).data());
        CHECK(read_journal(path, id).rows == 1);  // the mapping outlives the rename
    }
    // A link planted under the temporary name is neither followed nor left behind.
    const auto target = dir / "elsewhere";
    std::ofstream(target) << "keep";
    fs::create_symlink(target, tmp);
    {
        auto w = JournalWriter::create(path, id, 4, 0, false);
        CHECK_FALSE(fs::exists(fs::symlink_status(tmp)));
        CHECK(read_journal(path, id).rows == 0);
    }
    std::ifstream in(target);
    CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "keep");
}

TEST_CASE("row journal: committed rows read back, it grows by whole windows and keeps every row, zero slots never count",
          "[unit]") {
    test::TempDir dir("journal");
    const auto path = dir / "j.journal";
    const auto id = test_identity();
    const std::size_t record = 8 * 2 + 8;
    {
        auto w = JournalWriter::create(path, id, 4, 0, false);
        CHECK(read_journal(path, id).rows == 0);  // zero-filled slots
        CHECK(fs::file_size(path) == journal_header_size + 4 * record);
        for (std::size_t i = 0; i < 3; ++i) w.append(i, row_values(i, 2).data());
        auto j = read_journal(path, id);
        CHECK(j.base == 0);
        CHECK(j.rows == 3);
        CHECK_FALSE(j.torn_tail);
        CHECK(j.values == std::vector<double>{0, 1, 10, 11, 20, 21});
        // Beyond the first window: the file grows by one window at a time, every row stays.
        for (std::size_t i = 3; i < 10; ++i) w.append(i, row_values(i, 2).data());
        CHECK(w.capacity() == 12);
        CHECK(fs::file_size(path) == journal_header_size + 12 * record);
        j = read_journal(path, id);
        CHECK(j.rows == 10);
        CHECK(j.values.size() == 20);
        CHECK(j.values[18] == 90);
        CHECK(j.values[19] == 91);
        CHECK_THROWS_AS(w.append(3, row_values(3, 2).data()), StorageError);  // stored already: never twice
        CHECK_THROWS_AS(w.append(11, row_values(11, 2).data()), StorageError);  // a gap
        // The destructor keeps the file (it holds acknowledged rows); remove() deletes it.
    }
    CHECK(fs::exists(path));
    CHECK(read_journal(path, id).rows == 10);
    {
        auto w = JournalWriter::create(path, id, 8, 7, false);  // a new writer truncates; rows from 7
        CHECK(read_journal(path, id).rows == 0);
        CHECK_THROWS_AS(w.append(6, row_values(6, 2).data()), StorageError);  // before its first row
        w.append(7, row_values(7, 2).data());
        const auto j = read_journal(path, id);
        CHECK(j.base == 7);
        CHECK(j.values == std::vector<double>{70, 71});
        w.remove();
    }
    CHECK_FALSE(fs::exists(path));
}

TEST_CASE("row journal: a version-1 journal (one window, rebased after each batch) is still read", "[unit]") {
    test::TempDir dir("journal");
    const auto path = dir / "j.journal";
    const auto id = test_identity();
    {
        auto w = JournalWriter::create(path, id, 4, 5, false);
        w.append(5, row_values(5, 2).data());
        w.append(6, row_values(6, 2).data());
    }
    // Rewrite the header as version 1 wrote it (same layout; only the version differs).
    std::uint32_t version = 1;
    poke(path, 8, &version, sizeof version);
    unsigned char h[36];
    {
        std::ifstream in(path, std::ios::binary);
        in.read(reinterpret_cast<char*>(h), sizeof h);
    }
    const std::uint32_t crc = crc32c(0, h, sizeof h);
    poke(path, 36, &crc, sizeof crc);
    const auto j = read_journal(path, id);
    CHECK(j.base == 5);
    CHECK(j.values == std::vector<double>{50, 51, 60, 61});
    // Version 1 is exactly one window: a longer file is refused.
    fs::resize_file(path, fs::file_size(path) + 4 * 24);
    CHECK_THROWS_WITH(read_journal(path, id), Catch::Contains("header says"));
}

TEST_CASE("row journal: a record torn by a kill is dropped; a damaged one is flagged; never a silent gap", "[unit]") {
    test::TempDir dir("journal");
    const auto path = dir / "j.journal";
    const auto id = test_identity();
    auto w = JournalWriter::create(path, id, 16, 0, false);
    for (std::size_t i = 0; i < 5; ++i) w.append(i, row_values(i, 2).data());

    SECTION("payload half copied, commit word not yet written (the writer was killed inside append)") {
        const double half[1] = {123.0};
        poke(path, slot_offset(5, 2), half, sizeof half);
        const auto j = read_journal(path, id);
        CHECK(j.rows == 5);  // row 5 was never acknowledged
        CHECK_FALSE(j.torn_tail);
    }
    SECTION("last committed record damaged (e.g. a partial write-back)") {
        const double bad = -1.0;
        poke(path, slot_offset(4, 2) + 8, &bad, sizeof bad);
        const auto j = read_journal(path, id);
        CHECK(j.rows == 4);
        CHECK(j.torn_tail);
    }
    SECTION("a damaged record followed by intact ones is an error, not a silent loss") {
        const double bad = -1.0;
        poke(path, slot_offset(2, 2), &bad, sizeof bad);
        CHECK_THROWS_WITH(read_journal(path, id),
                          Catch::Contains(path.string()) && Catch::Contains("damaged") && Catch::Contains("row 2"));
    }
}

TEST_CASE("row journal: wrong run, wrong columns, bad header and bad size are one-line errors naming the journal",
          "[unit]") {
    test::TempDir dir("journal");
    const auto path = dir / "j.journal";
    const auto id = test_identity();
    { auto w = JournalWriter::create(path, id, 4, 0, false); }
    CHECK_THROWS_WITH(read_journal(path, journal_identity("run-B", "2026-11-29T00:00:00.000Z", columns_for("breakdown_ramp"))),
                      Catch::Contains(path.string()) && Catch::Contains("another run"));
    CHECK_THROWS_WITH(read_journal(path, journal_identity("run-A", "2026-11-29T00:00:00.000Z", columns_for("rh_loop"))),
                      Catch::Contains(path.string()) && Catch::Contains("other columns"));
    const auto size = fs::file_size(path);
    fs::resize_file(path, size - 8);
    CHECK_THROWS_WITH(read_journal(path, id), Catch::Contains(path.string()) && Catch::Contains("header says"));
    fs::resize_file(path, size + 8);  // not a whole number of windows either
    CHECK_THROWS_WITH(read_journal(path, id), Catch::Contains(path.string()) && Catch::Contains("header says"));
    fs::resize_file(path, 10);
    CHECK_THROWS_WITH(read_journal(path, id), Catch::Contains("shorter than its header"));
    std::ofstream(path, std::ios::trunc) << std::string(200, 'x');
    CHECK_THROWS_WITH(read_journal(path, id), Catch::Contains("not an mtjlab row journal"));
    { auto w = JournalWriter::create(path, id, 4, 0, false); }
    const std::uint32_t huge = 1u << 30;  // capacity field; the header CRC catches it first
    poke(path, 20, &huge, sizeof huge);
    CHECK_THROWS_WITH(read_journal(path, id), Catch::Contains("corrupt"));
    CHECK_THROWS_AS(JournalWriter::create(dir / "k.journal", id, 0, 0, false), StorageError);
    CHECK_THROWS_AS(JournalWriter::create(dir / "k.journal", id, journal_max_capacity + 1, 0, false), StorageError);
}

TEST_CASE("run writer: rows are acknowledged through the journal, reach HDF5 in batches, and finish deletes it",
          "[unit]") {
    test::TempDir dir("journal");
    const auto path = dir / "run.h5";
    RunInfo info;
    info.run_id = "journal-1";
    info.kind = "breakdown_ramp";
    WriterOptions opt;
    opt.batch_rows = 4;
    opt.batch_interval_s = 1e9;  // only full batches (and flush/finish) write HDF5 here
    auto w = RunWriter::create(path, info, columns_for("breakdown_ramp"), opt);
    CHECK(fs::exists(journal_path(path)));
    w.append({0.1, 1000});
    w.append({0.2, 1001});
    CHECK(w.size() == 2);
    CHECK(w.pending() == 2);
    {
        // Same process: the reader sees the HDF5 file (0 rows) plus the journal (2 rows).
        auto r = RunReader::open(path);
        CHECK(r.columns()[0].length == 0);
        CHECK(r.journal_rows() == 2);
        CHECK(r.size() == 2);
        CHECK(r.column("resistance_ohm") == std::vector<double>{1000, 1001});
    }
    w.append({0.3, 1002});
    w.append({0.4, 1003});  // batch full: written to HDF5
    CHECK(w.pending() == 0);
    w.append({0.5, 1004});
    {
        auto r = RunReader::open(path);
        CHECK(r.columns()[0].length == 4);
        CHECK(r.journal_rows() == 1);
        CHECK(r.column("pulse_amplitude_V") == std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5});
    }
    // A block larger than the batch goes through the journal too (it grows), then to HDF5 with the waiting row.
    std::vector<double> block;
    for (int k = 0; k < 6; ++k) block.insert(block.end(), {0.6 + 0.1 * k, 1005.0 + k});
    w.append_rows(block, 6);
    CHECK(w.pending() == 0);
    {
        // The journal keeps every row of the run, also those in HDF5.
        std::vector<ColumnSpec> specs = columns_for("breakdown_ramp");
        const auto j = read_journal(journal_path(path), journal_identity(info.run_id, RunReader::open(path).info().start_time, specs));
        CHECK(j.base == 0);
        CHECK(j.rows == 11);
    }
    w.append({1.2, 1011});
    w.flush();
    CHECK(w.pending() == 0);
    {
        auto r = RunReader::open(path);
        CHECK(r.columns()[0].length == 12);
        CHECK(r.journal_rows() == 0);
    }
    w.append({1.3, 1012});
    w.finish(RunStatus::complete);
    CHECK_FALSE(fs::exists(journal_path(path)));
    auto r = RunReader::open(path);
    CHECK(r.size() == 13);
    CHECK(r.columns()[1].length == 13);
    const auto res = r.column("resistance_ohm");
    for (std::size_t i = 0; i < res.size(); ++i) CHECK(res[i] == 1000.0 + static_cast<double>(i));

    // Options are checked.
    WriterOptions bad;
    bad.batch_rows = journal_max_capacity + 1;
    CHECK_THROWS_AS(RunWriter::create(dir / "bad.h5", info, columns_for("breakdown_ramp"), bad), InputError);
    bad = {};
    bad.batch_interval_s = -1;
    CHECK_THROWS_AS(RunWriter::create(dir / "bad.h5", info, columns_for("breakdown_ramp"), bad), InputError);
}

TEST_CASE("a stale journal next to a finished run is ignored by readers and deleted by recover", "[unit]") {
    test::TempDir dir("journal");
    const auto path = dir / "run.h5";
    RunInfo info;
    info.run_id = "journal-2";
    info.kind = "breakdown_ramp";
    auto w = RunWriter::create(path, info, columns_for("breakdown_ramp"));
    w.append({0.1, 1000});
    fs::copy_file(journal_path(path), dir / "saved.journal");
    w.finish(RunStatus::complete);
    // As if the writer was killed between closing the file and deleting the journal.
    fs::copy_file(dir / "saved.journal", journal_path(path));
    auto r = RunReader::open(path);
    CHECK(r.size() == 1);
    CHECK(r.journal_rows() == 0);
    const auto res = recover(path);
    CHECK_FALSE(res.changed);
    CHECK_FALSE(fs::exists(journal_path(path)));
}

TEST_CASE("SIGKILL between HDF5 batches loses no acknowledged row; info, recover and resume use the journal",
          "[integration]") {
    test::TempDir dir("journalkill");
    SECTION("every row only in the journal (no batch written yet)") {
        const auto path = dir / "run.h5";
        const std::size_t acked = write_and_kill(path, 300, "1024", "1e9", dir / "w.err");
        REQUIRE(acked >= 300);
        REQUIRE(acked < 1000);
        {
            const auto r = RunReader::open(path);
            CHECK(r.status() == RunStatus::running);
            for (const auto& c : r.columns()) CHECK(c.length == 0);  // nothing reached HDF5
            CHECK(r.journal_rows() == r.size());
            REQUIRE(r.size() >= acked);
            check_crash_rows(r, r.size());
        }
        // h5 info reports the rows, and where they are.
        const auto info = test::run_cli("h5 info --json '" + path.string() + "'");
        INFO(info.err);
        REQUIRE(info.exit_code == 0);
        const auto j = nlohmann::json::parse(info.out);
        CHECK(j["runs"][0]["rows"].get<std::size_t>() >= acked);
        CHECK(j["runs"][0]["journal_rows"].get<std::size_t>() >= acked);
        const auto text = test::run_cli("h5 info '" + path.string() + "'");
        CHECK_THAT(text.out, Catch::Contains("row journal"));
        // recover writes them into the file and deletes the journal.
        const auto rec = test::run_cli("recover '" + path.string() + "'");
        INFO(rec.err);
        REQUIRE(rec.exit_code == 0);
        CHECK_THAT(rec.out, Catch::Contains("from the row journal"));
        CHECK_FALSE(fs::exists(journal_path(path)));
        const auto r = RunReader::open(path);
        CHECK(r.status() == RunStatus::interrupted);
        CHECK(r.journal_rows() == 0);
        CHECK(r.columns()[0].length >= acked);
        check_crash_rows(r, r.size());
    }
    SECTION("some batches in HDF5, the rest in the journal; resume replays it and continues") {
        const auto path = dir / "run.h5";
        const std::size_t acked = write_and_kill(path, 150, "64", "1e9", dir / "w.err");
        std::size_t n = 0;
        {
            const auto r = RunReader::open(path);
            n = r.size();
            REQUIRE(n >= acked);
            CHECK(r.columns()[0].length >= 64);  // full batches reached HDF5
            CHECK(r.journal_rows() < 64);        // the journal holds at most one batch
            check_crash_rows(r, n);
        }
        test::ChildProcess child({MTJLAB_CRASH_WRITER, "resume", path.string(), std::to_string(n + 100), "1", "0",
                                  "finish", "64"},
                                 (dir / "r.err").string());
        std::string first;
        while (const auto line = child.read_line())
            if (first.empty()) first = *line;
        const int st = child.wait();
        REQUIRE(WIFEXITED(st));
        REQUIRE(WEXITSTATUS(st) == 0);
        CHECK(first == "created " + std::to_string(n));  // resumed after every journal row: none lost, none twice
        CHECK_FALSE(fs::exists(journal_path(path)));
        const auto r = RunReader::open(path);
        CHECK(r.status() == RunStatus::complete);
        check_crash_rows(r, n + 100);
    }
}

TEST_CASE("a journal that does not belong to its run file stops readers with one line naming it", "[integration]") {
    test::TempDir dir("journalbad");
    const auto path = dir / "run.h5";
    const std::size_t acked = write_and_kill(path, 20, "1024", "1e9", dir / "w.err");
    REQUIRE(acked >= 20);
    // Another run's journal (same columns) put next to this file.
    { auto w = JournalWriter::create(journal_path(path), journal_identity("other-run", "t", columns_for("rh_loop")), 8, 0, false); }
    CHECK_THROWS_WITH(RunReader::open(path), Catch::Contains(journal_path(path).string()) && Catch::Contains("another run"));
    CHECK_THROWS_AS(recover(path), StorageError);
    CHECK_THROWS_AS(RunWriter::resume(path), StorageError);
    CHECK(fs::exists(path));  // nothing was changed
    const auto r = test::run_cli("h5 info '" + path.string() + "'");
    CHECK(r.exit_code == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::Contains(journal_path(path).string()));
    // Another run's complete journal, manifest included: still refused (it must never stand in for this run).
    {
        const auto other = dir / "other.h5";
        RunInfo info;
        info.run_id = "other-run";
        info.kind = "rh_loop";
        auto w = RunWriter::create(other, info, columns_for("rh_loop"));
        w.append(std::vector<double>(columns_for("rh_loop").size(), 1.0));
        fs::copy_file(journal_path(other), journal_path(path), fs::copy_options::overwrite_existing);
        CHECK_THROWS_WITH(RunReader::open(path), Catch::Contains(journal_path(path).string()) && Catch::Contains("another run"));
        CHECK_THROWS_AS(recover(path), StorageError);
        w.finish(RunStatus::complete);
    }
    // Garbage in place of the journal.
    std::ofstream(journal_path(path), std::ios::trunc) << "not a journal at all, but long enough to have a header....";
    CHECK_THROWS_WITH(RunReader::open(path), Catch::Contains("not an mtjlab row journal"));
    // Moved away, as the message says: recover keeps the rows HDF5 has (none here) and closes the file.
    fs::rename(journal_path(path), dir / "moved.journal");
    const auto res = recover(path);
    CHECK(res.changed);
    CHECK(RunReader::open(path).status() == RunStatus::interrupted);
}

TEST_CASE("row journal reader: random corruption gives the committed prefix or a StorageError, never a crash",
          "[unit]") {
    test::TempDir dir("journalfuzz");
    const auto path = dir / "j.journal";
    const auto id = test_identity();
    {
        auto w = JournalWriter::create(path, id, 16, 0, false);
        for (std::size_t i = 0; i < 10; ++i) w.append(i, row_values(i, 2).data());
    }
    std::vector<char> original(fs::file_size(path));
    {
        std::ifstream in(path, std::ios::binary);
        in.read(original.data(), static_cast<std::streamsize>(original.size()));
    }
    std::mt19937_64 rng(5);
    int errors = 0, shorter = 0;
    for (int it = 0; it < 2000; ++it) {
        std::vector<char> bytes = original;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
        if (rng() % 10 == 0) bytes.resize(rng() % bytes.size());  // truncated
        std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        try {
            const auto j = read_journal(path, id);
            // Whatever is returned is a prefix of what was written: no invented or altered row.
            REQUIRE(j.rows <= 10);
            REQUIRE(j.values.size() == j.rows * 2);
            if (j.base == 0) {
                for (std::size_t i = 0; i < j.rows; ++i) {
                    REQUIRE(j.values[2 * i] == static_cast<double>(i) * 10.0);
                    REQUIRE(j.values[2 * i + 1] == static_cast<double>(i) * 10.0 + 1.0);
                }
            }
            if (j.rows < 10) ++shorter;
        } catch (const StorageError&) {
            ++errors;
        }
    }
    CHECK(errors > 100);
    CHECK(shorter > 10);
}

TEST_CASE("where HDF5 and the journal both hold a row, the journal's acknowledged value is used", "[integration]") {
    test::TempDir dir("journaloverlay");
    const auto path = dir / "run.h5";
    // A run file whose writer died with rows in HDF5 (batch_rows 0: every append also went to HDF5) ...
    const std::size_t acked = write_and_kill(path, 12, "0", "1", dir / "w.err");
    REQUIRE(acked >= 12);
    std::size_t hdf5_rows = 0;
    RunInfo info;
    std::vector<ColumnSpec> specs;
    {
        const auto r = RunReader::open(path);
        hdf5_rows = r.size();
        info = r.info();
        for (const auto& c : r.columns()) specs.push_back(c.spec);
    }
    // ... and, replacing its journal, one of the same run that starts at row 5 (as version 1 wrote them) and runs
    // past the HDF5 rows: as if the writer had been killed in the middle of writing rows 5.. as a batch.
    const std::size_t nc = specs.size();
    const std::size_t jrows = hdf5_rows - 5 + 3;
    {
        auto w = JournalWriter::create(journal_path(path), journal_identity(info.run_id, info.start_time, specs), 64, 5,
                                       false);
        for (std::size_t k = 0; k < jrows; ++k) {
            std::vector<double> v(nc);
            for (std::size_t c = 0; c < nc; ++c) v[c] = specs[c].type == ColumnType::int32 ? -7.0 : 1e6 + static_cast<double>(k);
            w.append(5 + k, v.data());
        }
    }
    const auto r = RunReader::open(path);
    CHECK(r.journal_rows() == 3);
    REQUIRE(r.size() == hdf5_rows + 3);
    for (std::size_t c = 0; c < nc; ++c) {
        const auto v = r.column(specs[c].name);
        for (std::size_t i = 0; i < v.size(); ++i) {
            const bool is_int = specs[c].type == ColumnType::int32;
            const double want = i < 5 ? crash_value(i, c, is_int) : (is_int ? -7.0 : 1e6 + static_cast<double>(i - 5));
            if (v[i] != want) FAIL("row " << i << " column " << specs[c].name << ": " << v[i] << " != " << want);
        }
    }
    // recover writes exactly that.
    const auto res = recover(path);
    CHECK(res.rows == hdf5_rows + 3);
    CHECK(res.journal_rows == 3);
    CHECK(RunReader::open(path).column(specs[2].name)[6] == (specs[2].type == ColumnType::int32 ? -7.0 : 1e6 + 1));
}

TEST_CASE("a row journal that is a symbolic link is neither read nor written through, by create, resume or readers",
          "[unit][security]") {
    // `mtjlab run --resume` replaces a stale journal (<run>.h5.journal): with O_TRUNC through a planted link it
    // truncated and rewrote whatever the link pointed at, outside the output directory.
    test::TempDir dir("journal-link");
    const fs::path out = dir / "out";
    fs::create_directories(out);
    const fs::path victim = dir / "victim.txt";
    const std::string precious = "months of work\n";
    {
        std::ofstream(victim) << precious;
    }
    const auto mtime = fs::last_write_time(victim);
    auto victim_intact = [&] {
        std::ifstream in(victim);
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        return text == precious && fs::last_write_time(victim) == mtime;
    };
    RunInfo info;
    info.run_id = "journal-link";
    info.kind = "breakdown_ramp";
    for (const fs::path& target : {fs::path("../victim.txt"), victim /* absolute */}) {
        INFO(target);
        // A new run whose journal name holds a planted link: refused, nothing written through it.
        const fs::path fresh = out / "fresh.h5";
        fs::remove(fresh);
        fs::create_symlink(target, journal_path(fresh));
        try {
            (void)RunWriter::create(fresh, info, columns_for("breakdown_ramp"));
            FAIL("created a journal through a symbolic link");
        } catch (const StorageError& e) {
            CHECK_THAT(e.what(), Catch::Contains(journal_path(fresh).string()) &&
                                     Catch::Contains("is a symbolic link; refused"));
        }
        CHECK(victim_intact());
        CHECK(fs::is_symlink(journal_path(fresh)));
        fs::remove(journal_path(fresh));

        // Resume of an unfinished run (writer closed without finish: aborted) with a link at its journal name.
        const fs::path run = out / "run.h5";
        fs::remove(run);
        {
            auto w = RunWriter::create(run, info, columns_for("breakdown_ramp"));
            w.append({0.1, 1000});
        }
        fs::remove(journal_path(run));
        fs::create_symlink(target, journal_path(run));
        CHECK_THROWS_WITH(RunWriter::resume(run), Catch::Contains("is a symbolic link; refused"));
        CHECK(victim_intact());
        CHECK(RunReader::open(run).status() == RunStatus::aborted);  // still resumable once the link is gone
        CHECK(fs::is_symlink(journal_path(run)));
        fs::remove(journal_path(run));
    }
    // A running file (its writer alive in this process) whose journal was swapped for a link to a copy of itself:
    // readers (h5 info, recover, resume) refuse it instead of following it.
    const fs::path live = out / "live.h5";
    auto w = RunWriter::create(live, info, columns_for("breakdown_ramp"));
    w.append({0.1, 1000});
    CHECK(RunReader::open(live).journal_rows() == 1);
    fs::copy_file(journal_path(live), dir / "copy.journal");
    fs::remove(journal_path(live));
    fs::create_symlink("../copy.journal", journal_path(live));
    CHECK_THROWS_WITH(RunReader::open(live), Catch::Contains("is a symbolic link; refused"));
    CHECK_THROWS_WITH(recover(live, true), Catch::Contains("is a symbolic link; refused"));
    CHECK(fs::is_symlink(journal_path(live)));
}
