#include "mtjlab/ann/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "rng.hpp"

namespace mtjlab::ann {

std::string_view to_string(Mapping m) {
    switch (m) {
        case Mapping::mirror: return "mirror";
        case Mapping::mirror_zero: return "mirror_zero";
        case Mapping::differential: return "differential";
        case Mapping::offset: return "offset";
    }
    return "?";
}
std::string_view to_string(ScalePolicy p) {
    switch (p) {
        case ScalePolicy::max_abs: return "max_abs";
        case ScalePolicy::none: return "none";
        case ScalePolicy::mse: return "mse";
        case ScalePolicy::percentile: return "percentile";
    }
    return "?";
}
std::string_view to_string(ScaleScope s) { return s == ScaleScope::layer ? "layer" : "column"; }

Mapping parse_mapping(std::string_view n) {
    if (n == "mirror") return Mapping::mirror;
    if (n == "mirror_zero" || n == "mirror+zero" || n == "mirror-zero") return Mapping::mirror_zero;
    if (n == "differential" || n == "diff" || n == "differential_pair") return Mapping::differential;
    if (n == "offset" || n == "reference") return Mapping::offset;
    throw InputError(fmt::format("unknown mapping '{}' (mirror, mirror_zero, differential, offset)", n));
}
ScalePolicy parse_scale_policy(std::string_view n) {
    if (n == "max_abs" || n == "max" || n == "maxabs") return ScalePolicy::max_abs;
    if (n == "none") return ScalePolicy::none;
    if (n == "mse") return ScalePolicy::mse;
    if (n == "percentile") return ScalePolicy::percentile;
    throw InputError(fmt::format("unknown scale policy '{}' (max_abs, none, mse, percentile)", n));
}
ScaleScope parse_scale_scope(std::string_view n) {
    if (n == "layer") return ScaleScope::layer;
    if (n == "column") return ScaleScope::column;
    throw InputError(fmt::format("unknown scale scope '{}' (layer, column)", n));
}
std::vector<Mapping> all_mappings() {
    return {Mapping::mirror, Mapping::mirror_zero, Mapping::differential, Mapping::offset};
}

std::vector<double> WeightLevels::values() const {
    std::vector<double> v;
    v.reserve(levels.size());
    for (const auto& l : levels) v.push_back(l.value);
    return v;
}

double WeightLevels::max_abs() const {
    double m = 0;
    for (const auto& l : levels) m = std::max(m, std::abs(l.value));
    return m;
}

WeightLevels weight_levels(Mapping mapping, const LevelSet& set) {
    const auto& g = set.g;
    if (g.size() < 2) throw InputError(fmt::format("level set '{}' has {} levels; need at least 2", set.source, g.size()));
    WeightLevels wl;
    wl.mapping = mapping;
    const int n = static_cast<int>(g.size());
    switch (mapping) {
        case Mapping::mirror:
        case Mapping::mirror_zero:
            for (int k = 0; k < n; ++k) {
                wl.levels.push_back({g[k], +1, k, -1});
                wl.levels.push_back({-g[k], -1, k, -1});
            }
            if (mapping == Mapping::mirror_zero) wl.levels.push_back({0.0, +1, -1, -1});
            break;
        case Mapping::differential:
            for (int i = 0; i < n; ++i) {
                for (int j = 0; j < n; ++j) wl.levels.push_back({g[i] - g[j], +1, i, j});
            }
            break;
        case Mapping::offset:
            wl.offset = 0.5 * (g.front() + g.back());
            wl.denom = g.back() - g.front();
            for (int k = 0; k < n; ++k) wl.levels.push_back({(g[k] - wl.offset) / wl.denom, +1, k, -1});
            break;
    }
    // ascending; among equal values keep the realisation with the lowest total conductance (lowest power)
    auto power = [&](const WeightLevel& l) {
        return (l.plus >= 0 ? g[l.plus] : 0.0) + (l.minus >= 0 ? g[l.minus] : 0.0);
    };
    std::sort(wl.levels.begin(), wl.levels.end(), [&](const WeightLevel& a, const WeightLevel& b) {
        if (a.value != b.value) return a.value < b.value;
        return power(a) < power(b);
    });
    std::vector<WeightLevel> merged;
    for (const auto& l : wl.levels) {
        if (!merged.empty() && std::abs(l.value - merged.back().value) <= 1e-12) {
            if (power(l) < power(merged.back())) merged.back() = l;
            continue;
        }
        merged.push_back(l);
    }
    wl.levels = std::move(merged);
    return wl;
}

std::size_t nearest_index(std::span<const double> values, double w) {
    const auto it = std::upper_bound(values.begin(), values.end(), w);
    if (it == values.begin()) return 0;
    if (it == values.end()) return values.size() - 1;
    const auto hi = static_cast<std::size_t>(it - values.begin());
    const double mid = 0.5 * (values[hi - 1] + values[hi]);
    return w >= mid ? hi : hi - 1;
}

double quantization_sse(std::span<const float> w, std::span<const double> values, double s) {
    double sse = 0;
    for (float x : w) {
        const double q = s * values[nearest_index(values, x / s)];
        sse += (x - q) * (x - q);
    }
    return sse;
}

namespace {

/// Sorted weights with prefix sums: the exact squared error of any scale in O(levels * log N).
class SortedWeights {
public:
    explicit SortedWeights(std::span<const float> w) : w_(w.begin(), w.end()) {
        std::sort(w_.begin(), w_.end());
        s1_.resize(w_.size() + 1, 0.0);
        s2_.resize(w_.size() + 1, 0.0);
        for (std::size_t i = 0; i < w_.size(); ++i) {
            s1_[i + 1] = s1_[i] + w_[i];
            s2_[i + 1] = s2_[i] + w_[i] * w_[i];
        }
    }
    [[nodiscard]] double sse(std::span<const double> v, double s) const {
        double total = 0;
        std::size_t a = 0;
        for (std::size_t i = 0; i < v.size(); ++i) {
            std::size_t b = w_.size();
            if (i + 1 < v.size()) {
                // ties at the midpoint go to the upper level, as in nearest_index (compare in the scaled domain)
                const double mid = 0.5 * (v[i] + v[i + 1]);
                b = static_cast<std::size_t>(
                    std::lower_bound(w_.begin() + static_cast<std::ptrdiff_t>(a), w_.end(), mid,
                                     [s](double x, double m) { return x / s < m; }) -
                    w_.begin());
            }
            const double q = s * v[i];
            const double cnt = static_cast<double>(b - a);
            total += (s2_[b] - s2_[a]) - 2.0 * q * (s1_[b] - s1_[a]) + q * q * cnt;
            a = b;
        }
        return std::max(0.0, total);
    }
    [[nodiscard]] double max_abs() const {
        return w_.empty() ? 0.0 : std::max(std::abs(w_.front()), std::abs(w_.back()));
    }

private:
    std::vector<double> w_, s1_, s2_;
};

double mse_scale(std::span<const float> w, std::span<const double> v, double vmax) {
    const SortedWeights sw(w);
    const double ref = sw.max_abs() / vmax;
    if (ref <= 0) return 1.0;
    constexpr int kGrid = 400;
    constexpr double kLo = 0.005, kHi = 2.0;
    auto alpha = [](int i) { return kLo + (kHi - kLo) * i / (kGrid - 1); };
    int best = 0;
    double best_err = std::numeric_limits<double>::infinity();
    for (int i = 0; i < kGrid; ++i) {
        const double e = sw.sse(v, ref * alpha(i));
        if (e < best_err) {
            best_err = e;
            best = i;
        }
    }
    // golden-section refinement inside the neighbouring grid cells; keep the grid point if it is better
    double a = alpha(std::max(0, best - 1)), b = alpha(std::min(kGrid - 1, best + 1));
    const double phi = 0.5 * (std::sqrt(5.0) - 1.0);
    double c = b - phi * (b - a), d = a + phi * (b - a);
    double fc = sw.sse(v, ref * c), fd = sw.sse(v, ref * d);
    for (int it = 0; it < 40; ++it) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - phi * (b - a);
            fc = sw.sse(v, ref * c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + phi * (b - a);
            fd = sw.sse(v, ref * d);
        }
    }
    const double refined = fc < fd ? c : d;
    const double refined_err = std::min(fc, fd);
    return ref * (refined_err < best_err ? refined : alpha(best));
}

}  // namespace

