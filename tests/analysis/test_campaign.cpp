// Populations, trends, conductance states, CSV/run-file input and the written outputs.
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include <catch2/catch.hpp>
#include <hdf5.h>

#include "campaign_fixture.hpp"
#include "mtjlab/analysis/campaign.hpp"
#include "mtjlab/analysis/io.hpp"
#include "mtjlab/analysis/report.hpp"
#include "mtjlab/storage/run_file.hpp"
#include "test_support.hpp"

using namespace mtjlab::analysis;
namespace fixture = mtjlab::test::fixture;
using mtjlab::test::TempDir;

using mtjlab::test::slurp;

TEST_CASE("campaign: groups, field-free fractions, breakdown, trends and the conductance table", "[unit]") {
    const auto c = analyze_campaign(fixture::campaign());
    REQUIRE(c.groups.size() == 8);
    for (const auto& r : c.runs) {
        INFO(r.run.name << ": " << r.error);
        CHECK(r.error.empty());
    }
    for (const auto& g : c.groups) {
        INFO("t=" << g.thickness_nm << " cells=" << g.cells);
        CHECK(g.devices == 6);
        CHECK(g.dead == 0);
        const auto* bd = g.stat("breakdown_V");
        REQUIRE(bd);
        CHECK(bd->count == 6);
        if (g.cells == 1) {
            const auto* tmr = g.stat("tmr");
            REQUIRE(tmr);
            CHECK(tmr->mean == Approx(fixture::tmr_of(g.thickness_nm)).margin(0.03));
            CHECK(g.field_free_tested == 6);
            CHECK(g.field_free_switched == (g.thickness_nm > 2.4 ? 0u : 6u));
        }
    }
    // TMR trend: exponential fit close to the generating law.
    const TrendFit* tmr = nullptr;
    for (const auto& t : c.trends)
        if (t.figure == "tmr" && t.cells == 1) tmr = &t;
    REQUIRE(tmr);
    REQUIRE(tmr->model.rfind("exp", 0) == 0);
    for (double t : {1.6, 1.9, 2.2, 2.6}) CHECK(tmr->eval(t) == Approx(fixture::tmr_of(t)).margin(0.02));
    // Conductance table: 2 rows per 1-cell group, 4 per 3-cell group, top state = 1, ascending g.
    std::size_t rows1 = 0, rows3 = 0;
    for (const auto& row : c.conductance) {
        (row.cells == 1 ? rows1 : rows3)++;
        CHECK(row.devices == 6);
        if (row.state == row.cells) CHECK(row.g_norm == Approx(1.0));
        if (row.state == 0) CHECK(row.g_norm == Approx(1 / (1 + fixture::tmr_of(row.thickness_nm))).margin(0.03));
    }
    CHECK(rows1 == 8);
    CHECK(rows3 == 16);
    for (std::size_t i = 1; i < c.conductance.size(); ++i)
        if (c.conductance[i].state > 0) CHECK(c.conductance[i].g_norm > c.conductance[i - 1].g_norm);
}

TEST_CASE("campaign: outlier and dead-device flags", "[unit]") {
    auto runs = fixture::campaign(5, 6);
    // A wild TMR in one 1-cell device at 1.6 nm and a shorted device.
    for (auto& r : runs)
        if (r.name == "rh_t1.6_c1d0")
            for (std::size_t i = 0; i < r.sweep.r_ohm.size(); ++i)
                if (r.sweep.r_ohm[i] > 30e3) r.sweep.r_ohm[i] *= 1.8;
    Run dead;
    dead.name = "rh_dead";
    dead.kind = RunKind::rh_loop;
    dead.device.thickness_nm = 1.6;
    dead.device.cells = 1;
    dead.device.wafer = "W01";
    dead.device.die = "t1.6";
    dead.device.device = "c1d9";
    for (int k = 0; k < 200; ++k) {
        dead.sweep.x.push_back((k < 100 ? k : 200 - k) * 1e-4);
        dead.sweep.r_ohm.push_back(40.0 + 0.01 * (k % 3));
    }
    runs.push_back(dead);
    const auto c = analyze_campaign(std::move(runs));
    bool flagged = false, dead_seen = false;
    for (const auto& r : c.runs) {
        if (r.run.name == "rh_t1.6_c1d0")
            flagged = std::find(r.outliers.begin(), r.outliers.end(), "tmr") != r.outliers.end();
        if (r.run.name == "rh_dead") dead_seen = r.dead;
    }
    CHECK(flagged);
    CHECK(dead_seen);
    for (const auto& g : c.groups)
        if (g.cells == 1 && std::abs(g.thickness_nm - 1.6) < 1e-9) {
            CHECK(g.dead == 1);
            CHECK(g.stat("tmr")->outliers == 1);
            CHECK(g.stat("tmr")->mean == Approx(fixture::tmr_of(1.6)).margin(0.03));
        }
}

