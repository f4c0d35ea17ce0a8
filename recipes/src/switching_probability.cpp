// switching_probability: K trials per amplitude. Each trial: reset (opposite field, opposite pulse),
// read the state before, set the assist field, the write pulse, read after; switched = relative change.
#include <fmt/format.h>

#include "common.hpp"

namespace mtjlab::recipes::detail {

SwitchingProbability parse_switching_probability(TomlTable& t) {
    SwitchingProbability p;
    p.amplitudes = parse_amplitudes(t, {"negative"}, false);
    const long long k = t.integer("repeats");
    if (k < 1 || k > 100000) t.fail("repeats", "must be between 1 and 100000");
    p.repeats = static_cast<unsigned>(k);
    // One point per trial: refused before the plan is made (each point holds eight steps).
    if (p.amplitudes.size() * p.repeats > max_run_points)
        t.fail("repeats", fmt::format("{} repeats of {} amplitudes give {} trials; a run has at most {} points", k,
                                      p.amplitudes.size(), p.amplitudes.size() * p.repeats, max_run_points));
    p.width = parse_pulse_width(t);
    p.delay = parse_duration(t, "delay", Second(1.5));
    p.assist_follows_polarity = t.boolean_or("assist_follows_polarity", true);
    const double a = t.number_or("assist_field_mT", 6.0);
    if (p.assist_follows_polarity && a < 0) t.fail("assist_field_mT", "is a magnitude (the sign follows the pulse)");
    p.assist = units::millitesla(a);
    const double ra = t.number_or("reset_amplitude_V", 2.0);
    if (ra <= 0) t.fail("reset_amplitude_V", "is a positive magnitude (the reset has the opposite polarity)");
    p.reset_amplitude = Volt(ra);
    const double rf = t.number_or("reset_field_mT", 8.0);
    if (rf < 0) t.fail("reset_field_mT", "is a magnitude (opposite sign to the write assist)");
    p.reset_field = units::millitesla(rf);
    p.switch_threshold = t.number_or("switch_threshold", 0.05);
    if (p.switch_threshold <= 0 || p.switch_threshold >= 1) t.fail("switch_threshold", "must be in (0, 1)");
    p.read = parse_read(t);
    return p;
}

acquisition::Plan expand_switching_probability(const SwitchingProbability& p, const acquisition::BenchCalibration& cal) {
    acquisition::Plan plan;
    plan.kind = "switching_probability";
    plan.switch_threshold = p.switch_threshold;
    for (Volt amp : p.amplitudes) {
        const double s = amp.si() < 0 ? -1.0 : 1.0;
        const Tesla assist = p.assist_follows_polarity ? p.assist * s : p.assist;
        const Tesla reset_field = p.reset_field * -s;
        const Volt reset = p.reset_amplitude * -s;
        for (unsigned trial = 0; trial < p.repeats; ++trial) {
            acquisition::Point pt;
            pt.steps = {set_field(reset_field, cal),
                        acquisition::ApplyPulse{reset, p.width},
                        acquisition::Wait{p.delay},
                        make_read(p.read, cal, acquisition::ReadRole::before),
                        set_field(assist, cal),
                        acquisition::ApplyPulse{amp, p.width},
                        acquisition::Wait{p.delay},
                        make_read(p.read, cal)};
            pt.swept = amp.si();
            pt.field = assist;
            pt.pulse_amplitude = amp;
            pt.pulse_width = p.width;
            pt.trial = static_cast<int>(trial);
            pt.direction = amp.si() < 0 ? -1 : +1;
            plan.points.push_back(std::move(pt));
        }
    }
    return plan;
}

nlohmann::json to_json(const SwitchingProbability& p) {
    nlohmann::json j;
    j["amplitudes_V"] = volts(p.amplitudes);
    j["repeats"] = p.repeats;
    j["width_s"] = p.width.si();
    j["delay_s"] = p.delay.si();
    j["assist_field_T"] = p.assist.si();
    j["assist_follows_polarity"] = p.assist_follows_polarity;
    j["reset_amplitude_V"] = p.reset_amplitude.si();
    j["reset_field_T"] = p.reset_field.si();
    j["switch_threshold"] = p.switch_threshold;
    j["read"] = to_json(p.read);
    return j;
}

}  // namespace mtjlab::recipes::detail
