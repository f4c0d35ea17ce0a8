#include "mtjlab/physics/llg.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/physics/constants.hpp"
#include "mtjlab/physics/fast_layer.hpp"
#include "mtjlab/physics/rng.hpp"

namespace mtjlab::physics {

namespace {

// Branch-free, vectorisable approximations used for the thermal noise (accurate to ~1e-12 relative,
// far below what the noise statistics can resolve).
inline double fast_log(double x) {
    const auto bits = std::bit_cast<std::uint64_t>(x);
    double e = static_cast<double>(static_cast<std::int64_t>((bits >> 52) & 0x7ff) - 1023);
    double m = std::bit_cast<double>((bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL);  // [1, 2)
    const bool big = m > 1.4142135623730951;
    m = big ? 0.5 * m : m;
    e = big ? e + 1.0 : e;
    const double s = (m - 1.0) / (m + 1.0);
    const double s2 = s * s;
    const double poly =
        2.0 + s2 * (2.0 / 3 + s2 * (2.0 / 5 + s2 * (2.0 / 7 + s2 * (2.0 / 9 + s2 * (2.0 / 11 + s2 * (2.0 / 13))))));
    return e * 0.69314718055994530942 + s * poly;
}

// sin and cos of y in [-pi/2, pi/2] (Taylor to x^15 / x^16).
inline double sin_half(double y) {
    const double y2 = y * y;
    return y * (1.0 + y2 * (-1.0 / 6 + y2 * (1.0 / 120 + y2 * (-1.0 / 5040 + y2 * (1.0 / 362880 +
               y2 * (-1.0 / 39916800 + y2 * (1.0 / 6227020800.0 + y2 * (-1.0 / 1307674368000.0))))))));
}
inline double cos_half(double y) {
    const double y2 = y * y;
    return 1.0 + y2 * (-0.5 + y2 * (1.0 / 24 + y2 * (-1.0 / 720 + y2 * (1.0 / 40320 + y2 * (-1.0 / 3628800 +
           y2 * (1.0 / 479001600.0 + y2 * (-1.0 / 87178291200.0 + y2 * (1.0 / 20922789888000.0))))))));
}

inline std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// One xoshiro256+ step on lane state (a, b, c, d); returns 64 random bits.
inline std::uint64_t xoshiro_plus(std::uint64_t& a, std::uint64_t& b, std::uint64_t& c, std::uint64_t& d) {
    const std::uint64_t result = a + d;
    const std::uint64_t t = b << 17;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 45);
    return result;
}

// Uniform in (0, 1] and in [0, 1) from the top 52 bits, without integer-to-double conversion.
inline double unit_open0(std::uint64_t r) { return 2.0 - std::bit_cast<double>((r >> 12) | 0x3ff0000000000000ULL); }
inline double unit_closed0(std::uint64_t r) { return std::bit_cast<double>((r >> 12) | 0x3ff0000000000000ULL) - 1.0; }

// Box-Muller pair from two uniforms.
inline void box_muller(double u1, double u2, double& z1, double& z2) {
    const double r = std::sqrt(-2.0 * fast_log(u1));
    const double a = 2.0 * pi * (u2 - 0.5);  // [-pi, pi)
    // Fold into [-pi/2, pi/2]: sin keeps its value, cos changes sign (branch-free selects).
    const bool hi = a > 0.5 * pi;
    const bool lo = a < -0.5 * pi;
    const double y = hi ? pi - a : (lo ? -pi - a : a);
    const double cs = (hi || lo) ? -1.0 : 1.0;
    z1 = r * cs * cos_half(y);
    z2 = r * sin_half(y);
}

}  // namespace

void LlgParams::validate() const {
    const auto positive = [](double v, const char* what) {
        if (!(std::isfinite(v) && v > 0.0)) throw InputError(fmt::format("LLG {} = {} is outside (0, inf)", what, v));
    };
    positive(ms_A_per_m, "Ms (A/m)");
    positive(volume_m3, "volume (m^3)");
    positive(thickness_m, "thickness (m)");
    positive(alpha, "alpha");
    positive(b_k.si(), "B_K (T)");
    positive(channel_cross_section_m2, "channel cross-section (m^2)");
    if (!(std::isfinite(mu0_meff.si()))) throw InputError("LLG mu0 M_eff is not finite");
    if (!(std::isfinite(temperature_K) && temperature_K >= 0.0))
        throw InputError(fmt::format("LLG temperature = {} K is outside [0, inf)", temperature_K));
    if (!std::isfinite(theta_sh) || !std::isfinite(fl_ratio)) throw InputError("LLG theta_SH or B_FL/B_DL not finite");
    if (polarity != 1.0 && polarity != -1.0) throw InputError("LLG polarity must be +1 or -1");
}

double LlgParams::delta0() const {
    return ms_A_per_m * volume_m3 * b_k.si() / (2.0 * k_boltzmann * temperature_K);
}

double LlgParams::b_dl_per_ampere() const {
    return hbar * theta_sh / (2.0 * e_charge * ms_A_per_m * thickness_m * channel_cross_section_m2);
}

Ampere LlgParams::critical_current() const {
    return Ampere(alpha * (b_k.si() + 0.5 * mu0_meff.si()) / b_dl_per_ampere());
}

LlgParams LlgParams::from_calibration(const CalibrationRow& row, const Calibration& cal) {
    LlgParams p;
    p.ms_A_per_m = cal.options().mu0_ms_T / mu0;
    p.thickness_m = row.thickness_nm * 1e-9;
    p.volume_m3 = cell_volume_m3(row.thickness_nm);
    p.b_k = row.h_k;
    p.mu0_meff = row.mu0_meff;
    p.temperature_K = cal.options().temperature_K;
    // Effective spin Hall angle: the macrospin's zero-temperature critical current equals the paper's
    // critical current V_c / (R_source + R_channel(1 cell)) (docs/physics.md: eq. (1) with theta = 0.11
    // needs ~3x more current than the paper's V_c implies).
    p.theta_sh = 1.0;
    const double i_c = row.v_c_target.si() / (cal.options().r_source.si() + channel_resistance_for(1).si());
    p.theta_sh = p.critical_current().si() / i_c;
    return p;
}

LlgParams LlgParams::from_cell(const CellParams& cell, double thickness_nm, const Calibration& cal) {
    check_thickness(thickness_nm);
    LlgParams p;
    p.ms_A_per_m = cal.options().mu0_ms_T / mu0;
    p.thickness_m = thickness_nm * 1e-9;
    p.b_k = cell.h_k;
    p.temperature_K = cal.options().temperature_K;
    p.volume_m3 = 2.0 * k_boltzmann * p.temperature_K * cell.delta0 / (p.ms_A_per_m * cell.h_k.si());
    p.mu0_meff = Tesla(cal.options().mu0_ms_T - 2.0 * cal.options().k_s_J_per_m2 / (p.ms_A_per_m * p.thickness_m));
    p.polarity = cell.polarity;
    CellParams no_offset = cell;
    no_offset.h_ex = Tesla(0.0);
    const double i_c = current_for_probability(no_offset, +1, Tesla(0.0), cal.options().pulse_width_ref, 0.5).si();
    p.theta_sh = 1.0;
    p.theta_sh = p.critical_current().si() / i_c;
    return p;
}

void LlgParams::sample_equilibrium(int s, double& x, double& y, double& z, Rng& rng) const {
    const double kt = k_boltzmann * temperature_K;
    const double msv = ms_A_per_m * volume_m3;
    x = rng.normal() * std::sqrt(kt / (msv * b_k.si()));
    z = rng.normal() * std::sqrt(kt / (msv * (b_k.si() + std::max(0.0, mu0_meff.si()))));
    y = s * std::sqrt(std::max(0.0, 1.0 - x * x - z * z));
}

void LlgBatch::set_cell(int i, double x, double y, double z) {
    if (i < 0 || i >= n_) throw InputError(fmt::format("LLG cell {} is outside [0, {}]", i, n_ - 1));
    const double norm = std::sqrt(x * x + y * y + z * z);
    if (!(norm > 0.0) || !std::isfinite(norm)) throw InputError("LLG direction must be a non-zero vector");
    const auto k = static_cast<std::size_t>(i);
    mx_[k] = x / norm;
    my_[k] = y / norm;
    mz_[k] = z / norm;
}

LlgBatch::LlgBatch(LlgParams params, int cells, std::uint64_t seed) : p_(params), n_(cells) {
    p_.validate();
    b_dl_per_ampere_ = p_.b_dl_per_ampere();
    if (cells < 1) throw InputError(fmt::format("LLG cells {} is outside [1, inf)", cells));
    const auto n = static_cast<std::size_t>(n_);
    mx_.assign(n, 0.0);
    my_.assign(n, 1.0);
    mz_.assign(n, 0.0);
    nx_.assign(n, 0.0);
    ny_.assign(n, 0.0);
    nz_.assign(n, 0.0);
    spare_.assign(n, 0.0);
    s0_.resize(n);
    s1_.resize(n);
    s2_.resize(n);
    s3_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        std::uint64_t s = mix_seed(seed, i, 0x11);
        s0_[i] = splitmix64(s);
        s1_[i] = splitmix64(s);
        s2_[i] = splitmix64(s);
        s3_[i] = splitmix64(s);
    }
}

