// The speed-ups of the R(H) analysis (issue 6) must not change results: the radix selection against
// std::nth_element, the sort-free trimmed mean against the sorting one, and find_levels (radix sort,
// vectorised log, Knuth-windowed DP) against independent reference computations.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

#include "../../analysis/src/robust.hpp"  // internal helpers under test
#include "mtjlab/analysis/levels.hpp"

using namespace mtjlab::analysis;

namespace {

/// Values of one of several shapes: noise magnitudes, a noisy plateau, many ties and zeros, signed values,
/// two clusters, powers of two, all equal.
std::vector<double> sample(std::mt19937_64& rng, int kind, std::size_t n) {
    std::normal_distribution<double> g;
    std::vector<double> v(n);
    for (auto& x : v) {
        switch (kind) {
            case 0: x = std::abs(g(rng)) * 1e-3; break;
            case 1: x = 25000 * (1 + 1e-3 * g(rng)); break;
            case 2: x = std::round(std::abs(g(rng)) * 5); break;
            case 3: x = g(rng); break;
            case 4: x = (rng() % 3) ? 25000 : 33000 * (1 + 1e-3 * g(rng)); break;
            case 5: x = std::ldexp(1.0, static_cast<int>(rng() % 200) - 100); break;
            default: x = 7.0; break;
        }
    }
    return v;
}

/// Plain O(k n^2) optimal k-segmentation cost of sorted values (reference for the windowed DP).
double optimal_rss(const std::vector<double>& y, std::size_t k) {
    const std::size_t n = y.size();
    std::vector<double> s1(n + 1, 0), s2(n + 1, 0);
    for (std::size_t i = 0; i < n; ++i) {
        s1[i + 1] = s1[i] + y[i];
        s2[i + 1] = s2[i] + y[i] * y[i];
    }
    auto cost = [&](std::size_t j, std::size_t i) {
        const double m = static_cast<double>(i - j), s = s1[i] - s1[j];
        return std::max(0.0, (s2[i] - s2[j]) - s * s / m);
    };
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> prev(n + 1, inf), cur(n + 1, inf);
    for (std::size_t i = 1; i <= n; ++i) prev[i] = cost(0, i);
    for (std::size_t kk = 2; kk <= k; ++kk) {
        std::fill(cur.begin(), cur.end(), inf);
        for (std::size_t i = kk; i <= n; ++i)
            for (std::size_t j = kk - 1; j < i; ++j) cur[i] = std::min(cur[i], prev[j] + cost(j, i));
        std::swap(prev, cur);
    }
    return prev[n];
}

}  // namespace

TEST_CASE("fast paths: radix kth_smallest selects exactly what std::nth_element selects", "[unit]") {
    std::mt19937_64 rng(606);
    std::vector<double> buf;
    int mismatches = 0;
    for (int t = 0; t < 20000; ++t) {
        const std::size_t n = 1 + rng() % (t % 10 == 0 ? 3000 : 500);
        const auto v = sample(rng, t % 7, n);
        const std::size_t k = rng() % n;
        auto w = v;
        std::nth_element(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(k), w.end());
        if (detail::kth_smallest(v, k, buf) != w[k]) ++mismatches;
    }
    CHECK(mismatches == 0);
}

TEST_CASE("fast paths: kth_smallest_pair selects both ranks exactly (one shared pass or two selections)", "[unit]") {
    std::mt19937_64 rng(609);
    std::vector<double> buf;
    int mismatches = 0, shared = 0;
    for (int t = 0; t < 10000; ++t) {
        const std::size_t n = 1 + rng() % (t % 10 == 0 ? 3000 : 500);
        const auto v = sample(rng, t % 7, n);
        std::size_t k1 = rng() % n, k2 = rng() % n;
        if (t % 3 == 0) {  // the trimmed mean's ranks
            k1 = n / 10;
            k2 = n - n / 10 - 1;
        }
        if (k1 > k2) std::swap(k1, k2);
        auto w = v;
        std::nth_element(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(k1), w.end());
        const double e1 = w[k1];
        std::nth_element(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(k2), w.end());
        const double e2 = w[k2];
        const auto [a, b] = detail::kth_smallest_pair(v, k1, k2, buf);
        if (a != e1 || b != e2) ++mismatches;
        shared += n > 32 && e1 != e2;
    }
    CHECK(mismatches == 0);
    CHECK(shared > 2500);  // the one-pass path was exercised
}

TEST_CASE("fast paths: the sort-free trimmed mean equals the sorting one (ties, small n, all fractions)", "[unit]") {
    std::mt19937_64 rng(607);
    std::vector<double> buf;
    double worst = 0;
    for (int t = 0; t < 5000; ++t) {
        const std::size_t n = 1 + rng() % 600;
        const auto v = sample(rng, t % 7, n);
        for (double f : {0.0, 0.1, 0.25, 0.49}) {
            const double a = detail::trimmed_mean(v, f), b = detail::trimmed_mean_of(v, f, buf);
            worst = std::max(worst, std::abs(a - b) / std::max(1.0, std::abs(a)));
        }
        if (n >= 2) {
            const double s = detail::stddev(v), sf = detail::stddev_fast(v);
            worst = std::max(worst, std::abs(s - sf) / std::max(1e-300, std::abs(s)) * (s > 1e-9 ? 1 : 0));
        }
    }
    INFO("worst relative difference " << worst);
    CHECK(worst < 1e-12);
}

