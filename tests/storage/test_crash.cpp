// THE CRASH TEST: a writer process appends rows and acknowledges each durable one on stdout; it is killed
// with SIGKILL at seeded random moments. Every acknowledged row must be readable afterwards, directly
// (SWMR read) and after recovery, and the run must say it did not finish.
#include <catch2/catch.hpp>

#include <array>
#include <cerrno>
#include <random>
#include <thread>

#include "child_process.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/storage/journal.hpp"
#include "mtjlab/storage/run_file.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::storage;

namespace {
// Same formula as crash_writer.cpp.
double crash_value(std::size_t i, std::size_t c, bool is_int) {
    if (is_int) return static_cast<double>((i * 7 + c) % 1000) - 500.0;
    return static_cast<double>(i) * 0.5 + static_cast<double>(c) * 1000.0 + 0.125;
}

/// Checks every complete row of the file against the formula; returns the number of rows.
std::size_t check_rows(const RunReader& r) {
    const std::size_t n = r.size();
    const auto& cols = r.columns();
    for (std::size_t c = 0; c < cols.size(); ++c) {
        const auto v = r.column(cols[c].spec.name);
        REQUIRE(v.size() == n);
        for (std::size_t i = 0; i < n; ++i) {
            const double expected = crash_value(i, c, cols[c].spec.type == ColumnType::int32);
            if (v[i] != expected) {
                FAIL("row " << i << " column " << cols[c].spec.name << ": " << v[i] << " != " << expected);
            }
        }
    }
    return n;
}

struct Outcome {
    bool created = false;
    std::size_t acked = 0;  ///< rows acknowledged before death (highest ack + 1)
};

/// Starts the writer, lets it acknowledge `wait_acks` rows, sleeps `extra_us`, kills it, drains its output.
Outcome run_and_kill(const std::vector<std::string>& args, const std::string& err_file, std::size_t wait_acks,
                     unsigned extra_us, bool kill_before_created) {
    Outcome o;
    test::ChildProcess child(args, err_file);
    auto note = [&o](const std::string& line) {
        if (line.rfind("created", 0) == 0) o.created = true;
        if (line.rfind("ack ", 0) == 0 && line.size() > 4) {
            const std::size_t i = std::stoul(line.substr(4));
            o.acked = std::max(o.acked, i + 1);
        }
    };
    if (kill_before_created) {
        std::this_thread::sleep_for(std::chrono::microseconds(extra_us));
    } else {
        std::size_t acks = 0;
        while (!o.created || acks < wait_acks) {
            const auto line = child.read_line();
            if (!line) break;
            note(*line);
            if (line->rfind("ack ", 0) == 0) ++acks;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(extra_us));
    }
    child.kill9();
    // Whatever it printed before dying was acknowledged too. (A half-printed last line is not an ack.)
    while (const auto line = child.read_line()) {
        if (line->empty()) continue;
        note(*line);
    }
    const int status = child.wait();
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
    return o;
}
}  // namespace

