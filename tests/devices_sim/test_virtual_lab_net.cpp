// The virtual lab over real loopback sockets and pseudo-terminals: every instrument identifies itself,
// terminations, line limits, one client at a time, faults on the wire, and the `mtjlab lab serve` CLI.
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <regex>
#include <thread>

#include "lab_client.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::devices_sim;
using mtjlab::test::RawClient;

namespace {

const LabEndpoint& endpoint(const std::vector<LabEndpoint>& eps, const std::string& name) {
    for (const auto& e : eps)
        if (e.name == name) return e;
    throw std::runtime_error("no endpoint " + name);
}

}  // namespace

TEST_CASE("every virtual instrument answers *IDN? over its TCP socket", "[integration][vlab][tcp]") {
    VirtualLab lab{LabOptions{}};
    lab.start();
    const auto eps = lab.endpoints();
    REQUIRE(eps.size() == 7);
    for (const auto& e : eps) {
        INFO(e.name);
        CHECK(std::regex_match(e.tcp_resource, std::regex(R"(TCPIP0::127\.0\.0\.1::\d+::SOCKET)")));
        auto c = RawClient::tcp(e.port);
        CHECK(c.query("*IDN?") == e.idn);
    }
    // Serial models are also on ptys.
    CHECK(endpoint(eps, "magnet").pty_resource.rfind("ASRL/dev/pts/", 0) == 0);
    CHECK(endpoint(eps, "gaussmeter").pty_resource.rfind("ASRL/dev/pts/", 0) == 0);
    CHECK(endpoint(eps, "lockin").pty_resource.empty());
    lab.stop();
    CHECK_FALSE(lab.running());
}

TEST_CASE("TCP: terminations, joined queries, long lines, malformed input", "[integration][vlab][tcp]") {
    VirtualLab lab{LabOptions{}};
    lab.start();
    const auto eps = lab.endpoints();
    auto pg = RawClient::tcp(endpoint(eps, "pulse_gen").port);
    pg.send("FUNC PULS\r\nFUNC:PULS:WIDT 200 NS\r\n");
    CHECK(pg.query("FUNC?;FUNC:PULS:WIDT?") == "PULS;+2.00000000000000E-07");
    // Several messages in one packet are answered in order.
    pg.send("*IDN?\nSYST:ERR?\n");
    CHECK(pg.line()->find("33522B") != std::string::npos);
    CHECK(*pg.line() == "0,\"No error\"");
    // A line over the limit is discarded with -363 and the connection keeps working.
    pg.send(std::string(10000, 'A') + "\n");
    CHECK(pg.query("SYST:ERR?").rfind("-363,", 0) == 0);
    pg.send(std::string("\x01\x02\xff\xfe garbage ;;; \"\n", 19));
    CHECK(pg.query("SYST:ERR?").rfind("-1", 0) == 0);
    CHECK(pg.query("*IDN?").find("33522B") != std::string::npos);
    // The Lake Shore ends replies with CR LF.
    auto gm = RawClient::tcp(endpoint(eps, "gaussmeter").port);
    gm.send("UNIT 2\n");
    gm.send("RDGFIELD?\n");
    const auto line = gm.raw_line();
    REQUIRE(line);
    CHECK(line->size() >= 2);
    CHECK(line->substr(line->size() - 2) == "\r\n");
}

TEST_CASE("TCP: the fuzz finding's session (pulse narrower than its edges, then a trigger) leaves the lab serving",
          "[integration][vlab][tcp]") {
    // Before the fix the 81150A accepted these settings; the trigger made the probe station throw inside the
    // lab's io thread, which stopped it: every instrument went silent.
    VirtualLab lab{LabOptions{}};
    lab.start();
    const auto eps = lab.endpoints();
    auto pg = RawClient::tcp(endpoint(eps, "pulse_gen2").port);
    pg.send("FUNC PULS\nPULS:WIDT1 1e-8\nPULS:TRAN 1e-7\nVOLT:HIGH 1.0;LOW 0\nOUTP1 ON\nARM:SOUR1 MAN\n"
            "TRIG:COUN1 1\n*TRG\n");
    CHECK(pg.query("SYST:ERR?").rfind("-221,", 0) == 0);
    CHECK(pg.query("SYST:ERR?") == "0,\"No error\"");
    CHECK(pg.query("*IDN?").find("81150A") != std::string::npos);
    auto li = RawClient::tcp(endpoint(eps, "lockin").port);
    CHECK(li.query("*IDN?").find("SR830") != std::string::npos);
    CHECK(lab.running());
}

