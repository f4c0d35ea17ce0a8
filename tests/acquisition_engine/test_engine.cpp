// The run engine on the virtual lab: R(H) and R(V) physics seen through real drivers (in process and over
// loopback sockets), cancellation + resume without duplicated or missing points, breakdown stop, faults.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "lab_fixture.hpp"
#include "mtjlab/acquisition/engine.hpp"
#include "mtjlab/acquisition/preflight.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/recipes/recipe.hpp"
#include "mtjlab/storage/journal.hpp"
#include "mtjlab/storage/run_file.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::acquisition;
namespace fs = std::filesystem;

namespace {

BenchCalibration calibration() { return test::bench_calibration(); }
BenchLimits limits() { return test::bench_limits(); }
Job job_from(const std::string& toml, const std::string& name) {
    auto r = std::get<recipes::RunRecipe>(recipes::parse(toml, name + ".toml"));
    Job j = recipes::make_job(r, calibration());
    j.name = name;
    REQUIRE(check_plan(*j.plan, limits(), calibration()).ok());
    return j;
}
/// Distinct resistance levels (values within `tol` relative of a level's first member join it).
std::vector<double> levels(std::vector<double> r, double tol) {
    std::sort(r.begin(), r.end());
    std::vector<double> out;
    std::vector<int> count;
    for (double v : r) {
        if (!out.empty() && std::abs(v - out.back()) / out.back() < tol) {
            ++count.back();
            continue;
        }
        out.push_back(v);
        count.push_back(1);
    }
    std::vector<double> kept;  // a level needs two points (a single mid-transition read is not a level)
    for (std::size_t i = 0; i < out.size(); ++i)
        if (count[i] >= 2) kept.push_back(out[i]);
    return kept;
}

}  // namespace

TEST_CASE("R(H) minor loop on the virtual lab shows both switching fields and both plateaus", "[sim][integration]") {
    test::LabBench lab(1.7, 1, 0.0125, /*sockets=*/true, /*gaussmeter=*/true, 3);
    test::TempDir dir("rh");
    const Job job = job_from("kind = \"rh_loop\"\nname = \"rh\"\nstart_mT = 20\nstop_mT = -20\nstep_mT = 0.5\n"
                             "settle_s = 0.05\n",
                             "rh");
    GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock());
    RunOptions ro;
    ro.directory = dir.path();
    RunOutcome out;
    {
        BenchGuard guard(bench);
        out = run_job(job, bench, dir / "rh.h5", ro);
    }
    CHECK(out.status == storage::RunStatus::complete);
    auto rd = storage::RunReader::open(dir / "rh.h5");
    REQUIRE(rd.size() == 161);
    const auto h = rd.column("field_T");
    const auto r = rd.column("resistance_ohm");
    const auto hm = rd.column("field_measured_T");
    const auto dirn = rd.column("direction");
    for (std::size_t i = 0; i < h.size(); ++i) CHECK(std::abs(hm[i] - h[i]) < 2e-4);  // gaussmeter follows
    const double r_ap = r.front(), r_p = r[80];
    CHECK(r_ap / r_p > 1.2);   // TMR ~35 % at 1.7 nm
    CHECK(r_ap / r_p < 1.6);
    // The switching field on each branch: where R crosses the middle.
    const double mid = 0.5 * (r_ap + r_p);
    double h_down = 1, h_up = -1;
    for (std::size_t i = 1; i <= 80; ++i)
        if (r[i - 1] > mid && r[i] <= mid) h_down = h[i];
    for (std::size_t i = 81; i < h.size(); ++i)
        if (r[i - 1] < mid && r[i] >= mid) h_up = h[i];
    INFO("switching fields " << h_down * 1e3 << " mT and " << h_up * 1e3 << " mT");
    CHECK(h_down < -0.004);
    CHECK(h_down > -0.018);
    CHECK(h_up > 0.004);
    CHECK(h_up < 0.018);
    CHECK(dirn.front() == -1);
    CHECK(dirn.back() == +1);
    // Plateaus: flat within the read noise away from the transitions.
    CHECK(std::abs(r[2] - r_ap) / r_ap < 0.01);
    CHECK(std::abs(r[78] - r_p) / r_p < 0.01);
    CHECK(std::abs(lab.field().si()) < 1e-12);
    CHECK(rd.info().instruments_json.empty());  // none given in this test; the CLI fills it
}

