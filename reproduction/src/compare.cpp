// Every number the paper states, next to ours (computed from this run), with the tolerance we claim; and
// the paper's known tensions with what this run gives instead (docs/physics.md, docs/ann.md).
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "mtjlab/reproduction/reproduction.hpp"

namespace mtjlab::reproduction {
namespace {

using analysis::RunKind;

/// Thickness key (0.01 nm).
long tkey(double t_nm) { return std::lround(t_nm * 100.0); }
double tval(long k) { return static_cast<double>(k) / 100.0; }

struct Stat {
    double mean = std::nan(""), sd = std::nan("");
    std::size_t n = 0;
    [[nodiscard]] bool ok() const { return n > 0; }
};

Stat stat_of(const std::vector<double>& v) {
    Stat s;
    s.n = v.size();
    if (v.empty()) return s;
    double m = 0;
    for (double x : v) m += x;
    m /= static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) ss += (x - m) * (x - m);
    s.mean = m;
    s.sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
    return s;
}

/// Values of one figure per thickness, over usable runs (analysed, not dead, not an outlier) of a kind and
/// cell count.
std::map<long, std::vector<double>> collect(const analysis::Campaign& c, RunKind kind, int cells, std::string_view key,
                                            double scale = 1.0) {
    std::map<long, std::vector<double>> out;
    for (const auto& r : c.runs) {
        if (!r.error.empty() || r.dead || r.run.kind != kind || r.run.device.cells != cells) continue;
        if (!std::isfinite(r.run.device.thickness_nm)) continue;
        if (std::find(r.outliers.begin(), r.outliers.end(), key) != r.outliers.end()) continue;
        for (const auto& f : analysis::figures(r)) {
            if (f.key == key && f.value.ok() && std::isfinite(*f.value)) {
                out[tkey(r.run.device.thickness_nm)].push_back(*f.value * scale);
            }
        }
    }
    return out;
}

/// Field-free runs of 1-cell devices: (switched, tested) per thickness.
std::map<long, std::pair<int, int>> field_free(const analysis::Campaign& c, int cells) {
    std::map<long, std::pair<int, int>> out;
    for (const auto& r : c.runs) {
        if (!r.error.empty() || r.run.kind != RunKind::field_free_rv || r.run.device.cells != cells) continue;
        if (!r.rv || !r.rv->field_free_switching || !std::isfinite(r.run.device.thickness_nm)) continue;
        auto& p = out[tkey(r.run.device.thickness_nm)];
        p.second += 1;
        p.first += *r.rv->field_free_switching ? 1 : 0;
    }
    return out;
}

std::string pm(const Stat& s, const char* unit, int digits = 3) {
    if (!s.ok()) return "not measured";
    return fmt::format("{:.{}g} ± {:.2g} {} (n = {})", s.mean, digits, s.sd, unit, s.n);
}

struct Rows {
    std::vector<Comparison> v;
    Comparison& add(std::string id, std::string section, std::string quantity, std::string where,
                    std::string paper, std::optional<double> paper_value, std::string tolerance) {
        Comparison c;
        c.id = std::move(id);
        c.section = std::move(section);
        c.quantity = std::move(quantity);
        c.where = std::move(where);
        c.paper = std::move(paper);
        c.paper_value = paper_value;
        c.tolerance = std::move(tolerance);
        v.push_back(std::move(c));
        return v.back();
    }
};

void set_abs(Comparison& r, const Stat& s, double tol, const char* unit, int digits = 3) {
    r.ours = pm(s, unit, digits);
    if (!s.ok()) {
        r.note = r.note.empty() ? "no usable run at this thickness in this campaign" : r.note;
        return;
    }
    r.ours_value = s.mean;
    r.met = std::abs(s.mean - *r.paper_value) <= tol;
}

const std::vector<double>* at(const std::map<long, std::vector<double>>& m, long k) {
    const auto it = m.find(k);
    return it == m.end() ? nullptr : &it->second;
}

Stat stat_at(const std::map<long, std::vector<double>>& m, long k) {
    const auto* v = at(m, k);
    return v ? stat_of(*v) : Stat{};
}

// ------------------------------------------------------------------------------------------ ANN helpers
const ann::SweepCell* measured_cell(const DatasetResult& d, std::string_view mapping, int cells, long t) {
    for (const auto& c : d.measured)
        if (c.mapping == mapping && c.cells == cells && tkey(c.thickness_nm) == t) return &c;
    return nullptr;
}

/// Measured cells of a mapping and cell count, by thickness.
std::map<long, const ann::SweepCell*> measured_line(const DatasetResult& d, std::string_view mapping, int cells) {
    std::map<long, const ann::SweepCell*> m;
    for (const auto& c : d.measured)
        if (c.mapping == mapping && c.cells == cells) m[tkey(c.thickness_nm)] = &c;
    return m;
}

/// Accuracy change (points) from the lowest-TMR to the highest-TMR measured group of one cell count.
struct Change {
    bool ok = false;
    double delta = 0, sd = 0, tmr_lo = 0, tmr_hi = 0, t_lo = 0, t_hi = 0;
};
Change tmr_change(const DatasetResult& d, std::string_view mapping, int cells) {
    const auto line = measured_line(d, mapping, cells);
    Change ch;
    if (line.size() < 2) return ch;
    const ann::SweepCell* lo = nullptr;
    const ann::SweepCell* hi = nullptr;
    for (const auto& [k, c] : line) {
        if (!lo || c->tmr < lo->tmr) lo = c;
        if (!hi || c->tmr > hi->tmr) hi = c;
    }
    ch.ok = lo != hi;
    ch.delta = 100 * (hi->mean - lo->mean);
    ch.sd = 100 * std::sqrt(hi->std * hi->std + lo->std * lo->std);
    ch.tmr_lo = 100 * lo->tmr;
    ch.tmr_hi = 100 * hi->tmr;
    ch.t_lo = lo->thickness_nm;
    ch.t_hi = hi->thickness_nm;
    return ch;
}

void ann_rows(Rows& rows, const AnnStage& n, const Options& o, const std::string& mapping) {
    const DatasetResult* mn = n.find(ann::DatasetKind::mnist);
    const DatasetResult* fa = n.find(ann::DatasetKind::fashion);
    const std::string mtag = fmt::format(" [{}]", mapping);
    auto row = [&](std::string id, std::string q, std::string where, std::string paper, std::optional<double> pv,
                   std::string tol) -> Comparison& {
        auto& r = rows.add(id + "." + mapping, "ann", q + mtag, std::move(where), std::move(paper), pv, std::move(tol));
        r.mapping = mapping;
        return r;
    };
    const std::string seeds = fmt::format("{} seed(s)", o.seeds);

    // 1-cell accuracy rise with TMR.
    for (const auto* d : {mn, fa}) {
        if (!d) continue;
        const bool is_mnist = d->dataset == ann::DatasetKind::mnist;
        auto& r = row(is_mnist ? "acc_rise_1cell_mnist" : "acc_rise_1cell_fashion",
                      fmt::format("1-cell {} accuracy change, lowest to highest measured TMR",
                                  is_mnist ? "MNIST" : "Fashion"),
                      is_mnist ? "Fig. 5b, Sec. E" : "Abstract, Fig. 5c", is_mnist ? "+8.3 points (TMR 33 -> 78 %)"
                                                                              : "+7.4 points (TMR 33 -> 78 %)",
                      is_mnist ? 8.3 : 7.4, "same sign and within ±4 points");
        const Change ch = tmr_change(*d, mapping, 1);
        if (!ch.ok) {
            r.ours = "not measured";
            r.note = "fewer than two measured 1-cell groups";
            continue;
        }
        r.ours_value = ch.delta;
        r.ours = fmt::format("{:+.2f} ± {:.2f} points (TMR {:.0f} -> {:.0f} %, {:.2g} -> {:.2g} nm, {})", ch.delta,
                             ch.sd, ch.tmr_lo, ch.tmr_hi, ch.t_lo, ch.t_hi, seeds);
        r.met = ch.delta > 0 && std::abs(ch.delta - *r.paper_value) <= 4.0;
    }
    // Gain from more cells (MNIST).
    if (mn) {
        auto& r = row("acc_gain_cells_mnist", "MNIST accuracy gain from 1 to 3 cells (largest over thicknesses)",
                      "Sec. E", "up to ~14.4 points", 14.4, "within ±4 points");
        const auto one = measured_line(*mn, mapping, 1), three = measured_line(*mn, mapping, 3);
        double best = -1e9, best_t = 0;
        for (const auto& [k, c3] : three) {
            const auto it = one.find(k);
            if (it == one.end()) continue;
            const double g = 100 * (c3->mean - it->second->mean);
            if (g > best) {
                best = g;
                best_t = tval(k);
            }
        }
        if (best > -1e9) {
            r.ours_value = best;
            r.ours = fmt::format("{:+.2f} points (at {:.2g} nm, {})", best, best_t, seeds);
            r.met = std::abs(best - 14.4) <= 4.0;
        } else {
            r.ours = "not measured";
            r.note = "no thickness with both 1- and 3-cell measured states";
        }
    }
    // 4-state (3-cell) MNIST level.
    if (mn) {
        auto& r = row("acc_4state_mnist", "MNIST accuracy with 4-state (3-cell) synapses, mean over thicknesses",
                      "Sec. E", "~91 %", 91.0, "±3 points");
        std::vector<double> v;
        for (const auto& [k, c] : measured_line(*mn, mapping, 3)) v.push_back(100 * c->mean);
        const Stat s = stat_of(v);
        if (s.ok()) {
            r.ours_value = s.mean;
            r.ours = fmt::format("{:.2f} % (range over {} thickness(es) ± {:.2f}, {})", s.mean, s.n, s.sd, seeds);
            r.met = std::abs(s.mean - 91.0) <= 3.0;
        } else {
            r.ours = "not measured";
            r.note = "no 3-cell group with 4 measured states";
        }
    }
    // Best values at 1.9 nm.
    for (const auto* d : {mn, fa}) {
        if (!d) continue;
        const bool is_mnist = d->dataset == ann::DatasetKind::mnist;
        auto& r = row(is_mnist ? "acc_3cell_1.9nm_mnist" : "acc_3cell_1.9nm_fashion",
                      fmt::format("{} accuracy, 3-cell devices, 1.9 nm free layer", is_mnist ? "MNIST" : "Fashion"),
                      "Sec. F", is_mnist ? "91.7 %" : "77.4 %", is_mnist ? 91.7 : 77.4, "±3 points");
        const auto* c = measured_cell(*d, mapping, 3, tkey(1.9));
        if (!c) {
            r.ours = "not measured";
            r.note = "no 3-cell group at 1.9 nm in this campaign";
            continue;
        }
        r.ours_value = 100 * c->mean;
        r.ours = fmt::format("{:.2f} ± {:.2f} % (TMR {:.1f} %, {})", 100 * c->mean, 100 * c->std, 100 * c->tmr, seeds);
        r.met = std::abs(*r.ours_value - *r.paper_value) <= 3.0;
    }
    // Flatness of 2- and 3-cell MNIST in TMR.
    if (mn) {
        for (int cells : {2, 3}) {
            const double paper = cells == 2 ? 0.7 : 0.3;
            auto& r = row(fmt::format("acc_flat_{}cell_mnist", cells),
                          fmt::format("{}-cell MNIST accuracy fluctuation over the measured TMR range (half range)",
                                      cells),
                          "Sec. E", fmt::format("±{} points (nearly flat)", paper), paper,
                          "at most paper + 1 point");
            const auto line = measured_line(*mn, mapping, cells);
            if (line.size() < 2) {
                r.ours = "not measured";
                r.note = fmt::format("fewer than two measured {}-cell groups", cells);
                continue;
            }
            double lo = 1e9, hi = -1e9, sd = 0;
            for (const auto& [k, c] : line) {
                lo = std::min(lo, 100 * c->mean);
                hi = std::max(hi, 100 * c->mean);
                sd = std::max(sd, 100 * c->std);
            }
            r.ours_value = (hi - lo) / 2;
            r.ours = fmt::format("±{:.2f} points ({:.2f}-{:.2f} % over {} thicknesses; largest seed sd {:.2f})",
                                 (hi - lo) / 2, lo, hi, line.size(), sd);
            r.met = *r.ours_value <= paper + 1.0;
        }
    }
    // Fashion decline for 2 and 3 cells.
    if (fa) {
        for (int cells : {2, 3}) {
            const double paper = cells == 2 ? -4.0 : -3.45;
            auto& r = row(fmt::format("acc_change_{}cell_fashion", cells),
                          fmt::format("{}-cell Fashion accuracy change, lowest to highest measured TMR", cells),
                          "Sec. E, Fig. 5c", fmt::format("{} points (TMR 33 -> 75 %)", paper), paper,
                          "same sign and within ±3 points");
            const Change ch = tmr_change(*fa, mapping, cells);
            if (!ch.ok) {
                r.ours = "not measured";
                r.note = fmt::format("fewer than two measured {}-cell groups", cells);
                continue;
            }
            r.ours_value = ch.delta;
            r.ours = fmt::format("{:+.2f} ± {:.2f} points (TMR {:.0f} -> {:.0f} %)", ch.delta, ch.sd, ch.tmr_lo,
                                 ch.tmr_hi);
            r.met = ch.delta < 0 && std::abs(ch.delta - paper) <= 3.0;
        }
    }
    // Fig. 5d/e: more states always better; Fashion below MNIST.
    for (const auto* d : {mn, fa}) {
        if (!d) continue;
        const bool is_mnist = d->dataset == ann::DatasetKind::mnist;
        auto& r = row(is_mnist ? "grid_more_states_mnist" : "grid_more_states_fashion",
                      fmt::format("Fig. 5{} grid: most states give the highest accuracy at every TMR",
                                  is_mnist ? "d" : "e"),
                      "Fig. 5d/e, Sec. E", "yes (6-cell consistently highest)", std::nullopt,
                      "at every TMR of the grid");
        std::map<long, std::pair<int, double>> best;  // TMR key -> (states of best, accuracy)
        int max_states = 0;
        for (const auto& c : d->grid) {
            if (c.mapping != mapping) continue;
            max_states = std::max(max_states, c.states);
            auto& b = best[std::lround(c.tmr * 1000)];
            if (c.mean > b.second || b.first == 0) b = {c.states, c.mean};
        }
        int wins = 0;
        for (const auto& [k, b] : best) wins += b.first == max_states ? 1 : 0;
        if (best.empty()) {
            r.ours = "not computed";
            continue;
        }
        r.ours_value = static_cast<double>(wins) / static_cast<double>(best.size());
        r.ours = fmt::format("{} states highest at {} of {} TMR values", max_states, wins, best.size());
        r.met = wins == static_cast<int>(best.size());
    }
    if (mn && fa) {
        auto& r = row("grid_fashion_below_mnist", "Fig. 5d/e: Fashion accuracy below MNIST in every (TMR, states) cell",
                      "Fig. 5 caption", "yes, consistently", std::nullopt, "every grid cell");
        int below = 0, total = 0;
        for (const auto& c : mn->grid) {
            if (c.mapping != mapping) continue;
            for (const auto& f : fa->grid) {
                if (f.mapping == mapping && f.cells == c.cells && std::abs(f.tmr - c.tmr) < 1e-9) {
                    ++total;
                    below += f.mean < c.mean ? 1 : 0;
                }
            }
        }
        r.ours_value = total ? static_cast<double>(below) / total : std::nan("");
        r.ours = fmt::format("{} of {} cells", below, total);
        if (total) r.met = below == total;
    }
}

}  // namespace

