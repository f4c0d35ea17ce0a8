#include "mtjlab/analysis/levels.hpp"

#include <algorithm>
#include <cmath>
#include <bit>
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
    /// `bounds`: block starts in y (ascending, first 0); block b is y[bounds[b], bounds[b+1]). At most 64
    /// blocks. The cost of every block range [j, i) is tabulated once (one vectorisable pass per i), so the
    /// DP for all k only looks costs up.
    void build(const std::vector<double>& y, const std::vector<std::size_t>& bounds) {
        n_ = bounds.size();
        double s1a[max_n + 1], s2a[max_n + 1], cnta[max_n + 1];
        s1a[0] = s2a[0] = cnta[0] = 0;
        for (std::size_t b = 0; b < n_; ++b) {
            const std::size_t a = bounds[b], e = b + 1 < n_ ? bounds[b + 1] : y.size();
            double s1 = 0, s2 = 0;
            for (std::size_t i = a; i < e; ++i) {
                s1 += y[i];
                s2 += y[i] * y[i];
            }
            s1a[b + 1] = s1a[b] + s1;
            s2a[b + 1] = s2a[b] + s2;
            cnta[b + 1] = cnta[b] + static_cast<double>(e - a);
        }
        // Stored by range end (costs_[i][j] = cost(j, i)): the DP's searches over j for one end then read
        // consecutive memory (by start, each candidate was a different cache line of a 33 kB table).
        for (std::size_t i = 1; i <= n_; ++i) {
            double* col = &costs_[i][0];
            const double s1i = s1a[i], s2i = s2a[i], ci = cnta[i];
            for (std::size_t j = 0; j < i; ++j) {
                const double m = ci - cnta[j];
                const double s = s1i - s1a[j];
                const double c = (s2i - s2a[j]) - s * s / m;
                col[j] = c > 0.0 ? c : 0.0;
            }
        }
    }
    static constexpr std::size_t max_n = 64;

    /// Sum of squared deviations of the points in blocks [j, i), j < i.
    [[nodiscard]] double cost(std::size_t j, std::size_t i) const { return costs_[i][j]; }

    /// Runs the DP up to kmax segments; afterwards starts(k, ...) gives the segment starts.
    /// The optimal start of the last segment is monotone in both k and the end (Knuth-Yao: 1-D k-means costs
    /// satisfy the quadrangle inequality), opt(k-1, i) <= opt(k, i) <= opt(k, i+1), so ends are solved from
    /// the last down and each search is limited to that window: O(kmax n) lookups instead of O(kmax n log n).
    void run(std::size_t kmax) {
        const std::size_t w = max_n + 1;
        dp_.assign((kmax + 1) * w, inf);
        arg_.assign((kmax + 1) * w, 0);
        for (std::size_t i = 1; i <= n_; ++i) dp_[w + i] = cost(0, i);
        for (std::size_t k = 2; k <= kmax; ++k) {
            const double* prev = &dp_[(k - 1) * w];
            const std::size_t* prev_arg = &arg_[(k - 1) * w];
            for (std::size_t i = n_; i >= k; --i) {
                std::size_t lo = std::max(k - 1, prev_arg[i]);
                std::size_t hi = i == n_ ? n_ - 1 : std::min(i - 1, arg_[k * w + i + 1]);
                if (lo > hi) {  // cannot happen with exact arithmetic; rounding: search everything
                    lo = k - 1;
                    hi = i - 1;
                }
                double best = inf;
                std::size_t bestj = lo;
                for (std::size_t j = lo; j <= hi; ++j) {  // branch-free: the winner is unpredictable
                    const double c = prev[j] + costs_[i][j];
                    const bool better = c < best;
                    bestj = better ? j : bestj;
                    best = better ? c : best;
                }
                dp_[k * w + i] = best;
                arg_[k * w + i] = bestj;
            }
        }
    }

    [[nodiscard]] double total(std::size_t k) const { return dp_[k * (max_n + 1) + n_]; }

    /// Start block of each of the k segments (ascending, the first is 0) into st[0..k).
    void starts(std::size_t k, std::size_t* st) const {
        st[0] = 0;
        std::size_t end = n_;
        for (std::size_t kk = k; kk >= 2; --kk) {
            end = arg_[kk * (max_n + 1) + end];
            st[kk - 1] = end;
        }
    }

