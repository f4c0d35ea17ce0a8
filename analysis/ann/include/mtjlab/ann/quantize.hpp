#pragma once
// Post-training quantization of signed weights onto MTJ conductance levels, with device non-idealities.
//
// A mapping turns a level set g (normalised, ascending, top 1) into a set of dimensionless weight values v;
// a scale s per layer (or per output column) makes the weights w = s * v. The value set of each mapping:
//   mirror        v = sign * g_k                       (the paper's literal reading; no zero weight)
//   mirror_zero   v in {0} U {+-g_k}                   (a zero weight is a device switched off)
//   differential  v = g_i - g_j over all pairs         (G+ - G- on two devices; G_min cancels)
//   offset        v = (g_k - g_ref) / (1 - g_min)      (reference column at g_ref = (1 + g_min)/2)
// Scale policies: max_abs (s = max|w| / max|v|), none (s = 1), mse (s minimising the squared quantization
// error, exact error by prefix sums over sorted weights, grid + golden-section search), percentile
// (s = P-th percentile of |w| / max|v|).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "mtjlab/ann/levels.hpp"

namespace mtjlab::ann {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowVectorF = Eigen::Matrix<float, 1, Eigen::Dynamic>;

enum class Mapping { mirror, mirror_zero, differential, offset };
enum class ScalePolicy { max_abs, none, mse, percentile };
enum class ScaleScope { layer, column };

std::string_view to_string(Mapping m);
std::string_view to_string(ScalePolicy p);
std::string_view to_string(ScaleScope s);
/// Parsers accept the names above (and "mirror+zero", "diff", "reference", "max", "layer", "column");
/// they throw InputError otherwise.
Mapping parse_mapping(std::string_view name);
ScalePolicy parse_scale_policy(std::string_view name);
ScaleScope parse_scale_scope(std::string_view name);
/// Every mapping, in the order above.
std::vector<Mapping> all_mappings();

/// One achievable weight value and how devices realise it: value = sign * (g[plus] - g[minus] - offset) / denom,
/// with g[-1] == 0 (no device). plus == -1 and minus == -1 is the exact zero of mirror_zero.
struct WeightLevel {
    double value = 0.0;
    int sign = 1;
    int plus = -1;
    int minus = -1;
};

/// The value set of a mapping for one level set, ascending, duplicates (within 1e-12) merged.
struct WeightLevels {
    Mapping mapping = Mapping::mirror;
    std::vector<WeightLevel> levels;
    double offset = 0.0;
    double denom = 1.0;
    [[nodiscard]] std::vector<double> values() const;
    [[nodiscard]] double max_abs() const;
};

WeightLevels weight_levels(Mapping mapping, const LevelSet& levels);

struct QuantConfig {
    Mapping mapping = Mapping::mirror;
    ScalePolicy scale = ScalePolicy::max_abs;
    ScaleScope scope = ScaleScope::layer;
    double percentile = 99.9;       ///< for ScalePolicy::percentile, in percent (0, 100]
    bool quantize_biases = false;   ///< biases on the same mapping (own scale per layer) instead of float
};

/// Device non-idealities. Defaults: ideal devices.
struct NonIdealities {
    double variation = 0.0;  ///< multiplier on the level set's g_std: 1 = the measured spread, frozen per instance
    double read_noise = 0.0; ///< relative sigma of each device conductance, drawn anew for every inference
    double stuck_p = 0.0;    ///< fraction of devices stuck in the all-P (top) state
    double stuck_ap = 0.0;   ///< fraction of devices stuck in the all-AP (bottom) state
    [[nodiscard]] bool ideal() const { return variation == 0 && read_noise == 0 && stuck_p == 0 && stuck_ap == 0; }
};

/// Index of the nearest value (ties go up) in an ascending list.
std::size_t nearest_index(std::span<const double> values, double w);

/// Sum of squared errors of quantizing w onto s * values (exact).
double quantization_sse(std::span<const float> w, std::span<const double> values, double s);

/// The scale of a group of weights under a policy. Throws InputError for a bad percentile.
double choose_scale(std::span<const float> w, std::span<const double> values, ScalePolicy policy,
                    double percentile = 99.9);

/// One quantized layer: realised weights (with the instance's device variation and faults), optional
/// per-weight read-noise variance, and the scales used.
struct QuantizedLayer {
    RowMatrixF w;
    RowVectorF b;
    RowMatrixF w_noise_var;  ///< empty when there is no read noise
    RowVectorF b_noise_var;  ///< empty when there is no read noise
    std::vector<double> scales;  ///< one per layer or one per output column
    double bias_scale = 0.0;     ///< 0 when biases stay float
};

/// Quantizes one layer (w: inputs x outputs, Keras layout). instance_seed freezes variation and faults.
QuantizedLayer quantize_layer(const RowMatrixF& w, const RowVectorF& b, const LevelSet& levels,
                              const QuantConfig& config, const NonIdealities& nonideal, std::uint64_t instance_seed);

/// Scales of a weight matrix under a configuration: one (ScaleScope::layer) or one per output column.
std::vector<double> choose_scales(const RowMatrixF& w, std::span<const double> values, const QuantConfig& config);

/// Ideal quantization (no variation) with given scales: used by quantization-aware training's forward pass.
void quantize_ideal(const RowMatrixF& w, std::span<const double> values, const std::vector<double>& scales,
                    RowMatrixF& out);

}  // namespace mtjlab::ann
