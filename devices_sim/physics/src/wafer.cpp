#include "mtjlab/physics/wafer.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/physics/constants.hpp"
#include "mtjlab/physics/rng.hpp"

namespace mtjlab::physics {

void WaferSpec::validate() const {
    check_thickness(t_min_nm, "wafer t_min");
    check_thickness(t_max_nm, "wafer t_max");
    if (!(t_max_nm >= t_min_nm))
        throw InputError(fmt::format("wafer t_max {} nm must be >= t_min {} nm", t_max_nm, t_min_nm));
    if (dies < 1 || dies > 1000) throw InputError(fmt::format("dies {} is outside the allowed range [1, 1000]", dies));
    if (devices_per_die < 1 || devices_per_die > 1000)
        throw InputError(fmt::format("devices {} is outside the allowed range [1, 1000]", devices_per_die));
    if (cell_pattern.empty()) throw InputError("wafer cell pattern is empty (allowed: cells in [1, 7])");
    for (int n : cell_pattern) {
        if (n < 1 || n > geometry::max_cells)
            throw InputError(fmt::format("wafer cell pattern entry {} is outside the allowed range [1, 7]", n));
    }
}

Wafer::Wafer(WaferSpec spec, std::uint64_t seed, Calibration cal)
    : spec_(std::move(spec)), seed_(seed), cal_(std::move(cal)) {
    spec_.validate();
}

double Wafer::die_thickness_nm(int die) const {
    if (die < 0 || die >= spec_.dies)
        throw InputError(fmt::format("die {} is outside the allowed range [0, {}]", die, spec_.dies - 1));
    if (spec_.dies == 1) return 0.5 * (spec_.t_min_nm + spec_.t_max_nm);
    return spec_.t_min_nm + (spec_.t_max_nm - spec_.t_min_nm) * die / (spec_.dies - 1);
}

int Wafer::cells_of(int device) const {
    if (device < 0 || device >= spec_.devices_per_die)
        throw InputError(
            fmt::format("device {} is outside the allowed range [0, {}]", device, spec_.devices_per_die - 1));
    return spec_.cell_pattern[static_cast<std::size_t>(device) % spec_.cell_pattern.size()];
}

CompoundDevice Wafer::device(int die, int device) const {
    const double t_nominal = die_thickness_nm(die);
    const int n = cells_of(device);
    const Variation& v = spec_.variation;

    // Die offsets: shared by every device of the die (drawn in a fixed order from the die's stream).
    Rng die_rng(mix_seed(seed_, static_cast<std::uint64_t>(die), 0xD1E));
    const double t = std::clamp(t_nominal + v.thickness_die_nm * die_rng.normal(), geometry::thickness_min_nm,
                                geometry::thickness_max_nm);
    const double zd_rp = die_rng.normal();
    const double zd_tmr = die_rng.normal();
    const double zd_hk = die_rng.normal();
    const double zd_is = die_rng.normal();
    const double zd_hex = die_rng.normal();
    const double zd_vb = die_rng.normal();

    Rng rng(mix_seed(seed_, static_cast<std::uint64_t>(die), static_cast<std::uint64_t>(device) + 1));
    const double zv_rp = rng.normal();
    const double zv_tmr = rng.normal();
    const double zv_hk = rng.normal();
    const double zv_is = rng.normal();
    const double zv_hex = rng.normal();
    const double zv_vb = rng.normal();

    const CalibrationRow row = cal_.at(t);
    CompoundDevice d;
    d.thickness_nm = t;
    d.identity = DeviceIdentity{seed_, die, device};
    for (int k = 0; k < n; ++k) {
        const double zc_rp = rng.normal();
        const double zc_hk = rng.normal();
        const double zc_is = rng.normal();
        CellParams c;
        c.r_p = Ohm(row.r_p.si() * std::exp(v.r_p_die * zd_rp + v.r_p_device * zv_rp + v.cell.r_p * zc_rp));
        c.tmr0 = std::max(0.0, row.tmr0 * (1.0 + v.tmr_die * zd_tmr + v.tmr_device * zv_tmr));
        const double hk_scale =
            std::max(0.2, 1.0 + v.h_k_die * zd_hk + v.h_k_device * zv_hk + v.cell.h_k * zc_hk);
        c.h_k = Tesla(row.h_k.si() * hk_scale);
        c.delta0 = row.delta0 * hk_scale;
        c.h_ex = Tesla(row.h_ex.si() + v.h_ex_die_T * zd_hex + v.h_ex_device_T * zv_hex);
        c.i_star = Ampere(row.i_star.si() *
                          std::max(0.2, 1.0 + v.i_star_die * zd_is + v.i_star_device * zv_is + v.cell.i_star * zc_is));
        c.b = row.b;
        c.f0 = row.f0;
        d.cells.push_back(c);
    }
    d.channel.r_channel = channel_resistance_for(n);
    d.channel.r_source = cal_.options().r_source;
    const double vb_mean = row.v_b_1cell.si() + (row.v_b_3cell.si() - row.v_b_1cell.si()) * (n - 1) / 2.0;
    d.breakdown.v_b = Volt(std::max(0.1, vb_mean + v.v_b_die_V * zd_vb + v.v_b_device_V * zv_vb));
    d.breakdown.mode = spec_.breakdown_mode;
    return d;
}

}  // namespace mtjlab::physics