TEST_CASE("fast paths: find_levels medians, counts and widths match an independent recomputation", "[unit]") {
    // Levels are medians of their points: recomputed here from the assignment with std::nth_element (checks
    // the radix sort and the assignment); the fitted width is the optimal within-level RSS, recomputed by a
    // plain O(k n^2) DP on the sorted logs for n <= 64 (checks the windowed DP and the vectorised log).
    std::mt19937_64 rng(608);
    std::normal_distribution<double> g;
    int checked_dp = 0;
    for (int t = 0; t < 600; ++t) {
        const int cells = 1 + t % 3;
        const std::size_t n = t % 2 ? 20 + rng() % 45 : 200 + rng() % 800;
        const double noise = t % 3 == 0 ? 0.005 : 0.001;
        std::vector<double> lv{25e3};
        for (int c = 0; c < cells; ++c) lv.push_back(lv.back() * (1.09 + 0.3 * (static_cast<double>(rng() % 100) / 100)));
        std::vector<double> r(n);
        for (auto& x : r) x = lv[rng() % lv.size()] * (1 + noise * g(rng));
        if (t % 5 == 0) r[rng() % n] = std::nan("");
        if (t % 7 == 0) r[rng() % n] = -3;
        const auto res = find_levels(r);
        REQUIRE_FALSE(res.levels.empty());
        for (std::size_t c = 0; c < res.levels.size(); ++c) {
            std::vector<double> pts;
            for (std::size_t i = 0; i < r.size(); ++i)
                if (res.assignment[i] == static_cast<int>(c)) pts.push_back(r[i]);
            REQUIRE(pts.size() == res.levels[c].points);
            std::sort(pts.begin(), pts.end());
            const std::size_t m = pts.size();
            const double med = m % 2 ? pts[m / 2] : 0.5 * (pts[m / 2 - 1] + pts[m / 2]);
            CHECK(res.levels[c].r_ohm == med);
            CHECK(res.levels[c].r_std_ohm == Approx(detail::stddev(pts)).epsilon(1e-9).margin(1e-9));
        }
        std::vector<double> ok;
        for (double x : r)
            if (std::isfinite(x) && x > 0) ok.push_back(x);
        if (ok.size() <= 64) {
            std::sort(ok.begin(), ok.end());
            std::vector<double> y;
            const double centre = std::log(ok[ok.size() / 2]);
            for (double x : ok) y.push_back(std::log(x) - centre);
            const double rss = optimal_rss(y, res.levels.size());
            const double nn = static_cast<double>(ok.size());
            CHECK(res.log_sigma == Approx(std::sqrt(rss / nn)).epsilon(1e-9).margin(1e-12));
            ++checked_dp;
        }
    }
    CHECK(checked_dp > 250);
}

TEST_CASE("fast paths: find_levels stays exact and linear when read noise is below 1e-6 (keys equal in their top bytes)",
          "[unit]") {
    // With 1e-9 ... 1e-13 relative noise the radix sort's top 4 bytes cannot order the reads of one level; the
    // insertion pass would then be quadratic (200,000 reads per level: ~2e10 moves) and gives up for
    // full-width LSD passes. The levels must still be exact medians and the call must take well under a second.
    std::mt19937_64 rng(610);
    std::normal_distribution<double> g;
    for (double noise : {1e-9, 1e-11, 1e-13}) {
        const std::size_t n = 400000;
        std::vector<double> r(n);
        for (auto& x : r) x = (rng() % 2 ? 25e3 : 35e3) * (1 + noise * g(rng));
        const std::clock_t c0 = std::clock();
        const auto res = find_levels(r);
        const double cpu_s = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
        INFO("noise " << noise << ", CPU " << cpu_s << " s");
        REQUIRE(res.levels.size() == 2);
        for (std::size_t c = 0; c < 2; ++c) {
            std::vector<double> pts;
            for (std::size_t i = 0; i < n; ++i)
                if (res.assignment[i] == static_cast<int>(c)) pts.push_back(r[i]);
            REQUIRE(pts.size() == res.levels[c].points);
            std::sort(pts.begin(), pts.end());
            const std::size_t m = pts.size();
            CHECK(res.levels[c].r_ohm == (m % 2 ? pts[m / 2] : 0.5 * (pts[m / 2 - 1] + pts[m / 2])));
        }
        CHECK(cpu_s < 2.0);  // linear: ~0.05 s (~0.3 s under ASan); the quadratic insertion took 7-8 s
    }
}
