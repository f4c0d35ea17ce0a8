#include "mtjlab/drivers/magnet/kepco_bop.hpp"

#include <array>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::drivers {

namespace {
// Kepco BOP 100 W / 200 W / 400 W linear models: rated bipolar output (catalogue).
constexpr std::array<KepcoBopModel, 13> k_models{{
    {"BOP 20-5", 20, 5},   {"BOP 20-10", 20, 10}, {"BOP 20-20", 20, 20}, {"BOP 36-6", 36, 6},
    {"BOP 36-12", 36, 12}, {"BOP 50-2", 50, 2},   {"BOP 50-4", 50, 4},   {"BOP 50-8", 50, 8},
    {"BOP 72-3", 72, 3},   {"BOP 72-6", 72, 6},   {"BOP 100-1", 100, 1}, {"BOP 100-2", 100, 2},
    {"BOP 100-4", 100, 4},
}};

// "BOP 20-10ML" / "BOP20-10" -> "BOP20-10"
std::string normalise(std::string_view s) {
    std::string out;
    for (char c : s)
        if (c != ' ') out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // Cut the option letters after the V-I digits.
    const auto dash = out.find('-');
    if (dash == std::string::npos) return out;
    std::size_t end = dash + 1;
    while (end < out.size() && std::isdigit(static_cast<unsigned char>(out[end]))) ++end;
    return out.substr(0, end);
}

const KepcoBopModel* find_row(std::string_view model) {
    const auto key = normalise(model);
    for (const auto& m : k_models)
        if (normalise(m.name) == key) return &m;
    return nullptr;
}
}  // namespace

std::span<const KepcoBopModel> kepco_bop_models() { return k_models; }

KepcoBop::KepcoBop(std::shared_ptr<ScpiSession> session, std::string_view bop_model)
    : MagnetSupply(std::move(session)), rating_(find_row(bop_model)) {
    if (!rating_) throw InputError(fmt::format("unknown Kepco model '{}' (not in the BOP table)", bop_model));
}

void KepcoBop::identify_model() {
    const auto idn = identify();  // KEPCO,BOP 20-10ML,serial,firmware
    const auto c1 = idn.find(',');
    const auto c2 = c1 == std::string::npos ? std::string::npos : idn.find(',', c1 + 1);
    const auto field = c1 == std::string::npos ? std::string() : idn.substr(c1 + 1, c2 - c1 - 1);
    const auto* row = find_row(field);
    if (!row) throw InstrumentError(fmt::format("{}: *IDN? model '{}' is not in the BOP table", name(), field));
    rating_ = row;
}

MagnetLimits KepcoBop::limits() const {
    return {Ampere(rating_->amps), Volt(rating_->volts), Volt(0.0)};
}

void KepcoBop::configure_current_mode() { session_->write_checked("FUNC:MODE CURR"); }

void KepcoBop::set_current(Ampere i) {
    const double lim = current_limit().si();
    check_range(name(), rating_->name, "coil current", i.si(), -lim, lim, "A");
    setpoint_known_ = false;  // a command that fails may still have been taken: read it back before a ramp
    session_->write_checked("CURR " + scpi_number(i.si()));
    note_setpoint(i);
    remember("current", i.si(), "A");
}

void KepcoBop::set_compliance(Volt v) {
    check_range(name(), rating_->name, "voltage limit", v.si(), 0.0, rating_->volts, "V");
    session_->write_checked("VOLT " + scpi_number(v.si()));  // in current mode VOLT is the voltage limit
    remember("compliance", v.si(), "V");
}

void KepcoBop::set_output(bool on) {
    session_->write_checked(on ? "OUTP ON" : "OUTP OFF");
    remember("output", on ? 1 : 0, "");
}

Ampere KepcoBop::measure_current() { return Ampere(session_->query_double("MEAS:CURR?")); }

Ampere KepcoBop::query_setpoint_raw() { return Ampere(session_->query_double("CURR?")); }

void KepcoBop::safe_state() {
    confirm_output_off({"CURR 0", "OUTP OFF"}, "OUTP?");
    note_setpoint(Ampere(0));
    remember("current", 0, "A");
    remember("output", 0, "");
}

}  // namespace mtjlab::drivers