double choose_scale(std::span<const float> w, std::span<const double> values, ScalePolicy policy, double percentile) {
    double vmax = 0;
    for (double v : values) vmax = std::max(vmax, std::abs(v));
    if (vmax <= 0) throw InputError("weight level set has no non-zero value");
    switch (policy) {
        case ScalePolicy::none: return 1.0;
        case ScalePolicy::max_abs: {
            double m = 0;
            for (float x : w) m = std::max(m, static_cast<double>(std::abs(x)));
            return m > 0 ? m / vmax : 1.0;
        }
        case ScalePolicy::percentile: {
            if (!(percentile > 0 && percentile <= 100)) {
                throw InputError(fmt::format("percentile must be in (0, 100], got {}", percentile));
            }
            std::vector<double> a;
            a.reserve(w.size());
            for (float x : w) a.push_back(std::abs(x));
            if (a.empty()) return 1.0;
            const auto k = static_cast<std::size_t>(
                std::clamp(std::ceil(percentile / 100.0 * static_cast<double>(a.size())) - 1.0, 0.0,
                           static_cast<double>(a.size() - 1)));
            std::nth_element(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(k), a.end());
            return a[k] > 0 ? a[k] / vmax : 1.0;
        }
        case ScalePolicy::mse: return mse_scale(w, values, vmax);
    }
    return 1.0;
}