TEST_CASE("campaign: statistics count devices, not runs", "[unit]") {
    auto runs = fixture::campaign(7, 6);
    // Device c1d0 at 1.6 nm measured by a second R(H) loop (R_P 10 % higher) and an assisted R(V) loop of
    // device c1d1 that never switches (one level) although its R(H) loop does.
    std::vector<Run> extra;
    for (const auto& r : runs) {
        if (r.name == "rh_t1.6_c1d0") {
            Run again = r;
            again.name = "rh_t1.6_c1d0_again";
            again.source = again.name;
            for (double& x : again.sweep.r_ohm) x *= 1.1;
            extra.push_back(again);
        }
        if (r.name == "rv_t1.6_c1d1") {
            Run stuck = r;
            stuck.name = "rv_t1.6_c1d1_stuck";
            stuck.source = stuck.name;
            const double r0 = stuck.sweep.r_ohm.front();
            for (double& x : stuck.sweep.r_ohm) x = r0;
            extra.push_back(stuck);
        }
    }
    REQUIRE(extra.size() == 2);
    for (auto& e : extra) runs.push_back(std::move(e));
    const auto c = analyze_campaign(std::move(runs));
    const GroupSummary* g = nullptr;
    for (const auto& gr : c.groups)
        if (gr.cells == 1 && std::abs(gr.thickness_nm - 1.6) < 1e-9) g = &gr;
    REQUIRE(g);
    CHECK(g->devices == 6);
    CHECK(g->runs == 6 * 4 + 2);  // R(H), R(V), field-free R(V), breakdown per device + the two extra runs
    CHECK(g->dead == 0);          // the stuck R(V) loop does not make its device dead
    const auto* rp = g->stat("r_p_ohm");
    REQUIRE(rp);
    CHECK(rp->count == 6);  // one value per device: from the R(H) loops (preferred over R(V) levels)
    CHECK(rp->runs == 7);   // device c1d0 contributes the median of its two R(H) loops
    const auto* vc = g->stat("vc_ap_to_p_V");
    REQUIRE(vc);
    CHECK(vc->count == 6);  // from the assisted R(V) loops, not also from the field-free ones
    CHECK(vc->runs == 6);
    // The mean R_P is the mean of the device values: c1d0 counts once with the median (mean of 1.0 and 1.1).
    std::vector<double> per_device;
    for (const auto& d : c.devices) {
        if (d.cells != 1 || std::abs(d.thickness_nm - 1.6) > 1e-9) continue;
        std::vector<double> v;
        for (std::size_t i : d.runs)
            if (c.runs[i].run.kind == RunKind::rh_loop) v.push_back(*c.runs[i].rh->r_p_ohm);
        REQUIRE_FALSE(v.empty());
        per_device.push_back(v.size() == 1 ? v[0] : 0.5 * (v[0] + v[1]));
        CHECK_FALSE(d.dead);
    }
    REQUIRE(per_device.size() == 6);
    double m = 0;
    for (double x : per_device) m += x / 6;
    CHECK(rp->mean == Approx(m).epsilon(1e-12));
    bool noted = false;
    for (const auto& r : c.runs)
        if (r.run.name == "rv_t1.6_c1d1_stuck") noted = !r.dead && !r.notes.empty();
    CHECK(noted);
}

TEST_CASE("campaign: a dead device is flagged once and left out of every figure", "[unit]") {
    auto runs = fixture::campaign(11, 6);
    // Device c3d2 at 2.2 nm reads a short in its R(V) loop.
    for (auto& r : runs)
        if (r.name == "rv_t2.2_c3d2")
            for (double& x : r.sweep.r_ohm) x = 20.0;
    const auto c = analyze_campaign(std::move(runs));
    std::size_t dead_devices = 0;
    for (const auto& d : c.devices)
        if (d.dead) {
            ++dead_devices;
            CHECK(d.key == "W01/t2.2/c3d2");
            CHECK(d.dead_reason.find("median resistance") != std::string::npos);
        }
    CHECK(dead_devices == 1);
    for (const auto& g : c.groups)
        if (g.cells == 3 && std::abs(g.thickness_nm - 2.2) < 1e-9) {
            CHECK(g.dead == 1);
            CHECK(g.stat("breakdown_V")->count == 5);  // its breakdown ramp is not used either
        }
}