TEST_CASE("SIGKILL at random moments never loses an acknowledged row", "[integration]") {
    test::TempDir dir("crash");
    std::mt19937_64 rng(20261129);  // seeded: the same kill schedule on every run
    constexpr int kills = 60;
    int early = 0, resumed = 0, via_cli = 0;
    int torn = 0;      // kills that left columns of different lengths (inside an append)
    int unacked = 0;   // kills after a row was durable but before its acknowledgement was printed
    int from_journal = 0;  // kills that left acknowledged rows only in the row journal
    int hdf5_torn = 0;     // kills that left the HDF5 file unreadable (read from the journal alone)
    std::size_t total_acked = 0;
    for (int it = 0; it < kills; ++it) {
        const auto path = (dir / ("crash-" + std::to_string(it) + ".h5")).string();
        const std::string err = (dir / ("crash-" + std::to_string(it) + ".err")).string();
        const bool before_created = rng() % 12 == 0;
        const std::size_t wait_acks = rng() % 3 == 0 ? rng() % 5 : rng() % 150;
        const auto extra_us = static_cast<unsigned>(before_created ? rng() % 30000 : rng() % 3000);
        // Row-journal batches: none (every append also writes and flushes HDF5), small (kills land in batch
        // writes) and the default (everything since the start is only in the journal).
        const char* batch = std::array<const char*, 4>{"0", "16", "64", "1024"}[static_cast<std::size_t>(it % 4)];
        INFO("iteration " << it << ": wait " << wait_acks << " acks, then " << extra_us << " us, batch " << batch
                          << (before_created ? " (kill during create)" : ""));
        const Outcome o = run_and_kill(
            {MTJLAB_CRASH_WRITER, "create", path, "1000000", std::to_string(rng()), "0", "wait", batch}, err,
            wait_acks, extra_us, before_created);
        total_acked += o.acked;
        if (!o.created) {
            // Killed inside create(): nothing was acknowledged. create() builds the file under a temporary
            // name, so the run file is either absent or complete (killed between publishing and printing).
            ++early;
            if (std::filesystem::exists(path)) {
                const auto r = RunReader::open(path);
                CHECK(r.status() == RunStatus::running);
                CHECK(recover(path).changed);
            } else {
                CHECK_THROWS_WITH(RunReader::open(path), Catch::Contains("no such file"));
                CHECK_THROWS_AS(recover(path), StorageError);
            }
            continue;
        }
        // 1. Directly readable (SWMR read), unfinished, every acknowledged row present and correct.
        {
            const auto r = RunReader::open(path);
            // SWMR read; or, when the kill tore the HDF5 metadata beyond opening, the row journal alone.
            CHECK((r.opened_swmr() || r.from_journal_only()));
            if (r.from_journal_only()) ++hdf5_torn;
            REQUIRE(r.status() == RunStatus::running);
            REQUIRE(r.writer_alive() == std::optional<bool>(false));
            const std::size_t n = check_rows(r);
            REQUIRE(n >= o.acked);
            if (n > o.acked) ++unacked;
            if (r.journal_rows() > 0) ++from_journal;
            // Every append also goes to HDF5: at most the one the kill interrupted (<= 12 rows) is journal-only.
            if (std::string(batch) == "0") CHECK(r.journal_rows() <= 12);
            std::size_t longest = 0;
            for (const auto& c : r.columns()) longest = std::max(longest, c.length);
            if (longest > n) ++torn;
        }
        // 2. Recovered (library or CLI): a normal closed file, status interrupted, same rows.
        if (it % 5 == 0) {
            const auto res = test::run_cli("recover '" + path + "'");
            INFO(res.err);
            REQUIRE(res.exit_code == 0);
            CHECK(res.out.find("recovered") != std::string::npos);
            ++via_cli;
        } else {
            const auto rr = recover(path);
            REQUIRE(rr.changed);
            REQUIRE(rr.rows >= o.acked);
        }
        std::size_t n_recovered = 0;
        {
            const auto r = RunReader::open(path);
            CHECK_FALSE(r.opened_swmr());
            REQUIRE(r.status() == RunStatus::interrupted);
            CHECK(r.info().error_message.find("writer died") != std::string::npos);
            CHECK_FALSE(r.info().end_time.empty());
            n_recovered = check_rows(r);
            REQUIRE(n_recovered >= o.acked);
            CHECK(r.journal_rows() == 0);
        }
        CHECK_FALSE(std::filesystem::exists(journal_path(path)));  // merged into the file, then deleted
        CHECK_FALSE(recover(path).changed);  // idempotent
        // 3. Now and then: continue the run and finish it.
        if (it % 7 == 3) {
            test::ChildProcess child({MTJLAB_CRASH_WRITER, "resume", path, std::to_string(n_recovered + 25), "1", "0",
                                      "finish"},
                                     err);
            while (const auto line = child.read_line()) {
            }
            const int st = child.wait();
            REQUIRE(WIFEXITED(st));
            REQUIRE(WEXITSTATUS(st) == 0);
            const auto r = RunReader::open(path);
            CHECK(r.status() == RunStatus::complete);
            CHECK(check_rows(r) == n_recovered + 25);
            ++resumed;
        }
    }
    WARN("crash test: " << kills << " SIGKILLs (" << early << " during create), " << total_acked
                        << " acknowledged rows, " << torn << " torn appends, " << unacked
                        << " durable-but-unacknowledged, " << from_journal << " with rows only in the journal, "
                        << via_cli << " recovered via CLI, " << resumed << " resumed, " << hdf5_torn
                        << " HDF5 files unreadable without the journal");
    CHECK(kills - early >= 50);
    CHECK(from_journal >= 10);
    CHECK(via_cli >= 5);
    CHECK(resumed >= 5);
}

TEST_CASE("recover survives a stale temporary and resume recovers by itself", "[integration]") {
    test::TempDir dir("crash2");
    const auto path = (dir / "run.h5").string();
    const auto err = (dir / "w.err").string();
    const Outcome o = run_and_kill({MTJLAB_CRASH_WRITER, "create", path, "1000000", "5"}, err, 40, 0, false);
    REQUIRE(o.created);
    REQUIRE(o.acked >= 40);
    // A previous recovery that was killed half-way left its temporary behind.
    {
        std::FILE* f = std::fopen((path + ".recover-tmp").c_str(), "wb");
        REQUIRE(f);
        std::fputs("half a file", f);
        std::fclose(f);
    }
    // resume() recovers the orphaned file itself, then continues.
    {
        test::ChildProcess child({MTJLAB_CRASH_WRITER, "resume", path, std::to_string(o.acked + 10), "9", "0", "finish"},
                                 err);
        std::string first;
        while (const auto line = child.read_line()) {
            if (first.empty()) first = *line;
        }
        const int st = child.wait();
        REQUIRE(WIFEXITED(st));
        REQUIRE(WEXITSTATUS(st) == 0);
        CHECK(first.rfind("created", 0) == 0);
    }
    CHECK_FALSE(std::filesystem::exists(path + ".recover-tmp"));
    const auto r = RunReader::open(path);
    CHECK_FALSE(r.opened_swmr());
    CHECK(r.status() == RunStatus::complete);
    CHECK(check_rows(r) >= o.acked + 10);
}