std::vector<double> choose_scales(const RowMatrixF& w, std::span<const double> values, const QuantConfig& config) {
    if (config.scope == ScaleScope::layer) {
        return {choose_scale(std::span<const float>(w.data(), static_cast<std::size_t>(w.size())), values,
                             config.scale, config.percentile)};
    }
    std::vector<double> scales;
    std::vector<float> col(static_cast<std::size_t>(w.rows()));
    for (Eigen::Index j = 0; j < w.cols(); ++j) {
        for (Eigen::Index i = 0; i < w.rows(); ++i) col[static_cast<std::size_t>(i)] = w(i, j);
        scales.push_back(choose_scale(col, values, config.scale, config.percentile));
    }
    return scales;
}

void quantize_ideal(const RowMatrixF& w, std::span<const double> values, const std::vector<double>& scales,
                    RowMatrixF& out) {
    out.resize(w.rows(), w.cols());
    const bool per_col = scales.size() > 1;
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
        for (Eigen::Index j = 0; j < w.cols(); ++j) {
            const double s = scales[per_col ? static_cast<std::size_t>(j) : 0];
            out(i, j) = static_cast<float>(s * values[nearest_index(values, w(i, j) / s)]);
        }
    }
}

namespace {

/// Realises weights on devices: variation frozen per instance, stuck-at faults, read-noise variances.
class Realiser {
public:
    Realiser(const LevelSet& set, const WeightLevels& wl, const NonIdealities& ni, std::uint64_t seed)
        : set_(set), wl_(wl), ni_(ni), rng_(seed), ideal_(ni.ideal()) {}