void LlgBatch::set_all(double x, double y, double z) {
    const double norm = std::sqrt(x * x + y * y + z * z);
    if (!(norm > 0.0) || !std::isfinite(norm)) throw InputError("LLG initial direction must be a non-zero vector");
    std::fill(mx_.begin(), mx_.end(), x / norm);
    std::fill(my_.begin(), my_.end(), y / norm);
    std::fill(mz_.begin(), mz_.end(), z / norm);
}

void LlgBatch::set_temperature(double kelvin) {
    if (!(std::isfinite(kelvin) && kelvin >= 0.0))
        throw InputError(fmt::format("LLG temperature = {} K is outside [0, inf)", kelvin));
    p_.temperature_K = kelvin;
    cached_dt_ = -1.0;
}

namespace {

struct StepConsts {
    double dt, alpha, g, sig, c1, c2, bk, meff, hx, hy;
};

[[gnu::always_inline]] inline void noise_cell(std::uint64_t* __restrict a, std::uint64_t* __restrict b,
                                              std::uint64_t* __restrict c, std::uint64_t* __restrict d,
                                              double* __restrict nx, double* __restrict ny, double* __restrict nz,
                                              std::size_t i) {
    std::uint64_t aa = a[i], bb = b[i], cc = c[i], dd = d[i];
    const double u1 = unit_open0(xoshiro_plus(aa, bb, cc, dd));
    const double u2 = unit_closed0(xoshiro_plus(aa, bb, cc, dd));
    const double u3 = unit_open0(xoshiro_plus(aa, bb, cc, dd));
    const double u4 = unit_closed0(xoshiro_plus(aa, bb, cc, dd));
    a[i] = aa;
    b[i] = bb;
    c[i] = cc;
    d[i] = dd;
    double z1, z2, z3, z4;
    box_muller(u1, u2, z1, z2);
    box_muller(u3, u4, z3, z4);
    nx[i] = z1;
    ny[i] = z2;
    nz[i] = z3;
    (void)z4;
}

// Right-hand side of the LL equation at m = (x, y, z) with total field offset (tx, ty, tz); s = y and the
// polarity sits in c1, c2.
[[gnu::always_inline]] inline void rhs(const StepConsts& k, double tx, double ty, double tz, double x, double y,
                                       double z, double& dx, double& dy, double& dz) {
    const double bx = tx;
    const double by = ty + k.bk * y;
    const double bz = tz - k.meff * z;
    const double ax = y * bz - z * by;  // m x B
    const double ay = z * bx - x * bz;
    const double az = x * by - y * bx;
    const double ddx = y * az - z * ay;  // m x (m x B)
    const double ddy = z * ax - x * az;
    const double ddz = x * ay - y * ax;
    // m x s = (-z, 0, x); m x (m x s) = m (m.s) - s |m|^2 = (x y, y^2 - |m|^2, z y)
    dx = -k.g * (ax + k.alpha * ddx - k.c1 * z + k.c2 * (x * y));
    dy = -k.g * (ay + k.alpha * ddy + k.c2 * (y * y - (x * x + y * y + z * z)));
    dz = -k.g * (az + k.alpha * ddz + k.c1 * x + k.c2 * (z * y));
}

[[gnu::always_inline]] inline void heun_cell(const StepConsts& k, double* __restrict mx, double* __restrict my,
                                             double* __restrict mz, const double* __restrict nx,
                                             const double* __restrict ny, const double* __restrict nz,
                                             std::size_t i) {
    const double tx = k.hx + k.sig * nx[i];
    const double ty = k.hy + k.sig * ny[i];
    const double tz = k.sig * nz[i];
    const double x0 = mx[i], y0 = my[i], z0 = mz[i];
    double k1x, k1y, k1z, k2x, k2y, k2z;
    rhs(k, tx, ty, tz, x0, y0, z0, k1x, k1y, k1z);
    rhs(k, tx, ty, tz, x0 + k.dt * k1x, y0 + k.dt * k1y, z0 + k.dt * k1z, k2x, k2y, k2z);
    const double x1 = x0 + 0.5 * k.dt * (k1x + k2x);
    const double y1 = y0 + 0.5 * k.dt * (k1y + k2y);
    const double z1 = z0 + 0.5 * k.dt * (k1z + k2z);
    const double inv = 1.0 / std::sqrt(x1 * x1 + y1 * y1 + z1 * z1);
    mx[i] = x1 * inv;
    my[i] = y1 * inv;
    mz[i] = z1 * inv;
}

}  // namespace

