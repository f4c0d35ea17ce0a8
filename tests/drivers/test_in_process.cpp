#include <catch2/catch.hpp>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/transport/in_process.hpp"

using namespace mtjlab;
using namespace mtjlab::drivers;

TEST_CASE("in-process transport: one handler call per message, replies readable", "[unit][drivers][transport]") {
    std::vector<std::string> seen;
    InProcessTransport t([&](std::string_view m) -> std::optional<std::string> {
        seen.emplace_back(m);
        if (m.ends_with("?")) return "R" + std::string(m);
        return std::nullopt;
    }, "SIM::pulse_gen");
    CHECK(t.resource() == "SIM::pulse_gen");
    t.write("A\r\nB?\n", std::chrono::seconds(1));
    t.write("C", std::chrono::seconds(1));  // not terminated yet
    CHECK(seen == std::vector<std::string>{"A", "B?"});
    CHECK(t.read_line(std::chrono::seconds(1)) == "RB?");
    t.write("?\n", std::chrono::seconds(1));
    CHECK(seen.back() == "C?");
    CHECK(t.read_line(std::chrono::seconds(1)) == "RC?");
    // Nothing pending: a read fails at once instead of waiting.
    CHECK_THROWS_AS(t.read_line(std::chrono::hours(1)), TimeoutError);
    t.close();
    CHECK_THROWS_AS(t.write("X\n", std::chrono::seconds(1)), TransportError);
}
