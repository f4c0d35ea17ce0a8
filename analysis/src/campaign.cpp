#include "mtjlab/analysis/campaign.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include <Eigen/Dense>
#include <fmt/format.h>

#include "robust.hpp"

namespace mtjlab::analysis {

std::string_view to_string(RunKind kind) {
    switch (kind) {
        case RunKind::rh_loop: return "rh_loop";
        case RunKind::rv_pulse_train: return "rv_pulse_train";
        case RunKind::field_free_rv: return "field_free_rv";
        case RunKind::switching_probability: return "switching_probability";
        case RunKind::breakdown_ramp: return "breakdown_ramp";
        case RunKind::unknown: break;
    }
    return "unknown";
}

RunKind run_kind_from_string(std::string_view s) {
    for (RunKind k : {RunKind::rh_loop, RunKind::rv_pulse_train, RunKind::field_free_rv,
                      RunKind::switching_probability, RunKind::breakdown_ramp})
        if (s == to_string(k)) return k;
    return RunKind::unknown;
}

std::string DeviceIdentity::key() const {
    if (wafer.empty() && die.empty() && device.empty()) return {};
    return wafer + "/" + die + "/" + device;
}

namespace {

constexpr const char* kRvNeverSwitches = "R(V) loop never switches with an assist field";

Extracted scaled(const Extracted& e, double k) {
    Extracted o = e;
    if (o.value) *o.value *= k;
    if (o.error) *o.error *= std::abs(k);
    return o;
}

Extracted na(const RunAnalysis& r) {
    if (!r.error.empty()) return Extracted::none(r.error);
    return Extracted::none(fmt::format("not measured by a {} run", to_string(r.run.kind)));
}

}  // namespace

std::vector<std::string_view> figure_keys() {
    return {"r_p_ohm",       "r_ap_ohm",     "tmr",          "hc_mT",        "hex_mT",
            "h_sw_plus_mT",  "h_sw_minus_mT", "squareness",  "h_rl_mT",      "vc_ap_to_p_V",
            "vc_p_to_ap_V",  "assist_ap_to_p_mT", "breakdown_V", "v50_V",    "width_V"};
}

std::vector<NamedFigure> figures(const RunAnalysis& r) {
    std::vector<NamedFigure> f;
    const Extracted none = na(r);
    auto pick = [&](auto&& get_rh, auto&& get_rv) -> Extracted {
        if (r.rh) return get_rh(*r.rh);
        if (r.rv) return get_rv(*r.rv);
        return none;
    };
    auto rh_only = [&](auto&& get, double k) -> Extracted { return r.rh ? scaled(get(*r.rh), k) : none; };
    auto rv_only = [&](auto&& get, double k) -> Extracted { return r.rv ? scaled(get(*r.rv), k) : none; };
    f.push_back({"r_p_ohm", "Ohm", "R_P", pick([](const RhResult& x) { return x.r_p_ohm; },
                                              [](const RvResult& x) { return x.r_p_ohm; })});
    f.push_back({"r_ap_ohm", "Ohm", "R_AP", pick([](const RhResult& x) { return x.r_ap_ohm; },
                                                [](const RvResult& x) { return x.r_ap_ohm; })});
    f.push_back({"tmr", "1", "TMR", pick([](const RhResult& x) { return x.tmr; },
                                         [](const RvResult& x) { return x.tmr; })});
    f.push_back({"hc_mT", "mT", "H_c", rh_only([](const RhResult& x) { return x.hc_T; }, 1e3)});
    f.push_back({"hex_mT", "mT", "H_ex", rh_only([](const RhResult& x) { return x.hex_T; }, 1e3)});
    f.push_back({"h_sw_plus_mT", "mT", "H_sw+", rh_only([](const RhResult& x) { return x.h_sw_plus_T; }, 1e3)});
    f.push_back({"h_sw_minus_mT", "mT", "H_sw-", rh_only([](const RhResult& x) { return x.h_sw_minus_T; }, 1e3)});
    f.push_back({"squareness", "1", "squareness", rh_only([](const RhResult& x) { return x.squareness; }, 1.0)});
    f.push_back({"h_rl_mT", "mT", "H_RL rotation", rh_only([](const RhResult& x) { return x.h_rl_T; }, 1e3)});
    f.push_back({"vc_ap_to_p_V", "V", "V_c AP->P", rv_only([](const RvResult& x) { return x.vc_ap_to_p_V; }, 1.0)});
    f.push_back({"vc_p_to_ap_V", "V", "V_c P->AP", rv_only([](const RvResult& x) { return x.vc_p_to_ap_V; }, 1.0)});
    f.push_back({"assist_ap_to_p_mT", "mT", "assist field AP->P",
                 rv_only([](const RvResult& x) { return x.assist_ap_to_p_T; }, 1e3)});
    f.push_back({"breakdown_V", "V", "V_B", r.breakdown ? r.breakdown->breakdown_V : none});
    f.push_back({"v50_V", "V", "V50", r.psw ? r.psw->v50_V : none});
    f.push_back({"width_V", "V", "P_sw width", r.psw ? r.psw->width_V : none});
    return f;
}

std::vector<double> levels_ohm(const RunAnalysis& r) {
    std::vector<double> out;
    const Levels* l = r.rv ? &r.rv->levels : (r.rh ? &r.rh->levels : nullptr);
    if (l)
        for (const auto& lv : l->levels) out.push_back(lv.r_ohm);
    return out;
}

std::vector<double> level_steps(const RunAnalysis& r) {
    if (r.rv) return r.rv->levels.steps;
    if (r.rh) return r.rh->levels.steps;
    return {};
}

std::vector<RunKind> device_value_kinds(std::string_view key) {
    using K = RunKind;
    if (key == "r_p_ohm" || key == "r_ap_ohm" || key == "tmr")
        return {K::rh_loop, K::rv_pulse_train, K::field_free_rv};
    if (key == "vc_ap_to_p_V" || key == "vc_p_to_ap_V") return {K::rv_pulse_train, K::field_free_rv};
    if (key == "assist_ap_to_p_mT") return {K::rv_pulse_train};
    if (key == "breakdown_V") return {K::breakdown_ramp};
    if (key == "v50_V" || key == "width_V") return {K::switching_probability};
    return {K::rh_loop};  // hc, hex, switching fields, squareness, reference-layer rotation
}

RunAnalysis analyze_run(Run run, const AnalysisOptions& opt) {
    RunAnalysis a;
    a.run = std::move(run);
    const Run& r = a.run;
    if (!r.load_error.empty()) {
        a.error = r.load_error;
        return a;
    }
    switch (r.kind) {
        case RunKind::rh_loop:
            a.rh = analyze_rh(r.sweep, opt.rh);
            if (!a.rh->error.empty()) a.error = a.rh->error;
            if (a.rh->levels.levels.size() == 1 && a.error.empty()) {
                a.dead = true;
                a.dead_reason = "R(H) loop never switches";
            }
            break;
        case RunKind::rv_pulse_train:
        case RunKind::field_free_rv:
            a.rv = analyze_rv(r.sweep, r.kind == RunKind::field_free_rv, opt.rv);
            if (!a.rv->error.empty()) a.error = a.rv->error;
            if (a.rv->levels.levels.size() == 1 && a.error.empty() && !a.rv->field_free_switching.has_value()) {
                a.dead = true;
                a.dead_reason = kRvNeverSwitches;
            }
            break;
        case RunKind::breakdown_ramp:
            a.breakdown = analyze_breakdown(r.sweep, opt.breakdown);
            if (!a.breakdown->error.empty()) a.error = a.breakdown->error;
            break;
        case RunKind::switching_probability:
            a.psw = fit_switching_probability(r.trials);
            if (!a.psw->error.empty()) a.notes.push_back(a.psw->error);
            break;
        case RunKind::unknown: a.error = "unknown run kind: nothing to analyse"; break;
    }
    // Messages name the file they are about.
    if (!a.error.empty() && !r.source.empty() && a.error.rfind(r.source, 0) != 0)
        a.error = fmt::format("{}: {}", r.source, a.error);
    // A junction that reads open or short everywhere is dead whatever the loop did.
    if (a.error.empty() && !r.sweep.r_ohm.empty() && r.kind != RunKind::breakdown_ramp) {
        std::vector<double> v;
        for (double x : r.sweep.r_ohm)
            if (std::isfinite(x)) v.push_back(x);
        if (v.empty()) {
            a.dead = true;
            a.dead_reason = "no finite resistance read";
        } else {
            const double m = detail::median(v);
            if (m < opt.dead_r_min_ohm || m > opt.dead_r_max_ohm) {
                a.dead = true;
                a.dead_reason = fmt::format("median resistance {:.4g} Ohm outside [{:.3g}, {:.3g}] Ohm", m,
                                            opt.dead_r_min_ohm, opt.dead_r_max_ohm);
            }
        }
    }
    return a;
}

const FigureStats* GroupSummary::stat(std::string_view key) const {
    for (const auto& s : stats)
        if (s.key == key) return &s;
    return nullptr;
}

double TrendFit::eval(double t) const {
    if (params.empty()) return nan;
    if (model.rfind("exp", 0) == 0) return params[0] + params[1] * std::exp((t - t0_nm) / params[2]);
    if (model.rfind("loglinear", 0) == 0) return std::exp(params[0] + params[1] * t);
    return params[0] + params[1] * t;
}

namespace {

/// Weighted linear least squares of y on the columns of X; returns params and covariance.
bool wls(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const Eigen::VectorXd& w, Eigen::VectorXd& p,
         Eigen::MatrixXd& cov, double& chi2) {
    const Eigen::MatrixXd A = X.transpose() * w.asDiagonal() * X;
    Eigen::LDLT<Eigen::MatrixXd> ldlt(A);
    if (ldlt.info() != Eigen::Success || ldlt.rcond() < 1e-14) return false;
    p = ldlt.solve(X.transpose() * w.asDiagonal() * y);
    cov = ldlt.solve(Eigen::MatrixXd::Identity(A.rows(), A.cols()));
    const Eigen::VectorXd r = y - X * p;
    chi2 = (r.array() * r.array() * w.array()).sum();
    return true;
}

Eigen::VectorXd weights(const std::vector<double>& sigma, std::size_t n, bool& weighted) {
    Eigen::VectorXd w = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(n));
    weighted = sigma.size() == n;
    if (weighted)
        for (std::size_t i = 0; i < n; ++i)
            if (!(sigma[i] > 0) || !std::isfinite(sigma[i])) weighted = false;
    if (weighted)
        for (std::size_t i = 0; i < n; ++i) w[static_cast<Eigen::Index>(i)] = 1 / (sigma[i] * sigma[i]);
    return w;
}

}  // namespace

