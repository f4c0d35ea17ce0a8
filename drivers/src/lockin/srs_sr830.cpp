#include "mtjlab/drivers/lockin/srs_sr830.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::drivers {

namespace {
// SR830 manual, SENS (i): 0 = 2 nV ... 26 = 1 V (1-2-5 steps).
constexpr std::array<double, 27> k_sens{2e-9,   5e-9,   10e-9,  20e-9,  50e-9,  100e-9, 200e-9, 500e-9, 1e-6,
                                        2e-6,   5e-6,   10e-6,  20e-6,  50e-6,  100e-6, 200e-6, 500e-6, 1e-3,
                                        2e-3,   5e-3,   10e-3,  20e-3,  50e-3,  100e-3, 200e-3, 500e-3, 1.0};
// SR830 manual, OFLT (i): 0 = 10 us ... 19 = 30 ks (1-3 steps).
constexpr std::array<double, 20> k_tau{10e-6, 30e-6, 100e-6, 300e-6, 1e-3, 3e-3, 10e-3, 30e-3, 100e-3, 300e-3,
                                       1.0,   3.0,   10.0,   30.0,   100.0, 300.0, 1e3, 3e3, 10e3, 30e3};
constexpr double k_rel = 1e-9;  // table matching tolerance (relative)

// Smallest table entry >= value; -1 when none.
template <std::size_t N>
int index_at_least(const std::array<double, N>& table, double value) {
    for (std::size_t i = 0; i < N; ++i)
        if (table[i] >= value * (1 - k_rel)) return static_cast<int>(i);
    return -1;
}
}  // namespace

SrsSr830::SrsSr830(std::shared_ptr<ScpiSession> session) : LockIn(std::move(session)) {}

LockInLimits SrsSr830::limits() const {
    return {Volt(0.004), Volt(5.0), Hertz(0.001), Hertz(102e3), k_sens, k_tau};
}

void SrsSr830::set_reference_amplitude(Volt rms) {
    check_range(name(), model(), "reference amplitude", rms.si(), 0.004, 5.0, "V");
    session_->write(fmt::format("SLVL {:.3f}", rms.si()));  // 2 mV resolution
    remember("reference_amplitude", rms.si(), "V");
}

void SrsSr830::set_reference_frequency(Hertz f) {
    check_range(name(), model(), "reference frequency", f.si(), 0.001, 102e3, "Hz");
    session_->write("FMOD 1");  // internal reference
    session_->write("FREQ " + scpi_number(f.si()));
    remember("reference_frequency", f.si(), "Hz");
}

void SrsSr830::set_sensitivity(Volt fs) {
    const int i = index_at_least(k_sens, fs.si());
    if (i < 0 || fs.si() <= 0) check_range(name(), model(), "sensitivity", fs.si(), k_sens.front(), k_sens.back(), "V");
    set_sensitivity_raw(i < 0 ? 0 : i);
}

void SrsSr830::set_sensitivity_raw(int i) {
    check_range(name(), model(), "sensitivity index", i, 0, 26, "");
    session_->write(fmt::format("SENS {}", i));
    remember("sensitivity", k_sens[static_cast<std::size_t>(i)], "V");
}

void SrsSr830::set_time_constant(Second tau) {
    const int i = index_at_least(k_tau, tau.si());
    if (i < 0 || tau.si() <= 0) check_range(name(), model(), "time constant", tau.si(), k_tau.front(), k_tau.back(), "s");
    set_time_constant_raw(i < 0 ? 0 : i);
}

void SrsSr830::set_time_constant_raw(int i) {
    check_range(name(), model(), "time constant index", i, 0, 19, "");
    session_->write(fmt::format("OFLT {}", i));
    remember("time_constant", k_tau[static_cast<std::size_t>(i)], "s");
}

Volt SrsSr830::sensitivity() {
    const auto i = session_->query_int("SENS?");
    if (i < 0 || i > 26) throw ProtocolError(fmt::format("{}: SENS? returned index {} (0..26)", name(), i));
    return Volt(k_sens[static_cast<std::size_t>(i)]);
}

Second SrsSr830::time_constant() {
    const auto i = session_->query_int("OFLT?");
    if (i < 0 || i > 19) throw ProtocolError(fmt::format("{}: OFLT? returned index {} (0..19)", name(), i));
    return Second(k_tau[static_cast<std::size_t>(i)]);
}

LockInReading SrsSr830::read() {
    // SNAP? 1,2,3,4: X, Y, R, theta (degrees) taken at the same instant.
    const auto v = session_->query_doubles("SNAP? 1,2,3,4");
    if (v.size() != 4)
        throw ProtocolError(fmt::format("{}: SNAP? 1,2,3,4 returned {} values (expected 4)", name(), v.size()));
    return {Volt(v[0]), Volt(v[1]), Volt(v[2]), v[3] * std::numbers::pi / 180.0};
}

void SrsSr830::safe_state() {
    session_->write("SLVL 0.004");  // the smallest sine output the SR830 can make
    remember("reference_amplitude", 0.004, "V");
}

}  // namespace mtjlab::drivers
