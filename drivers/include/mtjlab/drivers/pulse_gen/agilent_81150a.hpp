#pragma once
// Agilent/Keysight 81150A pulse function arbitrary generator, channel 1, normal (50 Ohm) output.
#include "mtjlab/drivers/pulse_gen/pulse_generator.hpp"

namespace mtjlab::drivers {

/// Limits: |A| <= 2.5 V into 50 Ohm, 5 V high-Z (+-2.5 V / +-5 V output window); width 4.1 ns .. 999.5 s.
class Agilent81150A final : public PulseGenerator {
public:
    explicit Agilent81150A(std::shared_ptr<ScpiSession> session);
    [[nodiscard]] std::string_view model() const override { return "agilent_81150a"; }
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