TrendFit fit_linear_trend(const std::vector<double>& t, const std::vector<double>& y, const std::vector<double>& sigma) {
    TrendFit f;
    f.model = "linear: y = a + b t";
    f.param_names = {"a", "b"};
    const std::size_t n = std::min(t.size(), y.size());
    f.points = n;
    if (n < 3) {
        f.reason = fmt::format("need 3 or more thicknesses (have {})", n);
        return f;
    }
    bool weighted = false;
    const Eigen::VectorXd w = weights(sigma, n, weighted);
    Eigen::MatrixXd X(static_cast<Eigen::Index>(n), 2);
    Eigen::VectorXd yy(static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i) {
        X(static_cast<Eigen::Index>(i), 0) = 1;
        X(static_cast<Eigen::Index>(i), 1) = t[i];
        yy[static_cast<Eigen::Index>(i)] = y[i];
    }
    Eigen::VectorXd p;
    Eigen::MatrixXd cov;
    double chi2 = 0;
    if (!wls(X, yy, w, p, cov, chi2)) {
        f.reason = "degenerate thickness values";
        return f;
    }
    const double dof = static_cast<double>(n) - 2;
    if (!weighted) cov *= chi2 / dof;
    f.params = {p[0], p[1]};
    f.param_errors = {std::sqrt(cov(0, 0)), std::sqrt(cov(1, 1))};
    double ss = 0;
    for (std::size_t i = 0; i < n; ++i) ss += std::pow(y[i] - f.eval(t[i]), 2);
    f.rms_residual = std::sqrt(ss / static_cast<double>(n));
    return f;
}

