#pragma once
// Helpers shared by all test executables.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "mtjlab/core/error.hpp"

namespace mtjlab::test {

/// ../shared/data (or $MTJLAB_DATA); nullopt when it is not there, in which case the caller skips
/// with a visible WARN message.
std::optional<std::filesystem::path> shared_data_dir();

/// Path of the built `mtjlab` executable.
std::filesystem::path cli_path();

/// Repository root.
std::filesystem::path source_dir();

/// A fresh, empty directory under the build tree, removed when the object dies.
class TempDir {
public:
    explicit TempDir(const std::string& hint = "t");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

/// Result of running a command through /bin/sh.
struct CommandResult {
    int exit_code = -1;
    std::string out;  ///< stdout
    std::string err;  ///< stderr
};

/// Runs `command` (a shell command line) and captures stdout, stderr and the exit code.
CommandResult run_command(const std::string& command);

/// Runs the mtjlab CLI with these arguments (already shell-quoted where needed).
CommandResult run_cli(const std::string& args);

/// The whole file as bytes ("" when it cannot be read: the test's own checks then fail on the content).
std::string slurp(const std::filesystem::path& p);

/// The message of the mtjlab::Error (or of the narrower E) that `f` throws, "<no error>" when it throws none (any
/// other exception propagates and fails the test).
template <typename E = Error>
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    return "<no error>";
}

/// True when the golden files should be rewritten instead of compared (MTJLAB_UPDATE_GOLDEN=1).
bool update_golden();

}  // namespace mtjlab::test
