#pragma once
// Accuracy grids over level sets, from trained models (never retrains): the paper's Fig. 5b/c (measured
// groups of a states table) and Fig. 5d/e (parametric law, R_P fixed, TMR x number of cells). Each cell is
// the mean and standard deviation over the models (training seeds) and Monte-Carlo device instances.
// Cells run in parallel on std::threads; results do not depend on the thread count.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mtjlab/ann/levels.hpp"
#include "mtjlab/ann/network.hpp"
#include "mtjlab/ann/quantize.hpp"

namespace mtjlab::ann {

struct SweepSpec {
    QuantConfig quant;
    NonIdealities nonideal;
    int instances = 1;          ///< Monte-Carlo device instances per model (only matters with non-idealities)
    std::uint64_t seed = 1;     ///< base of the device-instance and read-noise streams
    int threads = 0;            ///< 0 = hardware concurrency
    double r_p_ohm = 10e3;      ///< parametric grids: R_P (R_AP = R_P (1 + TMR))
    double rel_sigma = 0.0;     ///< parametric grids: device spread as a fraction of each level
};

struct SweepCell {
    std::string source;          ///< "parametric" or the table file
    std::string mapping, scale, scope;
    double thickness_nm = 0.0;   ///< measured groups; 0 for parametric
    double tmr = 0.0;            ///< fraction
    int cells = 0;
    int states = 0;
    double r_p_ohm = 0.0, r_ap_ohm = 0.0;
    double mean = 0.0, std = 0.0;          ///< over all (model, instance) pairs
    double float_mean = 0.0;               ///< full-precision accuracy of the same models
    std::vector<double> per_model;         ///< mean over instances, per model
};

/// Quantized accuracy of one model on one level set: mean and std over instances, and the per-instance values.
struct EvalResult {
    double mean = 0.0, std = 0.0;
    std::vector<double> per_instance;
    std::vector<double> scales_layer1, scales_layer2;  ///< of instance 0
    double bias_scale1 = 0.0, bias_scale2 = 0.0;
};
EvalResult evaluate_quantized(const Mlp& model, const Features& test, const LevelSet& levels,
                              const QuantConfig& quant, const NonIdealities& nonideal, int instances,
                              std::uint64_t seed);

/// Fig. 5d/e: every (TMR, cells) of the parametric law.
std::vector<SweepCell> sweep_parametric(const std::vector<Mlp>& models, const Features& test,
                                        const std::vector<double>& tmrs, const std::vector<int>& cells,
                                        const SweepSpec& spec);

/// Fig. 5b/c: every group of a measured table.
std::vector<SweepCell> sweep_levels(const std::vector<Mlp>& models, const Features& test,
                                    const std::vector<LevelSet>& groups, const SweepSpec& spec);

/// CSV with a '#'-commented configuration header (JSON) and one row per cell.
void write_sweep_csv(const std::filesystem::path& file, const std::vector<SweepCell>& cells,
                     const std::string& config_json);
/// HDF5 group /sweep with one 1-D dataset per column (units attributes) and the configuration as attribute.
void write_sweep_h5(const std::filesystem::path& file, const std::vector<SweepCell>& cells,
                    const std::string& config_json);

/// Accuracy against TMR, one line (with std error bars) per number of states, as SVG through gnuplot.
/// Throws Error when gnuplot is missing or fails.
void plot_sweep_lines(const std::filesystem::path& svg, const std::vector<SweepCell>& cells, const std::string& title);
/// Filled contour map of mean accuracy over (TMR, states), as SVG through gnuplot.
void plot_sweep_contour(const std::filesystem::path& svg, const std::vector<SweepCell>& cells,
                        const std::string& title);

}  // namespace mtjlab::ann
