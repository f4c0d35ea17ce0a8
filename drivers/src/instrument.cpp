#include "mtjlab/drivers/instrument.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/gaussmeter/gaussmeter.hpp"
#include "mtjlab/drivers/lockin/lock_in.hpp"
#include "mtjlab/drivers/magnet/magnet_supply.hpp"
#include "mtjlab/drivers/pulse_gen/pulse_generator.hpp"

namespace mtjlab::drivers {

Instrument::Instrument(std::shared_ptr<ScpiSession> session) : session_(std::move(session)) {
    if (!session_) throw InputError("driver constructed without a session");
}

std::string Instrument::identify() { return session_->identify(); }

void Instrument::remember(std::string setting, double value, std::string unit) {
    for (auto& s : settings_) {
        if (s.name == setting) {
            s.value = value;
            s.unit = std::move(unit);
            return;
        }
    }
    settings_.push_back({std::move(setting), value, std::move(unit)});
}

void Instrument::confirm_output_off(std::initializer_list<std::string_view> commands, std::string_view output_query) {
    session_->write_confirmed(commands, output_query, [](std::string_view reply) {
        try {
            return !parse_bool(reply);
        } catch (const ProtocolError&) {
            return false;
        }
    });
}

void check_range(std::string_view instrument, std::string_view model, std::string_view what, double value, double lo,
                 double hi, std::string_view unit) {
    if (!std::isfinite(value) || value < lo || value > hi) {
        throw LimitError(fmt::format("{}: {} {} {} outside [{}, {}] {} ({})", instrument, what, value, unit, lo, hi,
                                     unit, model));
    }
}

Volt PulseGenerator::max_amplitude() const {
    const auto l = limits();
    // Into a load of R the source's 50 Ohm forms a divider; the amplitude window is specified into
    // 50 Ohm and into high-Z, so anything above 50 Ohm is limited as high-Z only when it is open.
    return load_ ? l.max_amplitude_50ohm : l.max_amplitude_highz;
}

void PulseGenerator::check_settings(const PulseSettings& s, double min_load_ohm, double max_load_ohm) const {
    const auto l = limits();
    if (s.load) check_range(name(), model(), "load", s.load->si(), min_load_ohm, max_load_ohm, "Ohm");
    check_range(name(), model(), "pulse width", s.width.si(), l.min_width.si(), l.max_width.si(), "s");
    const Volt max_a = s.load ? l.max_amplitude_50ohm : l.max_amplitude_highz;  // as max_amplitude() for that load
    check_range(name(), model(), "|pulse amplitude|", std::abs(s.amplitude.si()), l.min_amplitude.si(), max_a.si(),
                "V");
}

Volt LockIn::autorange(unsigned max_rounds) {
    const auto table = limits().sensitivities_v;
    std::vector<double> sorted(table.begin(), table.end());
    std::sort(sorted.begin(), sorted.end());
    auto at_least = [&](double v) {
        const auto it = std::lower_bound(sorted.begin(), sorted.end(), v * (1 - 1e-9));
        return it == sorted.end() ? sorted.back() : *it;
    };
    Volt fs = sensitivity();
    for (unsigned round = 0; round < max_rounds; ++round) {
        const double r = std::abs(read().r.si());
        // Overloaded (clipped reading): ten times up. Otherwise the smallest scale holding R below 90 %.
        const double next = r > 0.9 * fs.si() ? at_least(fs.si() * 10.0) : at_least(r / 0.9);
        if (next == fs.si()) return fs;
        set_sensitivity(Volt(next));
        fs = Volt(next);
    }
    return fs;
}

void real_sleep(Second dt) {
    if (dt.si() > 0) std::this_thread::sleep_for(std::chrono::duration<double>(dt.si()));
}

void MagnetSupply::set_current_limit(Ampere max_abs) {
    check_range(name(), model(), "current limit", max_abs.si(), 0.0, limits().max_current.si(), "A");
    user_limit_ = max_abs;
}

Ampere MagnetSupply::read_setpoint() {
    const Ampere i = query_setpoint_raw();
    // A supply holds at most its rating: anything else (NaN, an overflow marker such as 9.91E37) is a reply a
    // ramp cannot start from.
    const double model_max = limits().max_current.si();
    if (!std::isfinite(i.si()) || std::abs(i.si()) > 1.01 * model_max)
        throw InstrumentError(fmt::format("{}: setpoint reply {} A is not a current this supply can hold ({}: {} A "
                                          "at most)",
                                          name(), i.si(), model(), model_max));
    note_setpoint(i);
    return setpoint_;
}

Ampere MagnetSupply::current_limit() const {
    const auto model_max = limits().max_current;
    return user_limit_ ? std::min(*user_limit_, model_max) : model_max;
}

void MagnetSupply::ramp_to(Ampere target, double rate_a_per_s, Ampere max_step, const Sleeper& sleep) {
    const double lim = current_limit().si();
    check_range(name(), model(), "ramp target", target.si(), -lim, lim, "A");
    check_range(name(), model(), "ramp rate", rate_a_per_s, 1e-9, 1e6, "A/s");
    check_range(name(), model(), "ramp step", max_step.si(), 1e-9, 2 * lim + 1e-9, "A");
    if (!setpoint_known_) (void)read_setpoint();
    const double start = setpoint_.si();
    const double span = target.si() - start;
    const auto steps = static_cast<long>(std::ceil(std::abs(span) / max_step.si()));
    if (steps == 0) {
        set_current(target);
        return;
    }
    const double step = span / static_cast<double>(steps);
    const Second dwell(std::abs(step) / rate_a_per_s);
    for (long k = 1; k <= steps; ++k) {
        set_current(Ampere(k == steps ? target.si() : start + step * static_cast<double>(k)));
        if (k < steps && sleep) sleep(dwell);
    }
}

}  // namespace mtjlab::drivers