TEST_CASE("R(V) of a 3-cell device over sockets shows four levels", "[sim][integration]") {
    // Switching is thermally activated: two cells may switch within one 10 mV step and skip a level (seeds 2 and
    // 8 of 1-12 do); with seed 5 every level holds at least two points.
    test::LabBench lab(1.7, 3, 0.0125, /*sockets=*/true, false, 5);
    test::TempDir dir("rv");
    {
        auto bench = lab.lab->bench();
        std::lock_guard lock(bench->mutex());
        bench->station_locked().set_states(+1);  // start all AP
    }
    const Job job = job_from("kind = \"rv_pulse_train\"\nname = \"rv\"\nmin_V = 0.1\nmax_V = 1.5\nstep_V = 0.01\n"
                             "polarities = [\"negative\"]\nreturn_sweep = false\nassist_field_mT = 5\n"
                             "delay_s = 0.2\n",
                             "rv");
    GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock());
    BenchGuard guard(bench);
    RunOptions ro;
    ro.directory = dir.path();
    const RunOutcome out = run_job(job, bench, dir / "rv.h5", ro);
    CHECK(out.status == storage::RunStatus::complete);
    CHECK(out.first_switch_V.has_value());
    auto rd = storage::RunReader::open(dir / "rv.h5");
    const auto r = rd.column("resistance_ohm");
    const auto lv = levels(r, 0.02);
    INFO("levels (Ohm):" << [&] { std::string s; for (double v : lv) s += " " + std::to_string(v); return s; }());
    CHECK(lv.size() == 4);
    CHECK(r.front() > r.back() * 1.2);  // AP -> P
}

TEST_CASE("Ctrl-C level 1 stops after the point; resume completes with no duplicated or missing points",
          "[sim]") {
    test::LabBench lab(1.8, 1, 0.0125, false);
    test::TempDir dir("resume");
    const Job job = job_from("kind = \"rh_loop\"\nname = \"rh\"\nstart_mT = 10\nstop_mT = -10\nstep_mT = 1\n", "rh");
    CancelToken cancel;
    int waits = 0;
    BenchClock clock = lab.clock();
    auto inner = clock.wait;
    clock.wait = [&, inner](Second dt) {
        if (++waits == 40) cancel.request(1);  // Ctrl-C in the middle of a point
        inner(dt);
    };
    RunOptions ro;
    ro.directory = dir.path();
    ro.cancel = &cancel;
    std::size_t first = 0;
    {
        GuardedBench bench(lab.instruments(), limits(), calibration(), clock, &cancel);
        BenchGuard guard(bench);
        const RunOutcome a = run_job(job, bench, dir / "rh.h5", ro);
        CHECK(a.status == storage::RunStatus::aborted);
        first = a.rows;
        CHECK(first > 0);
        CHECK(first < job.plan->points.size());
        CHECK(std::abs(lab.field().si()) < 1e-12);  // safe before the file was marked aborted
    }
    CHECK(storage::RunReader::open(dir / "rh.h5").status() == storage::RunStatus::aborted);
    ro.resume = false;
    {
        GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock());
        CHECK_THROWS_AS(run_job(job, bench, dir / "rh.h5", ro), InputError);  // needs --resume
    }
    cancel.reset();
    ro.resume = true;
    {
        GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock(), &cancel);
        BenchGuard guard(bench);
        const RunOutcome b = run_job(job, bench, dir / "rh.h5", ro);
        CHECK(b.status == storage::RunStatus::complete);
    }
    auto rd = storage::RunReader::open(dir / "rh.h5");
    const auto h = rd.column("field_T");
    REQUIRE(h.size() == job.plan->points.size());
    for (std::size_t i = 0; i < h.size(); ++i) CHECK(h[i] == job.plan->points[i].swept);
    const auto t = rd.column("time_s");
    CHECK(std::is_sorted(t.begin(), t.end()));
    // A complete run is skipped on resume.
    GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock());
    CHECK(run_job(job, bench, dir / "rh.h5", ro).skipped);
}

