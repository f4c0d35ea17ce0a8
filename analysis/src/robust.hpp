#pragma once
// Small robust-statistics helpers shared by the analysis sources (internal).
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

namespace mtjlab::analysis::detail {

inline double mean(std::span<const double> v) {
    if (v.empty()) return std::nan("");
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
}

/// Median of a copy (NaN for an empty input).
inline double median(std::vector<double> v) {
    if (v.empty()) return std::nan("");
    const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
    std::nth_element(v.begin(), mid, v.end());
    double m = *mid;
    if (v.size() % 2 == 0) m = 0.5 * (m + *std::max_element(v.begin(), mid));
    return m;
}

/// Median absolute deviation scaled to a Gaussian sigma (1.4826 MAD).
inline double mad_sigma(const std::vector<double>& v) {
    if (v.size() < 2) return 0.0;
    const double m = median(v);
    std::vector<double> d(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) d[i] = std::abs(v[i] - m);
    return 1.4826 * median(std::move(d));
}

/// The k-th smallest value (0-based, k < v.size()) of v, exactly what std::nth_element would select, without
/// modifying v. For non-negative values (the IEEE order of non-negative doubles is the unsigned order of their
/// bits) a radix selection: the 8 bits below the highest bit in which the values differ are counted (4 lanes
/// of counters, so equal digits of consecutive values do not wait on each other), the values of the digit
/// holding rank k are gathered into `buf` (branch-free) and the search continues among them; 32 or fewer
/// candidates are finished by std::nth_element. Each round keeps only one of 256 digit values, so a few
/// rounds suffice. Inputs with a negative value are selected with std::nth_element over a copy. No NaN.
inline double kth_smallest(std::span<const double> v, std::size_t k, std::vector<double>& buf) {
    const std::size_t n = v.size();
    buf.resize(2 * n);
    double* cur = buf.data();  // candidates, then a second half to gather into
    double* nxt = buf.data() + n;
    std::uint64_t diff = 0, sign = 0;
    const auto first = std::bit_cast<std::uint64_t>(v[0]);
    for (double x : v) {
        const auto u = std::bit_cast<std::uint64_t>(x);
        diff |= u ^ first;
        sign |= u;
    }
    if (sign >> 63) {  // a negative value (or -0): plain selection over a copy
        std::copy(v.begin(), v.end(), cur);
        std::nth_element(cur, cur + k, cur + n);
        return cur[k];
    }
    std::copy(v.begin(), v.end(), cur);
    std::size_t m = n;
    while (m > 32) {
        if (diff == 0) return cur[0];  // all candidates equal
        const int top = 63 - std::countl_zero(diff);
        const int shift = top >= 7 ? top - 7 : 0;
        std::uint32_t count[4][256] = {};
        const std::size_t q = m / 4;
        for (std::size_t i = 0; i < q; ++i) {
            ++count[0][(std::bit_cast<std::uint64_t>(cur[i]) >> shift) & 0xff];
            ++count[1][(std::bit_cast<std::uint64_t>(cur[q + i]) >> shift) & 0xff];
            ++count[2][(std::bit_cast<std::uint64_t>(cur[2 * q + i]) >> shift) & 0xff];
            ++count[3][(std::bit_cast<std::uint64_t>(cur[3 * q + i]) >> shift) & 0xff];
        }
        for (std::size_t i = 4 * q; i < m; ++i) ++count[0][(std::bit_cast<std::uint64_t>(cur[i]) >> shift) & 0xff];
        std::size_t below = 0, digit = 0;
        for (;; ++digit) {
            const std::size_t c = count[0][digit] + count[1][digit] + count[2][digit] + count[3][digit];
            if (below + c > k) break;
            below += c;
        }
        std::size_t kept = 0;
        for (std::size_t i = 0; i < m; ++i) {
            nxt[kept] = cur[i];
            kept += ((std::bit_cast<std::uint64_t>(cur[i]) >> shift) & 0xff) == digit;
        }
        std::uint64_t kdiff = 0;  // kept >= 1: the digit holds rank k
        const auto kfirst = std::bit_cast<std::uint64_t>(nxt[0]);
        for (std::size_t i = 0; i < kept; ++i) kdiff |= std::bit_cast<std::uint64_t>(nxt[i]) ^ kfirst;
        // The gathered values agree in every bit from `shift` up, so the next round looks lower.
        diff = kdiff;
        k -= below;
        m = kept;
        std::swap(cur, nxt);
    }
    std::nth_element(cur, cur + k, cur + m);
    return cur[k];
}

/// Mean after dropping floor(frac n) of the points at each end (frac in [0, 0.5)): the same value as
/// trimmed_mean() (up to the order of summation) without modifying v. The two cut values are selected
/// with kth_smallest; one pass sums what lies strictly between them and the copies of the cut values
/// that fall inside the kept ranks are added (ties are handled exactly). `buf` is scratch space.
inline double trimmed_mean_of(std::span<const double> v, double frac, std::vector<double>& buf) {
    const std::size_t n = v.size();
    if (n == 0) return std::nan("");
    const auto cut = static_cast<std::size_t>(std::floor(frac * static_cast<double>(n)));
    if (2 * cut >= n) {
        const double hi = kth_smallest(v, n / 2, buf);
        return n % 2 ? hi : 0.5 * (hi + kth_smallest(v, n / 2 - 1, buf));
    }
    if (cut == 0) return mean(v);
    const double t1 = kth_smallest(v, cut, buf);
    const double t2 = kth_smallest(v, n - cut - 1, buf);
    if (t1 == t2) return t1;
    std::size_t le1 = 0, lt2 = 0;
    double s = 0;
    for (double x : v) {
        le1 += x <= t1;
        lt2 += x < t2;
        s += (x > t1 && x < t2) ? x : 0.0;
    }
    // Sorted positions [cut, le1) hold t1 and [lt2, n - cut) hold t2.
    s += t1 * static_cast<double>(le1 - cut) + t2 * static_cast<double>(n - cut - lt2);
    return s / static_cast<double>(n - 2 * cut);
}

/// Mean after dropping `frac` of the points at each end (frac in [0, 0.5)).
inline double trimmed_mean(std::vector<double> v, double frac) {
    if (v.empty()) return std::nan("");
    const auto cut = static_cast<std::size_t>(std::floor(frac * static_cast<double>(v.size())));
    if (2 * cut >= v.size()) return median(std::move(v));
    auto lo = v.begin() + static_cast<std::ptrdiff_t>(cut);
    auto hi = v.end() - static_cast<std::ptrdiff_t>(cut);
    if (cut > 0) {
        std::nth_element(v.begin(), lo, v.end());
        std::nth_element(lo, hi, v.end());
    }
    double s = 0;
    for (auto it = lo; it != hi; ++it) s += *it;
    return s / static_cast<double>(hi - lo);
}

/// Sample standard deviation (n-1); 0 for fewer than two points.
inline double stddev(std::span<const double> v) {
    if (v.size() < 2) return 0.0;
    const double m = mean(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / static_cast<double>(v.size() - 1));
}

/// Sample standard deviation (n-1) like stddev(), summed in 4 interleaved partial sums (independent add
/// chains: about 3x faster on long inputs; the result differs from stddev() only by rounding).
inline double stddev_fast(std::span<const double> v) {
    const std::size_t n = v.size();
    if (n < 2) return 0.0;
    const double* p = v.data();
    double a[4] = {0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (std::size_t q = 0; q < 4; ++q) a[q] += p[i + q];
    double s = (a[0] + a[1]) + (a[2] + a[3]);
    for (; i < n; ++i) s += p[i];
    const double m = s / static_cast<double>(n);
    double b[4] = {0, 0, 0, 0};
    for (i = 0; i + 4 <= n; i += 4)
        for (std::size_t q = 0; q < 4; ++q) b[q] += (p[i + q] - m) * (p[i + q] - m);
    double ss = (b[0] + b[1]) + (b[2] + b[3]);
    for (; i < n; ++i) ss += (p[i] - m) * (p[i] - m);
    return std::sqrt(ss / static_cast<double>(n - 1));
}

/// Robust noise sigma of a sequence from its first differences (insensitive to a few steps).
inline double diff_noise_sigma(std::span<const double> v) {
    if (v.size() < 3) return 0.0;
    std::vector<double> d;
    d.reserve(v.size() - 1);
    for (std::size_t i = 1; i < v.size(); ++i) d.push_back(v[i] - v[i - 1]);
    std::vector<double> a(d.size());
    for (std::size_t i = 0; i < d.size(); ++i) a[i] = std::abs(d[i]);
    return 1.4826 * median(std::move(a)) / std::sqrt(2.0);
}

}  // namespace mtjlab::analysis::detail
