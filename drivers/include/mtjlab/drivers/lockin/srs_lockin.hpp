#pragma once
// Stanford Research lock-ins. One driver, one table per model (what differs between the SR830 and the SR860 is
// data: index tables, command names, output range, the SNAP? parameter set), so a fix reaches both:
//   SR830 (RS-232/GPIB): SENS index 0 = 2 nV .. 26 = 1 V; OFLT 0 = 10 us .. 19 = 30 ks; SNAP? 1,2,3,4; FMOD 1.
//   SR860 (LAN/USB):     SCAL index 0 = 1 V .. 27 = 1 nV; OFLT 0 = 1 us .. 21 = 30 ks; SNAP? 0,1,3; RSRC 0.
#include <span>
#include <string_view>

#include "mtjlab/drivers/lockin/lock_in.hpp"

namespace mtjlab::drivers {

/// What one SRS model is, from its manual.
struct SrsLockInModel {
    std::string_view key;                    ///< registry key, e.g. "srs_sr830"
    std::span<const double> sensitivities;   ///< full scale per index, V (the manual's index order)
    std::span<const double> time_constants;  ///< per OFLT index, s
    std::string_view sensitivity_command;    ///< "SENS" (SR830) or "SCAL" (SR860)
    std::string_view internal_reference;     ///< command selecting the internal oscillator
    double min_amplitude_v;                  ///< sine output range, V rms
    double max_amplitude_v;
    int amplitude_decimals;                  ///< SLVL written with this many decimals; -1: 12 significant digits
    double max_frequency_hz;
    bool snap_has_r;                         ///< SNAP? 1,2,3,4 (X,Y,R,theta) or SNAP? 0,1,3 (X,Y,theta; R computed)
};

/// Stanford Research lock-in: reference from the internal oscillator, sine output drives the read circuit.
class SrsLockIn : public LockIn {
public:
    SrsLockIn(std::shared_ptr<ScpiSession> session, const SrsLockInModel& model);
    [[nodiscard]] std::string_view model() const override { return m_.key; }
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
    /// Sine output at the smallest amplitude the model can make.
    void safe_state() override;

private:
    /// The amplitude the instrument is sent for `v`: on the model's grid (SR830: 1 mV digits), rounded toward 0.
    [[nodiscard]] double amplitude_sent(double v) const;
    [[nodiscard]] std::string amplitude_text(double v) const;
    const SrsLockInModel& m_;
};

const SrsLockInModel& srs_sr830_model();
const SrsLockInModel& srs_sr860_model();

class SrsSr830 final : public SrsLockIn {
public:
    explicit SrsSr830(std::shared_ptr<ScpiSession> session) : SrsLockIn(std::move(session), srs_sr830_model()) {}
};

class SrsSr860 final : public SrsLockIn {
public:
    explicit SrsSr860(std::shared_ptr<ScpiSession> session) : SrsLockIn(std::move(session), srs_sr860_model()) {}
};

}  // namespace mtjlab::drivers
