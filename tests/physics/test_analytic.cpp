// Analytic limits: Stoner-Wohlfarth astroid (T = 0), equipartition, Brown's escape time, Neel-Brown
// closed forms at 200 ns, Sharrock H_c(sweep rate), read-chain noise.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "mtjlab/physics/constants.hpp"
#include "mtjlab/physics/experiments.hpp"
#include "mtjlab/physics/fast_layer.hpp"
#include "mtjlab/physics/llg.hpp"
#include "mtjlab/physics/probe_station.hpp"

using namespace mtjlab;
using namespace mtjlab::physics;

namespace {
// The smallest field at angle psi (from -y toward +x) that reverses a macrospin starting along +y.
double llg_switching_field(double psi, const LlgParams& p) {
    double lo = 0.2;
    double hi = 1.2;
    for (int it = 0; it < 14; ++it) {
        const double h = 0.5 * (lo + hi);
        LlgBatch b(p, 1, 1);
        b.set_temperature(0.0);
        b.set_all(0.0, 1.0, 0.0);
        const Tesla hy(-h * std::cos(psi) * p.b_k.si());
        const Tesla hx(h * std::sin(psi) * p.b_k.si());
        b.run(units::nanoseconds(3.0), units::nanoseconds(0.0005), hy, Ampere(0.0), hx);
        // Remove the field and relax: which well did it end in?
        b.run(units::nanoseconds(2.0), units::nanoseconds(0.0005), Tesla(0.0), Ampere(0.0));
        (b.my()[0] < 0.0 ? hi : lo) = h;
    }
    return 0.5 * (lo + hi);
}
}  // namespace

TEST_CASE("LLG at T = 0 reproduces the Stoner-Wohlfarth astroid", "[unit][sim][llg]") {
    LlgParams p;
    p.alpha = 0.5;  // fast relaxation; the static switching field does not depend on damping
    p.b_k = units::millitesla(50.0);
    for (double deg : {10.0, 30.0, 45.0, 60.0, 75.0}) {
        const double psi = deg * pi / 180.0;
        const double c = std::pow(std::cos(psi), 2.0 / 3.0);
        const double s = std::pow(std::sin(psi), 2.0 / 3.0);
        const double expected = 1.0 / std::pow(c + s, 1.5);
        INFO("psi = " << deg << " deg");
        CHECK(llg_switching_field(psi, p) == Approx(expected).epsilon(0.02));
    }
}

TEST_CASE("LLG thermal fluctuations obey equipartition", "[unit][sim][llg]") {
    LlgParams p;  // 1.6 nm cell: B_K = 14 mT, mu0 M_eff = 0.39 T
    LlgBatch b(p, 512, 11);
    const Second dt = units::nanoseconds(0.001);
    b.run(units::nanoseconds(3.0), dt, Tesla(0.0), Ampere(0.0));
    double sx = 0.0;
    double sz = 0.0;
    int samples = 0;
    for (int k = 0; k < 40; ++k) {
        b.run(units::nanoseconds(0.1), dt, Tesla(0.0), Ampere(0.0));
        for (int i = 0; i < b.size(); ++i) {
            sx += b.mx()[i] * b.mx()[i];
            sz += b.mz()[i] * b.mz()[i];
        }
        samples += b.size();
    }
    const double kt = k_boltzmann * p.temperature_K;
    const double msv = p.ms_A_per_m * p.volume_m3;
    CHECK(sx / samples == Approx(kt / (msv * p.b_k.si())).epsilon(0.06));
    CHECK(sz / samples == Approx(kt / (msv * (p.b_k.si() + p.mu0_meff.si()))).epsilon(0.06));
}

TEST_CASE("LLG escape rate matches Brown's high-barrier formula at Delta = 8", "[sim][llg]") {
    // Uniaxial particle (no easy plane), alpha = 1: Brown's asymptote for the longest relaxation time
    // tau = tau_N (sqrt(pi)/2) Delta^(-3/2) e^Delta, tau_N = Ms V (1 + alpha^2) / (2 alpha gamma kB T);
    // each well is left at the rate 1 / (2 tau).
    LlgParams p;
    p.alpha = 1.0;
    p.mu0_meff = Tesla(0.0);
    p.b_k = units::millitesla(50.0);
    const double delta = 8.0;
    const double kt = k_boltzmann * p.temperature_K;
    p.volume_m3 = 2.0 * delta * kt / (p.ms_A_per_m * p.b_k.si());
    REQUIRE(p.delta0() == Approx(delta));
    const double tau_n = p.ms_A_per_m * p.volume_m3 * 2.0 / (2.0 * gamma_e * kt);
    const double tau = tau_n * std::sqrt(pi) / 2.0 * std::pow(delta, -1.5) * std::exp(delta);
    const int cells = 512;
    LlgBatch b(p, cells, 5);
    std::vector<int> well(cells, +1);
    long transitions = 0;
    const Second dt = units::nanoseconds(0.002);
    const long steps = 120000;
    for (long k = 0; k < steps; ++k) {
        b.step(dt, Tesla(0.0), Ampere(0.0));
        for (int i = 0; i < cells; ++i) {
            const double my = b.my()[i];
            if (well[i] > 0 && my < -0.5) {
                well[i] = -1;
                ++transitions;
            } else if (well[i] < 0 && my > 0.5) {
                well[i] = +1;
                ++transitions;
            }
        }
    }
    const double rate = static_cast<double>(transitions) / (cells * steps * dt.si());
    INFO("transitions " << transitions);
    REQUIRE(transitions > 200);
    CHECK(rate == Approx(1.0 / (2.0 * tau)).epsilon(0.2));
}

