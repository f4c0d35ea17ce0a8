#pragma once
// Distinct resistance levels of a (compound) device: optimal 1-D clustering of log R with the number of
// levels chosen by the Bayesian information criterion (BIC).
//
// For each k = 1..max_levels the optimal k-segmentation of the sorted log-resistances (exact 1-D k-means
// by dynamic programming, O(k n log n)) is scored with the classification likelihood of a Gaussian mixture
// with one shared width (multiplicative read noise is additive in log R):
//   BIC(k) = n ln(2 pi s^2) + n - 2 sum_j n_j ln(n_j/n) + 2k ln n,   s^2 = max(RSS/n, floor^2).
// The smallest BIC wins among segmentations whose clusters all hold >= min_points and whose neighbouring
// levels differ by >= min_step (relative). Level values are cluster medians (robust to stray points).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace mtjlab::analysis {

struct LevelOptions {
    int max_levels = 8;             ///< largest k tried
    std::size_t min_points = 2;     ///< a level must hold at least this many points
    double min_step = 0.01;         ///< neighbouring levels must differ by this relative amount
    double noise_floor = 1e-4;      ///< floor on the relative noise (log-R sigma) in the likelihood
};

struct Level {
    double r_ohm = 0;          ///< median resistance of the level
    double r_std_ohm = 0;      ///< standard deviation of the points in the level
    std::size_t points = 0;
};

struct Levels {
    std::vector<Level> levels;        ///< ascending resistance
    std::vector<double> steps;        ///< (R_{i+1} - R_i)/R_i between consecutive levels
    std::vector<int> assignment;      ///< level index of each finite positive input point, -1 otherwise
    double log_sigma = 0;             ///< fitted common width in ln R
    std::vector<double> bic;          ///< BIC per k (index k-1), +inf when k was not admissible
    std::string reason;               ///< set when no level could be found (then levels is empty)
};

/// Levels of the resistance values (Ohm). Non-finite or non-positive values are ignored.
///
/// Two-level shortcut: most R(H) loops hold two well-separated clusters. find_levels first splits the values
/// at the geometric middle of their extremes and checks conditions under which the general method provably
/// chooses exactly that two-level clustering (docs/analysis.md, "Two-level shortcut"): the gap between the
/// clusters is so wide that no optimal segmentation for any k crosses it, every k >= 3 is then inadmissible
/// (each cluster spans less than min_step, so two levels inside one cluster are too close), and k = 2 is
/// admissible with a lower BIC than k = 1, all with margins far above rounding. Only then it returns the
/// two-level result without sorting or the dynamic programme; otherwise the general method runs. The result
/// is the general method's: the same levels, medians, counts, steps and assignment; r_std_ohm, log_sigma and
/// bic come from the same sums added in another order or by another route (rounding differences only).
Levels find_levels(std::span<const double> r_ohm, const LevelOptions& opt = {});

namespace detail {

/// find_levels without the two-level shortcut (the full clustering and BIC for k = 1..max_levels), for the
/// tests that pin the shortcut to the general method.
Levels find_levels_general(std::span<const double> r_ohm, const LevelOptions& opt = {});

/// While an instance lives, find_levels on this thread (also inside analyze_rh/analyze_rv) never takes the
/// two-level shortcut. For tests.
class GeneralLevelsOnly {
public:
    GeneralLevelsOnly();
    ~GeneralLevelsOnly();
    GeneralLevelsOnly(const GeneralLevelsOnly&) = delete;
    GeneralLevelsOnly& operator=(const GeneralLevelsOnly&) = delete;

private:
    bool previous_;
};

/// Calls of find_levels on this thread that tried and that took the two-level shortcut (for tests).
struct ShortcutCounts {
    std::size_t tried = 0, taken = 0;
};
ShortcutCounts& level_shortcut_counts();

}  // namespace detail

}  // namespace mtjlab::analysis
