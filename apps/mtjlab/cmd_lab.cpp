#include "commands.hpp"

namespace mtjlab::cli {

void register_lab(CLI::App& /*app*/, const GlobalOptions& /*global*/) {}

}  // namespace mtjlab::cli