void LlgBatch::fill_noise() {
    const std::size_t n = mx_.size();
    std::uint64_t* __restrict a = s0_.data();
    std::uint64_t* __restrict b = s1_.data();
    std::uint64_t* __restrict c = s2_.data();
    std::uint64_t* __restrict d = s3_.data();
    double* __restrict nx = nx_.data();
    double* __restrict ny = ny_.data();
    double* __restrict nz = nz_.data();
    if (n >= 8) {
#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) noise_cell(a, b, c, d, nx, ny, nz, i);
    } else {
        for (std::size_t i = 0; i < n; ++i) noise_cell(a, b, c, d, nx, ny, nz, i);
    }
}

void LlgBatch::step(Second dt_s, Tesla h_y, Ampere current, Tesla h_x) {
    StepConsts k{};
    k.dt = dt_s.si();
    k.alpha = p_.alpha;
    k.g = gamma_e / (1.0 + k.alpha * k.alpha);
    if (k.dt != cached_dt_) {  // the thermal-field amplitude depends on dt only: compute it once
        cached_dt_ = k.dt;
        cached_sigma_ = p_.temperature_K > 0.0 ? std::sqrt(2.0 * k.alpha * k_boltzmann * p_.temperature_K /
                                                          (gamma_e * p_.ms_A_per_m * p_.volume_m3 * k.dt))
                                               : 0.0;
    }
    k.sig = cached_sigma_;
    const double b_dl = b_dl_per_ampere_ * current.si();
    const double b_fl = p_.fl_ratio * b_dl;
    k.c1 = (b_fl - k.alpha * b_dl) * p_.polarity;  // coefficient of m x s
    k.c2 = (b_dl + k.alpha * b_fl) * p_.polarity;  // coefficient of m x (m x s)
    k.bk = p_.b_k.si();
    k.meff = p_.mu0_meff.si();
    k.hx = h_x.si();
    k.hy = h_y.si();
    if (k.sig > 0.0) fill_noise();
    const std::size_t n = mx_.size();
    double* __restrict mx = mx_.data();
    double* __restrict my = my_.data();
    double* __restrict mz = mz_.data();
    const double* __restrict nx = nx_.data();
    const double* __restrict ny = ny_.data();
    const double* __restrict nz = nz_.data();
    if (n >= 8) {
#pragma omp simd
        for (std::size_t i = 0; i < n; ++i) heun_cell(k, mx, my, mz, nx, ny, nz, i);
    } else {
        for (std::size_t i = 0; i < n; ++i) heun_cell(k, mx, my, mz, nx, ny, nz, i);
    }
}

