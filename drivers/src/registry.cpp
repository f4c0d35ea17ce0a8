#include "mtjlab/drivers/registry.hpp"

#include <array>
#include <cctype>
#include <sstream>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/gaussmeter/lakeshore_425.hpp"
#include "mtjlab/drivers/lockin/srs_lockin.hpp"
#include "mtjlab/drivers/magnet/keithley_2400.hpp"
#include "mtjlab/drivers/magnet/kepco_bop.hpp"
#include "mtjlab/drivers/pulse_gen/scpi_pulse_generator.hpp"

namespace mtjlab::drivers {

namespace {
using P = SerialSettings::Parity;
using F = SerialSettings::FlowControl;
const Termination k_lf{"\n", "\r\n"};
const Termination k_crlf{"\r\n", "\r\n"};

const std::array<ModelInfo, 7>& table() {
    static const std::array<ModelInfo, 7> t{{
        {"keysight_33500b", "keysight33500b 33500b 33521b 33522b 33509b 33510b 33511b 33512b 33519b 33520b",
         Role::pulse_gen, k_lf, true, std::nullopt},
        {"agilent_81150a", "agilent81150a keysight_81150a 81150a", Role::pulse_gen, k_lf, true, std::nullopt},
        {"srs_sr830", "srssr830 sr830", Role::lockin, k_lf, false, SerialSettings{9600, 8, P::none, 1, F::none}},
        {"srs_sr860", "srssr860 sr860", Role::lockin, k_lf, false, std::nullopt},
        {"kepco_bop", "kepcobop bop", Role::magnet, k_lf, true, SerialSettings{9600, 8, P::none, 1, F::none}},
        {"keithley_2400", "keithley2400 2400", Role::magnet, k_lf, true, SerialSettings{9600, 8, P::none, 1, F::none}},
        {"lakeshore_425", "lakeshore425 ls425 425", Role::gaussmeter, k_crlf, false,
         SerialSettings{57600, 7, P::odd, 1, F::none}},
    }};
    return t;
}

std::string squash(std::string_view s) {
    std::string out;
    for (char c : s)
        if (c != '_' && c != '-' && c != ' ') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

template <class Want>
std::unique_ptr<Want> cast_or_throw(std::unique_ptr<Instrument> inst, std::string_view model, Role want) {
    if (auto* p = dynamic_cast<Want*>(inst.get())) {
        inst.release();
        return std::unique_ptr<Want>(p);
    }
    throw InputError(fmt::format("model '{}' is a {}, not a {}", model, to_string(find_model(model).role),
                                 to_string(want)));
}
}  // namespace

std::string_view to_string(Role role) {
    switch (role) {
        case Role::pulse_gen: return "pulse_gen";
        case Role::lockin: return "lockin";
        case Role::magnet: return "magnet";
        case Role::gaussmeter: return "gaussmeter";
    }
    return "?";
}

std::span<const ModelInfo> known_models() { return table(); }

const ModelInfo& find_model(std::string_view name) {
    const auto key = squash(name);
    for (const auto& m : table()) {
        if (squash(m.key) == key) return m;
        std::istringstream aliases{std::string(m.aliases)};
        std::string a;
        while (aliases >> a)
            if (squash(a) == key) return m;
    }
    std::string known;
    for (const auto& m : table()) known += (known.empty() ? "" : ", ") + std::string(m.key);
    throw InputError(fmt::format("unknown instrument model '{}' (known: {})", name, known));
}

SessionOptions session_options_for(const ModelInfo& model, std::string name) {
    SessionOptions o;
    o.name = std::move(name);
    o.termination = model.termination;
    o.error_query = model.has_error_queue ? "SYST:ERR?" : "";
    return o;
}

std::unique_ptr<Instrument> make_instrument(std::string_view model, std::shared_ptr<ScpiSession> s) {
    const auto& m = find_model(model);
    if (m.key == "keysight_33500b") return std::make_unique<Keysight33500B>(std::move(s));
    if (m.key == "agilent_81150a") return std::make_unique<Agilent81150A>(std::move(s));
    if (m.key == "srs_sr830") return std::make_unique<SrsSr830>(std::move(s));
    if (m.key == "srs_sr860") return std::make_unique<SrsSr860>(std::move(s));
    if (m.key == "kepco_bop") return std::make_unique<KepcoBop>(std::move(s));
    if (m.key == "keithley_2400") return std::make_unique<Keithley2400>(std::move(s));
    if (m.key == "lakeshore_425") return std::make_unique<LakeShore425>(std::move(s));
    throw InputError(fmt::format("model '{}' has no driver", model));
}

std::unique_ptr<PulseGenerator> make_pulse_generator(std::string_view model, std::shared_ptr<ScpiSession> s) {
    return cast_or_throw<PulseGenerator>(make_instrument(model, std::move(s)), model, Role::pulse_gen);
}
std::unique_ptr<LockIn> make_lock_in(std::string_view model, std::shared_ptr<ScpiSession> s) {
    return cast_or_throw<LockIn>(make_instrument(model, std::move(s)), model, Role::lockin);
}
std::unique_ptr<MagnetSupply> make_magnet_supply(std::string_view model, std::shared_ptr<ScpiSession> s) {
    return cast_or_throw<MagnetSupply>(make_instrument(model, std::move(s)), model, Role::magnet);
}
std::unique_ptr<Gaussmeter> make_gaussmeter(std::string_view model, std::shared_ptr<ScpiSession> s) {
    return cast_or_throw<Gaussmeter>(make_instrument(model, std::move(s)), model, Role::gaussmeter);
}

}  // namespace mtjlab::drivers
