#include "mtjlab/drivers/lockin/srs_sr860.hpp"

#include <array>
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::drivers {

namespace {
// SR860 manual, SCAL (i): 0 = 1 V, 1 = 500 mV, 2 = 200 mV ... 27 = 1 nV (descending 1-5-2 steps).
constexpr std::array<double, 28> k_sens{1.0,   500e-3, 200e-3, 100e-3, 50e-3, 20e-3, 10e-3, 5e-3,  2e-3,  1e-3,
                                        500e-6, 200e-6, 100e-6, 50e-6, 20e-6, 10e-6, 5e-6,  2e-6,  1e-6,  500e-9,
                                        200e-9, 100e-9, 50e-9,  20e-9, 10e-9, 5e-9,  2e-9,  1e-9};
// SR860 manual, OFLT (i): 0 = 1 us, 1 = 3 us ... 21 = 30 ks.
constexpr std::array<double, 22> k_tau{1e-6,  3e-6,  10e-6, 30e-6, 100e-6, 300e-6, 1e-3, 3e-3,  10e-3, 30e-3, 100e-3,
                                       300e-3, 1.0,  3.0,   10.0,  30.0,   100.0,  300.0, 1e3, 3e3,   10e3,  30e3};
constexpr double k_rel = 1e-9;
}  // namespace

SrsSr860::SrsSr860(std::shared_ptr<ScpiSession> session) : LockIn(std::move(session)) {}

LockInLimits SrsSr860::limits() const { return {Volt(1e-9), Volt(2.0), Hertz(0.001), Hertz(500e3), k_sens, k_tau}; }

void SrsSr860::set_reference_amplitude(Volt rms) {
    check_range(name(), model(), "reference amplitude", rms.si(), 1e-9, 2.0, "V");
    session_->write("SLVL " + scpi_number(rms.si()));
    remember("reference_amplitude", rms.si(), "V");
}

void SrsSr860::set_reference_frequency(Hertz f) {
    check_range(name(), model(), "reference frequency", f.si(), 0.001, 500e3, "Hz");
    session_->write("RSRC 0");  // internal reference
    session_->write("FREQ " + scpi_number(f.si()));
    remember("reference_frequency", f.si(), "Hz");
}

void SrsSr860::set_sensitivity(Volt fs) {
    // Descending table: the smallest full scale >= fs is the last index whose value is >= fs.
    int best = -1;
    for (std::size_t i = 0; i < k_sens.size(); ++i)
        if (k_sens[i] >= fs.si() * (1 - k_rel)) best = static_cast<int>(i);
    if (best < 0 || fs.si() <= 0) check_range(name(), model(), "sensitivity", fs.si(), 1e-9, 1.0, "V");
    set_sensitivity_raw(best < 0 ? 0 : best);
}

void SrsSr860::set_sensitivity_raw(int i) {
    check_range(name(), model(), "sensitivity index", i, 0, 27, "");
    session_->write(fmt::format("SCAL {}", i));
    remember("sensitivity", k_sens[static_cast<std::size_t>(i)], "V");
}

void SrsSr860::set_time_constant(Second tau) {
    int idx = -1;
    for (std::size_t i = 0; i < k_tau.size(); ++i)
        if (k_tau[i] >= tau.si() * (1 - k_rel)) { idx = static_cast<int>(i); break; }
    if (idx < 0 || tau.si() <= 0) check_range(name(), model(), "time constant", tau.si(), 1e-6, 30e3, "s");
    set_time_constant_raw(idx < 0 ? 0 : idx);
}

void SrsSr860::set_time_constant_raw(int i) {
    check_range(name(), model(), "time constant index", i, 0, 21, "");
    session_->write(fmt::format("OFLT {}", i));
    remember("time_constant", k_tau[static_cast<std::size_t>(i)], "s");
}

Volt SrsSr860::sensitivity() {
    const auto i = session_->query_int("SCAL?");
    if (i < 0 || i > 27) throw ProtocolError(fmt::format("{}: SCAL? returned index {} (0..27)", name(), i));
    return Volt(k_sens[static_cast<std::size_t>(i)]);
}

Second SrsSr860::time_constant() {
    const auto i = session_->query_int("OFLT?");
    if (i < 0 || i > 21) throw ProtocolError(fmt::format("{}: OFLT? returned index {} (0..21)", name(), i));
    return Second(k_tau[static_cast<std::size_t>(i)]);
}

LockInReading SrsSr860::read() {
    // SNAP? takes at most three parameters on the SR860: X (0), Y (1), THeta (3); R = |X + iY| exactly.
    const auto v = session_->query_doubles("SNAP? 0,1,3");
    if (v.size() != 3)
        throw ProtocolError(fmt::format("{}: SNAP? 0,1,3 returned {} values (expected 3)", name(), v.size()));
    return {Volt(v[0]), Volt(v[1]), Volt(std::hypot(v[0], v[1])), v[2] * std::numbers::pi / 180.0};
}

void SrsSr860::safe_state() {
    session_->write("SLVL 1e-09");  // the smallest sine output (1 nV)
    remember("reference_amplitude", 1e-9, "V");
}

}  // namespace mtjlab::drivers