TrendFit fit_exponential_trend(const std::vector<double>& t, const std::vector<double>& y,
                               const std::vector<double>& sigma) {
    TrendFit f;
    const std::size_t n = std::min(t.size(), y.size());
    f.points = n;
    f.model = "exp: y = a + b exp((t - t0)/c)";
    f.param_names = {"a", "b", "c"};
    if (n < 4) {
        f.reason = fmt::format("need 4 or more thicknesses for a 3-parameter fit (have {})", n);
        return f;
    }
    const auto [tmin_it, tmax_it] = std::minmax_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(n));
    f.t0_nm = *tmin_it;
    const double range = *tmax_it - *tmin_it;
    bool weighted = false;
    const Eigen::VectorXd w = weights(sigma, n, weighted);
    Eigen::VectorXd yy(static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i) yy[static_cast<Eigen::Index>(i)] = y[i];
    // Variable projection: for fixed c the model is linear in (a, b); minimise chi2 over ln c.
    auto solve_c = [&](double c, Eigen::VectorXd& p, Eigen::MatrixXd& cov) {
        Eigen::MatrixXd X(static_cast<Eigen::Index>(n), 2);
        for (std::size_t i = 0; i < n; ++i) {
            X(static_cast<Eigen::Index>(i), 0) = 1;
            X(static_cast<Eigen::Index>(i), 1) = std::exp((t[i] - f.t0_nm) / c);
        }
        double chi2 = std::numeric_limits<double>::infinity();
        if (!wls(X, yy, w, p, cov, chi2)) return std::numeric_limits<double>::infinity();
        return chi2;
    };
    Eigen::VectorXd p;
    Eigen::MatrixXd cov;
    const double lc_lo = std::log(0.03 * range), lc_hi = std::log(10 * range);
    double best = std::numeric_limits<double>::infinity(), best_lc = lc_lo;
    const int grid = 60;
    for (int k = 0; k <= grid; ++k) {
        const double lc = lc_lo + (lc_hi - lc_lo) * k / grid;
        const double c2 = solve_c(std::exp(lc), p, cov);
        if (c2 < best) {
            best = c2;
            best_lc = lc;
        }
    }
    bool interior = best_lc > lc_lo + 1e-9 && best_lc < lc_hi - 1e-9;
    if (interior) {
        // golden-section refinement
        double a = best_lc - (lc_hi - lc_lo) / grid, b = best_lc + (lc_hi - lc_lo) / grid;
        const double g = (std::sqrt(5.0) - 1) / 2;
        double x1 = b - g * (b - a), x2 = a + g * (b - a);
        double f1 = solve_c(std::exp(x1), p, cov), f2 = solve_c(std::exp(x2), p, cov);
        for (int it = 0; it < 80; ++it) {
            if (f1 < f2) {
                b = x2; x2 = x1; f2 = f1; x1 = b - g * (b - a); f1 = solve_c(std::exp(x1), p, cov);
            } else {
                a = x1; x1 = x2; f1 = f2; x2 = a + g * (b - a); f2 = solve_c(std::exp(x2), p, cov);
            }
        }
        best_lc = 0.5 * (a + b);
    }
    const double c = std::exp(best_lc);
    const double chi2 = solve_c(c, p, cov);
    if (interior && std::isfinite(chi2) && p[1] != 0) {
        // Covariance of (a, b, c) from the Jacobian at the optimum.
        Eigen::MatrixXd J(static_cast<Eigen::Index>(n), 3);
        for (std::size_t i = 0; i < n; ++i) {
            const auto ii = static_cast<Eigen::Index>(i);
            const double e = std::exp((t[i] - f.t0_nm) / c);
            J(ii, 0) = 1;
            J(ii, 1) = e;
            J(ii, 2) = -p[1] * e * (t[i] - f.t0_nm) / (c * c);
        }
        const Eigen::MatrixXd A = J.transpose() * w.asDiagonal() * J;
        Eigen::FullPivLU<Eigen::MatrixXd> lu(A);
        f.params = {p[0], p[1], c};
        if (lu.isInvertible() && (weighted || n > 3)) {
            Eigen::MatrixXd C = lu.inverse();
            if (!weighted) C *= chi2 / (static_cast<double>(n) - 3);
            f.param_errors = {std::sqrt(std::abs(C(0, 0))), std::sqrt(std::abs(C(1, 1))), std::sqrt(std::abs(C(2, 2)))};
        } else {
            f.param_errors = {nan, nan, nan};
        }
        double ss = 0;
        for (std::size_t i = 0; i < n; ++i) ss += std::pow(y[i] - f.eval(t[i]), 2);
        f.rms_residual = std::sqrt(ss / static_cast<double>(n));
        return f;
    }
    // Fallback: log-linear ln y = a + b t (needs y > 0).
    TrendFit g;
    g.points = n;
    g.model = "loglinear: y = exp(a + b t)";
    g.param_names = {"a", "b"};
    std::vector<double> ly, ls;
    for (std::size_t i = 0; i < n; ++i) {
        if (!(y[i] > 0)) {
            g.reason = "exponential fit has no interior optimum and some values are not positive";
            return g;
        }
        ly.push_back(std::log(y[i]));
        if (sigma.size() == n) ls.push_back(sigma[i] / y[i]);
    }
    TrendFit lin = fit_linear_trend(std::vector<double>(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(n)), ly, ls);
    g.params = lin.params;
    g.param_errors = lin.param_errors;
    g.reason = lin.reason;
    if (!g.params.empty()) {
        double ss = 0;
        for (std::size_t i = 0; i < n; ++i) ss += std::pow(y[i] - g.eval(t[i]), 2);
        g.rms_residual = std::sqrt(ss / static_cast<double>(n));
    }
    return g;
}

