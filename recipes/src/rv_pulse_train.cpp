// rv_pulse_train: R(V) loop. Each point: set the assist field, one write pulse, wait the delay, read.
#include <fmt/format.h>

#include "common.hpp"

namespace mtjlab::recipes::detail {

RvPulseTrain parse_rv_pulse_train(TomlTable& t) {
    RvPulseTrain p;
    p.amplitudes = parse_amplitudes(t, {"negative", "positive"}, true);
    p.width = parse_pulse_width(t);
    p.delay = parse_duration(t, "delay", Second(1.5));
    p.assist_follows_polarity = t.boolean_or("assist_follows_polarity", true);
    const double a = t.number_or("assist_field_mT", 6.0);
    if (p.assist_follows_polarity && a < 0)
        t.fail("assist_field_mT", "is a magnitude when assist_follows_polarity = true (the sign follows the pulse)");
    p.assist = units::millitesla(a);
    p.stop_on_breakdown = parse_breakdown_rule(t, true);
    p.read = parse_read(t);
    return p;
}

acquisition::Plan expand_rv_pulse_train(const RvPulseTrain& p, const acquisition::BenchCalibration& cal) {
    return expand_pulse_train(p, cal, "rv_pulse_train");
}

acquisition::Plan expand_pulse_train(const RvPulseTrain& p, const acquisition::BenchCalibration& cal,
                                     std::string kind) {
    acquisition::Plan plan;
    plan.kind = std::move(kind);
    plan.breakdown = p.stop_on_breakdown;
    const auto bd = branches(volts(p.amplitudes), true);
    for (std::size_t i = 0; i < p.amplitudes.size(); ++i) {
        const Volt amp = p.amplitudes[i];
        // AP->P with -V and -H, P->AP with +V and +H: the assist field takes the pulse's sign.
        const Tesla assist = p.assist_follows_polarity ? (amp.si() < 0 ? -p.assist : p.assist) : p.assist;
        acquisition::Point pt;
        pt.steps = {set_field(assist, cal), acquisition::ApplyPulse{amp, p.width}, acquisition::Wait{p.delay},
                    make_read(p.read, cal)};
        pt.swept = amp.si();
        pt.field = assist;
        pt.pulse_amplitude = amp;
        pt.pulse_width = p.width;
        pt.branch = bd[i].first;
        pt.direction = bd[i].second;
        plan.points.push_back(std::move(pt));
    }
    return plan;
}

nlohmann::json to_json(const RvPulseTrain& p) {
    nlohmann::json j;
    j["amplitudes_V"] = volts(p.amplitudes);
    j["width_s"] = p.width.si();
    j["delay_s"] = p.delay.si();
    j["assist_field_T"] = p.assist.si();
    j["assist_follows_polarity"] = p.assist_follows_polarity;
    j["stop_on_breakdown"] = p.stop_on_breakdown.has_value();
    if (p.stop_on_breakdown) {
        j["short_fraction"] = p.stop_on_breakdown->short_fraction;
        j["open_factor"] = p.stop_on_breakdown->open_factor;
    }
    j["read"] = to_json(p.read);
    return j;
}

}  // namespace mtjlab::recipes::detail
