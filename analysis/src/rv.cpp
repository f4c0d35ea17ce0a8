#include "mtjlab/analysis/rv.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "mtjlab/analysis/rh.hpp"
#include "robust.hpp"

namespace mtjlab::analysis {

RvResult analyze_rv(const Sweep& sweep, bool field_free_hint, const RvOptions& opt) {
    RvResult res;
    auto fail = [&](const std::string& why) {
        res.error = why;
        for (Extracted* e : {&res.r_p_ohm, &res.r_ap_ohm, &res.tmr, &res.vc_ap_to_p_V, &res.vc_p_to_ap_V,
                             &res.assist_ap_to_p_T, &res.assist_p_to_ap_T})
            *e = Extracted::none(why);
        res.field_free_reason = why;
        return res;
    };
    if (sweep.x.size() != sweep.r_ohm.size())
        return fail(fmt::format("amplitude and resistance columns differ in length ({} vs {})", sweep.x.size(),
                                sweep.r_ohm.size()));
    auto branches = split_branches(sweep, &res.notes);
    // Reads in record (time) order: a junction that broke during the run (stop_on_breakdown leaves one or
    // a few reads of a short or open at the end) is not a resistance level of the device.
    {
        std::vector<std::size_t> order;
        for (const auto& b : branches) order.insert(order.end(), b.points.begin(), b.points.end());
        std::sort(order.begin(), order.end());
        std::size_t keep = order.size();
        double lo = std::numeric_limits<double>::infinity(), hi = 0;
        std::vector<double> prefix_lo(order.size()), prefix_hi(order.size());
        for (std::size_t k = 0; k < order.size(); ++k) {
            prefix_lo[k] = lo;
            prefix_hi[k] = hi;
            lo = std::min(lo, sweep.r_ohm[order[k]]);
            hi = std::max(hi, sweep.r_ohm[order[k]]);
        }
        auto broken = [&](std::size_t k) {
            const double r = sweep.r_ohm[order[k]];
            return r < opt.broken_short_factor * prefix_lo[k] || r > opt.broken_open_factor * prefix_hi[k];
        };
        // The first read of a permanently broken tail (every later read broken against the reads before it).
        for (std::size_t k = order.size(); k-- > 3;) {
            if (!broken(k)) break;
            keep = k;
        }
        if (keep < order.size()) {
            // Every read after `keep` must be broken relative to the intact reads.
            const double rl = prefix_lo[keep], rh = prefix_hi[keep];
            bool tail = true;
            for (std::size_t k = keep; k < order.size(); ++k) {
                const double r = sweep.r_ohm[order[k]];
                if (!(r < opt.broken_short_factor * rl || r > opt.broken_open_factor * rh)) tail = false;
            }
            if (tail) {
                res.broken_reads = order.size() - keep;
                res.broke_at_V = sweep.x[order[keep]];
                std::vector<char> drop(sweep.x.size(), 0);
                for (std::size_t k = keep; k < order.size(); ++k) drop[order[k]] = 1;
                for (auto& b : branches)
                    b.points.erase(std::remove_if(b.points.begin(), b.points.end(), [&](std::size_t i) { return drop[i] != 0; }),
                                   b.points.end());
                res.notes.push_back(fmt::format("junction broke after the {:.4g} V pulse (R {:.4g} Ohm); {} read(s) from "
                                                "then on excluded",
                                                *res.broke_at_V, sweep.r_ohm[order[keep]], res.broken_reads));
            }
        }
    }
    // Spikes: in sweep order, a read far from both neighbours while the neighbours agree with each other.
    // (An intermediate state of a staircase lies between different neighbours and is kept.)
    std::vector<double> all_r;
    {
        std::vector<std::size_t> seq;
        for (const auto& b : branches) seq.insert(seq.end(), b.points.begin(), b.points.end());
        // Read noise (relative) from consecutive reads; the spike test scales with it.
        std::vector<double> lr;
        lr.reserve(seq.size());
        for (std::size_t i : seq) lr.push_back(std::log(sweep.r_ohm[i]));
        const double sigma = detail::diff_noise_sigma(lr);
        const double agree = std::max(0.5 * opt.spike_rel, 5.0 * sigma);   // neighbours are one state
        const double away = std::max(opt.spike_rel, 10.0 * sigma);        // the read is not that state
        for (std::size_t k = 0; k < seq.size(); ++k) {
            const double r = sweep.r_ohm[seq[k]];
            if (k > 0 && k + 1 < seq.size()) {
                const double a = sweep.r_ohm[seq[k - 1]], c = sweep.r_ohm[seq[k + 1]];
                if (std::abs(a / c - 1) < agree && std::abs(r / a - 1) > away && std::abs(r / c - 1) > away) {
                    ++res.spikes_removed;
                    continue;
                }
            }
            all_r.push_back(r);
        }
    }
    if (res.spikes_removed)
        res.notes.push_back(fmt::format("excluded {} lone read(s) far from both agreeing neighbours (spikes)", res.spikes_removed));
    if (all_r.size() < 4) return fail(fmt::format("too few usable points ({}) for an R(V) loop", all_r.size()));

    res.levels = find_levels(all_r, opt.levels);
    if (res.levels.levels.empty()) return fail("no resistance level found: " + res.levels.reason);
    const std::size_t nl = res.levels.levels.size();
    const bool has_assist = sweep.assist_T.size() == sweep.x.size();
    double max_assist = 0;
    if (has_assist)
        for (double a : sweep.assist_T)
            if (std::isfinite(a)) max_assist = std::max(max_assist, std::abs(a));
    const bool field_free = has_assist ? max_assist < opt.field_free_max_T : field_free_hint;
    const bool field_known = has_assist || field_free_hint;
    double max_amp = 0;
    for (const auto& b : branches)
        for (std::size_t i : b.points) max_amp = std::max(max_amp, std::abs(sweep.x[i]));

    if (nl < 2) {
        const std::string why =
            fmt::format("never switches: one resistance level near {:.6g} Ohm up to |V| = {:.3g} V",
                        res.levels.levels.front().r_ohm, max_amp);
        for (Extracted* e : {&res.r_p_ohm, &res.r_ap_ohm, &res.tmr, &res.vc_ap_to_p_V, &res.vc_p_to_ap_V,
                             &res.assist_ap_to_p_T, &res.assist_p_to_ap_T})
            *e = Extracted::none(why);
        res.notes.push_back(why);
        if (field_free) res.field_free_switching = false;
        else res.field_free_reason = field_known ? "assist field applied" : "assist field not recorded";
        return res;
    }
    const auto& lv = res.levels.levels;
    res.r_p_ohm = Extracted::of(lv.front().r_ohm, lv.front().r_std_ohm / std::sqrt(double(lv.front().points)));
    res.r_ap_ohm = Extracted::of(lv.back().r_ohm, lv.back().r_std_ohm / std::sqrt(double(lv.back().points)));
    res.tmr = Extracted::of((*res.r_ap_ohm - *res.r_p_ohm) / *res.r_p_ohm);

    const double lo = lv.front().r_ohm, hi = lv.back().r_ohm;
    const double mid = 0.5 * (lo + hi);
    std::vector<double> v_down, v_up, a_down, a_up;  // AP->P (to low) and P->AP (to high)
    // Walk all branches in sweep order; a change of side of the midpoint counts when the next read
    // confirms it (a lone read on the other side is a glitch, not a switch).
    std::vector<std::size_t> seq;
    for (const auto& b : branches) seq.insert(seq.end(), b.points.begin(), b.points.end());
    int state = 0;
    std::size_t glitches = 0;
    for (std::size_t k = 0; k < seq.size(); ++k) {
        const std::size_t i = seq[k];
        const int s = sweep.r_ohm[i] < mid ? -1 : 1;
        if (state != 0 && s != state) {
            const bool confirmed = k + 1 == seq.size() || (sweep.r_ohm[seq[k + 1]] < mid ? -1 : 1) == s;
            if (!confirmed) {
                ++glitches;
                continue;
            }
            (s < 0 ? v_down : v_up).push_back(sweep.x[i]);
            if (has_assist && std::isfinite(sweep.assist_T[i])) (s < 0 ? a_down : a_up).push_back(sweep.assist_T[i]);
        }
        state = s;
    }
    if (glitches) res.notes.push_back(fmt::format("ignored {} single-read glitch(es) across the midpoint", glitches));
    auto pick = [&](const std::vector<double>& v, const char* what) {
        if (v.empty()) return Extracted::none(fmt::format("no {} switching up to |V| = {:.3g} V", what, max_amp));
        if (v.size() == 1) return Extracted::of(v.front());
        return Extracted::of(detail::median(v), detail::stddev(v) / std::sqrt(static_cast<double>(v.size())));
    };
    res.vc_ap_to_p_V = pick(v_down, "AP->P");
    res.vc_p_to_ap_V = pick(v_up, "P->AP");
    res.assist_ap_to_p_T = a_down.empty() ? Extracted::none(has_assist ? "no AP->P switching" : "assist field not recorded")
                                          : Extracted::of(detail::median(a_down));
    res.assist_p_to_ap_T = a_up.empty() ? Extracted::none(has_assist ? "no P->AP switching" : "assist field not recorded")
                                        : Extracted::of(detail::median(a_up));
    if (field_free) {
        res.field_free_switching = !v_down.empty() || !v_up.empty();
    } else {
        res.field_free_reason = field_known ? fmt::format("assist field applied (up to {:.3g} mT)", max_assist * 1e3)
                                            : "assist field not recorded";
    }
    return res;
}

BreakdownResult analyze_breakdown(const Sweep& sweep, const BreakdownOptions& opt) {
    BreakdownResult res;
    const std::size_t n = std::min(sweep.x.size(), sweep.r_ohm.size());
    if (sweep.x.size() != sweep.r_ohm.size()) {
        res.error = "amplitude and resistance columns differ in length";
        res.breakdown_V = Extracted::none(res.error);
        return res;
    }
    auto broken = [&](double r, double rmin, double rmax) {
        return !std::isfinite(r) || r <= 0 || r < opt.short_factor * rmin || r > opt.open_factor * rmax;
    };
    double rmin = std::numeric_limits<double>::infinity(), rmax = 0, max_amp = 0;
    std::size_t baseline = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(sweep.x[i])) continue;
        const double r = sweep.r_ohm[i];
        if (baseline >= opt.min_baseline && broken(r, rmin, rmax)) {
            bool permanent = true;
            for (std::size_t j = i + 1; j < n; ++j)
                if (std::isfinite(sweep.x[j]) && !broken(sweep.r_ohm[j], rmin, rmax)) permanent = false;
            if (permanent) {
                res.breakdown_V = Extracted::of(std::abs(sweep.x[i]));
                res.mode = (std::isfinite(r) && r > 0 && r < opt.short_factor * rmin) ? "short" : "open";
                res.r_before_ohm = sweep.r_ohm[i > 0 ? i - 1 : i];
                res.r_after_ohm = r;
                return res;
            }
        }
        max_amp = std::max(max_amp, std::abs(sweep.x[i]));
        if (std::isfinite(r) && r > 0) {
            rmin = std::min(rmin, r);
            rmax = std::max(rmax, r);
            ++baseline;
        }
    }
    if (baseline < opt.min_baseline) {
        res.error = fmt::format("too few valid reads ({}) before any change to call a breakdown", baseline);
        res.breakdown_V = Extracted::none(res.error);
    } else {
        res.breakdown_V = Extracted::none(fmt::format("no breakdown up to |V| = {:.3g} V", max_amp));
    }
    return res;
}

}  // namespace mtjlab::analysis
