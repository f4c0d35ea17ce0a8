#pragma once
// Conductance level sets of compound MTJ synapses, normalised to the top state: g in (0, 1], ascending,
// g.back() == 1. From (a) the parametric law of n identical cells in parallel, k of them parallel (P):
//   g_k = [k + (n - k) / (1 + TMR)] / n,  k = 0..n   (lowest state 1/(1+TMR), never zero),
// or (b) a measured table (contract D: conductance_states.csv or the /conductance_states group of an HDF5 file).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mtjlab::ann {

struct LevelSet {
    std::vector<double> g;      ///< normalised conductances, ascending, top == 1
    std::vector<double> g_std;  ///< device-to-device standard deviation of each level (same length; may be 0)
    std::vector<double> r_ohm;  ///< level resistance when known (measured tables), else empty
    std::string source;         ///< "parametric" or the table file
    double thickness_nm = 0.0;  ///< free-layer thickness of a measured group (0 when parametric)
    int cells = 0;              ///< number of cells of the compound device
    int devices = 0;            ///< devices that contributed (measured), 0 for parametric
    [[nodiscard]] int states() const { return static_cast<int>(g.size()); }
    /// TMR (fraction) between the top and bottom level: g_max/g_min - 1.
    [[nodiscard]] double tmr() const { return g.back() / g.front() - 1.0; }
};

/// The parametric level set for TMR (a fraction: 0.6 means 60 %) and n cells; rel_sigma sets each level's
/// device-to-device spread as a fraction of its value. Throws InputError for tmr <= 0, cells < 1, rel_sigma < 0.
LevelSet parametric_levels(double tmr, int cells, double rel_sigma = 0.0);

/// Reads a conductance-state table (".csv" or ".h5"/".hdf5"), one LevelSet per (thickness_nm, cells) group,
/// sorted by thickness then cells. Rows are validated: header columns present, finite numbers, g_norm > 0 (a
/// negative or zero conductance is rejected), g_norm_std >= 0, states 0..k-1 in order without gaps, at least 2
/// levels per group, levels strictly increasing. Levels are renormalised so the top state is exactly 1.
/// Throws InputError / StorageError with one line naming the file (and line for CSV).
std::vector<LevelSet> read_states_table(const std::filesystem::path& file);

/// Picks one group of a table: by thickness (within 1e-6 nm) and/or cells; with neither given the table must
/// hold exactly one group. Throws InputError naming the file and listing the groups otherwise.
const LevelSet& select_group(const std::vector<LevelSet>& groups, const std::filesystem::path& file,
                             std::optional<double> thickness_nm, std::optional<int> cells);

}  // namespace mtjlab::ann