TEST_CASE("SIGKILL between HDF5 batches, then resume: the journal is replayed, no duplicated or missing points "
          "compared with a clean run",
          "[sim][integration]") {
    test::TempDir dir("journalresume");
    // Two R(H) branches (20 -> -20 -> 20 mT): the engine also flushes a batch at the branch end.
    const Job job = job_from(
        "kind = \"rh_loop\"\nname = \"rh\"\nstart_mT = 12\nstop_mT = -12\nstep_mT = 1\nreturn_sweep = true\n", "rh");
    const std::size_t points = job.plan->points.size();
    RunOptions ro;
    ro.directory = dir.path();
    ro.writer.batch_interval_s = 1e9;  // batches by size and branch only: deterministic on a loaded machine

    // The reference: the same job, same seed, never interrupted (counting the clock's waits).
    int clean_waits = 0;
    {
        test::LabBench lab(1.8, 1, 0.0125, false);
        BenchClock clock = lab.clock();
        auto inner = clock.wait;
        clock.wait = [&, inner](Second dt) {
            ++clean_waits;
            inner(dt);
        };
        GuardedBench bench(lab.instruments(), limits(), calibration(), clock);
        BenchGuard guard(bench);
        REQUIRE(run_job(job, bench, dir / "clean.h5", ro).status == storage::RunStatus::complete);
    }
    // A child process runs it and is SIGKILLed by its own clock three quarters through, in the second branch
    // (no destructor, no finish, no flush: what a crash or `kill -9` leaves).
    const int kill_at_wait = clean_waits * 3 / 4;
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::alarm(120);  // a child that hangs (it should be killed within ms) ends with SIGALRM, failing the test
        try {
            test::LabBench lab(1.8, 1, 0.0125, false);
            BenchClock clock = lab.clock();
            auto inner = clock.wait;
            int waits = 0;
            clock.wait = [&, inner](Second dt) {
                if (++waits == kill_at_wait) ::raise(SIGKILL);
                inner(dt);
            };
            GuardedBench bench(lab.instruments(), limits(), calibration(), clock);
            (void)run_job(job, bench, dir / "rh.h5", ro);
        } catch (...) {
        }
        ::_exit(3);  // not reached when the kill landed
    }
    int st = 0;
    REQUIRE(::waitpid(pid, &st, 0) == pid);
    REQUIRE(WIFSIGNALED(st));
    REQUIRE(WTERMSIG(st) == SIGKILL);

    const auto clean = storage::RunReader::open(dir / "clean.h5");
    REQUIRE(clean.size() == points);
    std::size_t killed_rows = 0;
    std::map<std::string, std::vector<double>> before;
    {
        const auto r = storage::RunReader::open(dir / "rh.h5");
        CHECK(r.status() == storage::RunStatus::running);
        killed_rows = r.size();
        INFO("rows at the kill: " << killed_rows << " (" << r.journal_rows() << " only in the journal)");
        REQUIRE(killed_rows > points / 2);  // into the second branch ...
        REQUIRE(killed_rows < points);      // ... but not finished
        CHECK(r.journal_rows() > 0);        // the first branch's batch is in HDF5, the rest only in the journal
        CHECK(r.journal_rows() < killed_rows);
        // Bit for bit the clean run's first rows: same seed, same history, every value from the journal.
        for (const auto& name : r.column_names()) {
            before[name] = r.column(name);
            const auto ref = clean.column(name);
            for (std::size_t i = 0; i < killed_rows; ++i) {
                INFO(name << " row " << i);
                if (std::isnan(ref[i])) CHECK(std::isnan(before[name][i]));
                else CHECK(before[name][i] == ref[i]);
            }
        }
    }
    // Resume in this process, on a fresh lab (as after a restart).
    ro.resume = true;
    {
        test::LabBench lab(1.8, 1, 0.0125, false);
        GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock());
        BenchGuard guard(bench);
        const RunOutcome o = run_job(job, bench, dir / "rh.h5", ro);
        CHECK(o.status == storage::RunStatus::complete);
        CHECK(o.measured == points - killed_rows);
    }
    CHECK_FALSE(fs::exists(storage::journal_path(dir / "rh.h5")));
    const auto r = storage::RunReader::open(dir / "rh.h5");
    CHECK(r.status() == storage::RunStatus::complete);
    REQUIRE(r.size() == points);
    CHECK(r.journal_rows() == 0);
    // The same points as the clean run, in the same order, each once; the rows from before the kill unchanged.
    for (const char* name : {"field_T", "branch", "direction"}) CHECK(r.column(name) == clean.column(name));
    for (const auto& [name, values] : before) {
        const auto now = r.column(name);
        for (std::size_t i = 0; i < killed_rows; ++i) {
            if (std::isnan(values[i])) CHECK(std::isnan(now[i]));
            else CHECK(now[i] == values[i]);
        }
    }
    const auto t = r.column("time_s");
    CHECK(std::is_sorted(t.begin(), t.end()));
}

