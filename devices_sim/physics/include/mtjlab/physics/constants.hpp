#pragma once
// Physical constants (CODATA 2018, SI) and the fixed geometry of the paper's devices.
namespace mtjlab::physics {

inline constexpr double k_boltzmann = 1.380649e-23;      ///< J/K
inline constexpr double e_charge = 1.602176634e-19;      ///< C
inline constexpr double hbar = 1.054571817e-34;          ///< J s
inline constexpr double mu0 = 1.25663706212e-6;          ///< T m/A
inline constexpr double gamma_e = 1.76085963023e11;      ///< electron gyromagnetic ratio, rad/(s T)
inline constexpr double pi = 3.14159265358979323846;

/// Geometry of one cell and of the write channel (Kumar et al. 2024, Fig. 2 and Methods).
namespace geometry {
inline constexpr double cell_long_axis_m = 500e-9;    ///< ellipse, easy axis y
inline constexpr double cell_short_axis_m = 250e-9;
inline constexpr double cell_area_m2 = pi / 4.0 * cell_long_axis_m * cell_short_axis_m;  ///< 0.0982 um^2
inline constexpr double cell_pitch_m = 1.175e-6;      ///< channel length grows 0.9 -> 3.25 um for 1 -> 3 cells
inline constexpr double channel_width_m = 0.9e-6;
inline constexpr double channel_base_length_m = 0.9e-6;  ///< 1-cell channel 0.9 x 0.9 um^2
inline constexpr double channel_thickness_m = 14e-9;   ///< Ta(4)/Pt(10)
inline constexpr double thickness_min_nm = 1.6;        ///< calibrated wedge range
inline constexpr double thickness_max_nm = 2.6;
inline constexpr int max_cells = 7;
}  // namespace geometry

}  // namespace mtjlab::physics
