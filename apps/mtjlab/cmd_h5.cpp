#include "commands.hpp"

namespace mtjlab::cli {

void register_h5(CLI::App& /*app*/, const GlobalOptions& /*global*/) {}

}  // namespace mtjlab::cli