TEST_CASE("second Ctrl-C aborts inside the point and still leaves the bench safe", "[sim]") {
    test::LabBench lab(1.8, 1, 0.0125, false);
    test::TempDir dir("abort");
    const Job job = job_from("kind = \"rh_loop\"\nname = \"rh\"\nstart_mT = 20\nstop_mT = -20\nstep_mT = 1\n", "rh");
    CancelToken cancel;
    int waits = 0;
    BenchClock clock = lab.clock();
    auto inner = clock.wait;
    clock.wait = [&, inner](Second dt) {
        if (++waits == 15) cancel.request(2);  // in the middle of the first ramp to 20 mT
        inner(dt);
    };
    GuardedBench bench(lab.instruments(), limits(), calibration(), clock, &cancel);
    RunOptions ro;
    ro.directory = dir.path();
    ro.cancel = &cancel;
    BenchGuard guard(bench);
    const RunOutcome a = run_job(job, bench, dir / "rh.h5", ro);
    CHECK(a.status == storage::RunStatus::aborted);
    CHECK(a.rows == 0);
    CHECK_THAT(a.message, Catch::Contains("second Ctrl-C"));
    CHECK(std::abs(lab.field().si()) < 1e-12);
}

TEST_CASE("probes move with the bench safe; a second Ctrl-C at a probe move ends the campaign cleanly", "[sim]") {
    // run_jobs calls move_to before the first job on each device: the field must be zero and every output off
    // then. A second Ctrl-C during the move must stop the jobs cleanly (the next run's bench set-up is where it
    // is noticed, outside any point) and leave the bench safe, not escape as an unknown exception.
    test::LabBench lab(1.8, 1, 0.0125, false);
    test::TempDir dir("moves");
    std::vector<Job> jobs;
    for (int device = 0; device < 3; ++device) {
        Job j = job_from("kind = \"rv_pulse_train\"\nname = \"rv\"\nmin_V = 0.1\nmax_V = 0.5\nstep_V = 0.1\n",
                         "rv" + std::to_string(device));
        j.device = DeviceRef{"w1", 0, device, 1.8, 1};
        jobs.push_back(std::move(j));
    }
    CancelToken cancel;
    std::vector<std::string> unsafe_at_move;
    int moves = 0;
    RunOptions ro;
    ro.directory = dir.path();
    ro.cancel = &cancel;
    ro.move_to = [&](const DeviceRef& d) {
        ++moves;
        auto b = lab.lab->bench();
        std::lock_guard lock(b->mutex());
        for (const char* name : {"pulse_gen", "lockin", "magnet"})
            if (auto live = lab.lab->instrument(name).live_output_locked())
                unsafe_at_move.push_back(fmt::format("device {}: {} {}", d.device, name, *live));
        if (std::abs(b->field_locked().si()) > 1e-12 || std::abs(b->supply_current_locked("magnet").si()) > 1e-12)
            unsafe_at_move.push_back(fmt::format("device {}: field {} T", d.device, b->field_locked().si()));
        if (moves == 2) cancel.request(2);
    };
    GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock(), &cancel);
    std::vector<RunOutcome> out;
    {
        BenchGuard guard(bench);
        out = run_jobs(jobs, bench, ro);
    }
    CHECK(moves == 2);
    REQUIRE(out.size() == 1);
    CHECK(out[0].status == storage::RunStatus::complete);
    CHECK(fs::exists(dir / "rv0.h5"));
    CHECK_FALSE(fs::exists(dir / "rv1.h5"));  // nothing of the aborted job was started
    INFO(fmt::format("{}", fmt::join(unsafe_at_move, "; ")));
    CHECK(unsafe_at_move.empty());
    std::lock_guard lock(lab.lab->bench()->mutex());
    CHECK_FALSE(lab.lab->instrument("pulse_gen").live_output_locked());
    CHECK(std::abs(lab.lab->bench()->field_locked().si()) < 1e-12);
}

