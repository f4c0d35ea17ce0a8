#include <catch2/catch.hpp>

#include <thread>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/scpi/session.hpp"
#include "mtjlab/drivers/transport/in_process.hpp"
#include "scripted.hpp"

using namespace mtjlab;
using namespace mtjlab::drivers;
using mtjlab::test::scripted;

namespace {
SessionOptions named(std::string name) {
    SessionOptions o;
    o.name = std::move(name);
    return o;
}
}  // namespace

TEST_CASE("reply parsers", "[unit][drivers][scpi]") {
    CHECK(parse_double("+1.00000000E+03\n") == 1000.0);
    CHECK(parse_double(" -2.5e-7 ") == -2.5e-7);
    CHECK(parse_int("+17") == 17);
    CHECK(parse_bool("1"));
    CHECK_FALSE(parse_bool("OFF"));
    CHECK(parse_doubles("1.5,-2,3e-3") == std::vector<double>{1.5, -2, 3e-3});
    CHECK_THROWS_AS(parse_double("abc"), ProtocolError);
    CHECK_THROWS_AS(parse_double(""), ProtocolError);
    CHECK_THROWS_AS(parse_double("1.0V"), ProtocolError);
    CHECK_THROWS_AS(parse_int("1.5"), ProtocolError);
    CHECK_THROWS_AS(parse_bool("2"), ProtocolError);
    CHECK_THROWS_WITH(parse_doubles("1,x,3"), Catch::Contains("item 2"));
    const auto e = parse_scpi_error("-222,\"Data out of range\"");
    CHECK(e.code == -222);
    CHECK(e.message == "Data out of range");
    CHECK(parse_scpi_error("+0,\"No error\"").code == 0);
    CHECK_THROWS_AS(parse_scpi_error("garbage"), ProtocolError);
    CHECK(scpi_number(2e-7) == "2e-07");
    CHECK(scpi_number(0.5) == "0.5");
    CHECK(scpi_number(200 * 1e-9) == "2e-07");
    CHECK(scpi_number(1000) == "1000");
    CHECK(parse_double(scpi_number(1.23456789012e-5)) == 1.23456789012e-5);
}

TEST_CASE("session: write, query and typed queries follow the script", "[unit][drivers][scpi]") {
    auto s = scripted({{"*RST", {}}, {"FREQ?", "+1.0E+03"}, {"BURS:NCYC?", "+1"}, {"OUTP?", "0"},
                       {"SNAP? 1,2", "1.5e-3,-2e-4"}, {"*IDN?", "KEYSIGHT,33522B,MY1,4.0"}},
                      named("pulse_gen"));
    s.session->write("*RST");
    CHECK(s.session->query_double("FREQ?") == 1000.0);
    CHECK(s.session->query_int("BURS:NCYC?") == 1);
    CHECK_FALSE(s.session->query_bool("OUTP?"));
    CHECK(s.session->query_doubles("SNAP? 1,2") == std::vector<double>{1.5e-3, -2e-4});
    CHECK(s.session->identify() == "KEYSIGHT,33522B,MY1,4.0");
    CHECK(s.t->remaining() == 0);
}

TEST_CASE("session: garbage reply is a ProtocolError naming instrument and command", "[unit][drivers][scpi]") {
    auto s = scripted({{"FREQ?", "\x01\x02zz"}}, named("pulse_gen"));
    try {
        (void)s.session->query_double("FREQ?");
        FAIL("no exception");
    } catch (const ProtocolError& e) {
        CHECK_THAT(e.what(), Catch::Contains("asking 'FREQ?' to pulse_gen"));
        CHECK_THAT(e.what(), Catch::Contains("\\x01"));
    }
}

TEST_CASE("session: no reply is a TimeoutError naming instrument and command", "[unit][drivers][scpi]") {
    auto s = scripted({{"FREQ?", std::nullopt}}, named("lockin"));
    CHECK_THROWS_WITH(s.session->query("FREQ?"), Catch::Contains("asking 'FREQ?' to lockin"));
}

TEST_CASE("session: write_checked drains SYST:ERR? into InstrumentError", "[unit][drivers][scpi]") {
    auto s = scripted({{"VOLT 20", {}},
                       {"SYST:ERR?", "-222,\"Data out of range\""},
                       {"SYST:ERR?", "-221,\"Settings conflict\""},
                       {"SYST:ERR?", "+0,\"No error\""},
                       {"VOLT 1", {}},
                       {"SYST:ERR?", "0,\"No error\""}},
                      named("pulse_gen"));
    try {
        s.session->write_checked("VOLT 20");
        FAIL("no exception");
    } catch (const InstrumentError& e) {
        CHECK_THAT(e.what(), Catch::Contains("-222,\"Data out of range\""));
        CHECK_THAT(e.what(), Catch::Contains("-221"));
        CHECK_THAT(e.what(), Catch::Contains("writing 'VOLT 20' to pulse_gen"));
    }
    CHECK_NOTHROW(s.session->write_checked("VOLT 1"));
    CHECK(s.t->remaining() == 0);
}

