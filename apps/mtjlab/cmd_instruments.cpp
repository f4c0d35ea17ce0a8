#include "commands.hpp"

namespace mtjlab::cli {

void register_instruments(CLI::App& /*app*/, const GlobalOptions& /*global*/) {}

}  // namespace mtjlab::cli
