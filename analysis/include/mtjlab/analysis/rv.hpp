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

struct RvOptions {
    LevelOptions levels{};
    double field_free_max_T = 0.2e-3;  ///< |assist| below this counts as field-free
};

struct RvResult {
    Levels levels;
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
