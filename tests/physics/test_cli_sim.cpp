// mtjlab sim ...: output formats and bad input.
#include <catch2/catch.hpp>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "test_support.hpp"

using mtjlab::test::run_cli;

TEST_CASE("sim device --json prints the documented keys", "[integration][cli][sim]") {
    const auto r = run_cli("sim device --thickness 1.6 --cells 3 --json");
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    for (const char* key : {"thickness_nm", "cells", "levels_ohm", "tmr", "level_steps", "vc_V", "hc_mT", "hex_mT",
                            "vb_V", "r_channel_ohm"}) {
        INFO(key);
        CHECK(j.contains(key));
    }
    CHECK(j["levels_ohm"].size() == 4);
    CHECK(j["level_steps"].size() == 3);
    CHECK(j["levels_ohm"][0].get<double>() < j["levels_ohm"][3].get<double>());
    CHECK(j["vc_V"].get<double>() > 0.7);
    const auto w = nlohmann::json::parse(run_cli("sim device --die 2 --device 1 --seed 3 --json").out);
    CHECK(w["die"] == 2);
    CHECK(w["cells"] == 2);
}

TEST_CASE("sim rh/rv/psw/wafer print their columns", "[integration][cli][sim]") {
    const auto rh = run_cli("sim rh --thickness 2.0 --cells 1 --hmax 20 --step 1 --csv");
    REQUIRE(rh.exit_code == 0);
    CHECK(rh.out.rfind("H_mT,R_ohm\n", 0) == 0);
    CHECK(std::count(rh.out.begin(), rh.out.end(), '\n') == 1 + 2 * 41);
    const auto rv = run_cli("sim rv --thickness 1.9 --cells 3 --assist 6 --vmax 1.5 --step 0.1 --width 2e-7 --csv");
    REQUIRE(rv.exit_code == 0);
    CHECK(rv.out.rfind("V_V,R_ohm\n", 0) == 0);
    const auto psw = run_cli("sim psw --thickness 1.6 --cells 1 --volts -0.8:-0.6:0.05 --width 2e-7 --trials 50 --json");
    REQUIRE(psw.exit_code == 0);
    const auto j = nlohmann::json::parse(psw.out);
    CHECK(j["volts"].size() == 5);
    CHECK(j["p_switch"].size() == 5);
    CHECK(j["p_switch"][0].get<double>() == 1.0);  // -0.8 V is past V_c = 0.7 V
    const auto wafer = run_cli("sim wafer --dies 3 --devices 2 --csv");
    REQUIRE(wafer.exit_code == 0);
    CHECK(std::count(wafer.out.begin(), wafer.out.end(), '\n') == 1 + 6);
}

TEST_CASE("sim: bad input is one line naming the parameter, exit 2", "[integration][cli][sim]") {
    for (const char* args : {"sim device --thickness 3.0 --cells 1", "sim device --thickness 2.0 --cells 0",
                             "sim device --thickness nan --cells 1", "sim rh --thickness 2 --hmax 10 --step -1",
                             "sim psw --thickness 2 --volts 0:1:0.1 --trials -5",
                             "sim psw --thickness 2 --volts 0:1 --trials 5",
                             "sim rv --thickness 2 --width -1e-9", "sim wafer --dies 0 --devices 2"}) {
        const auto r = run_cli(args);
        INFO(args << " -> " << r.err);
        CHECK(r.exit_code == 2);
        CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
        CHECK(r.out.empty());
    }
    CHECK(run_cli("sim device --thickness 3.0 --cells 1").err.find("thickness") != std::string::npos);
    CHECK(run_cli("sim psw --thickness 2 --volts 0:1:0.1 --trials -5").err.find("--trials") != std::string::npos);
}
