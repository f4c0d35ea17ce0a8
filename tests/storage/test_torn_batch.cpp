// A SIGKILL inside an HDF5 batch write. The kernel keeps whatever part of the batch's writes had reached the
// page cache: some metadata blocks new, some old, one possibly cut in the middle (a fatal signal ends a
// multi-page write early). Such a torn chunk index can make rows of EARLIER batches unreadable (the CI's crash
// test met it once: "incorrect metadata checksum after all read attempts" on /data/x_V). The row journal keeps
// every row of the run for exactly this case.
//
// This test makes the tears on purpose: it snapshots the run file before and after one batch, then builds files
// in which each changed byte range of that batch is old, new or cut in half, in many combinations, next to the
// journal as the killed writer left it. Every acknowledged row must read back exactly (RunReader, recover).
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <random>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/storage/journal.hpp"
#include "mtjlab/storage/run_file.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::storage;
namespace fs = std::filesystem;

namespace {
using Bytes = std::vector<char>;

Bytes slurp_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    REQUIRE(in);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void spit_bytes(const fs::path& p, const Bytes& b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(b.data(), static_cast<std::streamsize>(b.size()));
    REQUIRE(out);
}

double value(std::size_t row, std::size_t col) { return static_cast<double>(row) * 0.25 + static_cast<double>(col) * 100.0; }

struct Range {
    std::size_t begin, end;
};

/// Byte ranges where `after` differs from `before` (zero-extended), merged across gaps of < 16 bytes.
std::vector<Range> changed_ranges(const Bytes& before, const Bytes& after) {
    std::vector<Range> out;
    for (std::size_t i = 0; i < after.size(); ++i) {
        const char old = i < before.size() ? before[i] : '\0';
        if (old == after[i]) continue;
        if (!out.empty() && i - out.back().end < 16) out.back().end = i + 1;
        else out.push_back({i, i + 1});
    }
    return out;
}

enum class Part { old_bytes, new_bytes, first_half, second_half };

/// The file as a kill inside the batch could leave it: range k as `parts[k]` says.
Bytes torn_file(const Bytes& before, const Bytes& after, const std::vector<Range>& ranges, const std::vector<Part>& parts) {
    Bytes t = before;
    t.resize(after.size(), '\0');
    for (std::size_t k = 0; k < ranges.size(); ++k) {
        const auto [b, e] = ranges[k];
        const std::size_t mid = b + (e - b) / 2;
        auto take_new = [&](std::size_t from, std::size_t to) {
            std::copy(after.begin() + static_cast<std::ptrdiff_t>(from), after.begin() + static_cast<std::ptrdiff_t>(to),
                      t.begin() + static_cast<std::ptrdiff_t>(from));
        };
        switch (parts[k]) {
            case Part::old_bytes: break;
            case Part::new_bytes: take_new(b, e); break;
            case Part::first_half: take_new(b, mid); break;
            case Part::second_half: take_new(mid, e); break;
        }
    }
    return t;
}
/// The tears a kill inside a batch of n changed byte ranges can leave: nothing or everything written, writes in
/// file order cut in the middle of range k, everything but range k (lost or torn), and 60 seeded random mixes.
std::vector<std::vector<Part>> torn_cases(std::size_t n) {
    std::vector<std::vector<Part>> cases;
    cases.emplace_back(n, Part::old_bytes);  // killed before the batch's first write
    cases.emplace_back(n, Part::new_bytes);  // killed after its last write, before the acknowledgement
    for (std::size_t k = 0; k < n; ++k) {
        // Writes in file order up to range k, which is cut in half; the rest not written.
        std::vector<Part> in_order(n, Part::old_bytes);
        for (std::size_t j = 0; j < k; ++j) in_order[j] = Part::new_bytes;
        in_order[k] = Part::first_half;
        cases.push_back(in_order);
        // Everything written but range k (lost) or range k torn.
        std::vector<Part> all_but(n, Part::new_bytes);
        all_but[k] = Part::old_bytes;
        cases.push_back(all_but);
        all_but[k] = Part::second_half;
        cases.push_back(all_but);
    }
    std::mt19937_64 rng(20261129);
    for (int k = 0; k < 60; ++k) {
        std::vector<Part> random(n);
        for (auto& p : random) p = static_cast<Part>(rng() % 4);
        cases.push_back(random);
    }
    return cases;
}

/// A breakdown_ramp run whose batches (of `batch_rows`, in chunks of `chunk_rows`) are written only when full.
RunWriter start_run(const fs::path& path, const std::string& run_id, std::size_t batch_rows, std::size_t chunk_rows) {
    RunInfo info;
    info.run_id = run_id;
    info.kind = "breakdown_ramp";
    info.recipe_text = "[recipe]\nkind = \"breakdown_ramp\"\n";
    WriterOptions opt;
    opt.chunk_rows = chunk_rows;
    opt.batch_rows = batch_rows;
    opt.batch_interval_s = 1e9;
    return RunWriter::create(path, info, columns_for("breakdown_ramp"), opt);
}
}  // namespace

