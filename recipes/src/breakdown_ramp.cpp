// breakdown_ramp: pulses of rising amplitude, a read after each; the engine stops at the first read
// showing a broken junction (a short or an open relative to the first reading).
#include "common.hpp"

namespace mtjlab::recipes::detail {

BreakdownRamp parse_breakdown_ramp(TomlTable& t) {
    BreakdownRamp p;
    p.amplitudes = parse_amplitudes(t, {"positive"}, false);
    p.width = parse_duration(t, "width", Second(200e-9));
    if (p.width.si() <= 0) t.fail(t.has("width_ns") ? "width_ns" : "width_s", "must be positive");
    p.delay = parse_duration(t, "delay", Second(0.1));
    p.assist = units::millitesla(t.number_or("assist_field_mT", 0.0));
    p.rule = *parse_breakdown_rule(t, false);
    p.read = parse_read(t);
    return p;
}

acquisition::Plan expand_breakdown_ramp(const BreakdownRamp& p, const acquisition::BenchCalibration& cal) {
    acquisition::Plan plan;
    plan.kind = "breakdown_ramp";
    plan.breakdown = p.rule;
    std::vector<double> v;
    for (Volt a : p.amplitudes) v.push_back(a.si());
    const auto bd = branches(v, true);
    for (std::size_t i = 0; i < p.amplitudes.size(); ++i) {
        acquisition::Point pt;
        pt.steps = {set_field(p.assist, cal), acquisition::ApplyPulse{p.amplitudes[i], p.width},
                    acquisition::Wait{p.delay}, make_read(p.read, cal)};
        pt.swept = p.amplitudes[i].si();
        pt.field = p.assist;
        pt.pulse_amplitude = p.amplitudes[i];
        pt.pulse_width = p.width;
        pt.branch = bd[i].first;
        pt.direction = bd[i].second;
        plan.points.push_back(std::move(pt));
    }
    return plan;
}

nlohmann::json to_json(const BreakdownRamp& p) {
    nlohmann::json j;
    std::vector<double> a;
    for (Volt x : p.amplitudes) a.push_back(x.si());
    j["amplitudes_V"] = a;
    j["width_s"] = p.width.si();
    j["delay_s"] = p.delay.si();
    j["assist_field_T"] = p.assist.si();
    j["short_fraction"] = p.rule.short_fraction;
    j["open_factor"] = p.rule.open_factor;
    j["read"] = to_json(p.read);
    return j;
}

}  // namespace mtjlab::recipes::detail
