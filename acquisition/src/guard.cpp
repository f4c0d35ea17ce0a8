#include "mtjlab/acquisition/guard.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "mtjlab/acquisition/preflight.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/log.hpp"

namespace mtjlab::acquisition {

BenchClock real_clock() {
    auto t0 = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
    return BenchClock{[](Second dt) {
                          if (dt.si() > 0) std::this_thread::sleep_for(std::chrono::duration<double>(dt.si()));
                      },
                      [t0] {
                          return Second(std::chrono::duration<double>(std::chrono::steady_clock::now() - *t0).count());
                      }};
}

Ohm resistance_from(Volt x, Volt v_ac, Ohm r_ref) {
    const double d = v_ac.si() - x.si();
    if (d <= 0) return Ohm(std::numeric_limits<double>::infinity());
    return Ohm(r_ref.si() * x.si() / d);
}

GuardedBench::GuardedBench(Instruments instruments, BenchLimits limits, BenchCalibration cal, BenchClock clock,
                           const CancelToken* cancel)
    : inst_(instruments), limits_(limits), cal_(cal), clock_(std::move(clock)), cancel_(cancel) {
    if (!inst_.pulse || !inst_.lockin || !inst_.magnet)
        throw InputError("a run needs a pulse generator, a lock-in and a magnet supply");
    // The second line of defence checks what the first one (preflight) checks: limits that cannot be compared
    // against would wave every command through.
    if (auto p = check_limits(limits_)) throw InputError("station limits: " + *p);
    if (!std::isfinite(cal_.coil_constant_t_per_a) || cal_.coil_constant_t_per_a == 0)
        throw InputError("calibration: coil constant must be a non-zero number (T/A)");
    if (auto p = check_ramp_rate(cal_.ramp_rate_t_per_s, limits_)) throw LimitError("ramp: " + *p);
    if (!(cal_.ramp_step.si() > 0)) throw InputError("ramp step must be positive");
    model_k_ = cal_.coil_constant_t_per_a;
    if (cal_.field_closed_loop && !inst_.gaussmeter)
        throw InputError("closed-loop field control needs a gaussmeter (station [instruments.gaussmeter])");
    if (cal_.field_closed_loop && !(cal_.field_tolerance.si() > 0))
        throw InputError("closed-loop field control: the field tolerance must be positive");
}

void GuardedBench::checkpoint() const {
    if (cancel_ && cancel_->level() >= 2) throw AbortNow{};
}

void GuardedBench::adopt_left_current() {
    // The supply keeps its setpoint when the process that programmed it dies (SIGKILL, a crash, the computer
    // losing power): that current becomes the start of a ramp down, not a jump to 0 A (an inductive kick, a
    // field step on the device).
    const Ampere left = inst_.magnet->read_setpoint();  // a finite current within the supply's rating
    if (std::abs(left.si()) > 1e-9) {
        if (auto p = check_coil_current(left, limits_)) {
            foreign_current_ = left;  // neither ramped (steps beyond the limit) nor dropped (a jump): not touched
            throw LimitError(fmt::format("{}: the magnet supply holds {:.5g} A, left by an earlier session: {}; ramp "
                                         "it to 0 A by hand and start again",
                                         inst_.magnet->name(), left.si(), *p));
        }
        log::get("acquisition")->warn("{}: the magnet supply holds {:.5g} A, left by an earlier session; ramping it "
                                      "to 0 A",
                                      inst_.magnet->name(), left.si());
        current_ = left;
        field_ = Tesla(cal_.coil_constant_t_per_a * left.si());  // what the ramp steps down from (open loop)
    }
    coil_known_ = true;
}

void GuardedBench::unwind_current() {
    // A coil current at (nominal) zero field - the closed loop's offset for the remanence - goes to 0 A in steps
    // no larger than a field ramp step, at the ramp rate, like every other field change.
    const double from = current_.si();
    if (from == 0.0) return;
    const double k = std::abs(cal_.coil_constant_t_per_a);
    const double max_step = cal_.ramp_step.si() / k;
    const int steps = std::max(1, static_cast<int>(std::ceil(std::abs(from) / max_step - 1e-9)));
    for (int n = 1; n <= steps; ++n) {
        send_current_for_safety(Ampere(n == steps ? 0.0 : from * (1.0 - static_cast<double>(n) / steps)), Tesla(0.0));
        clock_.wait(Second(std::abs(from) / steps * k / cal_.ramp_rate_t_per_s));
    }
}

void GuardedBench::initialize() {
    checkpoint();
    inst_.magnet->set_current_limit(limits_.max_coil_current);
    if (!coil_known_) {
        adopt_left_current();
        if (field_.si() != 0.0) ramp(Tesla(0.0), true);
    }
    unwind_current();  // closed loop: the previous run's zero field was an offset current
    inst_.magnet->configure_current_mode();
    inst_.magnet->set_current(Ampere(0.0));
    inst_.magnet->set_output(true);
    field_ = Tesla(0.0);
    current_ = Ampere(0.0);
    field_measured_.reset();
    checkpoint();
    if (auto p = check_read(cal_.read_amplitude, limits_)) throw LimitError("lock-in reference: " + *p);
    inst_.lockin->set_reference_frequency(cal_.read_frequency);
    inst_.lockin->set_reference_amplitude(cal_.read_amplitude);
    inst_.lockin->set_time_constant(cal_.time_constant);
    ref_amplitude_ = cal_.read_amplitude;
    ref_frequency_ = cal_.read_frequency;
    tau_ = cal_.time_constant;
    if (inst_.gaussmeter) inst_.gaussmeter->set_units_tesla();
    last_change_ = clock_.now();
}

Ampere GuardedBench::current_for(Tesla field, bool for_safety) const {
    // The safe-state ramp ends at 0 A whatever the model says (outputs off means no coil current).
    if (closed_loop() && for_safety && field_.si() != 0.0)
        return Ampere(current_.si() * field.si() / field_.si());  // straight down from where the loop left it
    if (!closed_loop() || for_safety) return coil_current_for(field, cal_);
    return Ampere((field.si() - model_b0_) / model_k_);
}

void GuardedBench::send_current(Ampere i, Tesla field, bool for_safety) {
    // Belt and braces: the same checks as preflight, right before the driver is called.
    if (auto p = check_field(field, limits_)) throw LimitError("guard refused magnet command: " + *p);
    if (auto p = check_coil_current(i, limits_)) throw LimitError("guard refused magnet command: " + *p);
    if (!for_safety) checkpoint();
    inst_.magnet->set_current(i);
    current_ = i;
}

void GuardedBench::step_current(Tesla field, bool for_safety) {
    send_current(current_for(field, for_safety), field, for_safety);
    field_ = field;
}

void GuardedBench::step_current_for_safety(Tesla field) {
    send_current_for_safety(current_for(field, true), field);
    field_ = field;
}

void GuardedBench::send_current_for_safety(Ampere i, Tesla field) {
    // On the way to the safe state a lost step is sent again rather than abandoning the ramp: a setpoint is
    // idempotent, and giving up here would leave the coil live or end in a jump to 0 A (the safe_state).
    for (int attempt = 1;; ++attempt) {
        try {
            send_current(i, field, true);
            return;
        } catch (const LimitError&) {
            throw;
        } catch (const Error& e) {
            if (attempt >= 3) throw;
            log::get("acquisition")->warn("safe-state ramp step to {:.5g} A ({:.4g} mT) failed ({}); sending again",
                                          i.si(), field.si() * 1e3, e.what());
        }
    }
}

Tesla GuardedBench::read_gaussmeter() {
    for (int attempt = 0;; ++attempt) {
        checkpoint();
        try {
            return inst_.gaussmeter->read_field();
        } catch (const TimeoutError& e) {
            if (attempt >= 2) throw;
            log::get("acquisition")->warn("gaussmeter read failed ({}); retrying", e.what());
        } catch (const TransportError& e) {
            if (attempt >= 2) throw;
            log::get("acquisition")->warn("gaussmeter read failed ({}); retrying", e.what());
        } catch (const ProtocolError& e) {
            if (attempt >= 2) throw;
            log::get("acquisition")->warn("gaussmeter read failed ({}); retrying", e.what());
        }
        ++read_retries_;
    }
}

void GuardedBench::close_loop(Tesla target) {
    const double tol = cal_.field_tolerance.si();
    const double k_nominal = cal_.coil_constant_t_per_a;
    auto measure = [&] {
        wait(cal_.field_settle);
        const Tesla b = read_gaussmeter();
        if (!std::isfinite(b.si()))
            throw InstrumentError(fmt::format("closed-loop field control: gaussmeter reading {} is not a number", b.si()));
        if (auto p = check_field(b, limits_))
            throw LimitError(fmt::format("closed-loop field control: the gaussmeter reads {:.4g} mT for a target of "
                                         "{:.4g} mT: {}",
                                         b.si() * 1e3, target.si() * 1e3, *p));
        field_measured_ = b;
        return b.si();
    };
    double b = measure();
    for (unsigned n = 0; std::abs(target.si() - b) > tol; ++n) {
        if (n >= cal_.field_max_corrections)
            throw InstrumentError(fmt::format(
                "closed-loop field control: {} corrections left {:.4g} mT for a target of {:.4g} mT (tolerance "
                "{:.3g} mT, coil current {:.5g} A); check the coil constant, the gaussmeter probe and the magnet",
                n, b * 1e3, target.si() * 1e3, tol * 1e3, current_.si()));
        const double err = target.si() - b;
        const Ampere from = current_;
        const Ampere to(from.si() + err / model_k_);
        if (auto p = check_coil_current(to, limits_))
            throw LimitError(fmt::format("closed-loop field control: {:.4g} mT needs about {:.5g} A: {}",
                                         target.si() * 1e3, to.si(), *p));
        // The correction is a ramp too: steps of at most ramp_step (in field terms) at the ramp rate.
        const double span = std::abs(err);
        const int steps = std::max(1, static_cast<int>(std::ceil(span / cal_.ramp_step.si() - 1e-9)));
        for (int s = 1; s <= steps; ++s) {
            const double f = static_cast<double>(s) / static_cast<double>(steps);
            send_current(Ampere(from.si() + (to.si() - from.si()) * f), target, false);
            clock_.wait(Second(span / steps / cal_.ramp_rate_t_per_s));
        }
        ++field_corrections_;
        const double b_new = measure();
        // Learn the coil constant from the response when the step is well above the gaussmeter noise.
        const double di = to.si() - from.si();
        if (std::abs(b_new - b) > 10 * tol && di != 0) {
            const double k = (b_new - b) / di;
            if (k > 0.5 * k_nominal && k < 2 * k_nominal) model_k_ = k;
        }
        b = b_new;
    }
    // Converged: learn the model from this fix (and the coil constant from the previous one when far enough
    // away), so the next field change starts close and needs fewer corrections.
    const double i_now = current_.si();
    if (last_fix_ && std::abs(b - last_fix_->second) > std::max(2e-3, 40 * tol)) {
        const double k = (b - last_fix_->second) / (i_now - last_fix_->first);
        if (k > 0.5 * k_nominal && k < 2 * k_nominal) model_k_ = k;
        last_fix_ = std::make_pair(i_now, b);
    } else if (!last_fix_) {
        last_fix_ = std::make_pair(i_now, b);
    }
    model_b0_ = b - model_k_ * i_now;
}

void GuardedBench::ramp(Tesla target, bool for_safety) {
    const double step = cal_.ramp_step.si();
    const double rate = cal_.ramp_rate_t_per_s;
    while (std::abs(target.si() - field_.si()) > 1e-15) {
        const double d = target.si() - field_.si();
        const double move = std::abs(d) <= step ? d : std::copysign(step, d);
        const Tesla next = std::abs(d) <= step ? target : Tesla(field_.si() + move);
        if (for_safety)
            step_current_for_safety(next);
        else
            step_current(next, false);
        clock_.wait(Second(std::abs(move) / rate));
    }
    last_change_ = clock_.now();
}

void GuardedBench::set_field(const SetField& s) {
    if (auto p = check_field(s.field, limits_)) throw LimitError("guard refused field step: " + *p);
    if (auto p = check_coil_current(s.current, limits_)) throw LimitError("guard refused field step: " + *p);
    // Already there: no I/O (closed loop: only once the gaussmeter has confirmed it since the last
    // initialize/make_safe, e.g. the remanence at 0 A is corrected on the first zero-field step).
    const bool confirmed = !closed_loop() || field_measured_.has_value();
    if (std::abs(s.field.si() - field_.si()) <= 1e-15 && confirmed) return;
    ramp(s.field, false);
    if (closed_loop()) close_loop(s.field);
}

void GuardedBench::pulse(const ApplyPulse& p) {
    if (auto e = check_pulse(p.amplitude, p.width, limits_)) throw LimitError("guard refused pulse: " + *e);
    checkpoint();
    if (!pulse_configured_ || p.width != pulse_width_) {
        inst_.pulse->configure(drivers::PulseSettings{p.amplitude, p.width, std::nullopt});
        pulse_configured_ = true;
        pulse_width_ = p.width;
        pulse_amplitude_ = p.amplitude;
    } else if (p.amplitude != pulse_amplitude_) {
        inst_.pulse->set_amplitude(p.amplitude);
        pulse_amplitude_ = p.amplitude;
    }
    checkpoint();
    if (!pulse_output_on_) {
        inst_.pulse->set_output(true);
        pulse_output_on_ = true;
    }
    checkpoint();
    inst_.pulse->trigger();
    last_change_ = clock_.now();
}

void GuardedBench::wait(Second d) {
    // Waits are cut into slices so a second Ctrl-C is honoured within ~0.1 s on a real bench.
    double left = d.si();
    while (left > 0) {
        checkpoint();
        const double slice = std::min(left, 0.1);
        clock_.wait(Second(slice));
        left -= slice;
    }
}

Reading GuardedBench::read(const Read& r) {
    if (auto p = check_read(r.amplitude, limits_)) throw LimitError("guard refused lock-in command: " + *p);
    checkpoint();
    if (!ref_frequency_ || *ref_frequency_ != r.frequency) {
        inst_.lockin->set_reference_frequency(r.frequency);
        ref_frequency_ = r.frequency;
        last_change_ = clock_.now();
    }
    if (!ref_amplitude_ || *ref_amplitude_ != r.amplitude) {
        inst_.lockin->set_reference_amplitude(r.amplitude);
        ref_amplitude_ = r.amplitude;
        last_change_ = clock_.now();
    }
    if (!tau_ || *tau_ != r.time_constant) {
        inst_.lockin->set_time_constant(r.time_constant);
        tau_ = r.time_constant;
        last_change_ = clock_.now();
    }
    // A first-order filter needs ~5 tau to settle after a change of the device or the field.
    const double settle = 5 * r.time_constant.si() - (clock_.now() - last_change_).si();
    if (settle > 0) wait(Second(settle));
    auto with_retry = [&](auto&& fn) {
        for (int attempt = 0;; ++attempt) {
            checkpoint();
            try {
                return fn();
            } catch (const TimeoutError& e) {
                if (attempt >= 2) throw;
                log::get("acquisition")->warn("read failed ({}); retrying", e.what());
            } catch (const TransportError& e) {
                if (attempt >= 2) throw;
                log::get("acquisition")->warn("read failed ({}); retrying", e.what());
            } catch (const ProtocolError& e) {
                if (attempt >= 2) throw;
                log::get("acquisition")->warn("read failed ({}); retrying", e.what());
            }
            ++read_retries_;
        }
    };
    if (!ranged_) {
        with_retry([&] { return inst_.lockin->autorange(); });
        ranged_ = true;
    }
    double x = 0, y = 0;
    for (unsigned k = 0; k < r.averages; ++k) {
        if (k > 0) wait(r.time_constant);
        drivers::LockInReading rd = with_retry([&] { return inst_.lockin->read(); });
        const double fs = with_retry([&] { return inst_.lockin->sensitivity().si(); });
        if (std::abs(rd.r.si()) > 0.95 * fs || std::abs(rd.r.si()) < 0.02 * fs) {
            // Overload or buried in the range: re-range and read again.
            with_retry([&] { return inst_.lockin->autorange(); });
            wait(Second(5 * r.time_constant.si()));
            rd = with_retry([&] { return inst_.lockin->read(); });
        }
        x += rd.x.si();
        y += rd.y.si();
    }
    Reading out;
    out.x = Volt(x / r.averages);
    out.y = Volt(y / r.averages);
    out.resistance = resistance_from(out.x, r.amplitude, cal_.reference_resistor);
    if (inst_.gaussmeter && r.role == ReadRole::main)
        out.field_measured = with_retry([&] { return inst_.gaussmeter->read_field(); });
    return out;
}

std::string GuardedBench::make_safe() noexcept {
    std::string problems;
    auto note = [&](std::string_view what, const std::exception& e) {
        const std::string line = fmt::format("{}: {}", what, e.what());
        try {
            log::get("acquisition")->error("safe state: {}", line);
        } catch (...) {
        }
        problems += problems.empty() ? line : "; " + line;
    };
    try {
        if (!coil_known_) adopt_left_current();
        if (std::abs(field_.si()) > 0) ramp(Tesla(0.0), true);
        unwind_current();  // closed loop: zero field was an offset current (the remanence's)
    } catch (const std::exception& e) {
        note("ramping the field to zero", e);
    }
    const std::pair<const char*, drivers::Instrument*> all[] = {
        {"pulse generator", inst_.pulse}, {"magnet supply", inst_.magnet}, {"lock-in", inst_.lockin},
        {"gaussmeter", inst_.gaussmeter}};
    for (const auto& [what, instrument] : all) {
        if (!instrument) continue;
        if (instrument == inst_.magnet && foreign_current_) {
            problems += fmt::format("{}magnet supply: not touched, it holds {:.5g} A (beyond the coil-current limit)",
                                    problems.empty() ? "" : "; ", foreign_current_->si());
            continue;
        }
        try {
            instrument->safe_state();
        } catch (const std::exception& e) {
            note(what, e);
        }
    }
    field_measured_.reset();
    pulse_output_on_ = false;
    pulse_configured_ = false;
    ranged_ = false;
    ref_amplitude_.reset();
    ref_frequency_.reset();
    tau_.reset();
    return problems;
}

}  // namespace mtjlab::acquisition