long LlgBatch::run(Second duration, Second dt, Tesla h_y, Ampere current, Tesla h_x) {
    if (!(dt.si() > 0.0) || !std::isfinite(dt.si())) throw InputError("LLG dt must be > 0");
    if (!(duration.si() >= 0.0) || !std::isfinite(duration.si())) throw InputError("LLG duration must be >= 0");
    const long steps = std::lround(duration.si() / dt.si());
    for (long k = 0; k < steps; ++k) step(dt, h_y, current, h_x);
    return steps;
}

void LlgBatch::run_pulse(Ampere amplitude, Second rise, Second plateau, Second fall, Second dt, Tesla h_y) {
    if (!(dt.si() > 0.0)) throw InputError("LLG dt must be > 0");
    const long n_rise = std::lround(rise.si() / dt.si());
    const long n_fall = std::lround(fall.si() / dt.si());
    for (long k = 0; k < n_rise; ++k) step(dt, h_y, amplitude * ((static_cast<double>(k) + 0.5) / static_cast<double>(n_rise)));
    run(plateau, dt, h_y, amplitude);
    for (long k = 0; k < n_fall; ++k) step(dt, h_y, amplitude * (1.0 - (static_cast<double>(k) + 0.5) / static_cast<double>(n_fall)));
}

LlgSwitching llg_switching(const LlgParams& p, const std::vector<Ampere>& amplitudes, Second width, Tesla h_y,
                           int trials, std::uint64_t seed, Second dt, Second settle) {
    if (trials < 1) throw InputError(fmt::format("trials {} is outside [1, inf)", trials));
    if (!(width.si() >= 0.0)) throw InputError(fmt::format("width {} s is outside [0, inf)", width.si()));
    LlgSwitching out;
    out.trials = trials;
    for (std::size_t k = 0; k < amplitudes.size(); ++k) {
        const Ampere i = amplitudes[k];
        const double start = i.si() <= 0.0 ? 1.0 : -1.0;  // negative current: AP -> P
        LlgBatch batch(p, trials, mix_seed(seed, k, 0x5A));
        batch.set_all(0.0, start, 0.0);
        batch.run(settle, dt, h_y, Ampere(0.0));  // thermalise in the start well
        batch.run(width, dt, h_y, i);
        batch.run(settle, dt, h_y, Ampere(0.0));
        int n = 0;
        for (double my : batch.my()) n += (my * start < 0.0) ? 1 : 0;
        out.amplitudes_A.push_back(i.si());
        out.switched.push_back(n);
    }
    return out;
}

