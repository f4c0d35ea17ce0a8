// The two layers agree: the fast layer fitted to LLG runs at 20 and 50 ns predicts the LLG's
// switching probability at 200 ns (V50 and 10-90 % width); the paper-calibrated fast layer and the
// LLG agree on the 200 ns switching voltage.
#include <catch2/catch.hpp>

#include <cmath>

#include "mtjlab/physics/fast_layer.hpp"
#include "mtjlab/physics/llg.hpp"

using namespace mtjlab;
using namespace mtjlab::physics;

namespace {
// Interpolated amplitude (A, magnitude) where the switched fraction crosses `level`.
double crossing(const LlgSwitching& s, double level) {
    for (std::size_t k = 1; k < s.amplitudes_A.size(); ++k) {
        const double p0 = static_cast<double>(s.switched[k - 1]) / s.trials;
        const double p1 = static_cast<double>(s.switched[k]) / s.trials;
        if (p0 < level && p1 >= level) {
            const double t = (level - p0) / (p1 - p0);
            return std::abs(s.amplitudes_A[k - 1] + t * (s.amplitudes_A[k] - s.amplitudes_A[k - 1]));
        }
    }
    return NAN;
}

std::vector<Ampere> amplitudes(double i_ref, double from, double to, int n) {
    std::vector<Ampere> out;
    for (int k = 0; k < n; ++k) out.push_back(Ampere(-i_ref * (from + (to - from) * k / (n - 1))));
    return out;
}
}  // namespace

TEST_CASE("fast layer fitted to LLG at 20/50 ns predicts the LLG at 200 ns", "[sim][llg]") {
    const Calibration cal;
    const CalibrationRow row = cal.at(1.6);
    const LlgParams p = LlgParams::from_calibration(row, cal);
    const double ic = p.critical_current().si();
    const int trials = 40;
    std::vector<FitInput> runs;
    runs.push_back({units::nanoseconds(20), llg_switching(p, amplitudes(ic, 1.08, 1.32, 9), units::nanoseconds(20),
                                                           Tesla(0.0), trials, 1)});
    runs.push_back({units::nanoseconds(50), llg_switching(p, amplitudes(ic, 1.02, 1.20, 9), units::nanoseconds(50),
                                                           Tesla(0.0), trials, 2)});
    const FitResult f = fit_fast_layer(runs, p, Tesla(0.0));
    INFO("fit: Delta0 " << f.delta0 << " I*/I_c0 " << f.i_star.si() / ic << " f0 " << f.f0.si());
    CHECK(f.delta0 > 20.0);
    CHECK(f.f0.si() > 1e7);
    CHECK(f.f0.si() < 1e11);

    const auto llg200 = llg_switching(p, amplitudes(ic, 0.98, 1.14, 17), units::nanoseconds(200), Tesla(0.0),
                                      trials, 3);
    CellParams c;
    c.delta0 = f.delta0;
    c.i_star = f.i_star;
    c.f0 = f.f0;
    c.b = f.b;
    c.h_k = p.b_k;
    c.h_ex = Tesla(0.0);
    const double v50_fast = current_for_probability(c, +1, Tesla(0.0), units::nanoseconds(200), 0.5).si();
    const double w_fast = current_for_probability(c, +1, Tesla(0.0), units::nanoseconds(200), 0.9).si() -
                          current_for_probability(c, +1, Tesla(0.0), units::nanoseconds(200), 0.1).si();
    const double v50_llg = crossing(llg200, 0.5);
    const double w_llg = crossing(llg200, 0.9) - crossing(llg200, 0.1);
    INFO("I50 LLG " << v50_llg / ic << " fast " << v50_fast / ic << "; width LLG " << w_llg / ic << " fast "
                    << w_fast / ic);
    CHECK(v50_fast == Approx(v50_llg).epsilon(0.05));  // 2 % apart at this seed; margin for 40 trials
    // The 10-90 % width is a few % of I_c0. The macrospin's transition is sharper than the b = 2 barrier
    // law implies (about half the width, docs/physics.md): agree within a factor of 2.5.
    CHECK(w_fast < 2.5 * std::max(w_llg, 0.01 * ic));
    CHECK(w_llg < 2.5 * std::max(w_fast, 0.01 * ic));

    // The paper-calibrated fast layer (Delta0 from H_c, I* from V_c) against the LLG at 200 ns:
    // the same switching current within 5 % (docs/physics.md).
    const auto d = nominal_device(1.6, 1);
    const double v50_cal = current_for_probability(d.cells[0], +1, Tesla(0.0), units::nanoseconds(200), 0.5).si();
    // The calibrated cell includes the loop offset H_ex (2.5 mT) which the LLG run does not; compare at the
    // same effective field by removing it.
    CellParams no_offset = d.cells[0];
    no_offset.h_ex = Tesla(0.0);
    const double v50_cal0 = current_for_probability(no_offset, +1, Tesla(0.0), units::nanoseconds(200), 0.5).si();
    INFO("calibrated I50 " << v50_cal / ic << " (without H_ex " << v50_cal0 / ic << ")");
    CHECK(v50_cal0 == Approx(v50_llg).epsilon(0.05));
}

TEST_CASE("LLG fit of (Delta0, I*, f0) per thickness, stored in the calibration", "[sim][llg][slow]") {
    const Calibration cal;
    std::vector<FittedPoint> fitted;
    for (double t : {1.6, 2.1, 2.6}) {
        const CalibrationRow row = cal.at(t);
        const LlgParams p = LlgParams::from_calibration(row, cal);
        const double ic = p.critical_current().si();
        std::vector<FitInput> runs;
        const auto seed = static_cast<std::uint64_t>(t * 100);
        runs.push_back({units::nanoseconds(20), llg_switching(p, amplitudes(ic, 1.06, 1.34, 15),
                                                               units::nanoseconds(20), Tesla(0.0), 64, seed + 1)});
        runs.push_back({units::nanoseconds(50), llg_switching(p, amplitudes(ic, 1.00, 1.22, 12),
                                                               units::nanoseconds(50), Tesla(0.0), 64, seed + 2)});
        const auto at200 = llg_switching(p, amplitudes(ic, 0.98, 1.14, 17), units::nanoseconds(200), Tesla(0.0), 64,
                                         seed + 3);
        runs.push_back({units::nanoseconds(200), at200});
        const FitResult f = fit_fast_layer(runs, p, Tesla(0.0));
        fitted.push_back({t, f.delta0, f.i_star, f.f0, f.b});
        // The fitted fast layer reproduces the LLG's 200 ns switching current.
        CellParams c;
        c.delta0 = f.delta0;
        c.i_star = f.i_star;
        c.f0 = f.f0;
        c.b = f.b;
        c.h_k = p.b_k;
        c.h_ex = Tesla(0.0);
        INFO("t " << t << ": Delta0 " << f.delta0 << " I*/I_c0 " << f.i_star.si() / ic << " f0 " << f.f0.si());
        CHECK(current_for_probability(c, +1, Tesla(0.0), units::nanoseconds(200), 0.5).si() ==
              Approx(crossing(at200, 0.5)).epsilon(0.03));
    }
    // Stored: the calibration accepts them and then uses them.
    Calibration with_fit;
    with_fit.set_fitted(fitted);
    CHECK(with_fit.at(2.1).delta0 == Approx(fitted[1].delta0));
    CHECK(with_fit.at(1.85).i_star.si() ==
          Approx(0.5 * (fitted[0].i_star.si() + fitted[1].i_star.si())).epsilon(1e-9));
}
