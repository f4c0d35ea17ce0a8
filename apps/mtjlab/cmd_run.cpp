#include "commands.hpp"

namespace mtjlab::cli {

void register_run(CLI::App& /*app*/, const GlobalOptions& /*global*/) {}

}  // namespace mtjlab::cli
