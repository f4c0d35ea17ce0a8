#include "mtjlab/drivers/gaussmeter/lakeshore_425.hpp"

#include <array>
#include <numbers>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::drivers {

namespace {
// Model 425 manual, RANGE 1..4 with the HSE probe: 35 G, 350 G, 3.5 kG, 35 kG (in tesla).
constexpr std::array<double, 4> k_ranges{3.5e-3, 35e-3, 0.35, 3.5};
constexpr double k_mu0 = 4e-7 * std::numbers::pi;

double to_tesla(double value, LakeShoreUnit unit) {
    switch (unit) {
        case LakeShoreUnit::gauss: return value * 1e-4;
        case LakeShoreUnit::tesla: return value;
        case LakeShoreUnit::oersted: return value * 1e-4;  // in free space 1 Oe <-> 1 G
        case LakeShoreUnit::amps_per_meter: return value * k_mu0;
    }
    return value;
}
}  // namespace

LakeShore425::LakeShore425(std::shared_ptr<ScpiSession> session) : Gaussmeter(std::move(session)) {}

std::span<const double> LakeShore425::ranges_t() const { return k_ranges; }

LakeShoreUnit LakeShore425::units() {
    const auto code = session_->query_int("UNIT?");
    if (code < 1 || code > 4) throw ProtocolError(fmt::format("{}: UNIT? returned {} (1..4)", name(), code));
    unit_ = static_cast<LakeShoreUnit>(code);
    return *unit_;
}

void LakeShore425::set_units(LakeShoreUnit unit) {
    session_->write(fmt::format("UNIT {}", static_cast<int>(unit)));
    unit_ = unit;
    remember("units", static_cast<int>(unit), "");
}

void LakeShore425::set_units_tesla() { set_units(LakeShoreUnit::tesla); }

Tesla LakeShore425::read_field() {
    const auto unit = unit_ ? *unit_ : units();
    return Tesla(to_tesla(session_->query_double("RDGFIELD?"), unit));
}

void LakeShore425::set_range(Tesla full_scale) {
    int idx = -1;
    for (std::size_t i = 0; i < k_ranges.size(); ++i)
        if (k_ranges[i] >= full_scale.si() * (1 - 1e-9)) { idx = static_cast<int>(i); break; }
    if (idx < 0 || full_scale.si() <= 0) check_range(name(), model(), "field range", full_scale.si(), 1e-12, 3.5, "T");
    session_->write(fmt::format("RANGE {}", idx + 1));
    remember("range", k_ranges[static_cast<std::size_t>(idx)], "T");
}

void LakeShore425::set_autorange(bool on) {
    session_->write(on ? "AUTO 1" : "AUTO 0");
    remember("autorange", on ? 1 : 0, "");
}

}  // namespace mtjlab::drivers
