#include "test_support.hpp"

#include "mtjlab/core/error.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace mtjlab::test {
namespace fs = std::filesystem;

std::optional<fs::path> shared_data_dir() {
    fs::path dir;
    if (const char* env = std::getenv("MTJLAB_DATA"); env && *env) {
        dir = env;
    } else {
        dir = MTJLAB_SHARED_DATA_DEFAULT;
    }
    std::error_code ec;
    if (fs::is_directory(dir, ec)) return dir;
    return std::nullopt;
}

fs::path cli_path() { return MTJLAB_CLI_PATH; }
fs::path source_dir() { return MTJLAB_SOURCE_DIR; }

TempDir::TempDir(const std::string& hint) {
    static std::atomic<int> counter{0};
    std::random_device rd;
    const fs::path base = fs::path(MTJLAB_BINARY_DIR) / "test-tmp";
    fs::create_directories(base);
    path_ = base / (hint + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                    std::to_string(rd() % 100000));
    fs::remove_all(path_);
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

CommandResult run_command(const std::string& command) {
    TempDir tmp("cmd");
    const auto out = tmp / "out";
    const auto err = tmp / "err";
    const std::string full = "(" + command + ") >'" + out.string() + "' 2>'" + err.string() + "' </dev/null";
    const int status = std::system(full.c_str());
    CommandResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

CommandResult run_cli(const std::string& args) { return run_command("'" + cli_path().string() + "' " + args); }

bool update_golden() {
    const char* env = std::getenv("MTJLAB_UPDATE_GOLDEN");
    return env && std::string(env) == "1";
}

}  // namespace mtjlab::test
