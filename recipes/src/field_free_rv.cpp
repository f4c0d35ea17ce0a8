// field_free_rv: the R(V) pulse train at zero field. The run engine reports per run whether the device
// switched (a read-back change above the switch threshold) and the first amplitude that switched it.
#include "common.hpp"

namespace mtjlab::recipes::detail {

RvPulseTrain parse_field_free_rv(TomlTable& t) {
    for (const char* k : {"assist_field_mT", "assist_follows_polarity"})
        if (t.has(k)) t.fail(k, "a field-free R(V) has no assist field (use rv_pulse_train)");
    RvPulseTrain p;
    p.amplitudes = parse_amplitudes(t, {"negative", "positive"}, true);
    p.width = parse_pulse_width(t);
    p.delay = parse_duration(t, "delay", Second(1.5));
    p.assist = Tesla(0.0);
    p.assist_follows_polarity = false;
    p.stop_on_breakdown = parse_breakdown_rule(t, true);
    p.read = parse_read(t);
    return p;
}

}  // namespace mtjlab::recipes::detail