TEST_CASE("session: error draining is bounded", "[unit][drivers][scpi]") {
    std::deque<mtjlab::test::Step> script;
    for (int i = 0; i < 3; ++i) script.push_back({"SYST:ERR?", "-350,\"Queue overflow\""});
    auto o = named("magnet");
    o.max_error_drain = 3;
    auto s = scripted(script, o);
    const auto errors = s.session->drain_errors();
    REQUIRE(errors.size() == 4);
    CHECK(errors[0].code == -350);
    CHECK_THAT(errors[3].message, Catch::Contains("still not empty after 3"));
}

TEST_CASE("session: *OPC? synchronisation", "[unit][drivers][scpi]") {
    auto s = scripted({{"*OPC?", "1"}, {"*OPC?", "0"}}, named("pulse_gen"));
    CHECK_NOTHROW(s.session->sync());
    CHECK_THROWS_AS(s.session->sync(), ProtocolError);
}

TEST_CASE("session: IEEE 488.2 definite and indefinite blocks", "[unit][drivers][scpi]") {
    const std::string payload("a\nb\r\0c", 6);
    auto s = scripted({{"DATA?", "#16" + payload}, {"DATA2?", "#0xyz"}, {"DATA3?", "#210" + std::string(10, 'q')},
                       {"BAD?", "12345"}, {"BIG?", "#9999999999"}},
                      named("scope"));
    CHECK(s.session->query_block("DATA?") == payload);
    CHECK(s.session->query_block("DATA2?") == "xyz");
    CHECK(s.session->query_block("DATA3?") == std::string(10, 'q'));
    CHECK_THROWS_WITH(s.session->query_block("BAD?"), Catch::Contains("not an IEEE 488.2 block"));
    CHECK_THROWS_WITH(s.session->query_block("BIG?"), Catch::Contains("exceeds the limit"));
}

TEST_CASE("session: CR LF replies and bare CR replies both end a message", "[unit][drivers][scpi]") {
    auto t = std::make_unique<InProcessTransport>([](std::string_view m) -> std::optional<std::string> {
        if (m == "A?") return "1\r";   // CR, then the transport's LF: one CR LF terminator
        if (m == "B?") return "2";
        return std::nullopt;
    });
    ScpiSession s(std::move(t), named("x"));
    CHECK(s.query("A?") == "1");
    CHECK(s.query("B?") == "2");
}

TEST_CASE("session: an IEEE 488.2 block after a CR LF reply", "[unit][drivers][scpi]") {
    // CR ends the reply; its LF is still to be read when the block's '#' is expected.
    auto o = named("scope");
    o.termination.read = "\r\n";
    auto s = scripted({{"A?", "abc\r"}, {"CURV?", "#13xyz\r"}, {"B?", "2\r"}}, o);
    CHECK(s.session->query("A?") == "abc");
    CHECK(s.session->query_block("CURV?") == "xyz");
    CHECK(s.session->query("B?") == "2");
}

TEST_CASE("session: a garbled error-queue reply puts the session out of step", "[unit][drivers][scpi]") {
    // The garbled line may be a late reply to an earlier query, the error queue's answer still to come: it must
    // not answer the next query.
    auto s = scripted({{"CMD 1", std::nullopt}, {"SYST:ERR?", "garbage\n0,\"No error\""}, {"FREQ?", "1000"}},
                      named("lockin"));
    CHECK_THROWS_WITH(s.session->write_checked("CMD 1"),
                      Catch::Contains("garbage") && Catch::Contains("asking 'SYST:ERR?' to lockin"));
    CHECK(s.session->query("FREQ?") == "1000");
}

TEST_CASE("session: an overlong reply is rejected, not buffered without bound", "[unit][drivers][scpi]") {
    auto o = named("x");
    o.max_reply = 16;
    auto s = scripted({{"LONG?", std::string(100, 'x')}}, o);
    CHECK_THROWS_WITH(s.session->query("LONG?"), Catch::Contains("longer than 16"));
}

TEST_CASE("session: one transaction at a time from many threads", "[unit][drivers][scpi]") {
    // The handler answers each query with its own argument; interleaving would mix replies.
    auto t = std::make_unique<InProcessTransport>([](std::string_view m) -> std::optional<std::string> {
        return std::string(m.substr(2));
    });
    ScpiSession s(std::move(t), named("x"));
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int k = 0; k < 4; ++k) {
        threads.emplace_back([&, k] {
            for (int i = 0; i < 500; ++i) {
                const auto tag = std::to_string(k * 1000 + i);
                if (s.query("Q " + tag) != tag) ++wrong;
            }
        });
    }
    for (auto& th : threads) th.join();
    CHECK(wrong == 0);
}
