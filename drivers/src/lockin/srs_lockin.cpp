#include "mtjlab/drivers/lockin/srs_lockin.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::drivers {

namespace {
// SR830 manual, SENS (i): 0 = 2 nV ... 26 = 1 V (1-2-5 steps).
constexpr std::array<double, 27> k_sr830_sens{
    2e-9, 5e-9, 10e-9, 20e-9, 50e-9, 100e-9, 200e-9, 500e-9, 1e-6,   2e-6,   5e-6,   10e-6,  20e-6, 50e-6,
    100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3, 50e-3, 100e-3, 200e-3, 500e-3, 1.0};
// SR830 manual, OFLT (i): 0 = 10 us ... 19 = 30 ks (1-3 steps).
constexpr std::array<double, 20> k_sr830_tau{10e-6, 30e-6, 100e-6, 300e-6, 1e-3, 3e-3, 10e-3, 30e-3, 100e-3, 300e-3,
                                             1.0,   3.0,   10.0,   30.0,   100.0, 300.0, 1e3, 3e3, 10e3, 30e3};
// SR860 manual, SCAL (i): 0 = 1 V, 1 = 500 mV, 2 = 200 mV ... 27 = 1 nV (descending 1-5-2 steps).
constexpr std::array<double, 28> k_sr860_sens{
    1.0,   500e-3, 200e-3, 100e-3, 50e-3, 20e-3, 10e-3, 5e-3,  2e-3,  1e-3,  500e-6, 200e-6, 100e-6, 50e-6,
    20e-6, 10e-6,  5e-6,   2e-6,   1e-6,  500e-9, 200e-9, 100e-9, 50e-9, 20e-9, 10e-9, 5e-9, 2e-9, 1e-9};
// SR860 manual, OFLT (i): 0 = 1 us, 1 = 3 us ... 21 = 30 ks.
constexpr std::array<double, 22> k_sr860_tau{1e-6,   3e-6, 10e-6, 30e-6, 100e-6, 300e-6, 1e-3,  3e-3, 10e-3, 30e-3, 100e-3,
                                             300e-3, 1.0,  3.0,   10.0,  30.0,   100.0,  300.0, 1e3,  3e3,   10e3,  30e3};
constexpr double k_rel = 1e-9;  // table matching tolerance (relative)

/// Index of the smallest table entry >= value, whatever the table's order; -1 when none.
int index_at_least(std::span<const double> table, double value) {
    int best = -1;
    for (std::size_t i = 0; i < table.size(); ++i)
        if (table[i] >= value * (1 - k_rel) && (best < 0 || table[i] < table[static_cast<std::size_t>(best)]))
            best = static_cast<int>(i);
    return best;
}

int last_index(std::span<const double> table) { return static_cast<int>(table.size()) - 1; }
}  // namespace

const SrsLockInModel& srs_sr830_model() {
    static const SrsLockInModel m{"srs_sr830", k_sr830_sens, k_sr830_tau, "SENS", "FMOD 1", 0.004, 5.0,
                                  3,  // 2 mV resolution
                                  102e3, true};
    return m;
}

const SrsLockInModel& srs_sr860_model() {
    static const SrsLockInModel m{"srs_sr860", k_sr860_sens, k_sr860_tau, "SCAL", "RSRC 0", 1e-9, 2.0, -1, 500e3,
                                  false};
    return m;
}

SrsLockIn::SrsLockIn(std::shared_ptr<ScpiSession> session, const SrsLockInModel& model)
    : LockIn(std::move(session)), m_(model) {}

LockInLimits SrsLockIn::limits() const {
    return {Volt(m_.min_amplitude_v), Volt(m_.max_amplitude_v), Hertz(0.001), Hertz(m_.max_frequency_hz),
            m_.sensitivities, m_.time_constants};
}

double SrsLockIn::amplitude_sent(double v) const {
    if (m_.amplitude_decimals < 0) return v;
    // Toward zero, never to nearest: a limit between two grid steps must not be exceeded by half a step.
    const double scale = std::pow(10.0, m_.amplitude_decimals);
    return std::floor(v * scale * (1 + 1e-12)) / scale;
}

std::string SrsLockIn::amplitude_text(double v) const {
    return m_.amplitude_decimals < 0 ? scpi_number(v) : fmt::format("{:.{}f}", amplitude_sent(v), m_.amplitude_decimals);
}

