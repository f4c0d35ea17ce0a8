#pragma once
// A whole analysis: every run, the populations per (thickness, cells), trend fits versus thickness and the
// conductance-state table for the ANN evaluator (contract D).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtjlab/analysis/data.hpp"
#include "mtjlab/analysis/extracted.hpp"
#include "mtjlab/analysis/psw.hpp"
#include "mtjlab/analysis/rh.hpp"
#include "mtjlab/analysis/rv.hpp"

namespace mtjlab::analysis {

struct AnalysisOptions {
    RhOptions rh{};
    RvOptions rv{};
    BreakdownOptions breakdown{};
    double outlier_z = 5.0;            ///< robust z (median/MAD) beyond which a value is an outlier
    std::size_t outlier_min_count = 5; ///< groups smaller than this get no outlier flags
    double dead_r_min_ohm = 100;       ///< median R below this: shorted junction (dead)
    double dead_r_max_ohm = 1e8;       ///< median R above this: open junction (dead)
};

/// Everything known about one run after analysis.
struct RunAnalysis {
    Run run;
    std::optional<RhResult> rh;
    std::optional<RvResult> rv;
    std::optional<BreakdownResult> breakdown;
    std::optional<PswResult> psw;
    std::string error;             ///< the run could not be analysed (load error, wrong kind, ...)
    bool dead = false;             ///< the device shows no working junction (see dead_reason)
    std::string dead_reason;
    std::vector<std::string> outliers;  ///< figure keys flagged as outliers within the group
    std::vector<std::string> notes;
};

/// One extracted figure in the units shown to people (mT, Ohm, V, fraction).
struct NamedFigure {
    std::string_view key;   ///< JSON/CSV key, e.g. "hc_mT"
    std::string_view unit;  ///< "mT", "Ohm", "V", "1"
    std::string_view label; ///< human label for tables
    Extracted value;
};

/// The scalar figures of a run, always the same keys in the same order (empty with reasons when n/a).
std::vector<NamedFigure> figures(const RunAnalysis& r);
/// The figure keys in the order figures() returns them.
std::vector<std::string_view> figure_keys();

/// Levels of a run in Ohm (R(V) levels when present, otherwise R(H) levels), ascending.
std::vector<double> levels_ohm(const RunAnalysis& r);
std::vector<double> level_steps(const RunAnalysis& r);

RunAnalysis analyze_run(Run run, const AnalysisOptions& opt = {});

/// The run kinds a figure's device value is taken from, in order of preference: the first kind for which
/// the device has a value is used (e.g. R_P from the R(H) loop, else from an R(V) loop; V_c from the
/// assisted R(V) loop, else the field-free one).
std::vector<RunKind> device_value_kinds(std::string_view figure_key);

/// Statistics of one figure over the DEVICES of a group: each device contributes one value (the median of
/// its runs of the preferred kind for that figure, see device_value_kinds()), so a device measured by
/// several runs counts once.
struct FigureStats {
    std::string key;
    double mean = 0, std = 0;
    std::size_t count = 0;     ///< devices used (outliers and dead devices excluded)
    std::size_t outliers = 0;  ///< devices flagged and excluded
    std::size_t runs = 0;      ///< runs behind the used device values (>= count)
};

/// One measured device (wafer/die/device, or the run name when the identity is unknown).
struct DeviceRecord {
    std::string key;
    double thickness_nm = nan;
    int cells = 0;
    std::vector<std::size_t> runs;      ///< indices into Campaign::runs
    bool dead = false;                  ///< no working junction (see dead_reason)
    std::string dead_reason;
    std::vector<std::string> outliers;  ///< figure keys whose device value is a group outlier
    std::vector<std::string> notes;
};

struct GroupSummary {
    double thickness_nm = nan;  ///< NaN when unknown
    int cells = 0;              ///< 0 when unknown
    std::size_t runs = 0, devices = 0, dead = 0;
    std::size_t field_free_tested = 0, field_free_switched = 0;
    std::vector<FigureStats> stats;  ///< one per figure key that has at least one value
    [[nodiscard]] const FigureStats* stat(std::string_view key) const;
};

/// A fit of a figure's group means against thickness for one cell count.
struct TrendFit {
    std::string figure;
    int cells = 0;
    std::string model;                     ///< "linear: y = a + b t" or "exp: y = a + b exp((t - t0)/c)" ...
    std::vector<std::string> param_names;
    std::vector<double> params, param_errors;
    double t0_nm = 0;                      ///< reference thickness of the exp model
    std::size_t points = 0;
    double rms_residual = 0;
    std::string reason;                    ///< set when the fit was not possible (params empty)
    /// The model evaluated at thickness t (nm); NaN without parameters.
    [[nodiscard]] double eval(double t_nm) const;
};

/// One row of the conductance-state table (contract D).
struct ConductanceRow {
    double thickness_nm = 0;
    int cells = 0;
    int state = 0;  ///< 0 = lowest conductance (all cells AP)
    double g_norm = 0, g_norm_std = 0, r_ohm = 0, r_ohm_std = 0;
    std::size_t devices = 0;
};

struct Campaign {
    std::vector<RunAnalysis> runs;
    std::vector<GroupSummary> groups;
    std::vector<TrendFit> trends;
    std::vector<ConductanceRow> conductance;
    std::vector<DeviceRecord> devices;  ///< one per device, in group order (added in algorithm version 2)
    std::vector<std::string> notes;  ///< campaign-level remarks (groups without cell count, ...)
    AnalysisOptions options;
};

/// Analyses every run, then groups, flags outliers/dead devices, fits trends and builds the table.
Campaign analyze_campaign(std::vector<Run> runs, const AnalysisOptions& opt = {});

/// Fits y = a + b exp((t - t0)/c) (t0 = smallest t) by Levenberg-Marquardt, weighted by 1/sigma^2 when
/// sigma is given (same size as t), falling back to log-linear ln y = a + b t when it fails.
TrendFit fit_exponential_trend(const std::vector<double>& t_nm, const std::vector<double>& y,
                               const std::vector<double>& sigma = {});
/// Weighted straight line y = a + b t.
TrendFit fit_linear_trend(const std::vector<double>& t_nm, const std::vector<double>& y,
                          const std::vector<double>& sigma = {});

}  // namespace mtjlab::analysis
