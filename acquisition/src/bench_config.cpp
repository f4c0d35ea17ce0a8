#include "mtjlab/acquisition/bench_config.hpp"

#include <algorithm>
#include <cmath>

#include "mtjlab/core/error.hpp"

namespace mtjlab::acquisition {

BenchLimits limits_of(const Station& s) {
    BenchLimits l;
    l.max_pulse_amplitude = s.limits.max_pulse_amplitude;
    l.max_pulse_width = s.limits.max_pulse_width;
    l.max_coil_current = s.limits.max_coil_current;
    if (s.calibration.coil_constant_T_per_A && *s.calibration.coil_constant_T_per_A != 0) {
        const double by_field = s.limits.max_field.si() / std::abs(*s.calibration.coil_constant_T_per_A);
        l.max_coil_current = Ampere(std::min(s.limits.max_coil_current.si(), by_field));
    }
    l.max_field = s.limits.max_field;
    l.max_ramp_rate_t_per_s = s.limits.max_ramp_rate_T_per_s;
    l.max_read_voltage = s.limits.max_read_voltage;
    return l;
}

BenchCalibration calibration_of(const Station& s) {
    if (!s.calibration.coil_constant_T_per_A)
        throw InputError(s.source + ": key 'calibration.coil_constant_T_per_A': required to turn recipe fields into "
                                    "coil currents");
    BenchCalibration c;
    c.coil_constant_t_per_a = *s.calibration.coil_constant_T_per_A;
    c.reference_resistor = s.calibration.reference_resistor;
    c.read_amplitude = s.calibration.read_amplitude;
    c.read_frequency = s.calibration.read_frequency;
    c.time_constant = s.calibration.time_constant;
    c.ramp_rate_t_per_s = s.limits.max_ramp_rate_T_per_s;
    c.ramp_step = Tesla(1e-3);
    c.field_closed_loop = s.calibration.field_control == FieldControl::gaussmeter;
    c.field_tolerance = s.calibration.field_tolerance;
    c.field_max_corrections = s.calibration.field_max_corrections;
    return c;
}

}  // namespace mtjlab::acquisition
