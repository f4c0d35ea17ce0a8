// breakdown_ramp: pulses of rising amplitude, a read after each; the engine stops at the first read
// showing a broken junction (a short or an open relative to the first reading).
#include "common.hpp"

namespace mtjlab::recipes::detail {

BreakdownRamp parse_breakdown_ramp(TomlTable& t) {
    BreakdownRamp p;
    p.amplitudes = parse_amplitudes(t, {"positive"}, false);
    p.width = parse_pulse_width(t);
    p.delay = parse_duration(t, "delay", Second(0.1));
    p.assist = units::millitesla(t.number_or("assist_field_mT", 0.0));
    p.rule = *parse_breakdown_rule(t, false);
    p.read = parse_read(t);
    return p;
}

acquisition::Plan expand_breakdown_ramp(const BreakdownRamp& p, const acquisition::BenchCalibration& cal) {
    RvPulseTrain train;  // a ramp is a pulse train at a fixed assist field that always stops on breakdown
    train.amplitudes = p.amplitudes;
    train.width = p.width;
    train.delay = p.delay;
    train.assist = p.assist;
    train.assist_follows_polarity = false;
    train.stop_on_breakdown = p.rule;
    train.read = p.read;
    return expand_pulse_train(train, cal, "breakdown_ramp");
}

nlohmann::json to_json(const BreakdownRamp& p) {
    nlohmann::json j;
    j["amplitudes_V"] = volts(p.amplitudes);
    j["width_s"] = p.width.si();
    j["delay_s"] = p.delay.si();
    j["assist_field_T"] = p.assist.si();
    j["short_fraction"] = p.rule.short_fraction;
    j["open_factor"] = p.rule.open_factor;
    j["read"] = to_json(p.read);
    return j;
}

}  // namespace mtjlab::recipes::detail
