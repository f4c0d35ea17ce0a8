#pragma once
// The bench as the run engine drives it: the capability interfaces behind a guard that re-checks every
// command against the station limits right before it reaches a driver (preflight checked the plan; this
// is the second line), plus the safe state (field ramped to zero, outputs off) on every exit path.
#include <functional>
#include <optional>
#include <utility>
#include <string>

#include "mtjlab/acquisition/cancel.hpp"
#include "mtjlab/acquisition/plan.hpp"
#include "mtjlab/drivers/gaussmeter/gaussmeter.hpp"
#include "mtjlab/drivers/lockin/lock_in.hpp"
#include "mtjlab/drivers/magnet/magnet_supply.hpp"
#include "mtjlab/drivers/pulse_gen/pulse_generator.hpp"

namespace mtjlab::acquisition {

/// The instruments of a run (not owned). The gaussmeter is optional.
struct Instruments {
    drivers::PulseGenerator* pulse = nullptr;
    drivers::LockIn* lockin = nullptr;
    drivers::MagnetSupply* magnet = nullptr;
    drivers::Gaussmeter* gaussmeter = nullptr;
};

/// How time passes: a real bench sleeps; the virtual lab advances its virtual clock.
struct BenchClock {
    std::function<void(Second)> wait;
    std::function<Second()> now;
};
/// Sleeps for real; now() is the steady clock since the first call.
BenchClock real_clock();

/// One averaged reading of the junction.
struct Reading {
    Volt x{0.0};
    Volt y{0.0};
    Ohm resistance{0.0};            ///< R_ref * x / (V_ac - x); +inf when x >= V_ac (open circuit)
    std::optional<Tesla> field_measured;  ///< gaussmeter, when the station has one
};

/// Resistance of the junction from the in-phase voltage across it (divider with the reference).
Ohm resistance_from(Volt x, Volt v_ac, Ohm r_ref);

/// Guarded bench. Not thread-safe. Every method except make_safe() throws LimitError (before any I/O)
/// for a command beyond the limits, AbortNow when the cancel token reaches level 2 between
/// transactions, and the drivers' errors.
class GuardedBench {
public:
    GuardedBench(Instruments instruments, BenchLimits limits, BenchCalibration cal, BenchClock clock,
                 const CancelToken* cancel = nullptr);

    /// Safe start: magnet in current mode at 0 A with the output on and the user current limit set; lock-in
    /// reference at the calibrated amplitude and frequency. The pulse output stays off until the first pulse.
    /// The first contact (here or in make_safe) reads the supply's setpoint: a current an earlier process left
    /// is ramped to 0 A at the calibrated rate and step (LimitError when it is beyond the coil-current limit; the
    /// magnet is then not touched at all, make_safe included: stepping down would command currents beyond the
    /// limit, and safe_state's 0 A would be the jump the ramp avoids).
    void initialize();
    /// Ramps to the field in steps of at most cal.ramp_step at cal.ramp_rate; each step is checked.
    /// With closed-loop control (cal.field_closed_loop and a gaussmeter) the ramp follows the learned
    /// coil model, then the gaussmeter is read and the current corrected (each correction checked
    /// against the coil-current and field limits before it is sent) until the field is within
    /// cal.field_tolerance; InstrumentError when cal.field_max_corrections do not get there, LimitError
    /// when the correction would need a current beyond the limit or the gaussmeter shows a field beyond
    /// the field limit (the bench is left for make_safe()).
    void set_field(const SetField& step);
    /// One pulse (configures width/amplitude only when they change; turns the output on the first time).
    void pulse(const ApplyPulse& step);
    /// Waits (between cancellation checks).
    void wait(Second duration);
    /// Settles (5 time constants after any change), then averages the lock-in. A read that fails on the link
    /// (timeout, dropped connection, garbled reply) is retried up to twice: reads have no side effects.
    Reading read(const Read& step);
    /// Field ramped to zero, every output off (each instrument's safe_state). Never throws; problems are
    /// logged and returned ("" when all went well). Safe to call many times.
    std::string make_safe() noexcept;

    [[nodiscard]] Second now() const { return clock_.now(); }
    [[nodiscard]] Tesla field() const { return field_; }
    [[nodiscard]] unsigned read_retries() const { return read_retries_; }
    /// Closed loop: gaussmeter reading after the last field change (nullopt when open loop).
    [[nodiscard]] std::optional<Tesla> field_measured() const { return field_measured_; }
    /// Closed loop: corrections sent so far (all field changes).
    [[nodiscard]] unsigned field_corrections() const { return field_corrections_; }
    /// Closed loop: present coil model B = k * I + b0 (starts at the calibrated k and b0 = 0).
    [[nodiscard]] double coil_model_k() const { return model_k_; }
    [[nodiscard]] Tesla coil_model_offset() const { return Tesla(model_b0_); }
    [[nodiscard]] const Instruments& instruments() const { return inst_; }
    [[nodiscard]] const BenchLimits& limits() const { return limits_; }
    [[nodiscard]] const BenchCalibration& calibration() const { return cal_; }
    void set_cancel(const CancelToken* cancel) { cancel_ = cancel; }

private:
    void checkpoint() const;
    void adopt_left_current();  // reads the supply's setpoint: current_/field_ start from there
    void unwind_current();      // current_ to 0 A in steps of at most ramp_step / k at the ramp rate
    void step_current(Tesla field, bool for_safety);
    void step_current_for_safety(Tesla field);  // step_current(field, true), sent again on an I/O fault
    void send_current_for_safety(Ampere i, Tesla field);  // send_current(i, field, true), sent again on a fault
    void ramp(Tesla target, bool for_safety);
    [[nodiscard]] bool closed_loop() const { return cal_.field_closed_loop && inst_.gaussmeter != nullptr; }
    [[nodiscard]] Ampere current_for(Tesla field, bool for_safety) const;
    void send_current(Ampere i, Tesla field, bool for_safety);
    Tesla read_gaussmeter();
    void close_loop(Tesla target);
    Instruments inst_;
    BenchLimits limits_;
    BenchCalibration cal_;
    BenchClock clock_;
    const CancelToken* cancel_;
    Tesla field_{0.0};
    bool pulse_configured_ = false;
    bool pulse_output_on_ = false;
    Volt pulse_amplitude_{0.0};
    Second pulse_width_{0.0};
    std::optional<Volt> ref_amplitude_;
    std::optional<Hertz> ref_frequency_;
    std::optional<Second> tau_;
    bool ranged_ = false;
    Second last_change_{-1e30};
    unsigned read_retries_ = 0;
    Ampere current_{0.0};                 // last coil current sent
    bool coil_known_ = false;             // current_ is the supply's setpoint (read once, then tracked)
    std::optional<Ampere> foreign_current_;  // left beyond the limit by someone else: make_safe leaves the magnet
    std::optional<Tesla> field_measured_;
    unsigned field_corrections_ = 0;
    double model_k_ = 0.0;                // learned coil constant (closed loop)
    double model_b0_ = 0.0;               // learned offset (remanence), T
    std::optional<std::pair<double, double>> last_fix_;  // (I, B measured) of the last converged point
};

/// RAII: make_safe() when leaving the scope, however it is left.
class BenchGuard {
public:
    explicit BenchGuard(GuardedBench& bench) : bench_(bench) {}
    ~BenchGuard() { bench_.make_safe(); }
    BenchGuard(const BenchGuard&) = delete;
    BenchGuard& operator=(const BenchGuard&) = delete;

private:
    GuardedBench& bench_;
};

}  // namespace mtjlab::acquisition