TEST_CASE("a failed job's error keeps its type and names the run and its file", "[sim]") {
    // A campaign stops at the first failure; its one error line must say which run (and file) failed, not only
    // which instrument and command.
    test::LabBench lab(1.8, 1, 0.0125, false);
    test::TempDir dir("named");
    Job j = job_from("kind = \"rv_pulse_train\"\nname = \"rv\"\nmin_V = 0.1\nmax_V = 0.2\nstep_V = 0.1\n", "rv_d7");
    j.device = DeviceRef{"w1", 0, 7, 1.8, 1};
    RunOptions ro;
    ro.directory = dir.path();
    ro.move_to = [](const DeviceRef&) { throw InstrumentError("prober: no contact at die 0 device 7"); };
    GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock());
    BenchGuard guard(bench);
    try {
        (void)run_jobs({j}, bench, ro);
        FAIL("no exception");
    } catch (const InstrumentError& e) {
        CHECK_THAT(e.what(), Catch::Contains("no contact") && Catch::Contains("run 'rv_d7'") &&
                                 Catch::Contains((dir.path() / "rv_d7.h5").string()));
    }
}

TEST_CASE("breakdown ramp stops at the first broken read-back: no pulse after it", "[sim]") {
    test::LabBench lab(2.0, 1, 0.0125, false);
    test::TempDir dir("bd");
    const Job job = job_from("kind = \"breakdown_ramp\"\nname = \"bd\"\nmin_V = 1.0\nmax_V = 2.5\nstep_V = 0.02\n", "bd");
    GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock());
    BenchGuard guard(bench);
    RunOptions ro;
    ro.directory = dir.path();
    const RunOutcome out = run_job(job, bench, dir / "bd.h5", ro);
    REQUIRE(out.breakdown_amplitude_V.has_value());
    INFO(out.message);
    CHECK(*out.breakdown_amplitude_V > 1.4);
    CHECK(*out.breakdown_amplitude_V < 2.5);
    CHECK(out.rows < job.plan->points.size());
    auto b = lab.lab->bench();
    std::lock_guard lock(b->mutex());
    CHECK(b->pulses_applied_locked() == out.rows);  // one pulse per stored point, none after the break
    CHECK(b->station_locked().broken());
}