TEST_CASE("CSV input: metadata comments, columns, bad files", "[unit]") {
    auto r = parse_csv("# thickness_nm=1.9\n# cells=3\nH_mT,R_ohm\n-10,100\n10,nan\n11,120\n", "x.csv");
    CHECK(r.load_error.empty());
    CHECK(r.kind == RunKind::rh_loop);
    CHECK(r.device.thickness_nm == Approx(1.9));
    CHECK(r.device.cells == 3);
    REQUIRE(r.sweep.x.size() == 3);
    CHECK(r.sweep.x[0] == Approx(-0.010));
    CHECK(std::isnan(r.sweep.r_ohm[1]));
    r = parse_csv("V_V,R_ohm,thickness_nm,cells\r\n-0.5,100,2.2,1\r\n0.5,120,2.2,1\r\n", "y.csv");
    CHECK(r.kind == RunKind::rv_pulse_train);
    CHECK(r.device.cells == 1);
    CHECK(r.device.thickness_nm == Approx(2.2));
    r = parse_csv("# kind=breakdown_ramp\nV_V,R_ohm\n0.1,100\n", "b.csv");
    CHECK(r.kind == RunKind::breakdown_ramp);
    r = parse_csv("V_V,switched\n1.0,1\n1.0,0\n", "p.csv");
    CHECK(r.kind == RunKind::switching_probability);
    CHECK(r.trials.switched.size() == 2);
    r = parse_csv("H_mT,R_ohm\n1,abc\n2,3\n", "g.csv");
    CHECK(r.sweep.x.size() == 1);
    CHECK_FALSE(r.load_notes.empty());
    CHECK(parse_csv("", "e.csv").load_error.find("empty") != std::string::npos);
    CHECK(parse_csv("# only comments\n", "e.csv").load_error.find("empty") != std::string::npos);
    CHECK(parse_csv("a,b\n1,2\n", "w.csv").load_error.find("wrong columns") != std::string::npos);
    CHECK(parse_csv("H_mT,R_ohm\n", "h.csv").load_error.find("no data") != std::string::npos);
    // A failed load becomes a run with an error, never a crash or a number.
    const auto a = analyze_run(parse_csv("a,b\n", "w.csv"));
    CHECK_FALSE(a.error.empty());
    for (const auto& f : figures(a)) CHECK_FALSE(f.value.ok());
}

TEST_CASE("run files: read through the storage module (contract A)", "[integration]") {
    TempDir dir("ana-runfile");
    namespace st = mtjlab::storage;
    std::mt19937_64 rng(8);
    mtjlab::test::synth::LoopSpec spec;
    const auto sw = mtjlab::test::synth::rh_loop(spec, rng);
    st::RunInfo info;
    info.run_id = "rh-test-1";
    info.kind = "rh_loop";
    info.device.wafer_id = "W07";
    info.device.die = 3;
    info.device.device = 5;
    info.device.thickness_nm = 2.2;
    info.device.cells = 1;
    info.virtual_run = true;
    {
        auto w = st::RunWriter::create(dir / "rh.h5", info, st::columns_for("rh_loop"));
        std::vector<double> rows;
        for (std::size_t i = 0; i < sw.x.size(); ++i) {
            const double meas = (i == 5) ? std::nan("") : sw.x[i];
            for (double v : {sw.x[i], meas, sw.r_ohm[i], 0.0, 0.0, double(sw.branch[i]), double(sw.direction[i]),
                             double(i)})
                rows.push_back(v);
        }
        w.append_rows(rows, sw.x.size());
        w.finish(st::RunStatus::complete);
    }
    auto runs = load_runs(collect_inputs({dir.path()}));
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].load_error.empty());
    CHECK(runs[0].name == "rh-test-1");
    CHECK(runs[0].kind == RunKind::rh_loop);
    CHECK(runs[0].device.key() == "W07/3/5");
    CHECK(runs[0].device.cells == 1);
    const auto a = analyze_run(runs[0]);
    REQUIRE(a.rh);
    REQUIRE(a.rh->tmr.ok());
    CHECK(*a.rh->tmr == Approx(spec.tmr).margin(0.005));
    CHECK(*a.rh->hc_T == Approx((spec.h_plus - spec.h_minus) / 2).margin(0.2e-3));
    // A file that is HDF5 but not a run file, and a truncated one, load with an error.
    {
        std::ofstream junk(dir / "junk.h5");
        junk << "\x89HDF\r\n\x1a\n garbage";
    }
    const auto bad = read_run_file(dir / "junk.h5");
    CHECK_FALSE(bad.load_error.empty());
}