std::vector<Comparison> compare(const AnalysisStage& a, const AnnStage& n, const Options& o) {
    const auto& c = a.campaign;
    Rows rows;
    const long t16 = tkey(1.6), t19 = tkey(1.9), t26 = tkey(2.6);

    // ---- Sec. C, Fig. 3f: TMR and resistances (1-cell R(H) loops)
    const auto tmr = collect(c, RunKind::rh_loop, 1, "tmr", 100.0);
    for (auto [k, paper, where] : {std::tuple{t16, 33.0, "Abstract (33-78 %), Fig. 3f"},
                                   std::tuple{t19, 40.0, "Fig. 3f, Sec. C (~33-40 % below 1.9 nm)"},
                                   std::tuple{t26, 78.0, "Abstract, Fig. 3f, Sec. F"}}) {
        auto& r = rows.add(fmt::format("tmr_{:.1f}nm", tval(k)), "device",
                           fmt::format("TMR of 1-cell devices at {:.1f} nm (R(H) loops)", tval(k)), where,
                           fmt::format("{:.0f} %", paper), paper, k == t26 ? "±5 points" : "±3 points");
        set_abs(r, stat_at(tmr, k), k == t26 ? 5.0 : 3.0, "%");
        if (k == t16 && r.ours_value)
            r.note = "the paper's own Fig. 3b gives 33.8/25.2 - 1 = 34.1 % at 1.6 nm";
    }
    {
        auto& r = rows.add("tmr_trend", "device", "TMR versus thickness: slow below 1.9 nm, surge above", "Sec. C",
                           "near-exponential (~33-40 % below 1.9 nm, 40 -> 78 % above)", std::nullopt,
                           "rise above 1.9 nm larger than below");
        const Stat a16 = stat_at(tmr, t16), a19 = stat_at(tmr, t19), a26 = stat_at(tmr, t26);
        if (a16.ok() && a19.ok() && a26.ok()) {
            r.ours = fmt::format("+{:.1f} points 1.6 -> 1.9 nm, +{:.1f} points 1.9 -> 2.6 nm", a19.mean - a16.mean,
                                 a26.mean - a19.mean);
            r.ours_value = a26.mean - a19.mean;
            r.met = (a26.mean - a19.mean) > (a19.mean - a16.mean) && a19.mean > a16.mean;
            for (const auto& t : c.trends)
                if (t.figure == "tmr" && t.cells == 1 && !t.params.empty())
                    r.note = fmt::format("trend fit: {}", t.model);
        } else {
            r.ours = "not measured";
            r.note = "needs 1.6, 1.9 and 2.6 nm";
        }
    }
    const auto rp = collect(c, RunKind::rh_loop, 1, "r_p_ohm", 1e-3), rap = collect(c, RunKind::rh_loop, 1, "r_ap_ohm", 1e-3);
    {
        auto& r = rows.add("r_p_1.6nm", "device", "R_P of 1-cell devices at 1.6 nm", "Fig. 3b, Sec. C", "25.2 kΩ",
                           25.2, "±10 %");
        set_abs(r, stat_at(rp, t16), 2.52, "kΩ");
        auto& r2 = rows.add("r_ap_1.6nm", "device", "R_AP of 1-cell devices at 1.6 nm", "Fig. 3b, Sec. C",
                            "33.8 kΩ", 33.8, "±10 %");
        set_abs(r2, stat_at(rap, t16), 3.38, "kΩ");
    }
    {
        auto& r = rows.add("r_dome", "device", "R_P and R_AP versus thickness: dome (maximum inside the wedge)",
                           "Fig. 3f, Sec. C", "dome-like", std::nullopt, "maximum of the group means not at an end");
        if (rp.size() >= 3) {
            long kmax = rp.begin()->first;
            double vmax = -1;
            for (const auto& [k, v] : rp) {
                const double m = stat_of(v).mean;
                if (m > vmax) {
                    vmax = m;
                    kmax = k;
                }
            }
            r.ours_value = tval(kmax);
            r.ours = fmt::format("R_P largest at {:.2g} nm ({:.1f} kΩ; ends {:.1f} and {:.1f} kΩ)", tval(kmax), vmax,
                                 stat_of(rp.begin()->second).mean, stat_of(rp.rbegin()->second).mean);
            r.met = kmax != rp.begin()->first && kmax != rp.rbegin()->first;
        } else {
            r.ours = "not measured";
            r.note = "needs at least three thicknesses";
        }
    }
    {
        auto& r = rows.add("ra_range", "device", "Resistance-area product R_P x (π/4 x 250 x 500 nm²)", "Methods",
                           "2.2-3.6 kΩ µm²", std::nullopt, "every group mean inside 2.2-3.6 kΩ µm² (±5 %)");
        const double area = 3.14159265358979 / 4 * 0.25 * 0.5;
        double lo = 1e9, hi = -1e9;
        for (const auto& [k, v] : rp) {
            const double ra = stat_of(v).mean * area;
            lo = std::min(lo, ra);
            hi = std::max(hi, ra);
        }
        if (!rp.empty()) {
            r.ours = fmt::format("{:.2f}-{:.2f} kΩ µm²", lo, hi);
            r.ours_value = hi;
            r.met = lo >= 2.2 * 0.95 && hi <= 3.6 * 1.05;
        } else {
            r.ours = "not measured";
        }
    }
    // ---- Fig. 3e: H_c, H_ex
    const auto hc = collect(c, RunKind::rh_loop, 1, "hc_mT"), hex = collect(c, RunKind::rh_loop, 1, "hex_mT");
    {
        auto& r = rows.add("hc_device", "device", "Device H_c (1-cell R(H)), mean over thicknesses and its flatness",
                           "Sec. C", "~10 mT ±15 %, similar at all thicknesses", 10.0,
                           "mean within ±1.5 mT, every group mean within ±15 % of it");
        std::vector<double> means;
        for (const auto& [k, v] : hc) means.push_back(stat_of(v).mean);
        const Stat s = stat_of(means);
        if (s.ok()) {
            double dev = 0;
            for (double m : means) dev = std::max(dev, std::abs(m - s.mean) / s.mean);
            r.ours_value = s.mean;
            r.ours = fmt::format("{:.2f} mT, group means within ±{:.1f} % ({} thicknesses)", s.mean, 100 * dev, s.n);
            r.met = std::abs(s.mean - 10.0) <= 1.5 && dev <= 0.15;
        } else {
            r.ours = "not measured";
        }
    }
    for (auto [k, paper] : {std::pair{t16, 2.5}, std::pair{t26, 0.4}}) {
        auto& r = rows.add(fmt::format("hex_{:.1f}nm", tval(k)), "device",
                           fmt::format("Offset field H_ex at {:.1f} nm (device R(H); the paper's is film M(H))", tval(k)),
                           "Fig. 3e, Sec. C", fmt::format("{} mT", paper), paper, "±0.3 mT");
        set_abs(r, stat_at(hex, k), 0.3, "mT");
    }
    for (const auto& [id, q, paper] :
         {std::tuple{"hs_film", "Saturation field H_s of the film, 1.6 -> 2.6 nm", "12.7 -> 14.8 mT"},
          std::tuple{"hc_film", "Film-level H_c constant across thicknesses", "to ~12 %"},
          std::tuple{"major_loop", "Major R(H) loop: RL rotation below +90 mT, FL switches at -10 mT", "+90 / -10 mT"},
          std::tuple{"channel_r", "Write-channel resistance, 1 / 3 cells", "~300 / ~600 Ω"}}) {
        auto& r = rows.add(id, "device", q, "Sec. C-D", paper, std::nullopt, "n/a");
        r.ours = "not measured by this campaign";
        r.note = std::string(id) == "hs_film" || std::string(id) == "hc_film"
                     ? "film M(H) magnetometry is not part of the device campaign"
                 : std::string(id) == "major_loop" ? "the campaign records minor loops only (a major-loop recipe exists: recipes/rh_major.toml)"
                                                   : "the probe station measures the junction, not the channel";
    }
    // ---- Fig. 4c/d: field-free switching
    const auto vc_ff = collect(c, RunKind::field_free_rv, 1, "vc_ap_to_p_V");
    const auto ff = field_free(c, 1);
    for (auto [k, paper] : {std::pair{t16, 0.7}, std::pair{t26, 2.0}}) {
        auto& r = rows.add(fmt::format("vc_ff_{:.1f}nm", tval(k)), "device",
                           fmt::format("Field-free critical voltage |V_c| (AP->P), 1-cell, {:.1f} nm", tval(k)),
                           "Fig. 4c, Sec. D", fmt::format("{} V", paper), paper, "±0.15 V");
        std::vector<double> absv;
        if (const auto* v = at(vc_ff, k))
            for (double x : *v) absv.push_back(std::abs(x));
        set_abs(r, stat_of(absv), 0.15, "V");
        if (const auto it = ff.find(k); it != ff.end() && absv.empty())
            r.note = fmt::format("no device switched field-free below the recipe's 1.7 V ({} tested)", it->second.second);
    }
    {
        auto& r = rows.add("ff_probability", "device", "Field-free switching probability, thinnest -> thickest",
                           "Fig. 4d, Sec. D", "decreases to zero at 2.6 nm", 0.0,
                           "0 at 2.6 nm and at least 0.8 at 1.6 nm");
        if (!ff.empty()) {
            std::string s;
            for (const auto& [k, p] : ff) s += fmt::format("{}{:.1f}: {}/{}", s.empty() ? "" : ", ", tval(k), p.first, p.second);
            r.ours = s;
            const auto& lo = ff.begin()->second;
            const auto& hi = ff.rbegin()->second;
            r.ours_value = hi.second ? static_cast<double>(hi.first) / hi.second : std::nan("");
            r.met = hi.first == 0 && lo.second > 0 && static_cast<double>(lo.first) >= 0.8 * lo.second &&
                    tval(ff.rbegin()->first) >= 2.6 - 1e-9;
        } else {
            r.ours = "not measured";
        }
    }
    // ---- Assisted switching
    {
        auto& r = rows.add("assisted_all", "device", "1-cell devices switching AP->P with an assist field",
                           "Fig. 4d caption", "all devices (6-10 mT)", 1.0, "every device");
        int sw = 0, tot = 0;
        for (const auto& run : c.runs) {
            if (!run.error.empty() || run.dead || run.run.kind != RunKind::rv_pulse_train || run.run.device.cells != 1)
                continue;
            ++tot;
            // switched: an AP->P critical voltage was extracted, or the loop shows both states
            sw += (run.rv && run.rv->vc_ap_to_p_V.ok()) || analysis::levels_ohm(run).size() >= 2 ? 1 : 0;
        }
        if (tot) {
            r.ours_value = static_cast<double>(sw) / tot;
            r.ours = fmt::format("{}/{} show both states at the recipe's assist field", sw, tot);
            r.met = sw == tot;
        } else {
            r.ours = "not measured";
        }
    }
    {
        auto& r = rows.add("vc_ratio_3_1", "device",
                           "Assisted |V_c| (AP->P) of 3-cell over 1-cell devices, mean over thicknesses",
                           "Fig. 4g, Sec. D", "20-30 % higher (x1.2-1.3)", 1.25, "ratio within 1.15-1.35");
        const auto v1 = collect(c, RunKind::rv_pulse_train, 1, "vc_ap_to_p_V"),
                   v3 = collect(c, RunKind::rv_pulse_train, 3, "vc_ap_to_p_V");
        std::vector<double> ratios;
        for (const auto& [k, a3] : v3) {
            const auto* a1 = at(v1, k);
            if (!a1) continue;
            std::vector<double> x1, x3;
            for (double x : *a1) x1.push_back(std::abs(x));
            for (double x : a3) x3.push_back(std::abs(x));
            ratios.push_back(stat_of(x3).mean / stat_of(x1).mean);
        }
        const Stat s = stat_of(ratios);
        if (s.ok()) {
            r.ours_value = s.mean;
            r.ours = fmt::format("x{:.3f} ± {:.2f} over {} thicknesses", s.mean, s.sd, s.n);
            r.met = s.mean >= 1.15 && s.mean <= 1.35;
            r.note = "ours: the pulse at which R crosses the R_AP/R_P midpoint, not full switching";
        } else {
            r.ours = "not measured";
        }
    }
    // ---- Fig. 4h: breakdown
    for (int cells : {1, 3}) {
        const auto vb = collect(c, RunKind::breakdown_ramp, cells, "breakdown_V");
        for (auto [k, paper] : {std::pair{t16, cells == 1 ? 1.8 : 1.7}, std::pair{t26, cells == 1 ? 2.0 : 1.9}}) {
            auto& r = rows.add(fmt::format("vb_{}cell_{:.1f}nm", cells, tval(k)), "device",
                               fmt::format("Breakdown voltage V_B, {}-cell, {:.1f} nm", cells, tval(k)),
                               "Fig. 4h, Sec. D", fmt::format("{} V", paper), paper, "±0.15 V");
            set_abs(r, stat_at(vb, k), 0.15, "V");
            if (r.ours_value && stat_at(vb, k).n == 1) r.note = "one sacrificial device (no spread)";
        }
    }
    // ---- Levels: n + 1 states, >= 21 % steps
    for (int cells : {1, 2, 3}) {
        auto& r = rows.add(fmt::format("states_{}cell", cells), "device",
                           fmt::format("{}-cell devices show {} resistance states (assisted R(V))", cells, cells + 1),
                           "Abstract, Fig. 4f/g", fmt::format("{} states", cells + 1), cells + 1.0,
                           "at least 90 % of the devices");
        int good = 0, tot = 0;
        for (const auto& run : c.runs) {
            if (!run.error.empty() || run.dead || run.run.kind != RunKind::rv_pulse_train || run.run.device.cells != cells)
                continue;
            ++tot;
            good += analysis::levels_ohm(run).size() == static_cast<std::size_t>(cells + 1) ? 1 : 0;
        }
        if (tot) {
            r.ours_value = static_cast<double>(good) / tot;
            r.ours = fmt::format("{}/{} devices with {} levels", good, tot, cells + 1);
            r.met = good >= 0.9 * tot;
        } else {
            r.ours = "not measured";
        }
    }
    {
        auto& r = rows.add("steps_3cell", "device", "TMR between consecutive states of 3-cell devices (g ratio - 1)",
                           "Abstract, Sec. F", "at least 21 %", 21.0, "smallest step >= 21 %");
        std::map<long, std::vector<double>> g;
        for (const auto& row : c.conductance)
            if (row.cells == 3) g[tkey(row.thickness_nm)].push_back(row.g_norm);
        double lo = 1e9, hi = -1e9;
        long klo = 0, khi = 0;
        for (auto& [k, v] : g) {
            std::sort(v.begin(), v.end());
            for (std::size_t i = 1; i < v.size(); ++i) {
                const double s = 100 * (v[i] / v[i - 1] - 1);
                if (s < lo) lo = s, klo = k;
                if (s > hi) hi = s, khi = k;
            }
        }
        if (hi > -1e9) {
            r.ours_value = lo;
            r.ours = fmt::format("{:.1f} % (smallest, {:.2g} nm) to {:.1f} % (largest, {:.2g} nm)", lo, tval(klo), hi,
                                 tval(khi));
            r.met = lo >= 21.0;
        } else {
            r.ours = "not measured";
            r.note = "no 3-cell group in the conductance table";
        }
    }
    // ---- Fig. 5d/e set-up
    if (const auto* d = n.datasets.empty() ? nullptr : &n.datasets.front(); d && !d->grid.empty()) {
        auto& r = rows.add("grid_rap", "ann", "R_AP range of the Fig. 5d/e grid at R_P = 10 kΩ", "Fig. 5 caption",
                           "16-36 kΩ for TMR 60-260 %", std::nullopt, "set-up (not a result)");
        double lo = 1e18, hi = 0;
        for (const auto& cell : d->grid) {
            lo = std::min(lo, cell.r_ap_ohm);
            hi = std::max(hi, cell.r_ap_ohm);
        }
        r.ours = fmt::format("{:.1f}-{:.1f} kΩ", lo * 1e-3, hi * 1e-3);
        r.ours_value = hi * 1e-3;
        r.met = std::abs(lo - 16e3) < 1 && std::abs(hi - 36e3) < 1;
        r.note = "the grid of this run; differs from 16-36 kΩ only when --preset smoke or another grid is used";
    }
    for (const auto& m : o.mappings) ann_rows(rows, n, o, std::string(ann::to_string(m)));
    return rows.v;
}

