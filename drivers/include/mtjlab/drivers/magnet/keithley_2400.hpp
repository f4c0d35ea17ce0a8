#pragma once
// Keithley 2400 SourceMeter as a coil current source (current source, voltage compliance).
#include "mtjlab/drivers/magnet/magnet_supply.hpp"

namespace mtjlab::drivers {

/// Limits: |I| <= 1.05 A, compliance 0.2 mV .. 210 V (21 V above 105 mA).
class Keithley2400 final : public MagnetSupply {
public:
    explicit Keithley2400(std::shared_ptr<ScpiSession> session);
    [[nodiscard]] std::string_view model() const override { return "keithley_2400"; }
    [[nodiscard]] MagnetLimits limits() const override;
    void configure_current_mode() override;
    void set_current(Ampere i) override;
    void set_compliance(Volt v) override;
    void set_output(bool on) override;
    [[nodiscard]] Ampere measure_current() override;
    void safe_state() override;

protected:
    [[nodiscard]] Ampere query_setpoint_raw() override;

private:
    Volt compliance_{21.0};
};

}  // namespace mtjlab::drivers
