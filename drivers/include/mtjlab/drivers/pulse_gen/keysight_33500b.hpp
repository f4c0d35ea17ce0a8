#pragma once
// Keysight/Agilent 33500B series (33509B..33622A) on channel 1: pulse function, 1-cycle bus-triggered burst.
#include "mtjlab/drivers/pulse_gen/pulse_generator.hpp"

namespace mtjlab::drivers {

/// Limits: |A| <= 5 V into 50 Ohm, 10 V high-Z (+-5 V / +-10 V output window); width 16 ns .. 1e6 s.
class Keysight33500B final : public PulseGenerator {
public:
    explicit Keysight33500B(std::shared_ptr<ScpiSession> session);
    [[nodiscard]] std::string_view model() const override { return "keysight_33500b"; }
    [[nodiscard]] PulseLimits limits() const override;
    void configure(const PulseSettings& settings) override;
    void set_amplitude(Volt amplitude) override;
    void set_width(Second width) override;
    void set_load(std::optional<Ohm> load) override;
    void set_output(bool on) override;
    void trigger() override;
    void safe_state() override;
};

}  // namespace mtjlab::drivers