TEST_CASE("a breakdown stored before a kill is found on resume: no pulse reaches the broken device again", "[sim]") {
    test::TempDir dir("bdresume");
    const Job job = job_from("kind = \"breakdown_ramp\"\nname = \"bd\"\nmin_V = 1.0\nmax_V = 2.5\nstep_V = 0.02\n", "bd");
    RunOptions ro;
    ro.directory = dir.path();
    RunOutcome clean;
    {
        test::LabBench lab(2.0, 1, 0.0125, false);
        GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock());
        BenchGuard guard(bench);
        clean = run_job(job, bench, dir / "clean.h5", ro);
    }
    REQUIRE(clean.breakdown_amplitude_V.has_value());
    // What a kill between storing the broken point and finishing the run leaves: every row, the run unfinished.
    const auto ref = storage::RunReader::open(dir / "clean.h5");
    {
        auto w = storage::RunWriter::create(dir / "bd.h5", ref.info(), storage::columns_for(job.plan->kind));
        std::vector<std::vector<double>> cols;
        for (const auto& c : w.columns()) cols.push_back(ref.column(c.name));
        std::vector<double> row(cols.size());
        for (std::size_t i = 0; i < ref.size(); ++i) {
            for (std::size_t c = 0; c < cols.size(); ++c) row[c] = cols[c][i];
            w.append(row);
        }
    }  // not finished: status aborted, resumable
    REQUIRE(storage::RunReader::open(dir / "bd.h5").status() != storage::RunStatus::complete);
    ro.resume = true;
    test::LabBench lab(2.0, 1, 0.0125, false);  // a fresh lab: any pulse would be counted
    GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock());
    BenchGuard guard(bench);
    const RunOutcome o = run_job(job, bench, dir / "bd.h5", ro);
    INFO(o.message);
    CHECK(o.status == storage::RunStatus::complete);
    CHECK(o.measured == 0);
    REQUIRE(o.breakdown_amplitude_V.has_value());
    CHECK(*o.breakdown_amplitude_V == *clean.breakdown_amplitude_V);
    CHECK_THAT(o.message, Catch::Contains("before the resume"));
    CHECK(storage::RunReader::open(dir / "bd.h5").size() == ref.size());
    std::lock_guard lock(lab.lab->bench()->mutex());
    CHECK(lab.lab->bench()->pulses_applied_locked() == 0);
}

TEST_CASE("a breakdown recorded by an earlier session skips the device's remaining jobs after a restart", "[sim]") {
    test::TempDir dir("bdcampaign");
    Job bd = job_from("kind = \"breakdown_ramp\"\nname = \"bd\"\nmin_V = 1.0\nmax_V = 2.5\nstep_V = 0.02\n", "bd");
    Job rv = job_from("kind = \"rv_pulse_train\"\nname = \"rv\"\nmin_V = 0.1\nmax_V = 0.5\nstep_V = 0.1\n", "rv");
    bd.device = rv.device = DeviceRef{"w1", 0, 0, 2.0, 1};
    RunOptions ro;
    ro.directory = dir.path();
    ro.manifest = dir / "campaign.json";
    ro.campaign_name = "c";
    {
        // The first session ends after the breakdown ramp (as a kill before the next job would).
        test::LabBench lab(2.0, 1, 0.0125, false);
        GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock());
        BenchGuard guard(bench);
        const auto out = run_jobs({bd}, bench, ro);
        REQUIRE(out.size() == 1);
        REQUIRE(out[0].breakdown_amplitude_V.has_value());
    }
    ro.resume = true;
    test::LabBench lab(2.0, 1, 0.0125, false);
    GuardedBench bench(lab.instruments(), limits(), calibration(), lab.clock());
    BenchGuard guard(bench);
    const auto out = run_jobs({bd, rv}, bench, ro);
    REQUIRE(out.size() == 2);
    CHECK(out[0].skipped);
    CHECK(out[1].skipped);
    CHECK_THAT(out[1].message, Catch::Contains("device broke at"));
    CHECK_FALSE(fs::exists(dir / "rv.h5"));
    std::lock_guard lock(lab.lab->bench()->mutex());
    CHECK(lab.lab->bench()->pulses_applied_locked() == 0);
}

