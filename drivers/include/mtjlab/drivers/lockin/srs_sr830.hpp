#pragma once
// SR830 DSP lock-in (RS-232/GPIB). Sensitivity index 0 = 2 nV .. 26 = 1 V; OFLT 0 = 10 us .. 19 = 30 ks; SNAP? 1,2,3,4.
#include "mtjlab/drivers/lockin/lock_in.hpp"

namespace mtjlab::drivers {

/// Stanford Research Sr830: reference from the internal oscillator, sine output drives the read circuit.
class SrsSr830 final : public LockIn {
public:
    explicit SrsSr830(std::shared_ptr<ScpiSession> session);
    [[nodiscard]] std::string_view model() const override { return "srs_sr830"; }
    [[nodiscard]] LockInLimits limits() const override;
    void set_reference_amplitude(Volt rms) override;
    void set_reference_frequency(Hertz f) override;
    void set_sensitivity(Volt full_scale) override;
    void set_time_constant(Second tau) override;
    [[nodiscard]] Volt sensitivity() override;
    [[nodiscard]] Second time_constant() override;
    LockInReading read() override;
    /// Raw index commands (the manual's codes).
    void set_sensitivity_raw(int index);
    void set_time_constant_raw(int index);
    void safe_state() override;
};

}  // namespace mtjlab::drivers