private:
    std::size_t n_ = 0;
    double costs_[max_n + 1][max_n];  ///< costs_[i][j] = cost(j, i), j < i
    std::vector<double> dp_;         ///< (kmax + 1) x (max_n + 1), row-major
    std::vector<std::size_t> arg_;
};

/// Stable LSD radix passes over the bytes of the n keys in a (b: scratch of n keys) from bit `from` up, skipping
/// bytes in which no key differs (`differ`). Speed: clustered data (two resistance levels) put most keys of the
/// upper bytes into a few buckets, and a counter incremented by consecutive keys waits for its previous store.
/// The keys are therefore split into 4 consecutive parts, each with its own counters, processed interleaved
/// (independent chains). Part q writes each bucket after parts 0..q-1, so every pass stays stable and the
/// result is that of a plain LSD sort.
void lsd_passes(std::vector<std::uint64_t>& a, std::vector<std::uint64_t>& b, std::uint64_t differ, int from) {
    const std::size_t n = a.size();
    constexpr std::size_t lanes = 4;
    const std::size_t len = n / lanes;  // lanes 0..2 hold len keys, lane 3 the rest
    const std::size_t start[lanes] = {0, len, 2 * len, 3 * len};
    static_assert(lanes == 4);
    for (int shift = from; shift < 64; shift += 8) {
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
        // Write positions: bucket by bucket, and within a bucket lane by lane. Only the 256 bucket totals are
        // summed serially; the lane offsets within each bucket are vectorised passes over the buckets.
        std::uint32_t first[256];
        for (std::size_t c = 0; c < 256; ++c) first[c] = count[0][c] + count[1][c] + count[2][c] + count[3][c];
        std::uint32_t run = 0;
        for (std::size_t c = 0; c < 256; ++c) {
            const std::uint32_t m = first[c];
            first[c] = run;
            run += m;
        }
        for (std::size_t c = 0; c < 256; ++c) {
            const std::uint32_t m0 = count[0][c], m1 = count[1][c], m2 = count[2][c];
            count[0][c] = first[c];
            count[1][c] = first[c] + m0;
            count[2][c] = first[c] + m0 + m1;
            count[3][c] = first[c] + m0 + m1 + m2;
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
}

/// Sorts positive finite doubles ascending: an LSD radix sort on the top 4 bytes of their bit patterns (the
/// IEEE order of positive doubles equals the unsigned order of their bits; byte passes where all keys agree
/// are skipped), then an insertion pass that orders the few keys equal in those bytes (relative differences
/// below ~1e-6). The result is exactly sorted. `a` and `b` are scratch buffers.
/// Worst case: with read noise below ~1e-6 relative, many keys agree in their top 4 bytes and insertion would
/// be quadratic; after 4 n moves it stops and the keys are sorted again by LSD passes over all 8 bytes
/// instead (no insertion needed), so the sort is O(n) in every case.
void sort_positive(std::vector<double>& v, std::vector<std::uint64_t>& a, std::vector<std::uint64_t>& b) {
    const std::size_t n = v.size();
    if (n < 128) {
        std::sort(v.begin(), v.end());
        return;
    }
    a.resize(n);
    b.resize(n);
    std::memcpy(a.data(), v.data(), n * sizeof(double));
    std::uint64_t differ = 0;  // bits in which some key differs from the first
    for (std::size_t i = 0; i < n; ++i) differ |= a[i] ^ a[0];
    lsd_passes(a, b, differ, 32);
    // Insertion fix-up: keys out of order differ only in their low 4 bytes (nearly sorted input: O(n)).
    std::size_t budget = 4 * n;  // moves
    for (std::size_t i = 1; i < n; ++i) {
        const std::uint64_t k = a[i];
        std::size_t j = i;
        while (j > 0 && a[j - 1] > k) {
            a[j] = a[j - 1];
            --j;
        }
        a[j] = k;
        const std::size_t moved = i - j;
        if (moved > budget) {  // long runs of keys equal in their top 4 bytes: sort all bytes instead
            std::memcpy(a.data(), v.data(), n * sizeof(double));
            lsd_passes(a, b, differ, 0);
            break;
        }
        budget -= moved;
    }
    std::memcpy(v.data(), a.data(), n * sizeof(double));
}

/// Natural logarithm of a positive normal finite double, within about 1 ulp of std::log: x = 2^e m with m in
/// [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.172, by its series to s^21 (truncation
/// below 1e-17 relative). No call and no branch, so a loop over it vectorises (std::log is a call per point).
inline double log_positive(double x) {
    constexpr std::uint64_t sqrt_half_bits = 0x3fe6a09e667f3bcdULL;
    const auto bits = std::bit_cast<std::uint64_t>(x);
    const auto e = static_cast<std::int64_t>(bits - sqrt_half_bits) >> 52;
    const double m = std::bit_cast<double>(bits - (static_cast<std::uint64_t>(e) << 52));
    const double f = m - 1.0;
    const double s = f / (2.0 + f);
    const double z = s * s;
    double p = 1.0 / 21;
    p = p * z + 1.0 / 19;
    p = p * z + 1.0 / 17;
    p = p * z + 1.0 / 15;
    p = p * z + 1.0 / 13;
    p = p * z + 1.0 / 11;
    p = p * z + 1.0 / 9;
    p = p * z + 1.0 / 7;
    p = p * z + 1.0 / 5;
    p = p * z + 1.0 / 3;
    constexpr double ln2_hi = 6.93147180369123816490e-01;  // 0x3fe62e42fee00000: e * ln2_hi is exact
    constexpr double ln2_lo = 1.90821492927058770002e-10;
    const double de = static_cast<double>(e);
    return de * ln2_hi + ((2.0 * s + 2.0 * s * z * p) + de * ln2_lo);
}

/// Per-thread scratch space of find_levels (no allocation per call once warm).
struct Scratch {
    std::vector<double> r_sorted, y;
    std::vector<std::uint64_t> ka, kb;
    std::vector<std::size_t> bounds;
    std::vector<double> gaps, select_buf;
    std::vector<unsigned char> start;
    Segmenter seg;
};

thread_local bool general_only = false;

// The loops of the two-level shortcut work on the bit patterns of the doubles: for positive finite doubles
// the IEEE order is the unsigned order of the bits, and integer compares, masks and max/min vectorise (GCC
// turns `x < c ? x : 0.0` on doubles into a branch that mispredicts half the time on noisy data).
inline std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }

/// Number of finite positive values among the m at p: 0 < bits < bits(+inf) (excludes +-0, negatives, inf, NaN).
inline std::size_t count_valid(const double* p, std::size_t m) {
    constexpr std::uint64_t max_bits = 0x7fefffffffffffffULL;  // largest finite double
    std::uint64_t c = 0;
    for (std::size_t i = 0; i < m; ++i) c += (bits(p[i]) - 1) < max_bits;
    return static_cast<std::size_t>(c);
}

/// Smallest and largest of the m >= 1 positive finite values at p.
inline void min_max(const double* p, std::size_t m, double& mn, double& mx) {
    std::uint64_t a = bits(p[0]), b = a;
    for (std::size_t i = 0; i < m; ++i) {
        const std::uint64_t u = bits(p[i]);
        a = u < a ? u : a;
        b = u > b ? u : b;
    }
    mn = std::bit_cast<double>(a);
    mx = std::bit_cast<double>(b);
}

/// Per-thread scratch space of the two-level shortcut.
struct TwoScratch {
    std::vector<double> valid, lo, hi, ylo, yhi, select;
};

/// Median of the m > 0 values at p (mean of the two middle values for even m) and the upper median (rank
/// m/2, the value find_levels' admissibility test reads), by exact selection; for even m the lower middle
/// value is the largest value below the upper median, unless that rank holds the upper median itself.
inline std::pair<double, double> median_and_upper(const double* p, std::size_t m, std::vector<double>& buf) {
    const double up = detail::kth_smallest(std::span<const double>(p, m), m / 2, buf);
    if (m % 2) return {up, up};
    // Branch-free on the bit patterns (values are positive; which side of the median a value lies on is a
    // coin toss, so a branch would mispredict half the time).
    const std::uint64_t ub = bits(up);
    std::uint64_t below = 0, below_max = 0;
    for (std::size_t i = 0; i < m; ++i) {
        const std::uint64_t u = bits(p[i]);
        const std::uint64_t lt = u < ub;
        below += lt;
        const std::uint64_t cand = u & (0 - lt);
        below_max = cand > below_max ? cand : below_max;
    }
    const double low = below == m / 2 ? std::bit_cast<double>(below_max) : up;  // rank m/2 - 1
    return {0.5 * (low + up), up};
}

/// The two-level shortcut of find_levels (levels.hpp). Returns false, leaving `out` alone, unless it proves
/// that the general method chooses the two clusters on either side of the geometric middle of the extremes;
/// then fills `out` with the general method's result.
///
/// The proof (exact arithmetic; every comparison below keeps a margin far above the rounding of either path):
/// let A (low) and B (high) be the clusters, G = ln min B - ln max A their gap in ln R and RSS2 the within-cluster
/// sum of squares of ln R.
/// 1. A segment holding a points of A and b of B costs >= ab/(a+b) G^2 >= G^2/2. With G^2/2 > RSS2 the split at
///    the gap beats every segmentation with such a segment, for k = 2 (the split is the DP's optimum) and for
///    every k >= 3 (the optimum is <= RSS2: refine the split), over any block boundaries. So for k >= 3 the
///    optimum splits A or B into >= 2 segments. (Any gap inside A is < G: it would cost A >= gap^2/2, so the
///    general method's blocks start at G.)
/// 2. Two neighbouring segments inside A have medians within A, whose values span less than min_step
///    (max A / min A < 1 + min_step): the general method rejects them (neighbouring levels too close). Same for
///    B. So every k >= 3 is inadmissible (BIC +inf).
/// 3. k = 2 is admissible (both clusters hold >= min_points, the upper medians differ by >= min_step) and its
///    BIC, computed with the same formula, is below that of k = 1.
bool two_levels(std::span<const double> r_ohm, const LevelOptions& opt, Levels& out) {
    constexpr double dmax = std::numeric_limits<double>::max();
    const std::size_t min_pts = std::max<std::size_t>(1, opt.min_points);
    if (opt.max_levels < 2 || !(opt.min_step > 0)) return false;
    thread_local TwoScratch ts;
    const std::size_t nr = r_ohm.size();
    const double* rp = r_ohm.data();
    std::size_t n = count_valid(rp, nr);
    const double* v = rp;
    if (n != nr) {  // branch-free compaction of the finite positive values
        ts.valid.resize(nr);
        n = 0;
        for (std::size_t i = 0; i < nr; ++i) {
            ts.valid[n] = rp[i];
            n += (rp[i] > 0) & (rp[i] <= dmax);
        }
        v = ts.valid.data();
    }
    if (n < 2 * min_pts || n < 2) return false;
    double mn = 0, mx = 0;
    min_max(v, n, mn, mx);
    if (!(mn < mx) || mn < std::numeric_limits<double>::min()) return false;  // (log_positive needs normals)
    const double t = std::sqrt(mn) * std::sqrt(mx);                          // geometric middle
    // The clusters' inner extremes and sizes first, in one vectorised pass over the bit patterns (no stores):
    // a loop the shortcut refuses (usually here: clusters wider than min_step) costs little.
    const std::uint64_t tb = bits(t);
    std::uint64_t max_lo_b = 0, min_hi_b = ~std::uint64_t{0}, na_b = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t u = bits(v[i]);
        const std::uint64_t low = u < tb;
        na_b += low;
        const std::uint64_t as_lo = u & (0 - low), as_hi = u | (0 - low);  // 0 / all ones when not in the cluster
        max_lo_b = as_lo > max_lo_b ? as_lo : max_lo_b;
        min_hi_b = as_hi < min_hi_b ? as_hi : min_hi_b;
    }
    const auto na = static_cast<std::size_t>(na_b), nb = n - na;
    if (na < min_pts || nb < min_pts) return false;
    const double max_lo = std::bit_cast<double>(max_lo_b), min_hi = std::bit_cast<double>(min_hi_b);
    // 2. Each cluster spans less than min_step (margin 1e-9 relative for the general path's log/exp).
    const double span_limit = (1 + opt.min_step) * (1 - 1e-9);
    if (!(max_lo / mn < span_limit) || !(mx / min_hi < span_limit)) return false;
    ts.lo.resize(n);
    ts.hi.resize(n);
    double* lo = ts.lo.data();
    double* hi = ts.hi.data();
    std::size_t ka = 0, kb = 0;
    for (std::size_t i = 0; i < n; ++i) {  // branch-free partition, in input order
        const bool low = v[i] < t;
        lo[ka] = v[i];
        hi[kb] = v[i];
        ka += low;
        kb += !low;
    }
    // ln R of both clusters; their within-cluster sums of squares.
    ts.ylo.resize(na);
    ts.yhi.resize(nb);
    double* ylo = ts.ylo.data();
    double* yhi = ts.yhi.data();
    for (std::size_t i = 0; i < na; ++i) ylo[i] = log_positive(lo[i]);
    for (std::size_t i = 0; i < nb; ++i) yhi[i] = log_positive(hi[i]);
    const double dna = static_cast<double>(na), dnb = static_cast<double>(nb), nn = static_cast<double>(n);
    const double mean_lo = detail::sum4(ylo, na) / dna, mean_hi = detail::sum4(yhi, nb) / dnb;
    const double rss2 = detail::ss4(ylo, na, mean_lo) + detail::ss4(yhi, nb, mean_hi);
    const double rss1 = rss2 + dna * dnb / nn * (mean_hi - mean_lo) * (mean_hi - mean_lo);
    // Rounding allowance: the general path's costs come from prefix sums of (ln R - centre)^2 <= n span^2.
    const double span = log_positive(mx) - log_positive(mn);
    const double err = 1e-10 * (1 + nn * span * span);
    // 1. No optimal segmentation crosses the gap.
    const double gap = log_positive(min_hi) - log_positive(max_lo);
    if (!(0.5 * gap * gap > rss2 + 3 * err)) return false;
    // 3. k = 2 admissible with a lower BIC than k = 1.
    const auto [med_lo, up_lo] = median_and_upper(lo, na, ts.select);
    const auto [med_hi, up_hi] = median_and_upper(hi, nb, ts.select);
    if (!(up_hi / up_lo > (1 + opt.min_step) * (1 + 1e-9))) return false;
    const double floor2 = opt.noise_floor * opt.noise_floor;
    const double s2_1 = std::max(rss1 / nn, floor2), s2_2 = std::max(rss2 / nn, floor2);
    const double entropy2 = dna * std::log(dna / nn) + dnb * std::log(dnb / nn);
    const double bic1 = nn * std::log(2 * M_PI * s2_1) + nn - 2 * 0.0 + 2.0 * 1.0 * std::log(nn);
    const double bic2 = nn * std::log(2 * M_PI * s2_2) + nn - 2 * entropy2 + 2.0 * 2.0 * std::log(nn);
    const double margin = 1e-9 * (std::abs(bic1) + std::abs(bic2)) + 3 * err / s2_1 + 3 * err / s2_2 + 1e-6;
    if (!(bic2 < bic1 - margin)) return false;

    out.levels.resize(2);
    out.levels[0] = Level{med_lo, detail::stddev_fast(std::span<const double>(lo, na)), na};
    out.levels[1] = Level{med_hi, detail::stddev_fast(std::span<const double>(hi, nb)), nb};
    out.steps.assign(1, (med_hi - med_lo) / med_lo);
    out.assignment.resize(nr);
    int* as = out.assignment.data();
    for (std::size_t i = 0; i < nr; ++i) {  // -1 invalid, 0 low, 1 high (vectorised)
        const int valid = (rp[i] > 0) & (rp[i] <= dmax);
        as[i] = valid - 1 + (valid & static_cast<int>(max_lo < rp[i]));
    }
    out.log_sigma = std::sqrt(std::max(rss2 / nn, 0.0));
    out.bic.assign(static_cast<std::size_t>(opt.max_levels), inf);
    out.bic[0] = bic1;
    out.bic[1] = bic2;
    out.reason.clear();
    return true;
}

}  // namespace

