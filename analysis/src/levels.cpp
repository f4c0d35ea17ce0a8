#include "mtjlab/analysis/levels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "robust.hpp"

namespace mtjlab::analysis {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

/// Exact 1-D k-means on sorted data by dynamic programming with divide-and-conquer optimisation
/// (the optimal split points are monotone in the segment end, as used by Ckmeans.1d.dp).
class Segmenter {
public:
    /// `bounds`: block starts in y (ascending, first 0); block b is y[bounds[b], bounds[b+1]).
    Segmenter(const std::vector<double>& y, const std::vector<std::size_t>& bounds)
        : n_(bounds.size()), s1_(n_ + 1, 0.0), s2_(n_ + 1, 0.0), cnt_(n_ + 1, 0.0) {
        for (std::size_t b = 0; b < n_; ++b) {
            const std::size_t a = bounds[b], e = b + 1 < n_ ? bounds[b + 1] : y.size();
            double s1 = 0, s2 = 0;
            for (std::size_t i = a; i < e; ++i) {
                s1 += y[i];
                s2 += y[i] * y[i];
            }
            s1_[b + 1] = s1_[b] + s1;
            s2_[b + 1] = s2_[b] + s2;
            cnt_[b + 1] = cnt_[b] + static_cast<double>(e - a);
        }
    }

    /// Sum of squared deviations of the points in blocks [j, i).
    [[nodiscard]] double cost(std::size_t j, std::size_t i) const {
        const double m = cnt_[i] - cnt_[j];
        const double s = s1_[i] - s1_[j];
        return std::max(0.0, (s2_[i] - s2_[j]) - s * s / m);
    }

    /// Runs the DP up to kmax segments; afterwards boundaries(k) gives the segment starts.
    void run(std::size_t kmax) {
        kmax_ = kmax;
        dp_.assign((kmax + 1) * (n_ + 1), inf);
        arg_.assign((kmax + 1) * (n_ + 1), 0);
        for (std::size_t i = 1; i <= n_; ++i) dp(1, i) = cost(0, i);
        for (std::size_t k = 2; k <= kmax; ++k) solve(k, k, n_, k - 1, n_ - 1);
    }

    [[nodiscard]] double total(std::size_t k) const { return dp_[k * (n_ + 1) + n_]; }

    /// Start index of each of the k segments (ascending), first is 0.
    [[nodiscard]] std::vector<std::size_t> starts(std::size_t k) const {
        std::vector<std::size_t> st(k, 0);
        std::size_t end = n_;
        for (std::size_t kk = k; kk >= 2; --kk) {
            end = arg_[kk * (n_ + 1) + end];
            st[kk - 1] = end;
        }
        return st;
    }

private:
    void solve(std::size_t k, std::size_t lo, std::size_t hi, std::size_t optlo, std::size_t opthi) {
        if (lo > hi) return;
        const std::size_t mid = lo + (hi - lo) / 2;
        double best = inf;
        std::size_t bestj = optlo;
        const std::size_t jhi = std::min(mid - 1, opthi);
        for (std::size_t j = optlo; j <= jhi; ++j) {
            const double c = dp(k - 1, j) + cost(j, mid);
            if (c < best) {
                best = c;
                bestj = j;
            }
        }
        dp(k, mid) = best;
        arg_[k * (n_ + 1) + mid] = bestj;
        if (mid > lo) solve(k, lo, mid - 1, optlo, bestj);
        solve(k, mid + 1, hi, bestj, opthi);
    }