void SrsLockIn::set_reference_amplitude(Volt rms) {
    check_range(name(), model(), "reference amplitude", rms.si(), m_.min_amplitude_v, m_.max_amplitude_v, "V");
    session_->write("SLVL " + amplitude_text(rms.si()));
    remember("reference_amplitude", amplitude_sent(rms.si()), "V");
}

void SrsLockIn::set_reference_frequency(Hertz f) {
    check_range(name(), model(), "reference frequency", f.si(), 0.001, m_.max_frequency_hz, "Hz");
    session_->write(std::string(m_.internal_reference));
    session_->write("FREQ " + scpi_number(f.si()));
    remember("reference_frequency", f.si(), "Hz");
}

void SrsLockIn::set_sensitivity(Volt fs) {
    const int i = index_at_least(m_.sensitivities, fs.si());
    if (i < 0 || fs.si() <= 0) {
        const auto [lo, hi] = std::ranges::minmax(m_.sensitivities);
        check_range(name(), model(), "sensitivity", fs.si(), lo, hi, "V");
    }
    set_sensitivity_raw(i < 0 ? 0 : i);
}

void SrsLockIn::set_sensitivity_raw(int i) {
    check_range(name(), model(), "sensitivity index", i, 0, last_index(m_.sensitivities), "");
    session_->write(fmt::format("{} {}", m_.sensitivity_command, i));
    remember("sensitivity", m_.sensitivities[static_cast<std::size_t>(i)], "V");
}

void SrsLockIn::set_time_constant(Second tau) {
    const int i = index_at_least(m_.time_constants, tau.si());
    if (i < 0 || tau.si() <= 0) {
        const auto [lo, hi] = std::ranges::minmax(m_.time_constants);
        check_range(name(), model(), "time constant", tau.si(), lo, hi, "s");
    }
    set_time_constant_raw(i < 0 ? 0 : i);
}

void SrsLockIn::set_time_constant_raw(int i) {
    check_range(name(), model(), "time constant index", i, 0, last_index(m_.time_constants), "");
    session_->write(fmt::format("OFLT {}", i));
    remember("time_constant", m_.time_constants[static_cast<std::size_t>(i)], "s");
}

Volt SrsLockIn::sensitivity() {
    const std::string query = fmt::format("{}?", m_.sensitivity_command);
    const auto i = session_->query_int(query);
    if (i < 0 || i > last_index(m_.sensitivities))
        throw ProtocolError(
            fmt::format("{}: {} returned index {} (0..{})", name(), query, i, last_index(m_.sensitivities)));
    return Volt(m_.sensitivities[static_cast<std::size_t>(i)]);
}

Second SrsLockIn::time_constant() {
    const auto i = session_->query_int("OFLT?");
    if (i < 0 || i > last_index(m_.time_constants))
        throw ProtocolError(
            fmt::format("{}: OFLT? returned index {} (0..{})", name(), i, last_index(m_.time_constants)));
    return Second(m_.time_constants[static_cast<std::size_t>(i)]);
}

LockInReading SrsLockIn::read() {
    constexpr double deg = std::numbers::pi / 180.0;
    if (m_.snap_has_r) {
        // SNAP? 1,2,3,4: X, Y, R, theta (degrees) taken at the same instant.
        const auto v = session_->query_doubles("SNAP? 1,2,3,4");
        if (v.size() != 4)
            throw ProtocolError(fmt::format("{}: SNAP? 1,2,3,4 returned {} values (expected 4)", name(), v.size()));
        return {Volt(v[0]), Volt(v[1]), Volt(v[2]), v[3] * deg};
    }
    // SNAP? takes at most three parameters on the SR860: X (0), Y (1), THeta (3); R = |X + iY| exactly.
    const auto v = session_->query_doubles("SNAP? 0,1,3");
    if (v.size() != 3)
        throw ProtocolError(fmt::format("{}: SNAP? 0,1,3 returned {} values (expected 3)", name(), v.size()));
    return {Volt(v[0]), Volt(v[1]), Volt(std::hypot(v[0], v[1])), v[2] * deg};
}

void SrsLockIn::safe_state() {
    // The SR830 has no *OPC?: read the amplitude back instead (both models), which also proves it took.
    const double floor = m_.min_amplitude_v;
    session_->write_confirmed({"SLVL " + amplitude_text(floor)}, "SLVL?", [floor](std::string_view reply) {
        try {
            return parse_double(reply) <= floor * (1.0 + 1e-6);
        } catch (const ProtocolError&) {
            return false;
        }
    });
    remember("reference_amplitude", m_.min_amplitude_v, "V");
}

}  // namespace mtjlab::drivers