detail::GeneralLevelsOnly::GeneralLevelsOnly() : previous_(general_only) { general_only = true; }
detail::GeneralLevelsOnly::~GeneralLevelsOnly() { general_only = previous_; }

detail::ShortcutCounts& detail::level_shortcut_counts() {
    thread_local ShortcutCounts counts;
    return counts;
}

Levels find_levels(std::span<const double> r_ohm, const LevelOptions& opt) {
    if (!general_only) {
        auto& counts = detail::level_shortcut_counts();
        ++counts.tried;
        Levels out;
        if (two_levels(r_ohm, opt, out)) {
            ++counts.taken;
            return out;
        }
    }
    return detail::find_levels_general(r_ohm, opt);
}

Levels detail::find_levels_general(std::span<const double> r_ohm, const LevelOptions& opt) {
    Levels out;
    out.assignment.assign(r_ohm.size(), -1);
    thread_local Scratch sc;
    std::vector<double>& r_sorted = sc.r_sorted;
    std::vector<double>& y = sc.y;
    r_sorted.resize(r_ohm.size());
    constexpr double dmax = std::numeric_limits<double>::max();
    std::size_t n_valid = 0;
    for (double r : r_ohm) n_valid += (r > 0) & (r <= dmax);  // finite positive (vectorised count)
    if (n_valid == r_ohm.size()) {  // usual: all valid (analyze_rh passes cleaned points)
        std::copy(r_ohm.begin(), r_ohm.end(), r_sorted.begin());
    } else {
        n_valid = 0;
        for (double r : r_ohm) {  // branch-free compaction of the finite positive values
            r_sorted[n_valid] = r;
            n_valid += (r > 0) & (r <= dmax);
        }
        r_sorted.resize(n_valid);
    }
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
    if (r_sorted.front() >= std::numeric_limits<double>::min()) {  // all normal (sorted): the vectorised log
        const double* rs = r_sorted.data();
        double* yp = y.data();
        for (std::size_t i = 0; i < n; ++i) yp[i] = log_positive(rs[i]) - centre;
    } else {
        for (std::size_t i = 0; i < n; ++i) y[i] = std::log(r_sorted[i]) - centre;
    }

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
        // The ngaps widest gaps: every gap above the ngaps-th widest, then (ties) the lowest-index gaps
        // equal to it.
        const std::size_t ngaps = max_blocks / 2;
        std::vector<double>& g = sc.gaps;
        g.resize(n - 1);
        double* gp = g.data();
        const double* yp = y.data();
        for (std::size_t i = 0; i + 1 < n; ++i) gp[i] = yp[i + 1] - yp[i];
        const double t = detail::kth_smallest(g, n - 1 - ngaps, sc.select_buf);
        // Block starts marked in a flag per point (then read in ascending order: no sort, no duplicates).
        std::vector<unsigned char>& start = sc.start;
        start.assign(n, 0);
        unsigned char* sp = start.data();
        std::size_t wide = 0;
        std::size_t first_tie = n;  // lowest i with gp[i] == t
        for (std::size_t i = n - 1; i-- > 0;) {  // branch-free: gap i starts block i + 1
            const bool w = gp[i] > t;
            sp[i + 1] = static_cast<unsigned char>(w);
            wide += w;
            first_tie = gp[i] == t ? i : first_tie;
        }
        // t is the ngaps-th widest gap, so usually ngaps - 1 gaps are wider and the first gap equal to t is
        // the last one taken; with more ties, the lowest-index ones.
        if (wide + 1 == ngaps && first_tie < n) {
            sp[first_tie + 1] = 1;
            ++wide;
        }
        for (std::size_t i = 0; i + 1 < n && wide < ngaps; ++i)
            if (gp[i] == t && !sp[i + 1]) {
                sp[i + 1] = 1;
                ++wide;
            }
        for (std::size_t q = 0; q < max_blocks / 2; ++q) sp[q * n / (max_blocks / 2)] = 1;
        bounds.resize(max_blocks + 1);  // at most ngaps + max_blocks / 2 starts (+1: the compaction writes one past)
        std::size_t nbounds = 0;
        for (std::size_t i = 0; i < n; ++i) {  // branch-free compaction of the marked starts
            bounds[nbounds] = i;
            nbounds += sp[i];
        }
        bounds.resize(nbounds);
    }
    const std::size_t nb = bounds.size();
    const std::size_t kmax =
        std::min<std::size_t>({static_cast<std::size_t>(std::max(1, opt.max_levels)), n / min_pts, nb});
    Segmenter& seg = sc.seg;
    seg.build(y, bounds);
    seg.run(std::max<std::size_t>(kmax, 1));
    // Segment starts in points.
    std::size_t st[Segmenter::max_n];
    auto starts_pts = [&](std::size_t k) {
        seg.starts(k, st);
        for (std::size_t c = 0; c < k; ++c) st[c] = bounds[st[c]];
    };
    const double nn = static_cast<double>(n);
    const double floor2 = opt.noise_floor * opt.noise_floor;

    out.bic.assign(static_cast<std::size_t>(std::max(1, opt.max_levels)), inf);
    double best_bic = inf;
    std::size_t best_k = 0;
    for (std::size_t k = 1; k <= std::max<std::size_t>(kmax, 1); ++k) {
        starts_pts(k);
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
    starts_pts(best_k);
    out.log_sigma = std::sqrt(std::max(seg.total(best_k) / nn, 0.0));
    std::vector<double> upper;  // largest resistance of each level (for the assignment)
    for (std::size_t c = 0; c < best_k; ++c) {
        const std::size_t a = st[c];
        const std::size_t b = c + 1 < best_k ? st[c + 1] : n;
        Level lv;
        lv.points = b - a;
        const std::span<const double> rs(r_sorted.data() + a, b - a);
        lv.r_std_ohm = detail::stddev_fast(rs);
        lv.r_ohm = lv.points % 2 ? rs[lv.points / 2] : 0.5 * (rs[lv.points / 2 - 1] + rs[lv.points / 2]);
        out.levels.push_back(lv);
        upper.push_back(rs.back());
    }
    // Level of each point: the number of levels whose largest value is below it (the same as the lower bound
    // in `upper`), capped at the top level; -1 for a non-finite or non-positive value. One vectorisable pass
    // per level boundary (a loop over the boundaries inside the point loop does not vectorise).
    int* as = out.assignment.data();
    const double* rp = r_ohm.data();
    const std::size_t nr = r_ohm.size();
    for (std::size_t i = 0; i < nr; ++i) as[i] = ((rp[i] > 0) & (rp[i] <= dmax)) ? 0 : -1;
    for (std::size_t c = 0; c + 1 < best_k; ++c) {
        const double u = upper[c];
        for (std::size_t i = 0; i < nr; ++i) as[i] += static_cast<int>((u < rp[i]) & (rp[i] <= dmax));
    }
    for (std::size_t c = 1; c < out.levels.size(); ++c)
        out.steps.push_back((out.levels[c].r_ohm - out.levels[c - 1].r_ohm) / out.levels[c - 1].r_ohm);
    return out;
}

}  // namespace mtjlab::analysis
