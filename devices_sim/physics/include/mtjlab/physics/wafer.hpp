#pragma once
// A wafer with the free-layer thickness wedge (1.6 -> 2.6 nm along y). Dies are numbered along the
// wedge: die d sits at thickness t_min + (t_max - t_min) d / (dies - 1). Each die holds `devices`
// compound devices whose cell counts cycle through `cell_pattern`. Variation: a correlated die offset
// (shared by every device of the die) plus device scatter plus cell-to-cell spread. Every number is a
// pure function of (seed, die, device): reproducible and independent of the order of access.
#include <cstdint>
#include <vector>

#include "mtjlab/physics/calibration.hpp"
#include "mtjlab/physics/device.hpp"

namespace mtjlab::physics {

/// Relative (1 sigma) scatter; absolute ones say their unit.
struct Variation {
    double r_p_die = 0.04, r_p_device = 0.05;        ///< lognormal
    double tmr_die = 0.02, tmr_device = 0.02;
    double h_k_die = 0.04, h_k_device = 0.06;        ///< sets H_c (+-15 % at 2 sigma)
    double i_star_die = 0.03, i_star_device = 0.04;  ///< sets V_c
    double h_ex_die_T = 0.2e-3, h_ex_device_T = 0.35e-3;  ///< sign-varying offsets
    double v_b_die_V = 0.03, v_b_device_V = 0.06;
    double thickness_die_nm = 0.005;                 ///< local wedge error
    CellSpread cell{};
};

struct WaferSpec {
    double t_min_nm = 1.6;
    double t_max_nm = 2.6;
    int dies = 11;                 ///< along the wedge
    int devices_per_die = 6;
    std::vector<int> cell_pattern{1, 2, 3};
    Variation variation{};
    BreakdownMode breakdown_mode = BreakdownMode::short_circuit;

    /// Throws InputError naming the field and its range.
    void validate() const;
};

class Wafer {
public:
    /// Throws InputError if the spec is invalid.
    Wafer(WaferSpec spec, std::uint64_t seed, Calibration cal = Calibration::paper());
    /// Nominal wedge thickness of a die.
    [[nodiscard]] double die_thickness_nm(int die) const;
    /// The device at (die, device). Throws InputError for indices out of range.
    [[nodiscard]] CompoundDevice device(int die, int device) const;
    [[nodiscard]] int cells_of(int device) const;
    [[nodiscard]] const WaferSpec& spec() const { return spec_; }
    [[nodiscard]] std::uint64_t seed() const { return seed_; }
    [[nodiscard]] const Calibration& calibration() const { return cal_; }

private:
    WaferSpec spec_;
    std::uint64_t seed_;
    Calibration cal_;
};

}  // namespace mtjlab::physics