TEST_CASE("a kill that tears the HDF5 chunk index inside a batch write loses no acknowledged row", "[integration]") {
    test::TempDir dir("tornbatch");
    const fs::path path = dir / "run.h5";
    // Many chunks: the batch rewrites chunk-index blocks that earlier batches' rows need.
    auto w = start_run(path, "torn-batch", 16, 16);
    const auto specs = columns_for("breakdown_ramp");
    const std::size_t nc = specs.size();
    auto append_until = [&](std::size_t rows) {
        while (w.size() < rows) {
            std::vector<double> row(nc);
            for (std::size_t c = 0; c < nc; ++c) row[c] = value(w.size(), c);
            w.append(row);
        }
    };
    append_until(100);  // six batches in HDF5, four rows waiting in the journal
    const Bytes before = slurp_bytes(path);
    append_until(112);  // the seventh batch: the one the kill tears
    const Bytes after = slurp_bytes(path);
    const Bytes journal = slurp_bytes(journal_path(path));
    const auto ranges = changed_ranges(before, after);
    INFO(ranges.size() << " changed byte ranges in the batch");
    REQUIRE(ranges.size() >= 2);

    const auto cases = torn_cases(ranges.size());

    int hdf5_unreadable = 0;    // torn files whose HDF5 data alone no longer gives the rows
    int from_journal_only = 0;  // ... of which the HDF5 file could not be opened at all
    for (std::size_t c = 0; c < cases.size(); ++c) {
        INFO("case " << c);
        const fs::path torn = dir / ("torn-" + std::to_string(c) + ".h5");
        spit_bytes(torn, torn_file(before, after, ranges, cases[c]));
        // Without the journal: what HDF5 alone still gives (counted, to show the tears bite).
        try {
            const auto r = RunReader::open(torn);
            for (const auto& col : r.columns()) (void)r.column(col.spec.name);
        } catch (const Error&) {
            ++hdf5_unreadable;
        }
        spit_bytes(journal_path(torn), journal);
        bool journal_only = false;
        {
            const auto r = RunReader::open(torn);
            journal_only = r.from_journal_only();
            if (journal_only) {
                ++from_journal_only;
                CHECK_FALSE(r.hdf5_error().empty());
                CHECK(r.info().run_id == "torn-batch");
                CHECK(r.info().kind == "breakdown_ramp");
                CHECK(r.columns()[1].spec.units == specs[1].units);
            }
            REQUIRE(r.status() == RunStatus::running);
            REQUIRE(r.size() == 112);
            for (std::size_t col = 0; col < nc; ++col) {
                const auto v = r.column(specs[col].name);
                REQUIRE(v.size() == 112);
                for (std::size_t i = 0; i < v.size(); ++i)
                    if (v[i] != value(i, col)) FAIL("row " << i << " column " << specs[col].name << ": " << v[i]);
            }
        }
        // recover writes them all into a clean file (force: the "writer" is this live test process).
        const auto res = recover(torn, true);
        REQUIRE(res.rows == 112);
        const auto r = RunReader::open(torn);
        CHECK_FALSE(r.opened_swmr());
        CHECK(r.status() == RunStatus::interrupted);
        REQUIRE(r.size() == 112);
        CHECK(r.column(specs[1].name)[111] == value(111, 1));
        CHECK_FALSE(fs::exists(journal_path(torn)));
        CHECK(fs::exists(torn.string() + ".damaged") == journal_only);  // kept for inspection
        if (journal_only) CHECK(r.info().error_message.find("row journal") != std::string::npos);
    }
    WARN("torn batch: " << ranges.size() << " changed ranges, " << cases.size() << " torn files, " << hdf5_unreadable
                        << " of them unreadable from HDF5 alone (" << from_journal_only
                        << " not even openable); every acknowledged row read back from the journal");
    CHECK(hdf5_unreadable > 10);  // the tears bite: without the journal rows would be lost
    CHECK(from_journal_only > 0);
    w.finish(RunStatus::complete);
}

TEST_CASE("mtjlab h5 info and recover on a run whose HDF5 file a kill left unreadable", "[integration]") {
    test::TempDir dir("tornbatch-cli");
    const fs::path path = dir / "run.h5";
    auto w = start_run(path, "torn-cli", 8, 1024);
    for (std::size_t i = 0; i < 20; ++i) w.append({value(i, 0), value(i, 1)});
    const fs::path torn = dir / "torn.h5";
    Bytes bytes = slurp_bytes(path);
    bytes.resize(bytes.size() / 3);  // the worst case: most of the file never reached the page cache
    spit_bytes(torn, bytes);
    fs::copy_file(journal_path(path), journal_path(torn));
    auto res = test::run_cli("h5 info '" + torn.string() + "'");
    INFO(res.out << res.err);
    REQUIRE(res.exit_code == 0);
    CHECK(res.out.find("rows:        20 (all from the row journal") != std::string::npos);
    CHECK(res.out.find("torn-cli") != std::string::npos);
    res = test::run_cli("recover --force '" + torn.string() + "'");
    INFO(res.out << res.err);
    REQUIRE(res.exit_code == 0);
    res = test::run_cli("h5 info '" + torn.string() + "'");
    REQUIRE(res.exit_code == 0);
    CHECK(res.out.find("status:      interrupted") != std::string::npos);
    CHECK(res.out.find("rows:        20\n") != std::string::npos);
    CHECK(fs::exists(torn.string() + ".damaged"));
    // Without its journal the same damaged file is one clear error, not a crash.
    fs::copy_file(torn.string() + ".damaged", dir / "alone.h5");
    res = test::run_cli("h5 info '" + (dir / "alone.h5").string() + "'");
    CHECK(res.exit_code != 0);
    CHECK(res.err.find("alone.h5") != std::string::npos);
    w.finish(RunStatus::complete);
}

