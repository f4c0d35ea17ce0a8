#pragma once
// Synthetic loops with known parameters and seeded noise (ground truth for the analysis tests).
// Deliberately independent of the physics module: ideal switching at given fields/voltages.
#include <cmath>
#include <random>
#include <vector>

#include "mtjlab/analysis/data.hpp"

namespace mtjlab::test::synth {

struct LoopSpec {
    double r_p = 25.2e3, tmr = 0.33;
    double h_plus = 11.3e-3, h_minus = -8.7e-3;  ///< switching fields (T)
    double h_max = 30e-3, step = 0.1e-3;         ///< sweep range and step (T)
    double noise = 0.001;                         ///< relative read noise (sigma)
    double width = 0;                             ///< tanh transition width (T), 0 = abrupt
    int loops = 1;                                ///< up+down pairs
    bool record_columns = true;                   ///< fill branch/direction
};

/// Sweep: -h_max -> +h_max (up) -> -h_max (down), repeated.
inline analysis::Sweep rh_loop(const LoopSpec& s, std::mt19937_64& rng) {
    std::normal_distribution<double> n01;
    analysis::Sweep out;
    const double r_ap = s.r_p * (1 + s.tmr);
    const int npts = static_cast<int>(std::lround(2 * s.h_max / s.step));
    int branch = 0;
    auto frac = [&](double h, double hsw, int dir) {
        if (s.width > 0) return 0.5 * (1 + std::tanh((h - hsw) / s.width));
        return dir > 0 ? (h >= hsw ? 1.0 : 0.0) : (h > hsw ? 1.0 : 0.0);
    };
    for (int l = 0; l < s.loops; ++l) {
        for (int dir : {1, -1}) {
            for (int k = 0; k <= npts; ++k) {
                const double h = dir > 0 ? -s.h_max + k * s.step : s.h_max - k * s.step;
                const double f = frac(h, dir > 0 ? s.h_plus : s.h_minus, dir);
                const double r = (s.r_p + f * (r_ap - s.r_p)) * (1 + s.noise * n01(rng));
                out.x.push_back(h);
                out.r_ohm.push_back(r);
                if (s.record_columns) {
                    out.branch.push_back(branch);
                    out.direction.push_back(dir);
                }
            }
            ++branch;
        }
    }
    return out;
}

/// A compound device of parallel cells for R(V) pulse trains.
struct Compound {
    std::vector<double> r_p, tmr;       ///< per cell
    std::vector<double> vc_minus, vc_plus;  ///< AP->P at V <= vc_minus (negative), P->AP at V >= vc_plus
};

inline double compound_r(const Compound& c, const std::vector<bool>& ap) {
    double g = 0;
    for (std::size_t i = 0; i < ap.size(); ++i) g += 1 / (c.r_p[i] * (ap[i] ? 1 + c.tmr[i] : 1.0));
    return 1 / g;
}

/// Ideal compound levels, ascending resistance (all P first).
inline std::vector<double> compound_levels(const Compound& c) {
    // cells switch in order of |vc_minus|, so the visited states are nested.
    std::vector<std::size_t> order(c.r_p.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return c.vc_minus[a] > c.vc_minus[b]; });
    std::vector<bool> ap(c.r_p.size(), true);
    std::vector<double> lv{compound_r(c, ap)};
    for (auto i : order) {
        ap[i] = false;
        lv.push_back(compound_r(c, ap));
    }
    std::sort(lv.begin(), lv.end());
    return lv;
}

/// R(V): 0 -> -vmax -> 0 -> +vmax -> 0 in steps, starting all AP; read after each pulse.
inline analysis::Sweep rv_loop(const Compound& c, double vmax, double step, double noise, std::mt19937_64& rng,
                               double assist = -6e-3) {
    std::normal_distribution<double> n01;
    analysis::Sweep out;
    std::vector<bool> ap(c.r_p.size(), true);
    const int n = static_cast<int>(std::lround(vmax / step));
    std::vector<double> amps;
    for (int k = 1; k <= n; ++k) amps.push_back(-k * step);
    for (int k = n - 1; k >= 0; --k) amps.push_back(-k * step);
    for (int k = 1; k <= n; ++k) amps.push_back(k * step);
    for (int k = n - 1; k >= 0; --k) amps.push_back(k * step);
    int branch = 0, dir = -1;
    double prev = 0;
    for (double v : amps) {
        const int d = v < prev ? -1 : 1;
        if (d != dir) {
            ++branch;
            dir = d;
        }
        prev = v;
        for (std::size_t i = 0; i < ap.size(); ++i) {
            if (v <= c.vc_minus[i]) ap[i] = false;
            if (v >= c.vc_plus[i]) ap[i] = true;
        }
        out.x.push_back(v);
        out.r_ohm.push_back(compound_r(c, ap) * (1 + noise * n01(rng)));
        out.branch.push_back(branch);
        out.direction.push_back(dir);
        out.assist_T.push_back(v < 0 ? assist : -assist);
    }
    return out;
}

}  // namespace mtjlab::test::synth