TEST_CASE("fast layer: Neel-Brown closed forms for V50 and the 10-90 % width at 200 ns", "[unit][sim]") {
    const auto d = nominal_device(1.9, 1);
    const CellParams& c = d.cells[0];
    const double r_total = d.channel.r_channel.si() + d.channel.r_source.si();
    const double tau = 200e-9;
    // Closed form: Delta0 (1 - H_ex/H_K)^2 (1 - I/I*)^b = ln(f0 tau / -ln(1 - P)).
    const auto v_at = [&](double prob) {
        const double hf = 1.0 - c.h_ex.si() / c.h_k.si();
        const double need = std::log(c.f0.si() * tau / -std::log(1.0 - prob));
        return r_total * c.i_star.si() * (1.0 - std::pow(need / (c.delta0 * hf * hf), 1.0 / c.b));
    };
    const double v50 = v_at(0.5);
    const double width = v_at(0.9) - v_at(0.1);
    CHECK(v50 == Approx(current_for_probability(c, +1, Tesla(0.0), units::nanoseconds(200), 0.5).si() * r_total));
    // Monte Carlo through the ProbeStation's pulse integration.
    std::vector<Volt> amps;
    for (int k = -10; k <= 10; ++k) amps.push_back(Volt(-(v50 + k * width / 8.0)));
    const auto r = psw_fast(d, amps, units::nanoseconds(200), Tesla(0.0), 4000, 99);
    const auto crossing = [&](double level) -> double {
        for (std::size_t k = 1; k < r.volts.size(); ++k) {
            if (r.p_switch[k - 1] < level && r.p_switch[k] >= level) {
                const double t = (level - r.p_switch[k - 1]) / (r.p_switch[k] - r.p_switch[k - 1]);
                return -(r.volts[k - 1] + t * (r.volts[k] - r.volts[k - 1]));
            }
        }
        return NAN;
    };
    CHECK(crossing(0.5) == Approx(v50).epsilon(0.002));
    CHECK(crossing(0.9) - crossing(0.1) == Approx(width).epsilon(0.1));
    for (std::size_t k = 0; k < r.volts.size(); ++k) CHECK(r.p_switch[k] == Approx(r.p_analytic[k]).margin(0.03));
}

TEST_CASE("fast layer: switching field follows Sharrock's law versus sweep rate", "[unit][sim]") {
    const auto d = nominal_device(2.2, 1);
    const CellParams& c = d.cells[0];
    double previous = 0.0;
    for (double rate_mT_s : {0.1, 1.0, 100.0, 1e4}) {
        const double rate = rate_mT_s * 1e-3;
        const Tesla step = units::millitesla(0.01);
        const Second dwell(step.si() / rate);
        std::vector<double> fields;
        for (int loop = 0; loop < 40; ++loop) {
            ProbeStation st(d, ReadChain{}, 100 + static_cast<std::uint64_t>(loop));
            double h = c.h_ex.si();
            while (st.cells_parallel() == 0 && h > -0.03) {
                h -= step.si();
                st.set_field(Tesla(h));
                st.advance(dwell);
            }
            fields.push_back(c.h_ex.si() - h + 0.5 * step.si());
        }
        const double mean = std::accumulate(fields.begin(), fields.end(), 0.0) / static_cast<double>(fields.size());
        const double expected = sharrock_switching_field(c.delta0, c.h_k, c.f0, rate).si();
        INFO("rate " << rate_mT_s << " mT/s");
        CHECK(mean == Approx(expected).margin(0.05e-3));
        CHECK(mean > previous);
        previous = mean;
    }
    // The calibration point: 10 mT at 1 mT/s.
    CHECK(sharrock_switching_field(c.delta0, c.h_k, c.f0, 1e-3).si() == Approx(10e-3).epsilon(1e-3));
}

TEST_CASE("read chain: lock-in noise is Johnson + input noise in the ENBW", "[unit][sim]") {
    auto d = nominal_device(2.0, 1);
    ReadChain rc;
    rc.cable_capacitance_F = 0.0;
    ProbeStation st(d, rc, 17);
    const Ohm r = st.junction_resistance();
    const Second tau = units::milliseconds(30.0);
    const int n = 20000;
    double sum = 0.0;
    double sum2 = 0.0;
    for (int k = 0; k < n; ++k) {
        const double x = st.read_lockin(units::volts(0.1), units::hertz(1000), tau).x.si();
        sum += x;
        sum2 += x * x;
    }
    const double mean = sum / n;
    const double sd = std::sqrt(sum2 / n - mean * mean);
    const double r_par = r.si() * 1e6 / (r.si() + 1e6);
    const double expected = std::sqrt(4 * k_boltzmann * 300.0 * r_par + 6e-9 * 6e-9) * std::sqrt(1.0 / (4 * tau.si()));
    CHECK(sd == Approx(expected).epsilon(0.03));
    // The mean follows the divider; the few-mV read bias lowers R_AP by ~(V/V_h)^2 (1e-4 relative).
    CHECK(mean == Approx(0.1 * r.si() / (r.si() + 1e6)).epsilon(2e-4));
    CHECK(rc.enbw(tau).si() == Approx(1.0 / (4 * tau.si())));
}
