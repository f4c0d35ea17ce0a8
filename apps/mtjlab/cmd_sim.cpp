#include "commands.hpp"

namespace mtjlab::cli {

void register_sim(CLI::App& /*app*/, const GlobalOptions& /*global*/) {}

}  // namespace mtjlab::cli
