#pragma once
// From the station config (station.hpp) to what plans, preflight and the guard use.
#include "mtjlab/acquisition/plan.hpp"
#include "mtjlab/acquisition/station.hpp"

namespace mtjlab::acquisition {

/// The station's [limits]; max_coil_current is min(max_coil_current, max_field / coil constant).
BenchLimits limits_of(const Station& station);
/// The station's [calibration]; the ramp rate is the station's limit. InputError when the station has
/// no coil constant (plans need it to turn fields into coil currents).
BenchCalibration calibration_of(const Station& station);

}  // namespace mtjlab::acquisition
