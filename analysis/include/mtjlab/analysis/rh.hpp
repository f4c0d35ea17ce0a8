#pragma once
// R(H) hysteresis loops: plateau resistances, TMR, switching fields, coercivity, offset, squareness and,
// for major loops, the reference-layer rotation field.
//
// Method (docs/analysis.md): non-finite and non-positive points are dropped; the sweep is split into
// monotonic branches (recorded branch/direction columns when present, otherwise from point order); each
// branch is sorted along its sweep direction and de-spiked with a 5-point Hampel filter; the two states
// come from the extreme levels of a BIC level clustering (levels.hpp); switching fields are where a branch
// crosses the midpoint between the plateaus (linear interpolation between the two bracketing points);
// R_P and R_AP are 10 %-trimmed means of the plateau points away from any transition.
#include <span>
#include <string>
#include <vector>

#include "mtjlab/analysis/data.hpp"
#include "mtjlab/analysis/extracted.hpp"
#include "mtjlab/analysis/levels.hpp"

namespace mtjlab::analysis {

struct RhOptions {
    double hampel_k = 6.0;          ///< Hampel threshold in noise sigmas
    std::size_t edge_guard = 2;     ///< points next to a transition excluded from the plateaus
    double min_switch_sigma = 8.0;  ///< plateaus closer than this many noise sigmas: "never switches"
    double min_switch_rel = 0.005;  ///< ... or closer than this relative step
    double trim = 0.1;              ///< trimmed-mean fraction at each end
    LevelOptions levels{};
};

/// One midpoint crossing of one branch.
struct Crossing {
    int branch = 0;
    int direction = 0;     ///< +1 field rising, -1 falling
    double field_T = 0;    ///< interpolated field of the midpoint crossing
    bool to_high = false;  ///< true for a P->AP (low to high resistance) crossing
};

struct RhResult {
    Extracted r_p_ohm, r_ap_ohm, tmr;          ///< tmr as a fraction (0.33 = 33 %)
    Extracted h_sw_plus_T, h_sw_minus_T;       ///< P->AP on rising, AP->P on falling branches (means)
    Extracted hc_T, hex_T;                     ///< (H+ - H-)/2 and (H+ + H-)/2
    Extracted squareness;                      ///< remanence ratio at the loop centre, 0..1
    Extracted h_rl_T;                          ///< reference-layer rotation field (major loops)
    std::vector<Crossing> crossings;
    Levels levels;                             ///< level clustering of the cleaned loop
    int branches_up = 0, branches_down = 0;
    std::size_t points_used = 0, points_dropped = 0, spikes_replaced = 0;
    double noise_rel = 0;                      ///< estimated relative read noise
    std::vector<std::string> notes;
    std::string error;                         ///< set when the loop could not be analysed at all
};

/// A branch: indices into the sweep in sweep order, with its direction.
struct Branch {
    int index = 0;
    int direction = 0;
    std::vector<std::size_t> points;
};

/// Splits a sweep into monotonic branches (recorded columns first, point order otherwise), drops
/// non-finite and non-positive points and sorts each branch along its direction.
std::vector<Branch> split_branches(const Sweep& sweep, std::vector<std::string>* notes = nullptr);

RhResult analyze_rh(const Sweep& sweep, const RhOptions& opt = {});

}  // namespace mtjlab::analysis
