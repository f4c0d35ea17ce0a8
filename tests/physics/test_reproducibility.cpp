// Determinism by seed and golden files (tolerances; MTJLAB_UPDATE_GOLDEN=1 rewrites them).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "mtjlab/physics/experiments.hpp"
#include "mtjlab/physics/wafer.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::physics;

namespace {

using Table = std::vector<std::vector<double>>;

std::filesystem::path golden_path(const std::string& name) {
    return mtjlab::test::source_dir() / "tests" / "physics" / "golden" / name;
}

// Compares `rows` with the golden CSV (header + numbers) within a relative tolerance, or rewrites it.
void check_golden(const std::string& name, const std::string& header, const Table& rows, double rel_tol) {
    const auto path = golden_path(name);
    if (mtjlab::test::update_golden()) {
        std::filesystem::create_directories(path.parent_path());
        std::ofstream out(path);
        out << header << '\n';
        for (const auto& r : rows) {
            for (std::size_t k = 0; k < r.size(); ++k) out << (k ? "," : "") << fmt::format("{:.12g}", r[k]);
            out << '\n';
        }
        WARN("golden file rewritten: " << path.string());
        return;
    }
    std::ifstream in(path);
    REQUIRE(in.good());
    std::string line;
    std::getline(in, line);
    CHECK(line == header);
    std::size_t i = 0;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        REQUIRE(i < rows.size());
        std::stringstream ss(line);
        std::string cell;
        std::size_t k = 0;
        while (std::getline(ss, cell, ',')) {
            REQUIRE(k < rows[i].size());
            const double g = std::stod(cell);
            INFO(name << " row " << i << " column " << k);
            CHECK(rows[i][k] == Approx(g).epsilon(rel_tol).margin(1e-12));
            ++k;
        }
        CHECK(k == rows[i].size());
        ++i;
    }
    CHECK(i == rows.size());
}

}  // namespace

TEST_CASE("same seed, same results; another seed, other results", "[unit][sim]") {
    const auto run = [](std::uint64_t seed) {
        ProbeStation st(nominal_device(1.9, 3), ReadChain{}, seed);
        RvOptions o;
        o.v_max = units::volts(1.4);
        o.step = units::volts(0.05);
        std::vector<double> r;
        for (const auto& p : rv_loop(st, o)) r.push_back(p.r.si());
        return r;
    };
    CHECK(run(5) == run(5));
    CHECK(run(5) != run(6));
    const Wafer a(WaferSpec{}, 9);
    const Wafer b(WaferSpec{}, 9);
    // Access order does not matter: each device is a pure function of (seed, die, device).
    const auto late = b.device(7, 4);
    (void)b.device(1, 1);
    CHECK(a.device(7, 4).cells[1].i_star.si() == late.cells[1].i_star.si());
    CHECK(a.device(7, 4).breakdown.v_b.si() == late.breakdown.v_b.si());
}

TEST_CASE("golden: calibration table", "[unit][sim][golden]") {
    const Calibration cal;
    Table rows;
    for (int k = 0; k <= 10; ++k) {
        const double t = 1.6 + 0.1 * k;
        const auto r = cal.at(t);
        rows.push_back({t, r.tmr0, r.r_p.si(), r.mu0_meff.si(), r.h_ex.si(), r.h_k.si(), r.delta0, r.i_star.si(),
                        r.v_c_target.si(), r.v_b_1cell.si(), r.v_b_3cell.si()});
    }
    check_golden("calibration.csv", "thickness_nm,tmr,r_p_ohm,mu0_meff_T,h_ex_T,h_k_T,delta0,i_star_A,v_c_V,v_b1_V,v_b3_V",
                 rows, 1e-9);
}

TEST_CASE("golden: wafer population", "[unit][sim][golden]") {
    WaferSpec spec;
    spec.dies = 5;
    spec.devices_per_die = 3;
    const Wafer w(spec, 42);
    Table rows;
    for (int die = 0; die < spec.dies; ++die) {
        for (int k = 0; k < spec.devices_per_die; ++k) {
            const auto d = w.device(die, k);
            const auto s = summarize(d);
            rows.push_back({static_cast<double>(die), static_cast<double>(k), d.thickness_nm,
                            static_cast<double>(s.cells), s.levels.front().si(), s.levels.back().si(), s.v_c.si(),
                            s.h_c.si(), s.h_ex.si(), s.v_b.si()});
        }
    }
    check_golden("wafer_seed42.csv", "die,device,thickness_nm,cells,r_min_ohm,r_max_ohm,vc_V,hc_T,hex_T,vb_V", rows,
                 1e-9);
}

TEST_CASE("golden: R(V) loop of a 3-cell device", "[unit][sim][golden]") {
    ProbeStation st(nominal_device(1.9, 3), ReadChain{}, 1);
    RvOptions o;
    o.v_max = units::volts(1.6);
    o.step = units::volts(0.1);
    Table rows;
    for (const auto& p : rv_loop(st, o)) rows.push_back({p.x, p.r.si()});
    // Noise-free structure is exact; the lock-in noise (~1e-5 relative) is reproduced by seed.
    check_golden("rv_1p9nm_3cell_seed1.csv", "V_V,R_ohm", rows, 1e-6);
}