std::vector<Tension> tensions(const AnalysisStage& a, const AnnStage& /*n*/, const std::vector<Comparison>& rows) {
    auto row = [&](std::string_view id) -> const Comparison* {
        for (const auto& r : rows)
            if (r.id == id) return &r;
        return nullptr;
    };
    auto ours = [&](std::string_view id) {
        const auto* r = row(id);
        return r ? r->ours : std::string("not computed");
    };
    std::vector<Tension> t;
    t.push_back({"\">= 21 %\" between consecutive states",
                 "A 3-cell compound MTJ has at least 21 % TMR between consecutive states (abstract, Sec. F), with "
                 "TMR 33-78 % between all-P and all-AP.",
                 "Cells in parallel with the measured TMR cannot give that: with TMR 34 % the ideal steps are 9-11 %, "
                 "with 78 % 17-26 %. This run's 3-cell conductance table: " +
                     ours("steps_3cell") + "."});
    t.push_back({"3-cell devices need only 20-30 % more voltage with a channel of twice the resistance",
                 "~600 Ω versus ~300 Ω channel, yet 1.2-1.3x the switching voltage (Sec. D).",
                 "A pure voltage source would halve the current. The model puts a 1200 Ω source/contact resistance in "
                 "series (docs/physics.md). Measured here: " +
                     ours("vc_ratio_3_1") + "."});
    t.push_back({"V_c = V_B = 2.0 V at 2.6 nm, yet zero field-free switching probability",
                 "Field-free V_c rises to 2.0 V at 2.6 nm (Fig. 4c) while V_B is 1.8-2.0 V (Fig. 4h) and the "
                 "field-free switching probability falls to zero (Fig. 4d).",
                 "Equal means would give about half the devices switching. The model's nominal field-free V_c at "
                 "2.6 nm is 10 % above eq. (1), above V_B. Field-free results here: " +
                     ours("ff_probability") + "; V_c at 2.6 nm: " + ours("vc_ff_2.6nm") + "; V_B (1-cell, 2.6 nm): " +
                     ours("vb_1cell_2.6nm") + "."});
    t.push_back({"Eq. (1) with a spin Hall angle of 0.11 needs 3-4x more current",
                 "V_c 0.7 V at 1.6 nm with the stated stack (theta_SH ~ 0.11).",
                 "Model calibration (docs/physics.md, not a measurement of this run): eq. (1) gives 2.17 mA at 1.6 nm "
                 "against 0.58 mA implied by 0.7 V over the write circuit; the LLG runs with an effective spin Hall "
                 "angle of ~0.5. This run's field-free V_c at 1.6 nm: " +
                     ours("vc_ff_1.6nm") + "."});
    t.push_back({"Assisted switching of every device",
                 "All MTJs switch with an assist field; -8.5 mT is enough for 2.6 nm 3-cell devices.",
                 "A Sharrock barrier with H_c = 10 mT lowers V_c by ~31 % at 8.5 mT; thick 3-cell devices still need "
                 "more than V_B. This run (assist field of the recipe): 1-cell " +
                     ours("assisted_all") + "; 3-cell devices with 4 levels: " + ours("states_3cell") + "."});
    t.push_back({"H_c flat while H_s rises",
                 "Device H_c ~10 mT flat (Sec. C) while film H_s rises 12.7 -> 14.8 mT.",
                 "The model keeps H_c flat and does not simulate film M(H). This run: " + ours("hc_device") + "."});
    std::string ann;
    for (const auto& r : rows) {
        if (r.section != "ann" || r.mapping.empty()) continue;
        if (r.id.rfind("acc_rise_1cell_mnist", 0) == 0 || r.id.rfind("grid_more_states_mnist", 0) == 0)
            ann += fmt::format("{}{}: {}", ann.empty() ? "" : "; ", r.quantity, r.ours);
    }
    t.push_back({"One mapping for all ANN trends",
                 "1-cell accuracy rises 8.3 points with TMR, and more states are always better (Fig. 5), from one "
                 "unstated weight mapping and scale.",
                 "A mapping that cancels the lowest conductance (differential pair) sees no TMR at all; one that keeps "
                 "it (mirror) crowds every level into [g_min, 1] (docs/ann.md). This run: " +
                     (ann.empty() ? std::string("not computed") : ann) + "."});
    (void)a;
    return t;
}

}  // namespace mtjlab::reproduction