    /// value of level index li at scale s; writes the read-noise variance to *var
    double realise(std::size_t li, double s, double* var) {
        const WeightLevel& l = wl_.levels[li];
        if (ideal_) {  // no draws needed: the nominal value
            *var = 0;
            return s * l.value;
        }
        // a fixed number of draws per weight keeps streams aligned across mappings
        const double u1 = rng_.uniform(), u2 = rng_.uniform();
        const double z1 = rng_.normal(), z2 = rng_.normal();
        if (l.plus < 0 && l.minus < 0) {  // the exact zero of mirror_zero: no device
            *var = 0;
            return 0.0;
        }
        const double gp = l.plus >= 0 ? device(l.plus, u1, z1) : 0.0;
        const double gm = l.minus >= 0 ? device(l.minus, u2, z2) : 0.0;
        const double k = s / wl_.denom;
        *var = k * k * ni_.read_noise * ni_.read_noise * (gp * gp + gm * gm);
        return l.sign * k * (gp - gm - wl_.offset);
    }

private:
    double device(int level, double u, double z) const {
        const int top = static_cast<int>(set_.g.size()) - 1;
        int lv = level;
        if (u < ni_.stuck_p) {
            lv = top;
        } else if (u < ni_.stuck_p + ni_.stuck_ap) {
            lv = 0;
        }
        const auto k = static_cast<std::size_t>(lv);
        const double sd = k < set_.g_std.size() ? set_.g_std[k] : 0.0;
        return std::max(0.0, set_.g[k] + ni_.variation * sd * z);
    }
    const LevelSet& set_;
    const WeightLevels& wl_;
    const NonIdealities& ni_;
    detail::Rng rng_;
    bool ideal_;
};

void check_nonideal(const NonIdealities& ni) {
    if (!(ni.variation >= 0) || !(ni.read_noise >= 0) || !(ni.stuck_p >= 0) || !(ni.stuck_ap >= 0) ||
        ni.stuck_p + ni.stuck_ap > 1) {
        throw InputError("non-idealities out of range (variation, read noise >= 0; stuck fractions >= 0, sum <= 1)");
    }
}

}  // namespace

QuantizedLayer quantize_layer(const RowMatrixF& w, const RowVectorF& b, const LevelSet& levels,
                              const QuantConfig& config, const NonIdealities& ni, std::uint64_t instance_seed) {
    check_nonideal(ni);
    const WeightLevels wl = weight_levels(config.mapping, levels);
    const std::vector<double> values = wl.values();
    QuantizedLayer out;
    out.scales = choose_scales(w, values, config);
    const bool noise = ni.read_noise > 0;
    out.w.resize(w.rows(), w.cols());
    if (noise) out.w_noise_var.resize(w.rows(), w.cols());
    Realiser real(levels, wl, ni, detail::mix_seed(instance_seed, 0x77));
    const bool per_col = out.scales.size() > 1;
    double var = 0;
    for (Eigen::Index i = 0; i < w.rows(); ++i) {
        for (Eigen::Index j = 0; j < w.cols(); ++j) {
            const double s = out.scales[per_col ? static_cast<std::size_t>(j) : 0];
            const std::size_t li = nearest_index(values, w(i, j) / s);
            out.w(i, j) = static_cast<float>(real.realise(li, s, &var));
            if (noise) out.w_noise_var(i, j) = static_cast<float>(var);
        }
    }
    if (!config.quantize_biases) {
        out.b = b;
        return out;
    }
    out.bias_scale = choose_scale(std::span<const float>(b.data(), static_cast<std::size_t>(b.size())), values,
                                  config.scale, config.percentile);
    out.b.resize(b.size());
    if (noise) out.b_noise_var.resize(b.size());
    for (Eigen::Index j = 0; j < b.size(); ++j) {
        const std::size_t li = nearest_index(values, b(j) / out.bias_scale);
        out.b(j) = static_cast<float>(real.realise(li, out.bias_scale, &var));
        if (noise) out.b_noise_var(j) = static_cast<float>(var);
    }
    return out;
}

}  // namespace mtjlab::ann