namespace {

double model_p(double delta0, double i_star, double f0, double b, double hf, double i_abs, double tau) {
    const double u = 1.0 - i_abs / i_star;
    const double barrier = u > 0.0 ? delta0 * hf * std::pow(u, b) : 0.0;
    return -std::expm1(-f0 * tau * std::exp(-barrier));
}

}  // namespace

FitResult fit_fast_layer(const std::vector<FitInput>& runs, const LlgParams& p, Tesla h_y, double b) {
    if (runs.empty()) throw InputError("fit_fast_layer: no LLG runs given");
    const double h = h_y.si() / p.b_k.si();
    // AP -> P with negative current: the field factor [1 + h]^2 (h < 0 assists).
    const double hf = std::max(0.0, 1.0 + h) * std::max(0.0, 1.0 + h);
    const auto nll = [&](const std::array<double, 3>& x) {
        const double delta0 = std::exp(x[0]);
        const double i_star = std::exp(x[1]);
        const double f0 = std::exp(x[2]);
        double sum = 0.0;
        for (const auto& r : runs) {
            for (std::size_t k = 0; k < r.data.amplitudes_A.size(); ++k) {
                const double pp = std::clamp(
                    model_p(delta0, i_star, f0, b, hf, std::abs(r.data.amplitudes_A[k]), r.width.si()), 1e-9,
                    1.0 - 1e-9);
                const int s = r.data.switched[k];
                sum -= s * std::log(pp) + (r.data.trials - s) * std::log1p(-pp);
            }
        }
        return sum;
    };
    // Nelder-Mead in (ln Delta0, ln I*, ln f0).
    std::array<std::array<double, 3>, 4> simplex{};
    simplex[0] = {std::log(p.delta0()), std::log(p.critical_current().si()), std::log(1e9)};
    for (int k = 1; k < 4; ++k) {
        simplex[k] = simplex[0];
        simplex[k][k - 1] += k == 2 ? 0.05 : 0.5;
    }
    std::array<double, 4> f{};
    for (int k = 0; k < 4; ++k) f[k] = nll(simplex[k]);
    for (int it = 0; it < 4000; ++it) {
        std::array<int, 4> idx{0, 1, 2, 3};
        std::sort(idx.begin(), idx.end(), [&](int a, int c) { return f[a] < f[c]; });
        const int best = idx[0], worst = idx[3], second = idx[2];
        if (std::abs(f[worst] - f[best]) < 1e-10 * (1.0 + std::abs(f[best])) && it > 50) break;
        std::array<double, 3> centre{};
        for (int k = 0; k < 3; ++k) {
            for (int j = 0; j < 3; ++j) centre[j] += simplex[idx[k]][j] / 3.0;
        }
        const auto along = [&](double t) {
            std::array<double, 3> x{};
            for (int j = 0; j < 3; ++j) x[j] = centre[j] + t * (simplex[worst][j] - centre[j]);
            return x;
        };
        const auto xr = along(-1.0);
        const double fr = nll(xr);
        if (fr < f[best]) {
            const auto xe = along(-2.0);
            const double fe = nll(xe);
            if (fe < fr) {
                simplex[worst] = xe;
                f[worst] = fe;
            } else {
                simplex[worst] = xr;
                f[worst] = fr;
            }
        } else if (fr < f[second]) {
            simplex[worst] = xr;
            f[worst] = fr;
        } else {
            const auto xc = along(0.5);
            const double fc = nll(xc);
            if (fc < f[worst]) {
                simplex[worst] = xc;
                f[worst] = fc;
            } else {
                for (int k = 1; k < 4; ++k) {
                    for (int j = 0; j < 3; ++j) simplex[idx[k]][j] = 0.5 * (simplex[idx[k]][j] + simplex[best][j]);
                    f[idx[k]] = nll(simplex[idx[k]]);
                }
            }
        }
    }
    const int best = static_cast<int>(std::min_element(f.begin(), f.end()) - f.begin());
    FitResult r;
    r.delta0 = std::exp(simplex[best][0]);
    r.i_star = Ampere(std::exp(simplex[best][1]));
    r.f0 = Hertz(std::exp(simplex[best][2]));
    r.b = b;
    r.neg_log_likelihood = f[best];
    return r;
}

}  // namespace mtjlab::physics