    std::size_t n_;
    std::size_t kmax_ = 0;
    std::vector<double> s1_, s2_, cnt_;
    double& dp(std::size_t k, std::size_t i) { return dp_[k * (n_ + 1) + i]; }
    std::vector<double> dp_;          ///< (kmax + 1) x (n + 1), row-major
    std::vector<std::size_t> arg_;
};

/// Sorts positive finite doubles ascending: an LSD radix sort on the top 5 bytes of their bit patterns (the
/// IEEE order of positive doubles equals the unsigned order of their bits; byte passes where all keys agree
/// are skipped), then an insertion pass that orders the few keys equal in those bytes (relative differences
/// below ~2e-9). The result is exactly sorted. `a` and `b` are scratch buffers.
/// Speed: clustered data (two resistance levels) put most keys of the upper bytes into a few buckets, and
/// a counter incremented by consecutive keys waits for its previous store. The keys are therefore split into
/// 4 consecutive parts, each with its own counters, processed interleaved (independent chains). Part q writes
/// each bucket after parts 0..q-1, so every pass stays stable and the result is that of a plain LSD sort.
void sort_positive(std::vector<double>& v, std::vector<std::uint64_t>& a, std::vector<std::uint64_t>& b) {
    const std::size_t n = v.size();
    if (n < 128) {
        std::sort(v.begin(), v.end());
        return;
    }
    constexpr std::size_t lanes = 4;
    a.resize(n);
    b.resize(n);
    std::memcpy(a.data(), v.data(), n * sizeof(double));
    std::uint64_t differ = 0;  // bits in which some key differs from the first
    for (std::size_t i = 0; i < n; ++i) differ |= a[i] ^ a[0];
    const std::size_t len = n / lanes;  // lanes 0..2 hold len keys, lane 3 the rest
    const std::size_t start[lanes] = {0, len, 2 * len, 3 * len};
    static_assert(lanes == 4);
    for (int shift = 24; shift < 64; shift += 8) {
        if (((differ >> shift) & 0xff) == 0) continue;  // all keys agree in this byte
        const std::uint64_t* src = a.data();
        std::uint64_t* dst = b.data();
        std::uint32_t count[lanes][256];
        std::memset(count, 0, sizeof count);
        for (std::size_t i = 0; i < len; ++i) {
            ++count[0][(src[start[0] + i] >> shift) & 0xff];
            ++count[1][(src[start[1] + i] >> shift) & 0xff];
            ++count[2][(src[start[2] + i] >> shift) & 0xff];
            ++count[3][(src[start[3] + i] >> shift) & 0xff];
        }
        for (std::size_t i = start[3] + len; i < n; ++i) ++count[3][(src[i] >> shift) & 0xff];
        // Write positions: bucket by bucket, and within a bucket lane by lane.
        std::uint32_t run = 0;
        for (std::size_t c = 0; c < 256; ++c)
            for (std::size_t q = 0; q < lanes; ++q) {
                const std::uint32_t m = count[q][c];
                count[q][c] = run;
                run += m;
            }
        for (std::size_t i = 0; i < len; ++i) {
            const std::uint64_t k0 = src[start[0] + i], k1 = src[start[1] + i], k2 = src[start[2] + i],
                                k3 = src[start[3] + i];
            dst[count[0][(k0 >> shift) & 0xff]++] = k0;
            dst[count[1][(k1 >> shift) & 0xff]++] = k1;
            dst[count[2][(k2 >> shift) & 0xff]++] = k2;
            dst[count[3][(k3 >> shift) & 0xff]++] = k3;
        }
        for (std::size_t i = start[3] + len; i < n; ++i) {
            const std::uint64_t k = src[i];
            dst[count[3][(k >> shift) & 0xff]++] = k;
        }
        a.swap(b);
    }
    // Insertion fix-up: keys out of order differ only in their low 3 bytes (nearly sorted input: O(n)).
    for (std::size_t i = 1; i < n; ++i) {
        const std::uint64_t k = a[i];
        std::size_t j = i;
        while (j > 0 && a[j - 1] > k) {
            a[j] = a[j - 1];
            --j;
        }
        a[j] = k;
    }
    std::memcpy(v.data(), a.data(), n * sizeof(double));
}

/// Per-thread scratch space of find_levels (no allocation per call once warm).
struct Scratch {
    std::vector<double> r_sorted, y;
    std::vector<std::uint64_t> ka, kb;
    std::vector<std::size_t> gi, bounds;
};

}  // namespace

