#pragma once
#include <string_view>

namespace mtjlab {
/// Semantic version of this build, e.g. "0.1.0".
std::string_view version();
/// Git commit the build was configured from ("unknown" outside a checkout, "-dirty" if modified).
std::string_view git_hash();
/// "mtjlab 0.1.0 (abc123def456)".
std::string_view version_string();
}  // namespace mtjlab
