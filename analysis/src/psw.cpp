#include "mtjlab/analysis/psw.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace mtjlab::analysis {
namespace {

double phi(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI); }
double Phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double loglik(const std::vector<PswPoint>& t, double a, double b) {
    double ll = 0;
    for (const auto& p : t) {
        const double q = std::clamp(Phi(a + b * p.amplitude_V), 1e-300, 1 - 1e-16);
        ll += p.switched * std::log(q) + (p.trials - p.switched) * std::log1p(-q);
    }
    return ll;
}

}  // namespace

PswResult fit_switching_probability(const Trials& trials) {
    PswResult res;
    auto fail = [&](const std::string& why) {
        res.error = why;
        res.v50_V = Extracted::none(why);
        res.width_V = Extracted::none(why);
        return res;
    };
    if (trials.amplitude_V.size() != trials.switched.size())
        return fail(fmt::format("amplitude and switched columns differ in length ({} vs {})", trials.amplitude_V.size(),
                                trials.switched.size()));
    std::map<double, PswPoint> by;
    std::size_t bad = 0;
    for (std::size_t i = 0; i < trials.amplitude_V.size(); ++i) {
        const double v = trials.amplitude_V[i];
        const int s = trials.switched[i];
        if (!std::isfinite(v) || (s != 0 && s != 1)) {
            ++bad;
            continue;
        }
        auto& p = by[v];
        p.amplitude_V = v;
        ++p.trials;
        p.switched += s;
    }
    for (const auto& [v, p] : by) res.table.push_back(p);
    if (res.table.size() < 2) return fail(fmt::format("need trials at two or more amplitudes (have {})", res.table.size()));
    int total_sw = 0, total = 0;
    for (const auto& p : res.table) {
        total_sw += p.switched;
        total += p.trials;
    }
    const double vmin = res.table.front().amplitude_V, vmax = res.table.back().amplitude_V;
    if (total_sw == 0) return fail(fmt::format("never switched in {} trials between {:.3g} and {:.3g} V", total, vmin, vmax));
    if (total_sw == total) return fail(fmt::format("always switched in {} trials between {:.3g} and {:.3g} V", total, vmin, vmax));

    // Polarity from the correlation of the switched fraction with the amplitude.
    double sv = 0, sf = 0, svf = 0, svv = 0, n = 0;
    for (const auto& p : res.table) {
        const double f = double(p.switched) / p.trials;
        sv += p.amplitude_V;
        sf += f;
        svf += p.amplitude_V * f;
        svv += p.amplitude_V * p.amplitude_V;
        n += 1;
    }
    const double cov = svf / n - (sv / n) * (sf / n);
    res.polarity = cov > 0 ? 1 : (cov < 0 ? -1 : 0);
    if (res.polarity == 0) return fail("switching probability does not change with amplitude");

    // Complete separation: along the polarity, every amplitude is all-0 up to some point and all-1 after.
    {
        auto ordered = res.table;
        if (res.polarity < 0) std::reverse(ordered.begin(), ordered.end());
        std::size_t k = 0;
        while (k < ordered.size() && ordered[k].switched == 0) ++k;
        std::size_t m = k;
        while (m < ordered.size() && ordered[m].switched == ordered[m].trials) ++m;
        if (m == ordered.size() && k > 0 && k < ordered.size()) {
            const double a = ordered[k - 1].amplitude_V, b = ordered[k].amplitude_V;
            res.v50_V = Extracted::of(0.5 * (a + b), 0.5 * std::abs(b - a));
            res.width_V = Extracted::none(fmt::format(
                "complete separation between {:.4g} and {:.4g} V: width below the amplitude step", a, b));
            return res;
        }
    }

    // Fisher scoring for eta = a + b V.
    double vbar = sv / n;
    double spread = std::max(1e-12, std::sqrt(std::max(svv / n - vbar * vbar, 0.0)));
    double b = res.polarity / spread;
    double a = -b * vbar;
    double ll = loglik(res.table, a, b);
    bool converged = false;
    double i00 = 0, i01 = 0, i11 = 0;
    for (int it = 0; it < 200; ++it) {
        double g0 = 0, g1 = 0;
        i00 = i01 = i11 = 0;
        for (const auto& p : res.table) {
            const double eta = a + b * p.amplitude_V;
            const double q = std::clamp(Phi(eta), 1e-12, 1 - 1e-12);
            const double d = phi(eta);
            const double resid = (p.switched - p.trials * q) * d / (q * (1 - q));
            const double w = p.trials * d * d / (q * (1 - q));
            g0 += resid;
            g1 += resid * p.amplitude_V;
            i00 += w;
            i01 += w * p.amplitude_V;
            i11 += w * p.amplitude_V * p.amplitude_V;
        }
        const double det = i00 * i11 - i01 * i01;
        if (!(det > 0)) break;
        double da = (i11 * g0 - i01 * g1) / det;
        double db = (i00 * g1 - i01 * g0) / det;
        double step = 1.0;
        double nll = loglik(res.table, a + da, b + db);
        while (nll < ll - 1e-12 && step > 1e-6) {
            step *= 0.5;
            nll = loglik(res.table, a + step * da, b + step * db);
        }
        a += step * da;
        b += step * db;
        const double change = std::abs(nll - ll);
        ll = nll;
        res.iterations = it + 1;
        if (change < 1e-10 && std::abs(step * db) < 1e-9 * std::abs(b) + 1e-12) {
            converged = true;
            break;
        }
    }
    res.log_likelihood = ll;
    const double det = i00 * i11 - i01 * i01;
    if (!converged || !(det > 0) || b == 0 || !std::isfinite(a) || !std::isfinite(b))
        return fail("probit fit did not converge");
    // Covariance = inverse Fisher information at the optimum.
    const double c00 = i11 / det, c01 = -i01 / det, c11 = i00 / det;
    const double v50 = -a / b;
    const double g0 = -1 / b, g1 = a / (b * b);
    const double var_v50 = g0 * g0 * c00 + 2 * g0 * g1 * c01 + g1 * g1 * c11;
    const double w = 1 / std::abs(b);
    const double var_w = c11 / (b * b * b * b);
    res.v50_V = Extracted::of(v50, std::sqrt(std::max(var_v50, 0.0)));
    res.width_V = Extracted::of(w, std::sqrt(std::max(var_w, 0.0)));
    if (v50 < vmin || v50 > vmax)
        res.v50_V = Extracted::none(fmt::format("fitted V50 {:.4g} V lies outside the measured range", v50));
    return res;
}

}  // namespace mtjlab::analysis
