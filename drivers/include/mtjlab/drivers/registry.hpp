#pragma once
// Makes a driver from a model name (case, '_', '-' and spaces ignored: "SR830", "srs_sr830", "SrsSr830").
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mtjlab/drivers/gaussmeter/gaussmeter.hpp"
#include "mtjlab/drivers/lockin/lock_in.hpp"
#include "mtjlab/drivers/magnet/magnet_supply.hpp"
#include "mtjlab/drivers/pulse_gen/pulse_generator.hpp"
#include "mtjlab/drivers/scpi/session.hpp"

namespace mtjlab::drivers {

enum class Role { pulse_gen, lockin, magnet, gaussmeter };
std::string_view to_string(Role role);

/// What the registry knows about a model.
struct ModelInfo {
    std::string_view key;           ///< canonical key, e.g. "srs_sr830"
    std::string_view aliases;       ///< space-separated other names
    Role role;
    Termination termination;        ///< default message terminations
    bool has_error_queue;           ///< SYST:ERR? exists
    std::optional<SerialSettings> serial;  ///< factory serial settings when the model is on RS-232
};

std::span<const ModelInfo> known_models();
/// The model with this name; InputError listing the known models otherwise.
const ModelInfo& find_model(std::string_view name);

/// Session options suited to the model (terminations, error query) with this instrument name.
SessionOptions session_options_for(const ModelInfo& model, std::string name);

/// Drivers by name; InputError when the model is unknown or has a different capability.
std::unique_ptr<PulseGenerator> make_pulse_generator(std::string_view model, std::shared_ptr<ScpiSession> s);
std::unique_ptr<LockIn> make_lock_in(std::string_view model, std::shared_ptr<ScpiSession> s);
std::unique_ptr<MagnetSupply> make_magnet_supply(std::string_view model, std::shared_ptr<ScpiSession> s);
std::unique_ptr<Gaussmeter> make_gaussmeter(std::string_view model, std::shared_ptr<ScpiSession> s);
/// Any capability, as the base class.
std::unique_ptr<Instrument> make_instrument(std::string_view model, std::shared_ptr<ScpiSession> s);

}  // namespace mtjlab::drivers
