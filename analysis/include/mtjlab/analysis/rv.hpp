#pragma once
// R(V) pulse trains and breakdown ramps.
//
// R(V): the resistance read after each pulse is clustered into levels (levels.hpp, BIC model selection);
// R_P/R_AP are the lowest/highest levels. Walking each branch in sweep order, the critical voltage of a
// transition is the amplitude of the first pulse after which R crosses the midpoint between R_AP and R_P
// (AP->P: from above to below); with several loops the median over branches is reported. Field-free
// switching is decided when the assist field is absent or zero (|H| < field_free_max_T).
//
// Breakdown: the first pulse after which R leaves [short_factor * min, open_factor * max] of all earlier
// reads (or the read is non-finite) and never comes back; V_B is its |amplitude|.
#include <optional>
#include <string>
#include <vector>

#include "mtjlab/analysis/data.hpp"
#include "mtjlab/analysis/extracted.hpp"
#include "mtjlab/analysis/levels.hpp"

namespace mtjlab::analysis {

/// Level options for R(V) loops: a level may be a single read. In a pulse staircase an intermediate state of
/// a compound device is often read only once or twice (the next pulse switches the next cell); spikes are
/// removed before clustering instead (a read far from both neighbours while the neighbours agree).
/// Neighbouring levels must differ by >= 3 %: the cell-to-cell spread of R_P and TMR makes states with the
/// same number of switched cells (but different cells) read up to ~2 % apart; they are one state of the
/// compound device (the steps between numbers of switched cells are >= 9 % for TMR >= 30 %).
inline LevelOptions rv_level_defaults() {
    LevelOptions o;
    o.min_points = 1;
    o.min_step = 0.03;
    return o;
}

struct RvOptions {
    LevelOptions levels = rv_level_defaults();
    double field_free_max_T = 0.2e-3;  ///< |assist| below this counts as field-free
    double spike_rel = 0.01;           ///< a lone read this far (relative) from both agreeing neighbours is a spike
    double broken_short_factor = 0.5;  ///< trailing reads below this x the lowest earlier read: broken (short)
    double broken_open_factor = 3.0;   ///< trailing reads above this x the highest earlier read: broken (open)
};

struct RvResult {
    Levels levels;
    std::size_t spikes_removed = 0;   ///< lone reads excluded from the levels (see RvOptions::spike_rel)
    std::size_t broken_reads = 0;     ///< trailing reads after the junction broke, excluded
    std::optional<double> broke_at_V; ///< amplitude of the pulse after which the junction read broken
    Extracted r_p_ohm, r_ap_ohm, tmr;
    Extracted vc_ap_to_p_V, vc_p_to_ap_V;       ///< signed pulse amplitudes
    Extracted assist_ap_to_p_T, assist_p_to_ap_T;  ///< assist field at those transitions
    std::optional<bool> field_free_switching;   ///< empty when an assist field was applied or unknown
    std::string field_free_reason;
    std::vector<std::string> notes;
    std::string error;
};

/// `field_free_hint`: the run kind says field-free (no assist column needed).
RvResult analyze_rv(const Sweep& sweep, bool field_free_hint, const RvOptions& opt = {});

struct BreakdownOptions {
    double short_factor = 0.5;
    double open_factor = 3.0;
    std::size_t min_baseline = 3;  ///< reads needed before a breakdown can be called
};

struct BreakdownResult {
    Extracted breakdown_V;  ///< |amplitude| of the breaking pulse
    std::string mode;       ///< "short", "open" or "" when none
    double r_before_ohm = 0, r_after_ohm = 0;
    std::string error;
};

/// Points are used in record order (the ramp's time order).
BreakdownResult analyze_breakdown(const Sweep& sweep, const BreakdownOptions& opt = {});

}  // namespace mtjlab::analysis
