#pragma once
// Capability: a Hall-probe gaussmeter reading the field at the device.
#include <span>

#include "mtjlab/core/units.hpp"
#include "mtjlab/drivers/instrument.hpp"

namespace mtjlab::drivers {

/// Gaussmeter capability.
class Gaussmeter : public Instrument {
public:
    using Instrument::Instrument;
    /// Full scales of the ranges (index order of the manual), T.
    [[nodiscard]] virtual std::span<const double> ranges_t() const = 0;
    /// Reads the field (converted to T whatever the display unit).
    virtual Tesla read_field() = 0;
    /// Selects the smallest range whose full scale >= `full_scale` (LimitError above the largest).
    virtual void set_range(Tesla full_scale) = 0;
    virtual void set_autorange(bool on) = 0;
    /// Makes the instrument report in tesla.
    virtual void set_units_tesla() = 0;
};

}  // namespace mtjlab::drivers
