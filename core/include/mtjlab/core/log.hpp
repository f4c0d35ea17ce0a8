#pragma once
// Logging setup. Library code logs through named spdlog loggers (one per instrument or subsystem);
// all logs go to stderr so stdout stays clean for the CLI's machine-readable output.
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace mtjlab::log {

/// Configures the default sink and level for every logger ("trace", "debug", "info", "warn", "error", "off").
/// Throws InputError for an unknown level name.
void setup(const std::string& level);

/// The logger with this name, created on first use with the configured sink and level.
std::shared_ptr<spdlog::logger> get(const std::string& name);

}  // namespace mtjlab::log
