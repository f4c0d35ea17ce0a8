#pragma once
// Small robust-statistics helpers shared by the analysis sources (internal).
#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

namespace mtjlab::analysis::detail {

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

inline double mean(std::span<const double> v) {
    if (v.empty()) return std::nan("");
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
}

/// Sample standard deviation (n-1); 0 for fewer than two points.
inline double stddev(std::span<const double> v) {
    if (v.size() < 2) return 0.0;
    const double m = mean(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / static_cast<double>(v.size() - 1));
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
