#pragma once
// SCPI pulse generators on channel 1: pulse function, one-cycle burst fired by a bus trigger. One driver, one
// table per model: the sequences (the output resting at 0 V through an amplitude change, width/period order,
// limits checked before the first byte) are the same on every model; the command names, limits and load settings
// are data.
//   Keysight/Agilent 33500B series (33509B..33622A): |A| <= 5 V into 50 Ohm, 10 V high-Z; width 16 ns .. 1000 s.
//   Agilent/Keysight 81150A (normal output): |A| <= 2.5 V into 50 Ohm, 5 V high-Z; width 4.1 ns .. 999.5 s.
#include <optional>
#include <span>
#include <string_view>

#include "mtjlab/drivers/pulse_gen/pulse_generator.hpp"

namespace mtjlab::drivers {

/// What one model is, from its data sheet and programming guide.
struct PulseGeneratorModel {
    std::string_view key;  ///< registry key, e.g. "keysight_33500b"
    PulseLimits limits;
    double min_load_ohm;                       ///< accepted expected-load range
    double max_load_ohm;
    std::string_view pulse_function;           ///< selects the pulse function
    std::span<const std::string_view> burst;  ///< arms a one-cycle burst on a bus trigger
    std::string_view offset;                   ///< offset level command (+ " value")
    std::string_view amplitude;                ///< Vpp command
    std::string_view polarity;                 ///< + " NORM" / " INV"
    std::string_view period;
    std::string_view width;
    double reset_width_s;                      ///< pulse width after *RST
    std::string_view load;                     ///< expected-load command
    std::string_view high_z;                   ///< its argument for a high impedance
    std::string_view output;                   ///< + " ON" / " OFF"
};

class ScpiPulseGenerator : public PulseGenerator {
public:
    ScpiPulseGenerator(std::shared_ptr<ScpiSession> session, const PulseGeneratorModel& model);
    [[nodiscard]] std::string_view model() const override { return m_.key; }
    [[nodiscard]] PulseLimits limits() const override { return m_.limits; }
    void configure(const PulseSettings& settings) override;
    void set_amplitude(Volt amplitude) override;
    void set_width(Second width) override;
    void set_load(std::optional<Ohm> load) override;
    void set_output(bool on) override;
    void trigger() override;
    /// Output off.
    void safe_state() override;

private:
    const PulseGeneratorModel& m_;
    std::optional<double> levels_;  ///< amplitude (V) the instrument's levels hold, once this driver has set them
    bool output_on_ = false;        ///< as far as this driver knows (on until an OFF is confirmed)
};

const PulseGeneratorModel& keysight_33500b_model();
const PulseGeneratorModel& agilent_81150a_model();

class Keysight33500B final : public ScpiPulseGenerator {
public:
    explicit Keysight33500B(std::shared_ptr<ScpiSession> session)
        : ScpiPulseGenerator(std::move(session), keysight_33500b_model()) {}
};

class Agilent81150A final : public ScpiPulseGenerator {
public:
    explicit Agilent81150A(std::shared_ptr<ScpiSession> session)
        : ScpiPulseGenerator(std::move(session), agilent_81150a_model()) {}
};

}  // namespace mtjlab::drivers