TEST_CASE("faults mid-run: a dropped link is retried on a read; an instrument error stops cleanly", "[sim][integration]") {
    test::LabBench lab(1.8, 1, 0.0125, /*sockets=*/true, false, 9);
    test::TempDir dir("fault");
    const Job job = job_from("kind = \"rh_loop\"\nname = \"rh\"\nstart_mT = 10\nstop_mT = -10\nstep_mT = 1\n", "rh");
    RunOptions ro;
    ro.directory = dir.path();
    SECTION("disconnect during a read is retried and the run completes") {
        int waits = 0;
        BenchClock clock = lab.clock();
        auto inner = clock.wait;
        clock.wait = [&, inner](Second dt) {
            if (++waits == 60) {
                devices_sim::FaultPlan f;
                f.drop_connection = 1;
                lab.lab->instrument("lockin").set_faults(f);
            }
            inner(dt);
        };
        GuardedBench bench(lab.instruments(), limits(), calibration(), clock);
        BenchGuard guard(bench);
        const RunOutcome out = run_job(job, bench, dir / "rh.h5", ro);
        CHECK(out.status == storage::RunStatus::complete);
        CHECK(bench.read_retries() >= 1);
        CHECK(storage::RunReader::open(dir / "rh.h5").size() == job.plan->points.size());
    }
    SECTION("an instrument error on the pulse generator fails the run, earlier points kept, bench safe") {
        const Job rv = job_from("kind = \"rv_pulse_train\"\nname = \"rv\"\nmin_V = 0.1\nmax_V = 1.0\nstep_V = 0.1\n"
                                "delay_s = 0.1\n",
                                "rv");
        int waits = 0;
        BenchClock clock = lab.clock();
        auto inner = clock.wait;
        clock.wait = [&, inner](Second dt) {
            if (++waits == 50) lab.lab->instrument("pulse_gen").push_error(-222, "injected");
            inner(dt);
        };
        GuardedBench bench(lab.instruments(), limits(), calibration(), clock);
        std::size_t rows_at_failure = 0;
        {
            BenchGuard guard(bench);
            CHECK_THROWS_AS(run_job(rv, bench, dir / "rv.h5", ro), InstrumentError);
        }
        auto rd = storage::RunReader::open(dir / "rv.h5");
        CHECK(rd.status() == storage::RunStatus::failed);
        rows_at_failure = rd.size();
        CHECK(rows_at_failure > 0);
        CHECK(rows_at_failure < rv.plan->points.size());
        CHECK_THAT(rd.info().error_message, Catch::Contains("-222"));
        const auto a = rd.column("pulse_amplitude_V");
        for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == rv.plan->points[i].pulse_amplitude.si());
        CHECK(std::abs(lab.field().si()) < 1e-12);
    }
    SECTION("a pulse that never completes (stuck *OPC?) times out and stops the run cleanly") {
        const Job rv = job_from("kind = \"rv_pulse_train\"\nname = \"rv\"\nmin_V = 0.1\nmax_V = 1.0\nstep_V = 0.1\n"
                                "delay_s = 0.1\n",
                                "rv2");
        int waits = 0;
        BenchClock clock = lab.clock();
        auto inner = clock.wait;
        clock.wait = [&, inner](Second dt) {
            if (++waits == 50) {
                devices_sim::FaultPlan f;
                f.stuck_opc = true;
                lab.lab->instrument("pulse_gen").set_faults(f);
            }
            inner(dt);
        };
        GuardedBench bench(lab.instruments(), limits(), calibration(), clock);
        {
            BenchGuard guard(bench);
            CHECK_THROWS_AS(run_job(rv, bench, dir / "rv2.h5", ro), TimeoutError);
        }
        lab.lab->instrument("pulse_gen").clear_faults();
        auto rd = storage::RunReader::open(dir / "rv2.h5");
        CHECK(rd.status() == storage::RunStatus::failed);
        CHECK(rd.size() > 0);
        CHECK(std::abs(lab.field().si()) < 1e-12);
    }
}
