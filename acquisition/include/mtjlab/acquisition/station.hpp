#pragma once
// The station config (station.toml): which instrument plays which role, the calibration of the read
// and field circuits, and the safety limits no recipe may exceed. See recipes/station.example.toml.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtjlab/core/units.hpp"
#include "mtjlab/drivers/registry.hpp"
#include "mtjlab/drivers/transport/transport.hpp"

namespace mtjlab::acquisition {

/// One instrument of the station: `[instruments.<role>]`.
struct InstrumentConfig {
    drivers::Role role;
    std::string model;      ///< registry key, e.g. "srs_sr830" (canonical form after parsing)
    std::string resource;   ///< PyVISA resource string (TCPIP/USB/ASRL/SIM)
    drivers::SerialSettings serial;  ///< for ASRL: [instruments.<role>.serial] or the model's factory settings
    drivers::Duration timeout = std::chrono::seconds(2);  ///< per read/write deadline (timeout_ms)
};

/// How the field at the device is known.
enum class FieldControl {
    coil_constant,  ///< B = coil_constant * I (open loop)
    gaussmeter,     ///< the gaussmeter closes the loop (coil_constant is the first guess)
};

/// `[calibration]`
struct Calibration {
    FieldControl field_control = FieldControl::coil_constant;
    std::optional<double> coil_constant_T_per_A;  ///< required for coil_constant control
    Ohm reference_resistor{1e6};                  ///< series resistor of the read circuit
    Volt read_amplitude{0.1};                     ///< lock-in sine output, V rms
    Hertz read_frequency{13.7};
    Second time_constant{0.3};
    Tesla field_tolerance{50e-6};        ///< gaussmeter control: |B_measured - B_target| accepted (field_tolerance_mT)
    unsigned field_max_corrections = 6;  ///< gaussmeter control: corrections per field change (field_max_corrections)
};

/// `[limits]`: nothing the acquisition sends may exceed these (checked before any I/O).
struct SafetyLimits {
    Volt max_pulse_amplitude;     ///< |V| of a write pulse
    Second max_pulse_width;
    Ampere max_coil_current;      ///< |I| of the magnet supply
    Tesla max_field;              ///< |B| at the device
    double max_ramp_rate_T_per_s; ///< field ramp rate
    Volt max_read_voltage;        ///< lock-in sine output, V rms
};

/// A parsed and validated station.
struct Station {
    std::string name;
    std::string source;  ///< file name (or "<text>") the station came from
    std::string text;    ///< the full TOML text, for provenance
    std::vector<InstrumentConfig> instruments;
    Calibration calibration;
    SafetyLimits limits;

    /// The instrument in `role`, or nullptr (only the gaussmeter is optional).
    [[nodiscard]] const InstrumentConfig* instrument(drivers::Role role) const;
    /// The largest |I| the coil may carry: min(max_coil_current, max_field / coil constant).
    [[nodiscard]] Ampere max_coil_current_for_field() const;
};

/// Parses and validates station TOML. InputError: malformed TOML names "<source>:<line>:<column>";
/// a missing, mistyped, unknown or out-of-range key names the key (e.g. "limits.max_field_T").
Station parse_station(std::string_view toml_text, std::string source = "<text>");

/// Reads and parses a station file (InputError when it cannot be read).
Station load_station(const std::filesystem::path& path);

/// Opens the transport and SCPI session of one configured instrument (name = role).
std::shared_ptr<drivers::ScpiSession> open_session(const InstrumentConfig& config);

}  // namespace mtjlab::acquisition
