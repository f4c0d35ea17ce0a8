#pragma once
// Lake Shore 425 gaussmeter (RS-232 57600 7O1, CR LF), DC mode.
#include "mtjlab/drivers/gaussmeter/gaussmeter.hpp"

namespace mtjlab::drivers {

/// Field units codes of UNIT (manual): 1 G, 2 T, 3 Oe, 4 A/m.
enum class LakeShoreUnit { gauss = 1, tesla = 2, oersted = 3, amps_per_meter = 4 };

/// Lake Shore 425. RANGE 1..4 with the standard HSE probe: 35 G, 350 G, 3.5 kG, 35 kG.
class LakeShore425 final : public Gaussmeter {
public:
    explicit LakeShore425(std::shared_ptr<ScpiSession> session);
    [[nodiscard]] std::string_view model() const override { return "lakeshore_425"; }
    [[nodiscard]] std::span<const double> ranges_t() const override;
    Tesla read_field() override;
    void set_range(Tesla full_scale) override;
    void set_autorange(bool on) override;
    void set_units_tesla() override;
    void set_units(LakeShoreUnit unit);
    [[nodiscard]] LakeShoreUnit units();
    void safe_state() override {}

private:
    std::optional<LakeShoreUnit> unit_;  // last known display unit
};

}  // namespace mtjlab::drivers
