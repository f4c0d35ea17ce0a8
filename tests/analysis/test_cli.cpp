// mtjlab analyze end to end: CSV inputs, --json keys, bad input handling and exit codes.
#include <fstream>
#include <random>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "campaign_fixture.hpp"
#include "test_support.hpp"

using mtjlab::test::run_cli;
using mtjlab::test::TempDir;

TEST_CASE("cli: analyze a directory of CSV files with --json", "[integration]") {
    TempDir dir("ana-cli");
    std::filesystem::create_directories(dir / "in" / "sub");
    std::mt19937_64 rng(4);
    mtjlab::test::synth::LoopSpec s;
    for (int k = 0; k < 3; ++k) {
        const auto sw = mtjlab::test::synth::rh_loop(s, rng);
        mtjlab::test::fixture::write_rh_csv((dir / "in" / "sub" / ("dev" + std::to_string(k) + ".csv")).string(), sw, 2.2, 1);
    }
    { std::ofstream(dir / "in" / "empty.csv"); }
    { std::ofstream(dir / "in" / "wrong.csv") << "x,y\n1,2\n"; }
    { std::ofstream(dir / "in" / "flat.csv") << "H_mT,R_ohm\n-5,1000\n-4,1000\n-3,1000\n-2,1000\n-1,1000\n0,1000\n1,1000\n2,1000\n"; }
    const auto r = run_cli("analyze '" + (dir / "in").string() + "' -o '" + (dir / "out").string() + "' --json");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    REQUIRE(j["runs"].size() == 6);
    for (const auto& run : j["runs"]) {
        for (const char* k : {"run", "kind", "thickness_nm", "cells", "r_p_ohm", "r_ap_ohm", "tmr", "hc_mT", "hex_mT",
                              "h_sw_plus_mT", "h_sw_minus_mT", "levels_ohm", "level_steps", "vc_ap_to_p_V",
                              "vc_p_to_ap_V", "breakdown_V", "reasons"}) {
            INFO(run["run"] << " key " << k);
            CHECK(run.contains(k));
        }
        // every null figure has a reason
        for (const char* k : {"tmr", "hc_mT", "vc_ap_to_p_V", "breakdown_V", "levels_ohm"})
            if (run[k].is_null()) CHECK(run["reasons"].contains(k));
    }
    int good = 0;
    for (const auto& run : j["runs"]) {
        const std::string name = run["run"];
        if (name.rfind("dev", 0) == 0) {
            ++good;
            CHECK(run["tmr"].get<double>() == Approx(s.tmr).margin(0.005));
            CHECK(run["hc_mT"].get<double>() == Approx((s.h_plus - s.h_minus) / 2 * 1e3).margin(0.2));
            CHECK(run["thickness_nm"].get<double>() == Approx(2.2));
            CHECK(run["levels_ohm"].size() == 2);
            CHECK(run["vc_ap_to_p_V"].is_null());
        } else if (name == "flat") {
            CHECK(run["tmr"].is_null());
            CHECK(run["reasons"]["tmr"].get<std::string>().find("never switches") != std::string::npos);
            CHECK(run["dead"].get<bool>());
        } else {
            CHECK(run["error"].is_string());
            CHECK(run["tmr"].is_null());
        }
    }
    CHECK(good == 3);
    REQUIRE(j["groups"].size() >= 1);
    bool found = false;
    for (const auto& g : j["groups"])
        if (g["cells"] == 1) {
            found = true;
            CHECK(g["tmr"]["count"] == 3);
            CHECK(g["tmr"].contains("mean"));
            CHECK(g["tmr"].contains("std"));
        }
    CHECK(found);
    CHECK(r.err.find("wrong columns") != std::string::npos);
    CHECK(r.err.find("empty.csv") != std::string::npos);
    CHECK(std::filesystem::exists(dir / "out" / "report.html"));
    CHECK(std::filesystem::exists(dir / "out" / "results.h5"));
    // Re-running with the output directory inside the input does not read our own outputs.
    const auto r2 = run_cli("analyze '" + dir.path().string() + "' -o '" + (dir / "out").string() + "' --json");
    REQUIRE(r2.exit_code == 0);
    CHECK(nlohmann::json::parse(r2.out)["runs"].size() == 6);
}

TEST_CASE("cli: nothing analysable exits non-zero with per-run messages", "[integration]") {
    TempDir dir("ana-cli-bad");
    { std::ofstream(dir / "empty.csv"); }
    { std::ofstream(dir / "wrong.csv") << "a,b\n1,2\n"; }
    auto r = run_cli("analyze '" + (dir / "empty.csv").string() + "' '" + (dir / "wrong.csv").string() + "' -o '" +
                     (dir / "out").string() + "'");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("nothing could be analysed") != std::string::npos);
    CHECK(r.err.find("wrong columns") != std::string::npos);
    r = run_cli("analyze '" + (dir / "missing.csv").string() + "' -o '" + (dir / "out").string() + "'");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("no such file") != std::string::npos);
    r = run_cli("analyze '" + (dir / "empty.csv").string() + "'");  // no -o
    CHECK(r.exit_code == 2);
}