TEST_CASE("TCP: one client at a time, the next is served when the first leaves", "[integration][vlab][tcp]") {
    VirtualLab lab{LabOptions{}};
    lab.start();
    const auto port = endpoint(lab.endpoints(), "lockin").port;
    auto a = std::make_unique<RawClient>(RawClient::tcp(port));
    CHECK(a->query("*IDN?").find("SR830") != std::string::npos);
    auto b = RawClient::tcp(port);  // queued in the backlog
    b.send("*IDN?\n");
    CHECK_FALSE(b.line(0.3).has_value());
    a.reset();  // first client leaves
    const auto l = b.line(5.0);
    REQUIRE(l);
    CHECK(l->find("SR830") != std::string::npos);
}

TEST_CASE("TCP faults: delay, drop, garbage, stuck *OPC?, pushed error", "[integration][vlab][tcp][fault]") {
    VirtualLab lab{LabOptions{}};
    lab.start();
    const auto eps = lab.endpoints();
    auto& pg = lab.instrument("pulse_gen");
    const auto port = endpoint(eps, "pulse_gen").port;
    auto c = RawClient::tcp(port);

    FaultPlan f;
    f.reply_delay = Second(0.3);
    pg.set_faults(f);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(c.query("*IDN?").find("33522B") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(290));
    pg.clear_faults();

    f = {};
    f.garbage_replies = 1;
    pg.set_faults(f);
    c.send("*IDN?\n");
    const auto garbage = c.raw_line();
    REQUIRE(garbage);
    bool high = false;
    for (char ch : *garbage) high = high || static_cast<unsigned char>(ch) >= 0x80;
    CHECK(high);
    CHECK(c.query("*IDN?").find("33522B") != std::string::npos);

    f = {};
    f.stuck_opc = true;
    pg.set_faults(f);
    c.send("*OPC?\n");
    CHECK_FALSE(c.line(0.5).has_value());
    pg.clear_faults();
    CHECK(c.query("*OPC?") == "1");

    pg.push_error(-310, "injected");
    CHECK(c.query("SYST:ERR?") == "-310,\"Unknown error;injected\"");

    f = {};
    f.drop_connection = 1;
    pg.set_faults(f);
    c.send("*IDN?\n");
    CHECK(c.closed_by_peer(5.0));
    auto again = RawClient::tcp(port);  // reconnect works
    CHECK(again.query("*IDN?").find("33522B") != std::string::npos);
}

TEST_CASE("serial models answer on their pseudo-terminals", "[integration][vlab][pty]") {
    VirtualLab lab{LabOptions{}};
    lab.start();
    const auto eps = lab.endpoints();
    auto gm = RawClient::pty(endpoint(eps, "gaussmeter").pty_path);
    CHECK(gm.query("*IDN?").rfind("LSCI,MODEL425,", 0) == 0);
    auto bop = RawClient::pty(endpoint(eps, "magnet").pty_path);
    bop.send("FUNC:MODE CURR;:VOLT 20;:CURR 0.2;:OUTP ON\r\n");
    CHECK(std::stod(bop.query("MEAS:CURR?")) == Approx(0.2));
    gm.send("UNIT 2\r\n");
    CHECK(std::stod(gm.query("RDGFIELD?")) == Approx(0.01).margin(1e-4));
}

TEST_CASE("a busy port is a TransportError naming the instrument", "[integration][vlab]") {
    VirtualLab a{LabOptions{}};
    a.start();
    LabOptions o;
    o.port_base = a.endpoints()[0].port;
    o.instruments = {{"pulse_gen", "33522B", false}};
    VirtualLab b{o};
    try {
        b.start();
        FAIL("bind on a busy port succeeded");
    } catch (const TransportError& e) {
        CHECK(std::string(e.what()).find("pulse_gen") != std::string::npos);
    }
}

TEST_CASE("mtjlab lab serve prints resource strings and exits 0 on SIGINT", "[integration][vlab][cli]") {
    mtjlab::test::TempDir dir("labserve");
    const auto out = dir / "out.txt";
    // Start it, wait (bounded) until it has printed the last instrument, then interrupt it.
    const auto r = mtjlab::test::run_command(
        "'" + mtjlab::test::cli_path().string() + "' lab serve --thickness 2.2 --cells 3 > '" + out.string() +
        "' & pid=$!; for i in $(seq 300); do grep -q gaussmeter '" + out.string() +
        "' && break; sleep 0.1; done; kill -INT $pid; "
        "for i in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done; kill -KILL $pid 2>/dev/null; "
        "wait $pid");
    CHECK(r.exit_code == 0);
    std::ifstream in(out);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(std::regex_search(text, std::regex(R"(TCPIP0::127\.0\.0\.1::\d+::SOCKET)")));
    CHECK(std::regex_search(text, std::regex(R"(ASRL/dev/pts/\d+::INSTR)")));
    CHECK(text.find("SR830") != std::string::npos);
    const auto bad = mtjlab::test::run_cli("lab serve --thickness 9 --cells 1");
    CHECK(bad.exit_code == 2);
    const auto mixed = mtjlab::test::run_cli("lab serve --thickness 2 --wafer-seed 3");
    CHECK(mixed.exit_code == 2);
}
