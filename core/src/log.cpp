#include "mtjlab/core/log.hpp"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::log {
namespace {
std::mutex g_mutex;
spdlog::sink_ptr sink() {
    static spdlog::sink_ptr s = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    return s;
}
spdlog::level::level_enum g_level = spdlog::level::warn;
}  // namespace

void setup(const std::string& level) {
    const auto lv = spdlog::level::from_str(level);
    if (lv == spdlog::level::off && level != "off") {
        throw InputError("unknown log level '" + level + "' (use trace, debug, info, warn, error, off)");
    }
    std::lock_guard lock(g_mutex);
    g_level = lv;
    sink()->set_pattern("%H:%M:%S.%e %^%-5l%$ [%n] %v");
    spdlog::apply_all([lv](const std::shared_ptr<spdlog::logger>& l) { l->set_level(lv); });
}

std::shared_ptr<spdlog::logger> get(const std::string& name) {
    std::lock_guard lock(g_mutex);
    if (auto existing = spdlog::get(name)) return existing;
    auto logger = std::make_shared<spdlog::logger>(name, sink());
    logger->set_level(g_level);
    spdlog::register_logger(logger);
    return logger;
}

}  // namespace mtjlab::log
