#pragma once
// SR860 lock-in (LAN/USB). SCAL index 0 = 1 V .. 27 = 1 nV; OFLT 0 = 1 us .. 21 = 30 ks; SNAP? 0,1,2 + OUTP? 3.
#include "mtjlab/drivers/lockin/lock_in.hpp"

namespace mtjlab::drivers {

/// Stanford Research Sr860: reference from the internal oscillator, sine output drives the read circuit.
class SrsSr860 final : public LockIn {
public:
    explicit SrsSr860(std::shared_ptr<ScpiSession> session);
    [[nodiscard]] std::string_view model() const override { return "srs_sr860"; }
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