Levels find_levels(std::span<const double> r_ohm, const LevelOptions& opt) {
    Levels out;
    out.assignment.assign(r_ohm.size(), -1);
    thread_local Scratch sc;
    std::vector<double>& r_sorted = sc.r_sorted;
    std::vector<double>& y = sc.y;
    r_sorted.clear();
    for (double r : r_ohm)
        if (std::isfinite(r) && r > 0) r_sorted.push_back(r);
    const std::size_t n = r_sorted.size();
    const std::size_t min_pts = std::max<std::size_t>(1, opt.min_points);
    if (n < min_pts || n == 0) {
        out.reason = fmt::format("too few valid resistance points ({})", n);
        return out;
    }
    sort_positive(r_sorted, sc.ka, sc.kb);
    // ln R relative to the median (keeps the prefix sums well conditioned).
    y.resize(n);
    const double centre = std::log(r_sorted[n / 2]);
    for (std::size_t i = 0; i < n; ++i) y[i] = std::log(r_sorted[i]) - centre;

    // Cut candidates: the segmentation is exact over blocks of consecutive sorted points. Up to
    // max_blocks/2 of the widest gaps always start a block (so separated levels of any size are exact) and
    // the rest are equal-count positions (so over-split alternatives are scored fairly at n/max_blocks
    // resolution). With n <= max_blocks every point is its own block: the plain exact DP.
    constexpr std::size_t max_blocks = 64;
    std::vector<std::size_t>& bounds = sc.bounds;
    bounds.clear();
    if (n <= max_blocks) {
        bounds.resize(n);
        for (std::size_t i = 0; i < n; ++i) bounds[i] = i;
    } else {
        std::vector<std::size_t>& gi = sc.gi;
        gi.resize(n - 1);
        for (std::size_t i = 0; i + 1 < n; ++i) gi[i] = i + 1;
        const std::size_t ngaps = max_blocks / 2;
        std::nth_element(gi.begin(), gi.begin() + static_cast<std::ptrdiff_t>(ngaps), gi.end(),
                         [&](std::size_t a, std::size_t b) { return y[a] - y[a - 1] > y[b] - y[b - 1]; });
        bounds.assign(gi.begin(), gi.begin() + static_cast<std::ptrdiff_t>(ngaps));
        for (std::size_t q = 0; q < max_blocks / 2; ++q) bounds.push_back(q * n / (max_blocks / 2));
        std::sort(bounds.begin(), bounds.end());
        bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
    }
    const std::size_t nb = bounds.size();
    const std::size_t kmax =
        std::min<std::size_t>({static_cast<std::size_t>(std::max(1, opt.max_levels)), n / min_pts, nb});
    Segmenter seg(y, bounds);
    seg.run(std::max<std::size_t>(kmax, 1));
    // Segment starts in points.
    auto starts_pts = [&](std::size_t k) {
        auto st = seg.starts(k);
        for (auto& b : st) b = bounds[b];
        return st;
    };
    const double nn = static_cast<double>(n);
    const double floor2 = opt.noise_floor * opt.noise_floor;

    out.bic.assign(static_cast<std::size_t>(std::max(1, opt.max_levels)), inf);
    double best_bic = inf;
    std::size_t best_k = 0;
    for (std::size_t k = 1; k <= std::max<std::size_t>(kmax, 1); ++k) {
        const auto st = starts_pts(k);
        bool admissible = true;
        double entropy = 0;
        double prev_med = 0;
        for (std::size_t c = 0; c < k && admissible; ++c) {
            const std::size_t a = st[c];
            const std::size_t b = c + 1 < k ? st[c + 1] : n;
            const std::size_t m = b - a;
            if (m < min_pts) {
                admissible = false;
                break;
            }
            const double med = y[a + m / 2];
            if (c > 0 && std::exp(med - prev_med) - 1.0 < opt.min_step) admissible = false;
            prev_med = med;
            entropy += static_cast<double>(m) * std::log(static_cast<double>(m) / nn);
        }
        if (!admissible) continue;
        const double s2 = std::max(seg.total(k) / nn, floor2);
        const double bic = nn * std::log(2 * M_PI * s2) + nn - 2 * entropy +
                           2.0 * static_cast<double>(k) * std::log(nn);
        out.bic[k - 1] = bic;
        if (bic < best_bic) {
            best_bic = bic;
            best_k = k;
        }
    }
    if (best_k == 0) {
        out.reason = "no admissible clustering of the resistance values";
        return out;
    }
    const auto st = starts_pts(best_k);
    out.log_sigma = std::sqrt(std::max(seg.total(best_k) / nn, 0.0));
    std::vector<double> upper;  // largest resistance of each level (for the assignment)
    for (std::size_t c = 0; c < best_k; ++c) {
        const std::size_t a = st[c];
        const std::size_t b = c + 1 < best_k ? st[c + 1] : n;
        Level lv;
        lv.points = b - a;
        const std::span<const double> rs(r_sorted.data() + a, b - a);
        lv.r_std_ohm = detail::stddev(rs);
        lv.r_ohm = lv.points % 2 ? rs[lv.points / 2] : 0.5 * (rs[lv.points / 2 - 1] + rs[lv.points / 2]);
        out.levels.push_back(lv);
        upper.push_back(rs.back());
    }
    for (std::size_t i = 0; i < r_ohm.size(); ++i) {
        const double r = r_ohm[i];
        if (!(std::isfinite(r) && r > 0)) continue;
        const auto it = std::lower_bound(upper.begin(), upper.end(), r);
        out.assignment[i] = static_cast<int>(std::min<std::ptrdiff_t>(it - upper.begin(), static_cast<std::ptrdiff_t>(best_k) - 1));
    }
    for (std::size_t c = 1; c < out.levels.size(); ++c)
        out.steps.push_back((out.levels[c].r_ohm - out.levels[c - 1].r_ohm) / out.levels[c - 1].r_ohm);
    return out;
}

}  // namespace mtjlab::analysis