TEST_CASE("resume continues a run whose HDF5 file a kill tore inside a batch write, losing and repeating no row",
          "[integration]") {
    // The same tears as above, but the writer is a child process that really dies (SIGKILL), so resume may take
    // the run over: it recovers first (from the journal alone when the HDF5 file no longer opens), then appends.
    test::TempDir dir("tornbatch-resume");
    const fs::path path = dir / "run.h5";
    const std::size_t nc = columns_for("breakdown_ramp").size();
    int up[2], down[2];  // child -> parent: "rows acknowledged"; parent -> child: "go on"
    REQUIRE(::pipe(up) == 0);
    REQUIRE(::pipe(down) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {  // the writer: no Catch2 here, only _exit
        int code = 0;
        try {
            auto w = start_run(path, "torn-resume", 16, 16);
            auto append_until = [&](std::size_t rows) {
                while (w.size() < rows) {
                    std::vector<double> row(nc);
                    for (std::size_t c = 0; c < nc; ++c) row[c] = value(w.size(), c);
                    w.append(row);
                }
            };
            char go = 0;
            append_until(100);
            if (::write(up[1], "a", 1) != 1 || ::read(down[0], &go, 1) != 1) ::_exit(3);
            append_until(112);
            if (::write(up[1], "b", 1) != 1) ::_exit(3);
            ::pause();  // killed here, the run unfinished
        } catch (...) {
            code = 4;
        }
        ::_exit(code == 0 ? 5 : code);
    }
    ::close(up[1]);
    ::close(down[0]);
    char msg = 0;
    REQUIRE(::read(up[0], &msg, 1) == 1);
    REQUIRE(msg == 'a');
    const Bytes before = slurp_bytes(path);
    REQUIRE(::write(down[1], "g", 1) == 1);
    REQUIRE(::read(up[0], &msg, 1) == 1);
    REQUIRE(msg == 'b');
    const Bytes after = slurp_bytes(path);
    const Bytes journal = slurp_bytes(journal_path(path));
    ::kill(pid, SIGKILL);
    int st = 0;
    REQUIRE(::waitpid(pid, &st, 0) == pid);
    REQUIRE(WIFSIGNALED(st));
    ::close(up[0]);
    ::close(down[1]);

    const auto ranges = changed_ranges(before, after);
    REQUIRE(ranges.size() >= 2);
    const auto cases = torn_cases(ranges.size());
    int rebuilt_from_journal = 0;  // files resume could only take over through the journal alone
    for (std::size_t c = 0; c < cases.size(); ++c) {
        INFO("case " << c);
        const fs::path torn = dir / ("resume-" + std::to_string(c) + ".h5");
        spit_bytes(torn, torn_file(before, after, ranges, cases[c]));
        spit_bytes(journal_path(torn), journal);
        {
            auto w = RunWriter::resume(torn);
            REQUIRE(w.size() == 112);  // every acknowledged row, none twice
            for (std::size_t i = 112; i < 120; ++i) {
                std::vector<double> row(nc);
                for (std::size_t col = 0; col < nc; ++col) row[col] = value(i, col);
                w.append(row);
            }
            w.finish(RunStatus::complete);
        }
        if (fs::exists(torn.string() + ".damaged")) ++rebuilt_from_journal;
        CHECK_FALSE(fs::exists(journal_path(torn)));
        const auto r = RunReader::open(torn);
        REQUIRE(r.status() == RunStatus::complete);
        CHECK(r.info().run_id == "torn-resume");
        REQUIRE(r.size() == 120);
        for (std::size_t col = 0; col < nc; ++col) {
            const auto& name = r.columns()[col].spec.name;
            const auto v = r.column(name);
            REQUIRE(v.size() == 120);
            for (std::size_t i = 0; i < v.size(); ++i)
                if (v[i] != value(i, col)) FAIL("row " << i << " column " << name << ": " << v[i]);
        }
    }
    WARN("resume after a torn batch: " << cases.size() << " torn files, " << rebuilt_from_journal
                                       << " rebuilt from the journal alone; all continued to 120 rows");
    CHECK(rebuilt_from_journal > 0);
}
