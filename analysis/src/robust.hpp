#pragma once
// Small robust-statistics helpers shared by the analysis sources (internal).
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <limits>
#include <span>
#include <utility>
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

/// Radix selection over non-negative doubles (the IEEE order of non-negative doubles is the unsigned order of
/// their bits), used by kth_smallest and kth_smallest_pair.
namespace radix {

/// Digit of x at `shift`: the 8 bits from there.
inline std::size_t digit(double x, int shift) {
    return static_cast<std::size_t>((std::bit_cast<std::uint64_t>(x) >> shift) & 0xff);
}

/// Shift of the 8 bits below the highest bit set in diff (values agreeing outside diff differ there first).
inline int shift_for(std::uint64_t diff) {
    const int top = 63 - std::countl_zero(diff);
    return top >= 7 ? top - 7 : 0;
}

/// Number of the m values at p in each digit at `shift`, counted in 4 lanes (equal digits of consecutive
/// values would otherwise wait on each other's counter store) and summed into `total`.
inline void count_digits(const double* p, std::size_t m, int shift, std::uint32_t (&total)[256]) {
    std::uint32_t count[4][256] = {};
    const std::size_t q = m / 4;
    for (std::size_t i = 0; i < q; ++i) {
        ++count[0][digit(p[i], shift)];
        ++count[1][digit(p[q + i], shift)];
        ++count[2][digit(p[2 * q + i], shift)];
        ++count[3][digit(p[3 * q + i], shift)];
    }
    for (std::size_t i = 4 * q; i < m; ++i) ++count[0][digit(p[i], shift)];
    for (std::size_t d = 0; d < 256; ++d) total[d] = count[0][d] + count[1][d] + count[2][d] + count[3][d];
}

/// The digit holding rank k (0-based) and the number of values in lower digits.
inline std::size_t digit_of_rank(const std::uint32_t (&total)[256], std::size_t k, std::size_t& below) {
    below = 0;
    std::size_t d = 0;
    for (;; ++d) {
        if (below + total[d] > k) break;
        below += total[d];
    }
    return d;
}

/// Copies the m values at src whose digit at `shift` is d to dst (branch-free, in order); returns how many,
/// with the bits in which they differ from the first of them in diff.
inline std::size_t gather(const double* src, std::size_t m, int shift, std::size_t d, double* dst,
                          std::uint64_t& diff) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < m; ++i) {
        dst[kept] = src[i];
        kept += digit(src[i], shift) == d;
    }
    diff = 0;
    const auto first = std::bit_cast<std::uint64_t>(dst[0]);  // kept >= 1 when d holds a rank
    for (std::size_t i = 0; i < kept; ++i) diff |= std::bit_cast<std::uint64_t>(dst[i]) ^ first;
    return kept;
}

/// The k-th smallest of the m non-negative values at cur, which agree in every bit outside `diff`; cur and nxt
/// (m values) are overwritten. Each round keeps the values of the digit holding rank k (one of 256 digit
/// values, so a few rounds suffice); 32 or fewer candidates are finished by std::nth_element.
inline double select(double* cur, double* nxt, std::size_t m, std::size_t k, std::uint64_t diff) {
    while (m > 32) {
        if (diff == 0) return cur[0];  // all candidates equal
        const int shift = shift_for(diff);
        std::uint32_t total[256];
        count_digits(cur, m, shift, total);
        std::size_t below = 0;
        const std::size_t d = digit_of_rank(total, k, below);
        // The gathered values agree in every bit from `shift` up, so the next round looks lower.
        m = gather(cur, m, shift, d, nxt, diff);
        k -= below;
        std::swap(cur, nxt);
    }
    std::nth_element(cur, cur + k, cur + m);
    return cur[k];
}

/// Bits in which some value of v differs from the first (diff) and the OR of all values (sign bit: negative).
inline void scan(std::span<const double> v, std::uint64_t& diff, std::uint64_t& any) {
    diff = 0;
    any = 0;
    const auto first = std::bit_cast<std::uint64_t>(v[0]);
    for (double x : v) {
        const auto u = std::bit_cast<std::uint64_t>(x);
        diff |= u ^ first;
        any |= u;
    }
}

}  // namespace radix

/// The k-th smallest value (0-based, k < v.size()) of v, exactly what std::nth_element would select, without
/// modifying v. Non-negative values by radix selection (radix::select; the first round reads v itself, so
/// only the values of one digit are copied into `buf`); inputs with a negative value (or -0) are selected with
/// std::nth_element over a copy. No NaN.
inline double kth_smallest(std::span<const double> v, std::size_t k, std::vector<double>& buf) {
    const std::size_t n = v.size();
    buf.resize(2 * n);
    double* cur = buf.data();  // candidates, then a second half to gather into
    double* nxt = buf.data() + n;
    std::uint64_t diff = 0, any = 0;
    radix::scan(v, diff, any);
    if ((any >> 63) || n <= 32) {  // a negative value (or -0), or few values: plain selection over a copy
        std::copy(v.begin(), v.end(), cur);
        std::nth_element(cur, cur + k, cur + n);
        return cur[k];
    }
    if (diff == 0) return v[0];  // all equal
    const int shift = radix::shift_for(diff);
    std::uint32_t total[256];
    radix::count_digits(v.data(), n, shift, total);
    std::size_t below = 0;
    const std::size_t d = radix::digit_of_rank(total, k, below);
    const std::size_t m = radix::gather(v.data(), n, shift, d, cur, diff);
    return radix::select(cur, nxt, m, k - below, diff);
}

