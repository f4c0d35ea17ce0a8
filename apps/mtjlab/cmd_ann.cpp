#include "commands.hpp"

namespace mtjlab::cli {

void register_ann(CLI::App& /*app*/, const GlobalOptions& /*global*/) {}

}  // namespace mtjlab::cli