Campaign analyze_campaign(std::vector<Run> runs, const AnalysisOptions& opt) {
    Campaign c;
    c.options = opt;
    c.runs.reserve(runs.size());
    for (auto& r : runs) c.runs.push_back(analyze_run(std::move(r), opt));

    // Groups keyed by (cells, thickness rounded to 1 pm); unknown thickness sorts last.
    auto tkey = [](double t) { return std::isfinite(t) ? static_cast<long>(std::lround(t * 1000)) : 1L << 40; };
    std::map<std::pair<int, long>, std::vector<std::size_t>> members;
    for (std::size_t i = 0; i < c.runs.size(); ++i) {
        const auto& d = c.runs[i].run.device;
        members[{d.cells, tkey(d.thickness_nm)}].push_back(i);
    }
    const auto keys = figure_keys();
    // Figures of every run, computed once.
    std::vector<std::vector<NamedFigure>> figs(c.runs.size());
    for (std::size_t i = 0; i < c.runs.size(); ++i) figs[i] = figures(c.runs[i]);
    for (auto& [key, idx] : members) {
        GroupSummary g;
        g.cells = key.first;
        g.thickness_nm = c.runs[idx.front()].run.device.thickness_nm;
        g.runs = idx.size();
        // Devices of the group, in order of first appearance.
        std::vector<DeviceRecord> devs;
        std::map<std::string, std::size_t> dev_index;
        for (std::size_t i : idx) {
            const auto& ra = c.runs[i];
            const std::string dk = ra.run.device.key().empty() ? ra.run.name : ra.run.device.key();
            auto [it, fresh] = dev_index.try_emplace(dk, devs.size());
            if (fresh) {
                DeviceRecord d;
                d.key = dk;
                d.thickness_nm = ra.run.device.thickness_nm;
                d.cells = ra.run.device.cells;
                devs.push_back(std::move(d));
            }
            devs[it->second].runs.push_back(i);
            if (ra.rv && ra.rv->field_free_switching) {
                ++g.field_free_tested;
                if (*ra.rv->field_free_switching) ++g.field_free_switched;
            }
        }
        // Dead devices. A junction that reads short/open or an R(H) loop that never switches makes the device
        // dead. An assisted R(V) loop that never switches while the device's R(H) loop does is not a dead
        // device (the pulses were too weak): that run's flag is lifted and said in its notes.
        for (auto& d : devs) {
            bool rh_switches = false;
            for (std::size_t i : d.runs)
                if (c.runs[i].rh && c.runs[i].rh->levels.levels.size() >= 2 && !c.runs[i].dead) rh_switches = true;
            for (std::size_t i : d.runs) {
                auto& ra = c.runs[i];
                if (!ra.dead) continue;
                if (ra.rv && rh_switches && ra.dead_reason == kRvNeverSwitches) {
                    ra.dead = false;
                    ra.notes.push_back(
                        "R(V) loop never switched although the device's R(H) loop switches: pulses or assist field "
                        "too weak, the device is not dead");
                    d.notes.push_back(fmt::format("run {}: R(V) loop never switched (not dead: its R(H) loop switches)",
                                                  ra.run.name));
                    continue;
                }
                if (!d.dead) {
                    d.dead = true;
                    d.dead_reason = fmt::format("{} (run {})", ra.dead_reason, ra.run.name);
                }
            }
        }
        g.devices = devs.size();
        g.dead = static_cast<std::size_t>(std::count_if(devs.begin(), devs.end(), [](const DeviceRecord& d) { return d.dead; }));
        // One value per device and figure: the median of the device's runs of the preferred kind.
        for (std::size_t k = 0; k < keys.size(); ++k) {
            const auto kinds = device_value_kinds(keys[k]);
            std::vector<double> vals;
            std::vector<std::size_t> who, nruns;
            std::vector<double> dv;
            for (std::size_t di = 0; di < devs.size(); ++di) {
                const auto& d = devs[di];
                if (d.dead) continue;
                for (RunKind kind : kinds) {
                    dv.clear();
                    for (std::size_t i : d.runs) {
                        if (c.runs[i].run.kind != kind || c.runs[i].dead) continue;
                        const auto& e = figs[i][k].value;
                        if (e.ok() && std::isfinite(*e)) dv.push_back(*e);
                    }
                    if (dv.empty()) continue;
                    vals.push_back(detail::median(dv));
                    who.push_back(di);
                    nruns.push_back(dv.size());
                    break;
                }
            }
            if (vals.empty()) continue;
            FigureStats s;
            s.key = std::string(keys[k]);
            std::vector<double> kept;
            const bool flag = vals.size() >= opt.outlier_min_count;
            const double med = flag ? detail::median(vals) : 0.0;
            // Robust scale, floored at the resolution of the values (their smallest non-zero spacing): on
            // quantized figures (e.g. H_ex from a loop with 1 mT steps) most devices share one value and the
            // MAD collapses, which would flag every other device.
            double sig = flag ? detail::mad_sigma(vals) : 0.0;
            if (flag) {
                std::vector<double> sorted = vals;
                std::sort(sorted.begin(), sorted.end());
                double q = std::numeric_limits<double>::infinity();
                for (std::size_t m = 1; m < sorted.size(); ++m)
                    if (sorted[m] - sorted[m - 1] > 1e-12 * std::max(1.0, std::abs(sorted[m])))
                        q = std::min(q, sorted[m] - sorted[m - 1]);
                if (std::isfinite(q)) sig = std::max(sig, q);
            }
            for (std::size_t m = 0; m < vals.size(); ++m) {
                if (flag && sig > 0 && std::abs(vals[m] - med) > opt.outlier_z * sig) {
                    ++s.outliers;
                    auto& d = devs[who[m]];
                    d.outliers.push_back(s.key);
                    for (std::size_t i : d.runs) {
                        const auto& e = figs[i][k].value;
                        if (e.ok()) c.runs[i].outliers.push_back(s.key);
                    }
                } else {
                    kept.push_back(vals[m]);
                    s.runs += nruns[m];
                }
            }
            s.count = kept.size();
            s.mean = detail::mean(kept);
            s.std = detail::stddev(kept);
            g.stats.push_back(s);
        }
        for (auto& d : devs) c.devices.push_back(std::move(d));
        c.groups.push_back(std::move(g));
    }
    for (const auto& g : c.groups)
        if (g.cells == 0 || !std::isfinite(g.thickness_nm))
            c.notes.push_back(fmt::format("{} run(s) without thickness or cell count: not in trends or the conductance table", g.runs));

    // Trends versus thickness per cell count.
    std::set<int> cellset;
    for (const auto& g : c.groups)
        if (g.cells > 0) cellset.insert(g.cells);
    for (int cells : cellset) {
        for (auto key : keys) {
            std::vector<double> t, y, s;
            for (const auto& g : c.groups) {
                if (g.cells != cells || !std::isfinite(g.thickness_nm)) continue;
                const auto* st = g.stat(key);
                if (!st || st->count == 0) continue;
                t.push_back(g.thickness_nm);
                y.push_back(st->mean);
                s.push_back(st->count > 1 ? st->std / std::sqrt(static_cast<double>(st->count)) : 0.0);
            }
            if (t.size() < 3) continue;
            TrendFit f = key == "tmr" ? fit_exponential_trend(t, y, s) : fit_linear_trend(t, y, s);
            f.figure = std::string(key);
            f.cells = cells;
            c.trends.push_back(std::move(f));
        }
    }

    // Conductance states (contract D): per device, levels of an R(V) run (else R(H)) with cells + 1 levels.
    for (const auto& g : c.groups) {
        if (g.cells <= 0 || !std::isfinite(g.thickness_nm)) continue;
        const auto nstates = static_cast<std::size_t>(g.cells + 1);
        std::map<std::string, std::vector<double>> dev_levels;  // device -> R per level, ascending
        std::map<std::string, bool> from_rv;
        for (const auto& ra : c.runs) {
            if (ra.run.device.cells != g.cells || tkey(ra.run.device.thickness_nm) != tkey(g.thickness_nm)) continue;
            if (ra.dead || !ra.error.empty()) continue;
            const Levels* l = ra.rv ? &ra.rv->levels : (ra.rh ? &ra.rh->levels : nullptr);
            if (!l || l->levels.size() != nstates) continue;
            const std::string dk = ra.run.device.key().empty() ? ra.run.name : ra.run.device.key();
            const bool rv = ra.rv.has_value();
            auto it = dev_levels.find(dk);
            if (it != dev_levels.end() && (from_rv[dk] || !rv)) continue;  // keep the first, prefer R(V)
            std::vector<double> r;
            for (const auto& lv : l->levels) r.push_back(lv.r_ohm);
            dev_levels[dk] = r;
            from_rv[dk] = rv;
        }
        if (dev_levels.empty()) continue;
        double gtop = 0;
        for (const auto& [d, r] : dev_levels) gtop += 1 / r.front();
        gtop /= static_cast<double>(dev_levels.size());
        for (std::size_t s = 0; s < nstates; ++s) {
            std::vector<double> gn, rr;
            for (const auto& [d, r] : dev_levels) {
                const double rs = r[nstates - 1 - s];  // state 0 = highest resistance
                gn.push_back(1 / rs / gtop);
                rr.push_back(rs);
            }
            ConductanceRow row;
            row.thickness_nm = g.thickness_nm;
            row.cells = g.cells;
            row.state = static_cast<int>(s);
            row.g_norm = detail::mean(gn);
            row.g_norm_std = detail::stddev(gn);
            row.r_ohm = detail::mean(rr);
            row.r_ohm_std = detail::stddev(rr);
            row.devices = dev_levels.size();
            c.conductance.push_back(row);
        }
    }
    return c;
}

}  // namespace mtjlab::analysis
