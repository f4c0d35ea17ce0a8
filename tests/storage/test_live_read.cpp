// THE LIVE READ TEST: a real external client (python3 + h5py, SWMR read with refresh()) follows a run file
// while the writer process appends to it, and checks it sees monotonically growing, correct data.
#include <catch2/catch.hpp>

#include "child_process.hpp"
#include "test_support.hpp"

TEST_CASE("h5py follows a growing run file live (SWMR)", "[integration]") {
    // The python3 on PATH may be a private interpreter (pyenv, venv) without Debian's h5py: try it, then the
    // system one.
    std::string python;
    for (const char* candidate : {"python3", "/usr/bin/python3"}) {
        if (mtjlab::test::run_command(std::string(candidate) + " -c 'import h5py'").exit_code == 0) {
            python = candidate;
            break;
        }
    }
    if (python.empty()) {
        WARN("python3-h5py is not installed: live-read test SKIPPED (install python3-h5py)");
        return;
    }
    mtjlab::test::TempDir dir("live");
    const auto path = (dir / "live.h5").string();
    const std::string rows = "1500";
    // ~1500 appends with 1 ms pauses: a few seconds of growth for the reader to follow. h5py reads only the
    // HDF5 file, which grows by row-journal batches (32 rows here, or 1 s).
    mtjlab::test::ChildProcess writer({MTJLAB_CRASH_WRITER, "create", path, rows, "42", "1000", "finish", "32"},
                                      (dir / "writer.err").string());
    const auto first = writer.read_line();
    REQUIRE(first);
    REQUIRE(first->rfind("created", 0) == 0);
    const auto r = mtjlab::test::run_command(python + " '" MTJLAB_LIVE_READER_PY "' '" + path + "' " + rows);
    INFO("reader stdout: " << r.out << "\nreader stderr: " << r.err);
    while (writer.read_line()) {
    }
    const int st = writer.wait();
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 0);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("live read ok: 1500 rows") != std::string::npos);
}
