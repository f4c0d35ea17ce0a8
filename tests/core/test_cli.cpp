#include <catch2/catch.hpp>

#include "mtjlab/core/version.hpp"
#include "test_support.hpp"

using mtjlab::test::run_cli;

TEST_CASE("mtjlab --version prints version and git hash", "[integration][cli]") {
    const auto r = run_cli("--version");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(std::string(mtjlab::version_string())) != std::string::npos);
}

TEST_CASE("mtjlab --help lists the subcommands", "[integration][cli]") {
    const auto r = run_cli("--help");
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("mtjlab") != std::string::npos);
}

TEST_CASE("unknown subcommands and flags are one-line errors with exit code 2", "[integration][cli]") {
    const auto r = run_cli("no-such-command");
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    const auto r2 = run_cli("--no-such-flag");
    CHECK(r2.exit_code == 2);
}