/// The k1-th and k2-th smallest values of v (k1 <= k2 < v.size()): {kth_smallest(v, k1), kth_smallest(v, k2)},
/// with one pass over v for both when the two ranks fall in different digits of the first radix round (the
/// trimmed mean's two cut values usually do); otherwise the two selections one after the other.
inline std::pair<double, double> kth_smallest_pair(std::span<const double> v, std::size_t k1, std::size_t k2,
                                                   std::vector<double>& buf) {
    const std::size_t n = v.size();
    std::uint64_t diff = 0, any = 0;
    radix::scan(v, diff, any);
    if ((any >> 63) || n <= 32 || diff == 0 || k1 == k2)
        return {kth_smallest(v, k1, buf), kth_smallest(v, k2, buf)};
    const int shift = radix::shift_for(diff);
    std::uint32_t total[256];
    radix::count_digits(v.data(), n, shift, total);
    std::size_t below1 = 0, below2 = 0;
    const std::size_t d1 = radix::digit_of_rank(total, k1, below1);
    const std::size_t d2 = radix::digit_of_rank(total, k2, below2);
    if (d1 == d2) return {kth_smallest(v, k1, buf), kth_smallest(v, k2, buf)};
    // Both digits' values in one pass: set 1 to [0, c1), set 2 to [n, n + c2) (c1 + c2 <= n), then each
    // selection with scratch space the other does not use.
    buf.resize(2 * n);
    double* b = buf.data();
    std::size_t c1 = 0, c2 = 0;
    const double* p = v.data();
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t d = radix::digit(p[i], shift);
        b[c1] = p[i];
        c1 += d == d1;
        b[n + c2] = p[i];
        c2 += d == d2;
    }
    std::uint64_t diff1 = 0, diff2 = 0;
    const auto f1 = std::bit_cast<std::uint64_t>(b[0]), f2 = std::bit_cast<std::uint64_t>(b[n]);
    for (std::size_t i = 0; i < c1; ++i) diff1 |= std::bit_cast<std::uint64_t>(b[i]) ^ f1;
    for (std::size_t i = 0; i < c2; ++i) diff2 |= std::bit_cast<std::uint64_t>(b[n + i]) ^ f2;
    const double t1 = radix::select(b, b + n + c2, c1, k1 - below1, diff1);
    const double t2 = radix::select(b + n, b, c2, k2 - below2, diff2);
    return {t1, t2};
}

/// Mean after dropping floor(frac n) of the points at each end (frac in [0, 0.5)): the same value as
/// trimmed_mean() (up to the order of summation) without modifying v. The two cut values are selected
/// together by kth_smallest_pair; one pass sums what lies strictly between them and the copies of the cut values
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
    const auto [t1, t2] = kth_smallest_pair(v, cut, n - cut - 1, buf);
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

/// Sum of the m values at p in 4 interleaved partial sums (independent add chains: about 3x faster than one
/// chain on long inputs; the result differs from a plain loop only by rounding).
inline double sum4(const double* p, std::size_t m) {
    double a[4] = {0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 4 <= m; i += 4)
        for (std::size_t q = 0; q < 4; ++q) a[q] += p[i + q];
    double s = (a[0] + a[1]) + (a[2] + a[3]);
    for (; i < m; ++i) s += p[i];
    return s;
}

/// Sum of squared deviations of the m values at p from c, in 4 interleaved partial sums like sum4().
inline double ss4(const double* p, std::size_t m, double c) {
    double a[4] = {0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 4 <= m; i += 4)
        for (std::size_t q = 0; q < 4; ++q) a[q] += (p[i + q] - c) * (p[i + q] - c);
    double s = (a[0] + a[1]) + (a[2] + a[3]);
    for (; i < m; ++i) s += (p[i] - c) * (p[i] - c);
    return s;
}

/// Sample standard deviation (n-1) like stddev(), summed with sum4()/ss4() (the result differs from stddev()
/// only by rounding).
inline double stddev_fast(std::span<const double> v) {
    const std::size_t n = v.size();
    if (n < 2) return 0.0;
    const double m = sum4(v.data(), n) / static_cast<double>(n);
    return std::sqrt(ss4(v.data(), n, m) / static_cast<double>(n - 1));
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