TEST_CASE("outputs: CSV tables, results.h5 with provenance, figures and a self-contained report", "[integration]") {
    TempDir dir("ana-out");
    const auto c = analyze_campaign(fixture::campaign(3, 3));
    const auto out = write_outputs(c, dir.path());
    CHECK(slurp(dir / "conductance_states.csv").rfind("thickness_nm,cells,state,g_norm,g_norm_std,r_ohm,r_ohm_std,devices\n", 0) == 0);
    // results.h5: attributes and the contract-D group.
    const auto p = (dir / "results.h5").string();
    const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(f >= 0);
    for (const char* a : {"algorithm", "parameters", "mtjlab_version", "algorithm_version"}) CHECK(H5Aexists(f, a) > 0);
    for (const char* d : {"/conductance_states/g_norm", "/conductance_states/g_norm_std", "/conductance_states/devices",
                          "/runs/tmr", "/runs/run", "/groups/tmr_mean", "/trends/value"})
        CHECK(H5Lexists(f, d, H5P_DEFAULT) > 0);
    const hid_t ds = H5Dopen2(f, "/conductance_states/g_norm", H5P_DEFAULT);
    REQUIRE(ds >= 0);
    CHECK(H5Aexists(ds, "units") > 0);
    const hid_t sp = H5Dget_space(ds);
    CHECK(H5Sget_simple_extent_npoints(sp) == static_cast<hssize_t>(c.conductance.size()));
    H5Sclose(sp);
    H5Dclose(ds);
    H5Fclose(f);
    // report.html: inline SVG, no external resources.
    const auto html = slurp(dir / "report.html");
    CHECK(html.find("<svg") != std::string::npos);
    CHECK(html.find("Conductance states") != std::string::npos);
    for (const char* ext : {"src=\"http", "href=\"http", "<script", "<link", "<img"}) CHECK(html.find(ext) == std::string::npos);
    for (const char* fig : {"fig3e", "fig3f", "fig4c", "fig4d", "fig4g", "fig4h", "psw"}) {
        INFO(fig);
        CHECK(std::filesystem::exists(dir.path() / "figures" / (std::string(fig) + ".svg")));
    }
    for (const auto& pr : out.problems) WARN(pr);
}

TEST_CASE("golden: report tables of the seeded campaign (MTJLAB_UPDATE_GOLDEN=1 rewrites)", "[integration]") {
    TempDir dir("ana-golden");
    const auto c = analyze_campaign(fixture::campaign());
    write_csv_tables(c, dir.path());
    const auto gdir = mtjlab::test::source_dir() / "tests" / "analysis" / "golden";
    for (const char* name : {"groups.csv", "trends.csv", "conductance_states.csv"}) {
        INFO(name);
        if (mtjlab::test::update_golden()) {
            std::filesystem::copy_file(dir / name, gdir / name, std::filesystem::copy_options::overwrite_existing);
            WARN("golden file updated: " << (gdir / name).string());
            continue;
        }
        REQUIRE(std::filesystem::exists(gdir / name));
        std::istringstream got(slurp(dir / name)), want(slurp(gdir / name));
        std::string gl, wl;
        int line = 0;
        while (std::getline(want, wl)) {
            ++line;
            REQUIRE(std::getline(got, gl));
            std::istringstream gs(gl), ws(wl);
            std::string gc, wc;
            while (std::getline(ws, wc, ',')) {
                REQUIRE(std::getline(gs, gc, ','));
                char* e1 = nullptr;
                char* e2 = nullptr;
                const double wv = std::strtod(wc.c_str(), &e1);
                const double gv = std::strtod(gc.c_str(), &e2);
                if (!wc.empty() && *e1 == '\0' && !gc.empty() && *e2 == '\0') {
                    INFO("line " << line << ": " << gc << " vs golden " << wc);
                    CHECK(gv == Approx(wv).epsilon(1e-6).margin(1e-9));
                } else {
                    INFO("line " << line);
                    CHECK(gc == wc);
                }
            }
        }
        CHECK_FALSE(std::getline(got, gl));
    }
}
