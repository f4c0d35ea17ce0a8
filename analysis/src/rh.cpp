#include "mtjlab/analysis/rh.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "robust.hpp"

namespace mtjlab::analysis {
namespace {

/// Direction of a set of points from the least-squares slope of x against record order.
int trend_direction(const Sweep& s, const std::vector<std::size_t>& pts) {
    if (pts.size() < 2) return 0;
    const double n = static_cast<double>(pts.size());
    double si = 0, sx = 0, sii = 0, six = 0;
    for (std::size_t k = 0; k < pts.size(); ++k) {
        const double i = static_cast<double>(k);
        si += i;
        sx += s.x[pts[k]];
        sii += i * i;
        six += i * s.x[pts[k]];
    }
    const double slope = (n * six - si * sx) / (n * sii - si * si);
    if (slope > 0) return 1;
    if (slope < 0) return -1;
    return 0;
}

/// Per-thread workspace of analyze_rh (reused, so a loop allocates nothing here once warm).
struct RhScratch {
    std::vector<std::size_t> off;     ///< branch bi is [off[bi], off[bi + 1])
    std::vector<double> raw, r, h;    ///< resistance as read, cleaned resistance, field
    std::vector<double> noise, select, plateau_lo, plateau_hi;
};

void sort_branch(const Sweep& s, Branch& b) {
    const double* x = s.x.data();
    const std::size_t* p = b.points.data();
    bool sorted = true;
    if (b.direction > 0) {
        for (std::size_t k = 1; k < b.points.size(); ++k) sorted &= !(x[p[k]] < x[p[k - 1]]);
    } else {
        for (std::size_t k = 1; k < b.points.size(); ++k) sorted &= !(x[p[k]] > x[p[k - 1]]);
    }
    if (sorted) return;
    std::stable_sort(b.points.begin(), b.points.end(), [&](std::size_t a, std::size_t c) {
        return b.direction > 0 ? s.x[a] < s.x[c] : s.x[a] > s.x[c];
    });
}

}  // namespace

std::vector<Branch> split_branches(const Sweep& s, std::vector<std::string>* notes) {
    const std::size_t n = std::min(s.x.size(), s.r_ohm.size());
    std::vector<std::size_t> good(n);
    {
        const double* x = s.x.data();
        const double* r = s.r_ohm.data();
        // A point is valid with a finite field and a finite positive resistance. Usually all are: one
        // vectorised count, then the indices in order; otherwise a branch-free compaction.
        constexpr double dmax = std::numeric_limits<double>::max();
        std::size_t valid = 0;
        for (std::size_t i = 0; i < n; ++i)
            valid += static_cast<std::size_t>((std::abs(x[i]) <= dmax) & (r[i] > 0) & (r[i] <= dmax));
        if (valid == n) {
            std::iota(good.begin(), good.end(), std::size_t{0});
        } else {
            std::size_t m = 0;
            for (std::size_t i = 0; i < n; ++i) {
                good[m] = i;
                m += static_cast<std::size_t>((std::abs(x[i]) <= dmax) & (r[i] > 0) & (r[i] <= dmax));
            }
            good.resize(m);
        }
    }
    if (notes && good.size() < n)
        notes->push_back(fmt::format("dropped {} of {} points (non-finite or non-positive)", n - good.size(), n));

    std::vector<Branch> out;
    const bool has_branch = s.branch.size() == s.x.size() && !s.branch.empty();
    const bool has_dir = s.direction.size() == s.x.size() && !s.direction.empty();
    if (has_branch) {
        // Branches by index (few of them: a linear search beats a map), then in index order.
        // While grouping, Branch::direction holds the sum of the recorded directions of the branch's points.
        // Recorded rows come in runs of one branch: each run is appended at once.
        std::vector<Branch> by;
        const int* br = s.branch.data();
        const int* dr = has_dir ? s.direction.data() : nullptr;
        const std::size_t* gd = good.data();
        const std::size_t m = good.size();
        for (std::size_t k = 0; k < m;) {
            const int id = br[gd[k]];
            std::size_t e = k + 1;
            while (e < m && br[gd[e]] == id) ++e;
            std::size_t last = by.size();
            for (std::size_t q = 0; q < by.size(); ++q)
                if (by[q].index == id) last = q;
            if (last == by.size()) {
                Branch nb;
                nb.index = id;
                by.push_back(std::move(nb));
            }
            Branch& cur = by[last];
            cur.points.insert(cur.points.end(), gd + k, gd + e);
            if (dr) {
                int dsum = 0;
                for (std::size_t q = k; q < e; ++q) dsum += (dr[gd[q]] > 0) - (dr[gd[q]] < 0);
                cur.direction += dsum;
            }
            k = e;
        }
        std::sort(by.begin(), by.end(), [](const Branch& a, const Branch& b) { return a.index < b.index; });
        for (auto& b : by) {
            const int sum = b.direction;
            int dir = sum > 0 ? 1 : (sum < 0 ? -1 : 0);
            if (dir == 0) dir = trend_direction(s, b.points);
            b.direction = dir;
            out.push_back(std::move(b));
        }
    } else if (has_dir) {
        // Consecutive runs of one direction; if the rows are shuffled (many tiny runs) group by value.
        std::vector<Branch> runs;
        for (std::size_t i : good) {
            const int d = s.direction[i] > 0 ? 1 : (s.direction[i] < 0 ? -1 : 0);
            if (runs.empty() || runs.back().direction != d) {
                Branch b;
                b.index = static_cast<int>(runs.size());
                b.direction = d;
                runs.push_back(b);
            }
            runs.back().points.push_back(i);
        }
        if (runs.size() > 8 && good.size() < 4 * runs.size()) {
            Branch up, down;
            up.direction = 1;
            down.direction = -1;
            down.index = 1;
            for (std::size_t i : good) (s.direction[i] >= 0 ? up : down).points.push_back(i);
            if (notes) notes->push_back("rows are not in sweep order: grouped by the direction column");
            out = {up, down};
        } else {
            out = std::move(runs);
        }
    } else {
        // Infer from point order: a new branch starts where the field changes direction.
        int cur = 0;
        Branch b;
        for (std::size_t k = 0; k < good.size(); ++k) {
            const std::size_t i = good[k];
            if (k > 0) {
                const double dx = s.x[i] - s.x[good[k - 1]];
                const int d = dx > 0 ? 1 : (dx < 0 ? -1 : 0);
                if (d != 0 && cur != 0 && d != cur) {
                    b.direction = cur;
                    out.push_back(std::move(b));
                    b = Branch{};
                    b.index = static_cast<int>(out.size());
                }
                if (d != 0) cur = d;
            }
            b.points.push_back(i);
        }
        b.direction = cur;
        if (!b.points.empty()) out.push_back(std::move(b));
    }
    std::vector<Branch> kept;
    for (auto& b : out) {
        if (b.direction == 0 || b.points.size() < 2) {
            if (notes && !b.points.empty())
                notes->push_back(fmt::format("ignored branch {} ({} points, no field change)", b.index, b.points.size()));
            continue;
        }
        sort_branch(s, b);
        kept.push_back(std::move(b));
    }
    return kept;
}

RhResult analyze_rh(const Sweep& sweep, const RhOptions& opt) {
    RhResult res;
    if (sweep.x.size() != sweep.r_ohm.size()) {
        res.error = fmt::format("field and resistance columns differ in length ({} vs {})", sweep.x.size(),
                                sweep.r_ohm.size());
    }
    auto branches = split_branches(sweep, &res.notes);
    std::size_t used = 0;
    for (const auto& b : branches) used += b.points.size();
    res.points_used = used;
    res.points_dropped = std::min(sweep.x.size(), sweep.r_ohm.size()) - std::min(used, sweep.x.size());
    for (const auto& b : branches) (b.direction > 0 ? res.branches_up : res.branches_down)++;

    auto fail_all = [&](const std::string& why) {
        for (Extracted* e : {&res.r_p_ohm, &res.r_ap_ohm, &res.tmr, &res.h_sw_plus_T, &res.h_sw_minus_T,
                             &res.hc_T, &res.hex_T, &res.squareness, &res.h_rl_T})
            *e = Extracted::none(why);
    };
    if (!res.error.empty()) {
        fail_all(res.error);
        return res;
    }
    if (used < 6) {
        res.error = fmt::format("too few usable points ({}) for a loop", used);
        fail_all(res.error);
        return res;
    }

    // Cleaned resistance per branch, in sweep order, in one flat per-thread workspace (no allocation per loop
    // once warm): branch bi is [off[bi], off[bi + 1]) of r (cleaned), raw (as read) and h (field).
    // Noise from first differences of ln R.
    thread_local RhScratch ws;
    const std::size_t nb = branches.size();
    ws.off.resize(nb + 1);
    ws.off[0] = 0;
    for (std::size_t bi = 0; bi < nb; ++bi) ws.off[bi + 1] = ws.off[bi] + branches[bi].points.size();
    ws.raw.resize(used);
    ws.h.resize(used);
    for (std::size_t bi = 0; bi < nb; ++bi) {
        const auto& pts = branches[bi].points;
        double* raw = ws.raw.data() + ws.off[bi];
        double* h = ws.h.data() + ws.off[bi];
        const std::size_t len = pts.size(), p0 = pts[0];
        bool contiguous = true;  // recorded branches usually are consecutive rows: two copies, no gather
        for (std::size_t k = 0; k < len; ++k) contiguous &= pts[k] == p0 + k;
        if (contiguous) {
            std::copy_n(sweep.r_ohm.data() + p0, len, raw);
            std::copy_n(sweep.x.data() + p0, len, h);
        } else {
            for (std::size_t k = 0; k < len; ++k) {
                raw[k] = sweep.r_ohm[pts[k]];
                h[k] = sweep.x[pts[k]];
            }
        }
    }
    auto& noise_parts = ws.noise;
    noise_parts.resize(used - nb);  // every branch has >= 2 points
    {
        double* np = noise_parts.data();
        for (std::size_t bi = 0; bi < nb; ++bi) {
            const double* raw = ws.raw.data() + ws.off[bi];
            const std::size_t len = ws.off[bi + 1] - ws.off[bi];
            for (std::size_t k = 1; k < len; ++k) *np++ = std::abs(raw[k] / raw[k - 1] - 1);
        }
    }
    double noise_median = 0;
    if (!noise_parts.empty()) {
        // Upper median (exact selection); the thresholds below need no more precision.
        noise_median = detail::kth_smallest(noise_parts, noise_parts.size() / 2, ws.select);
    }
    const double sigma = std::max(1.4826 * noise_median / std::sqrt(2.0), 1e-6);
    res.noise_rel = sigma;
    ws.r = ws.raw;
    for (std::size_t bi = 0; bi < nb; ++bi) {
        const std::size_t len = ws.off[bi + 1] - ws.off[bi];
        const double* orig = ws.raw.data() + ws.off[bi];
        double* r = ws.r.data() + ws.off[bi];
        // Hampel filter, window +-2, in ln R: a point far from its neighbours' median is a spike.
        if (len >= 5) {
            const double thr = opt.hampel_k * sigma;
            // Exact shortcut: with both neighbours within thr/2 of the point, three of the five window
            // values lie within thr/2 of it, so the median does too and the point stays (interior points).
            auto quiet = [&](std::size_t k) {
                const bool near_prev = std::abs(orig[k] - orig[k - 1]) < 0.5 * thr * orig[k];
                const bool near_next = std::abs(orig[k] - orig[k + 1]) < 0.5 * thr * orig[k];
                return near_prev & near_next;
            };
            auto filter = [&](std::size_t k) {
                const std::size_t a = k >= 2 ? k - 2 : 0;
                const std::size_t b = std::min(len, k + 3);
                double w[5];
                std::size_t m = 0;
                for (std::size_t q = a; q < b; ++q) w[m++] = orig[q];
                // Sorted in place (m <= 5): insertion, exact; std::sort's set-up costs more than the sorting.
                for (std::size_t q = 1; q < m; ++q) {
                    const double x = w[q];
                    std::size_t z = q;
                    for (; z > 0 && w[z - 1] > x; --z) w[z] = w[z - 1];
                    w[z] = x;
                }
                const double med = m % 2 ? w[m / 2] : 0.5 * (w[m / 2 - 1] + w[m / 2]);
                if (std::abs(orig[k] - med) > opt.hampel_k * sigma * med) {
                    r[k] = med;
                    ++res.spikes_replaced;
                }
            };
            // Points are independent (read from orig, written to r): interior points 8 at a time, one branch
            // per 8 when all are quiet (the usual case), then one by one.
            filter(0);
            std::size_t k = 1;
            for (; k + 8 < len; k += 8) {
                bool all = true;
                for (std::size_t q = 0; q < 8; ++q) all &= quiet(k + q);
                if (all) continue;
                for (std::size_t q = 0; q < 8; ++q)
                    if (!quiet(k + q)) filter(k + q);
            }
            for (; k + 1 < len; ++k)
                if (!quiet(k)) filter(k);
            filter(len - 1);
        }
    }
    const std::span<const double> all_r(ws.r.data(), used);
    auto branch_r = [&](std::size_t bi) {
        return std::span<const double>(ws.r.data() + ws.off[bi], ws.off[bi + 1] - ws.off[bi]);
    };
    auto branch_h = [&](std::size_t bi) {
        return std::span<const double>(ws.h.data() + ws.off[bi], ws.off[bi + 1] - ws.off[bi]);
    };
    if (res.spikes_replaced) res.notes.push_back(fmt::format("replaced {} spike(s) by the local median", res.spikes_replaced));

    res.levels = find_levels(all_r, opt.levels);
    if (res.levels.levels.empty()) {
        res.error = "no resistance level found: " + res.levels.reason;
        fail_all(res.error);
        return res;
    }
    const double lo = res.levels.levels.front().r_ohm;
    const double hi = res.levels.levels.back().r_ohm;
    if (res.levels.levels.size() < 2 || std::log(hi / lo) < opt.min_switch_sigma * sigma ||
        hi / lo - 1 < opt.min_switch_rel) {
        const std::string why = fmt::format("loop never switches: one resistance level near {:.6g} Ohm", lo);
        fail_all(why);
        res.notes.push_back(why);
        return res;
    }
    const double mid = 0.5 * (lo + hi);
    const double thr_lo = lo + 0.25 * (hi - lo);
    const double thr_hi = lo + 0.75 * (hi - lo);

    // Crossings per branch, and plateau membership (extreme levels, away from transitions).
    auto& plateau_lo = ws.plateau_lo;
    auto& plateau_hi = ws.plateau_hi;
    plateau_lo.resize(used);
    plateau_hi.resize(used);
    std::size_t n_lo = 0, n_hi = 0;
    // Level of each cleaned point, recomputed by nearest extreme in ln R for robustness.
    // Plateau membership: within max(5 sigma, a fifth of the mean level spacing) of an extreme level.
    const double tol = std::max(5 * sigma, 0.2 * std::log(hi / lo) / static_cast<double>(res.levels.levels.size()));
    const double tol_lo = lo * (std::exp(tol) - 1), tol_hi = hi * (1 - std::exp(-tol));
    struct FlCandidates {
        std::vector<double> plus, minus, rl_down, rl_up;
    } cand;
    std::size_t backhops = 0;
    struct PerBranch {
        int dir = 0;
        std::optional<double> fl;
        std::vector<double> opposite;
    };
    std::vector<PerBranch> per_branch;
    for (std::size_t bi = 0; bi < branches.size(); ++bi) {
        const auto r = branch_r(bi);
        const auto h = branch_h(bi);
        const int dir = branches[bi].direction;
        int state = 0;  // -1 low, +1 high, 0 unknown
        std::size_t last_firm = 0;
        std::vector<std::size_t> bounds;  // index i: crossing between i and i+1
        std::vector<Crossing> bc;
        auto step = [&](std::size_t k) {
            const int s = r[k] < thr_lo ? -1 : (r[k] > thr_hi ? 1 : 0);
            if (s == 0) return;
            if (state != 0 && s != state) {
                // Last point at or on the old side of the midpoint before k.
                std::size_t i = k - 1;
                while (i > last_firm && (state < 0 ? r[i] > mid : r[i] < mid)) --i;
                const double r0 = r[i], r1 = r[i + 1];
                const double f = (r1 != r0) ? std::clamp((mid - r0) / (r1 - r0), 0.0, 1.0) : 0.5;
                Crossing c;
                c.branch = branches[bi].index;
                c.direction = dir;
                c.field_T = h[i] + f * (h[i + 1] - h[i]);
                c.to_high = s > 0;
                bc.push_back(c);
                bounds.push_back(i);
            }
            state = s;
            last_firm = k;
        };
        // Once in a state, 8 points at a time: when none of them is on the other side (the usual case) the
        // state stays and only the last firm point moves (branch-free); otherwise point by point.
        const std::size_t len = r.size();
        std::size_t p = 0;
        for (; p < len && state == 0; ++p) step(p);
        for (; p + 8 <= len; p += 8) {
            bool change = false;
            if (state > 0) {
                for (std::size_t q = 0; q < 8; ++q) change |= r[p + q] < thr_lo;
            } else {
                for (std::size_t q = 0; q < 8; ++q) change |= r[p + q] > thr_hi;
            }
            if (change) {
                for (std::size_t q = 0; q < 8; ++q) step(p + q);
                continue;
            }
            for (std::size_t q = 0; q < 8; ++q) {
                const bool firm = state > 0 ? r[p + q] > thr_hi : r[p + q] < thr_lo;
                last_firm = firm ? p + q : last_firm;
            }
        }
        for (; p < len; ++p) step(p);
        // Plateau points: near an extreme level and at least edge_guard points from any crossing.
        // A crossing between points b and b+1 excludes the points k with min(|k - b|, |k - b - 1|) < edge_guard,
        // i.e. [b + 1 - edge_guard, b + 1 + edge_guard); the bounds ascend. Between those ranges the points are
        // gathered branch-free (plateau membership flips at random within noisy plateaus), in order.
        auto gather = [&](std::size_t from, std::size_t to) {
            for (std::size_t k = from; k < to; ++k) {
                const bool in_lo = std::abs(r[k] - lo) < tol_lo;
                const bool in_hi = !in_lo & (std::abs(r[k] - hi) < tol_hi);
                plateau_lo[n_lo] = r[k];
                n_lo += in_lo;
                plateau_hi[n_hi] = r[k];
                n_hi += in_hi;
            }
        };
        std::size_t cursor = 0;
        for (std::size_t b : bounds) {
            const std::size_t ex_lo = b + 1 >= opt.edge_guard ? b + 1 - opt.edge_guard : 0;
            const std::size_t ex_hi = std::min(r.size(), b + 1 + opt.edge_guard);
            if (ex_lo > cursor) gather(cursor, std::min(ex_lo, r.size()));
            cursor = std::max(cursor, ex_hi);
        }
        gather(cursor, r.size());
        // Free-layer switching: the crossing of the expected type nearest zero field (P->AP rising,
        // AP->P falling); the opposite crossings are classified once all branches are seen.
        const bool fl_to_high = dir > 0;
        PerBranch pb;
        pb.dir = dir;
        for (const auto& c : bc) {
            if (c.to_high == fl_to_high) {
                if (!pb.fl || std::abs(c.field_T) < std::abs(*pb.fl)) pb.fl = c.field_T;
            }
        }
        for (const auto& c : bc)
            if (c.to_high != fl_to_high) pb.opposite.push_back(c.field_T);
        if (pb.fl) (dir > 0 ? cand.plus : cand.minus).push_back(*pb.fl);
        per_branch.push_back(std::move(pb));
        res.crossings.insert(res.crossings.end(), bc.begin(), bc.end());
    }
    // Opposite-type crossings far from the free-layer switching (more than 3 coercive fields away and
    // at larger |H|) are reference-layer rotation (major loops); nearer ones are back-hops.
    double hc_scale = 1e-3;
    if (!cand.plus.empty() && !cand.minus.empty())
        hc_scale = std::max(hc_scale, std::abs(detail::mean(cand.plus) - detail::mean(cand.minus)) / 2);
    for (const auto& pb : per_branch) {
        for (double f : pb.opposite) {
            const double ref = pb.fl.value_or(0.0);
            if (std::abs(f - ref) > 3 * hc_scale && std::abs(f) > std::abs(ref)) {
                (pb.dir < 0 ? cand.rl_down : cand.rl_up).push_back(f);
            } else {
                ++backhops;
            }
        }
    }
    if (backhops) res.notes.push_back(fmt::format("{} back-hop crossing(s) near a switching field ignored", backhops));

    auto plateau = [&](std::vector<double>& v, const char* name) -> std::pair<Extracted, double> {
        if (v.size() < 3)
            return {Extracted::none(fmt::format("fewer than 3 stable points on the {} plateau", name)), 0.0};
        const double sem = detail::stddev_fast(v) / std::sqrt(static_cast<double>(v.size()));
        const double m = detail::trimmed_mean_of(v, opt.trim, ws.select);
        return {Extracted::of(m, sem), sem};
    };
    plateau_lo.resize(n_lo);
    plateau_hi.resize(n_hi);
    auto [rp, sp] = plateau(plateau_lo, "low-resistance (P)");
    auto [rap, sap] = plateau(plateau_hi, "high-resistance (AP)");
    res.r_p_ohm = rp;
    res.r_ap_ohm = rap;
    if (rp.ok() && rap.ok()) {
        const double t = (*rap - *rp) / *rp;
        const double err = (*rap / *rp) * std::hypot(sap / *rap, sp / *rp);
        res.tmr = Extracted::of(t, err);
    } else {
        res.tmr = Extracted::none(!rp.ok() ? rp.reason : rap.reason);
    }

    auto mean_of = [](const std::vector<double>& v, const std::string& why) {
        if (v.empty()) return Extracted::none(why);
        const double m = detail::mean(v);
        return v.size() > 1 ? Extracted::of(m, detail::stddev(v) / std::sqrt(static_cast<double>(v.size())))
                            : Extracted::of(m);
    };
    res.h_sw_plus_T = mean_of(cand.plus, res.branches_up ? "no P->AP switching on a rising-field branch"
                                                         : "no rising-field branch in the loop");
    res.h_sw_minus_T = mean_of(cand.minus, res.branches_down ? "no AP->P switching on a falling-field branch"
                                                             : "no falling-field branch in the loop");
    if (res.h_sw_plus_T.ok() && res.h_sw_minus_T.ok()) {
        const double hp = *res.h_sw_plus_T, hm = *res.h_sw_minus_T;
        const double e = std::hypot(res.h_sw_plus_T.error.value_or(0), res.h_sw_minus_T.error.value_or(0)) / 2;
        const bool have_err = res.h_sw_plus_T.error || res.h_sw_minus_T.error;
        res.hc_T = have_err ? Extracted::of((hp - hm) / 2, e) : Extracted::of((hp - hm) / 2);
        res.hex_T = have_err ? Extracted::of((hp + hm) / 2, e) : Extracted::of((hp + hm) / 2);
    } else {
        const std::string why = "needs switching on both a rising and a falling branch (" +
                                (res.h_sw_plus_T.ok() ? res.h_sw_minus_T.reason : res.h_sw_plus_T.reason) + ")";
        res.hc_T = Extracted::none(why);
        res.hex_T = Extracted::none(why);
    }
    if (!cand.rl_down.empty()) res.h_rl_T = mean_of(cand.rl_down, "");
    else if (!cand.rl_up.empty()) res.h_rl_T = mean_of(cand.rl_up, "");
    else res.h_rl_T = Extracted::none("no reference-layer rotation in the swept range (minor loop)");

    // Squareness: remanence at the loop centre, (R_down(H_ex) - R_up(H_ex)) / (R_AP - R_P).
    if (res.hex_T.ok() && res.tmr.ok()) {
        auto at_centre = [&](int want_dir) -> std::optional<double> {
            const double c = *res.hex_T;
            for (std::size_t bi = 0; bi < branches.size(); ++bi) {
                if (branches[bi].direction != want_dir) continue;
                const auto h = branch_h(bi);
                const auto r = branch_r(bi);
                // The branch is sorted along its direction: its extremes are its ends.
                if (c < std::min(h.front(), h.back()) || c > std::max(h.front(), h.back())) continue;
                // The first point nearest the centre field, by bisection: q is the first point past the centre
                // in sweep order; the nearest is q - 1 or q (the earlier on a tie), then the first of equal fields.
                const auto past = want_dir > 0
                                      ? std::upper_bound(h.begin(), h.end(), c)
                                      : std::upper_bound(h.begin(), h.end(), c, std::greater<double>());
                std::size_t best = static_cast<std::size_t>(past - h.begin());
                if (best == h.size() || (best > 0 && std::abs(h[best - 1] - c) <= std::abs(h[best] - c))) --best;
                while (best > 0 && h[best - 1] == h[best]) --best;
                const std::size_t a = best > 0 ? best - 1 : 0;
                const std::size_t b = std::min(h.size(), a + 3);
                // median of the (up to) 3 points
                if (b - a == 1) return r[a];
                const double lo2 = std::min(r[a], r[a + 1]), hi2 = std::max(r[a], r[a + 1]);
                if (b - a == 2) return 0.5 * (hi2 + lo2);
                return std::max(lo2, std::min(hi2, r[a + 2]));
            }
            return std::nullopt;
        };
        const auto rd = at_centre(-1), ru = at_centre(1);
        if (rd && ru) res.squareness = Extracted::of((*rd - *ru) / (*res.r_ap_ohm - *res.r_p_ohm));
        else res.squareness = Extracted::none("no rising and falling branch spans the loop centre");
    } else {
        res.squareness = Extracted::none(res.hex_T.ok() ? res.tmr.reason : res.hex_T.reason);
    }
    return res;
}

}  // namespace mtjlab::analysis
