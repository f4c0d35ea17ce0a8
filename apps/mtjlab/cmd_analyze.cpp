#include "commands.hpp"

namespace mtjlab::cli {

void register_analyze(CLI::App& /*app*/, const GlobalOptions& /*global*/) {}

}  // namespace mtjlab::cli
