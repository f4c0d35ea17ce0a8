#pragma once
// Input data of the analysis: one measurement run (from a run file or a CSV), in SI units.
// The analysis never modifies these; results live in their own structs (results.hpp).
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace mtjlab::analysis {

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// What a run measured. Names match the run-file `kind` attribute (data-format contract A).
enum class RunKind {
    rh_loop,                ///< R versus field sweep (minor or major loop)
    rv_pulse_train,         ///< R read after each write pulse, with an assist field
    field_free_rv,          ///< the same without assist field
    switching_probability,  ///< repeated pulses per amplitude, switched 0/1
    breakdown_ramp,         ///< rising pulse amplitude until the junction breaks
    unknown,
};

/// "rh_loop", ... ; "unknown" for RunKind::unknown.
std::string_view to_string(RunKind kind);
/// Inverse of to_string; RunKind::unknown for anything else.
RunKind run_kind_from_string(std::string_view s);

/// Who was measured. thickness_nm is NaN and cells 0 when unknown.
struct DeviceIdentity {
    std::string wafer;
    std::string die;
    std::string device;
    double thickness_nm = nan;
    int cells = 0;
    /// "wafer/die/device" when known, otherwise empty.
    [[nodiscard]] std::string key() const;
};

/// One sweep: x is the field in T (R(H)) or the pulse amplitude in V (R(V), breakdown).
/// branch and direction are empty when the source did not record them (they are then inferred
/// from point order). Non-finite values are allowed; the analysis drops them and says so.
struct Sweep {
    std::vector<double> x;
    std::vector<double> r_ohm;
    std::vector<int> branch;         ///< monotonic sweep segment index, or empty
    std::vector<int> direction;      ///< +1 up, -1 down, or empty
    std::vector<double> assist_T;    ///< assist field per point (R(V) only), or empty
};

/// Switching-probability trials: one entry per pulse.
struct Trials {
    std::vector<double> amplitude_V;
    std::vector<int> switched;  ///< 0 or 1 (other values are rejected)
};

/// One run as loaded. `load_error` is set when the file could not be used at all; the run still
/// appears in the report with that message.
struct Run {
    std::string name;    ///< run id or file stem, unique within one analysis
    std::string source;  ///< path of the file it came from
    RunKind kind = RunKind::unknown;
    DeviceIdentity device;
    std::string status;  ///< run status from the file ("complete", ...), empty for CSV
    Sweep sweep;
    Trials trials;
    std::string load_error;               ///< empty when the run loaded
    std::vector<std::string> load_notes;  ///< non-fatal remarks (dropped rows, ...)
};

}  // namespace mtjlab::analysis
