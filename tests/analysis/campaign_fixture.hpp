#pragma once
// A small seeded synthetic campaign (R(H), R(V), field-free R(V), breakdown and P_sw runs for 1- and 3-cell
// devices at four thicknesses) shared by the campaign, golden and CLI tests.
#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "mtjlab/analysis/data.hpp"
#include "synth.hpp"

namespace mtjlab::test::fixture {

inline double tmr_of(double t) { return 0.217 + 0.113 * std::exp((t - 1.6) / 0.623); }

inline std::vector<analysis::Run> campaign(std::uint64_t seed = 99, int devices = 6) {
    using namespace analysis;
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> n01;
    std::vector<Run> runs;
    const std::vector<double> thicknesses{1.6, 1.9, 2.2, 2.6};
    for (double t : thicknesses) {
        for (int cells : {1, 3}) {
            for (int d = 0; d < devices; ++d) {
                DeviceIdentity id;
                id.wafer = "W01";
                id.die = fmt::format("t{:.1f}", t);
                id.device = fmt::format("c{}d{}", cells, d);
                id.thickness_nm = t;
                id.cells = cells;
                const double tmr = tmr_of(t) * (1 + 0.02 * n01(rng));
                const double rp = 25e3 * (1 + 0.05 * n01(rng));
                const double hex = (2.5 - 2.1 * (t - 1.6)) * 1e-3 + 0.2e-3 * n01(rng);
                const double hc = 10e-3 * (1 + 0.08 * n01(rng));
                if (cells == 1) {
                    synth::LoopSpec s;
                    s.r_p = rp;
                    s.tmr = tmr;
                    s.h_plus = hex + hc;
                    s.h_minus = hex - hc;
                    Run r;
                    r.name = fmt::format("rh_{}_{}", id.die, id.device);
                    r.source = r.name;
                    r.kind = RunKind::rh_loop;
                    r.device = id;
                    r.sweep = synth::rh_loop(s, rng);
                    runs.push_back(std::move(r));
                }
                // R(V) with assist field (levels = cells + 1)
                synth::Compound c;
                const double vc = 0.7 + 1.3 * (t - 1.6);
                for (int i = 0; i < cells; ++i) {
                    c.r_p.push_back(rp * cells * (1 + 0.03 * n01(rng)));
                    c.tmr.push_back(tmr);
                    c.vc_minus.push_back(-(vc * (1 + 0.05 * n01(rng)) + 0.1 * i));
                    c.vc_plus.push_back(vc * (1 + 0.05 * n01(rng)) + 0.1 * (cells - 1 - i));
                }
                Run rv;
                rv.name = fmt::format("rv_{}_{}", id.die, id.device);
                rv.source = rv.name;
                rv.kind = RunKind::rv_pulse_train;
                rv.device = id;
                rv.sweep = synth::rv_loop(c, 3.0, 0.02, 0.005, rng, -6e-3);
                runs.push_back(std::move(rv));
                if (cells == 1) {
                    // field-free: switches below 2.4 nm only
                    Run ff = runs.back();
                    ff.name = fmt::format("ff_{}_{}", id.die, id.device);
                    ff.source = ff.name;
                    ff.kind = RunKind::field_free_rv;
                    if (t > 2.4)
                        for (auto& v : c.vc_minus) v = -10;
                    if (t > 2.4)
                        for (auto& v : c.vc_plus) v = 10;
                    ff.sweep = synth::rv_loop(c, 2.0, 0.02, 0.005, rng, 0.0);
                    runs.push_back(std::move(ff));
                }
                // breakdown ramp
                Run bd;
                bd.name = fmt::format("bd_{}_{}", id.die, id.device);
                bd.source = bd.name;
                bd.kind = RunKind::breakdown_ramp;
                bd.device = id;
                const double vb = (cells == 1 ? 1.8 : 1.7) + 0.5 * (t - 1.6) * 0.4 + 0.05 * n01(rng);
                const double rc = rp * (1 + tmr) / cells;
                for (int k = 1; k <= 60; ++k) {
                    const double v = 0.05 * k;
                    bd.sweep.x.push_back(v);
                    bd.sweep.r_ohm.push_back(v >= vb ? 150.0 : rc * (1 + 0.002 * n01(rng)));
                }
                runs.push_back(std::move(bd));
            }
        }
    }
    // One switching-probability run.
    Run ps;
    ps.name = "psw_t1.9";
    ps.source = ps.name;
    ps.kind = RunKind::switching_probability;
    ps.device.thickness_nm = 1.9;
    ps.device.cells = 1;
    ps.device.wafer = "W01";
    ps.device.die = "t1.9";
    ps.device.device = "c1d0";
    std::uniform_real_distribution<double> u(0, 1);
    for (int k = 0; k <= 15; ++k) {
        const double v = 0.8 + 0.04 * k;
        const double p = 0.5 * std::erfc(-((v - 1.09) / 0.06) / std::sqrt(2.0));
        for (int i = 0; i < 40; ++i) {
            ps.trials.amplitude_V.push_back(v);
            ps.trials.switched.push_back(u(rng) < p ? 1 : 0);
        }
    }
    runs.push_back(std::move(ps));
    return runs;
}

/// Writes an R(H) loop as CSV with metadata comments.
inline void write_rh_csv(const std::string& path, const analysis::Sweep& s, double t, int cells) {
    std::ofstream f(path);
    f << "# thickness_nm=" << t << "\n# cells=" << cells << "\nH_mT,R_ohm,branch,direction\n";
    for (std::size_t i = 0; i < s.x.size(); ++i)
        f << fmt::format("{:.4f},{:.3f},{},{}\n", s.x[i] * 1e3, s.r_ohm[i], s.branch[i], s.direction[i]);
}

}  // namespace mtjlab::test::fixture
