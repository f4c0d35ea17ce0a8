#include "mtjlab/physics/device.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/physics/constants.hpp"
#include "mtjlab/physics/fast_layer.hpp"

namespace mtjlab::physics {

namespace {
void require(bool ok, const char* what, double value, const char* range) {
    if (!ok) throw InputError(fmt::format("{} = {} is outside the allowed range {}", what, value, range));
}
}  // namespace

void CompoundDevice::validate() const {
    check_thickness(thickness_nm);
    require(!cells.empty() && cell_count() <= geometry::max_cells, "cells", static_cast<double>(cells.size()),
            "[1, 7]");
    for (const auto& c : cells) {
        require(std::isfinite(c.r_p.si()) && c.r_p.si() > 0.0, "cell R_P (Ohm)", c.r_p.si(), "(0, inf)");
        require(std::isfinite(c.tmr0) && c.tmr0 >= 0.0, "cell TMR", c.tmr0, "[0, inf)");
        require(std::isfinite(c.v_half.si()) && c.v_half.si() > 0.0, "cell V_half (V)", c.v_half.si(), "(0, inf)");
        require(std::isfinite(c.delta0) && c.delta0 > 0.0, "cell Delta0", c.delta0, "(0, inf)");
        require(std::isfinite(c.h_k.si()) && c.h_k.si() > 0.0, "cell H_K (T)", c.h_k.si(), "(0, inf)");
        require(std::isfinite(c.h_ex.si()), "cell H_ex (T)", c.h_ex.si(), "finite");
        require(std::isfinite(c.i_star.si()) && c.i_star.si() > 0.0, "cell I* (A)", c.i_star.si(), "(0, inf)");
        require(std::isfinite(c.b) && c.b > 0.0, "cell b", c.b, "(0, inf)");
        require(std::isfinite(c.f0.si()) && c.f0.si() > 0.0, "cell f0 (Hz)", c.f0.si(), "(0, inf)");
        require(c.polarity == 1.0 || c.polarity == -1.0, "cell polarity", c.polarity, "{-1, +1}");
    }
    require(std::isfinite(channel.r_channel.si()) && channel.r_channel.si() > 0.0, "channel resistance (Ohm)",
            channel.r_channel.si(), "(0, inf)");
    require(std::isfinite(channel.r_source.si()) && channel.r_source.si() >= 0.0, "source resistance (Ohm)",
            channel.r_source.si(), "[0, inf)");
    require(std::isfinite(breakdown.v_b.si()) && breakdown.v_b.si() > 0.0, "breakdown voltage (V)",
            breakdown.v_b.si(), "(0, inf)");
}

Ohm cell_resistance(const CellParams& c, double cos_theta, Volt bias) {
    const double v = bias.si() / c.v_half.si();
    const double g_p = 1.0 / c.r_p.si();
    const double g_ap = g_p / (1.0 + c.tmr0 / (1.0 + v * v));
    const double g = 0.5 * (g_p + g_ap) + 0.5 * (g_p - g_ap) * cos_theta;
    return Ohm(1.0 / g);
}

Ohm parallel(const std::vector<Ohm>& rs) {
    double g = 0.0;
    for (const auto& r : rs) g += 1.0 / r.si();
    return Ohm(1.0 / g);
}

CompoundDevice nominal_device(double thickness_nm, int cells, const Calibration& cal) {
    check_thickness(thickness_nm);
    if (cells < 1 || cells > geometry::max_cells) {
        throw InputError(fmt::format("cells {} is outside the allowed range [1, {}]", cells, geometry::max_cells));
    }
    const CalibrationRow row = cal.at(thickness_nm);
    const CellSpread spread;
    CompoundDevice d;
    d.thickness_nm = thickness_nm;
    for (int k = 0; k < cells; ++k) {
        // Evenly spaced offsets with unit variance (uniform quantiles): a reproducible staircase.
        const double z = cells == 1 ? 0.0 : std::sqrt(3.0) * (2.0 * (k + 0.5) / cells - 1.0);
        CellParams c;
        c.r_p = row.r_p;
        c.tmr0 = row.tmr0;
        c.h_k = Tesla(row.h_k.si() * (1.0 + spread.h_k * z));
        c.delta0 = row.delta0 * (1.0 + spread.h_k * z);  // Delta0 = Ms V H_K / 2kT
        c.h_ex = row.h_ex;
        c.i_star = Ampere(row.i_star.si() * (1.0 + spread.i_star * z));
        c.b = row.b;
        c.f0 = row.f0;
        d.cells.push_back(c);
    }
    d.channel.r_channel = channel_resistance_for(cells);
    d.channel.r_source = cal.options().r_source;
    d.breakdown.v_b = Volt(row.v_b_1cell.si() + (row.v_b_3cell.si() - row.v_b_1cell.si()) * (cells - 1) / 2.0);
    return d;
}

DeviceSummary summarize(const CompoundDevice& d, const Calibration& cal) {
    d.validate();
    DeviceSummary s;
    s.thickness_nm = d.thickness_nm;
    s.cells = d.cell_count();
    const Second tau = cal.options().pulse_width_ref;
    const double r_total = d.channel.r_channel.si() + d.channel.r_source.si();
    std::vector<std::pair<double, std::size_t>> order;  // (field-free V_c, cell) ascending
    double hc = 0.0;
    double hex = 0.0;
    for (std::size_t k = 0; k < d.cells.size(); ++k) {
        const auto& c = d.cells[k];
        const double v = current_for_probability(c, +1, Tesla(0.0), tau, 0.5).si() * r_total;
        s.v_c_cells.push_back(Volt(v));
        order.emplace_back(v, k);
        const double va = current_for_probability(c, +1, units::millitesla(-6.0), tau, 0.5).si() * r_total;
        s.v_c_assist_6mT = Volt(std::max(s.v_c_assist_6mT.si(), va));
        hc += sharrock_switching_field(c.delta0, c.h_k, c.f0, cal.options().sweep_rate_ref_T_per_s).si();
        hex += c.h_ex.si();
    }
    std::sort(order.begin(), order.end());
    s.v_c = Volt(order.back().first);
    s.h_c = Tesla(hc / static_cast<double>(d.cells.size()));
    s.h_ex = Tesla(hex / static_cast<double>(d.cells.size()));
    // Levels: the k easiest cells (by V_c) in P, the rest AP, k = 0..n.
    for (std::size_t k = 0; k <= d.cells.size(); ++k) {
        std::vector<Ohm> rs;
        for (std::size_t j = 0; j < order.size(); ++j) {
            const auto& c = d.cells[order[j].second];
            rs.push_back(j < k ? c.r_p : c.r_ap());
        }
        s.levels.push_back(parallel(rs));
    }
    std::sort(s.levels.begin(), s.levels.end());
    s.tmr = s.levels.back() / s.levels.front() - 1.0;
    for (std::size_t k = 1; k < s.levels.size(); ++k) s.level_steps.push_back(s.levels[k] / s.levels[k - 1] - 1.0);
    s.v_b = d.breakdown.v_b;
    s.r_channel = d.channel.r_channel;
    return s;
}

}  // namespace mtjlab::physics
