// `mtjlab scpi` and `mtjlab instruments probe` against a loopback server played by this test.
#include <catch2/catch.hpp>

#include <utility>  // before Asio (Boost 1.74 + C++20)

#include <fstream>
#include <thread>

#include <boost/asio.hpp>

#include "test_support.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using mtjlab::test::run_cli;

namespace {

// A line server: *IDN? -> identity, FREQ? -> 1000, SYST:ERR? -> queue, "VOLT 99" pushes -222.
class LineServer {
public:
    LineServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        thread_ = std::thread([this] { serve(); });
    }
    ~LineServer() {
        stop_ = true;
        // Wake the blocking accept with one last connection.
        try {
            asio::io_context io;
            tcp::socket s(io);
            s.connect(acceptor_.local_endpoint());
        } catch (...) {
        }
        thread_.join();
    }
    std::string resource() const {
        return "TCPIP0::127.0.0.1::" + std::to_string(acceptor_.local_endpoint().port()) + "::SOCKET";
    }

private:
    void serve() {
        while (!stop_) {
            tcp::socket s(io_);
            boost::system::error_code ec;
            acceptor_.accept(s, ec);
            if (ec || stop_) return;
            asio::streambuf buf;
            int pending_error = 0;
            for (;;) {
                const auto n = asio::read_until(s, buf, '\n', ec);
                if (ec) break;
                std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<long>(n));
                buf.consume(n);
                while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
                std::string reply;
                if (line == "*IDN?") reply = "MTJLAB,TESTSERVER,0001,1.0\n";
                else if (line == "FREQ?") reply = "1000\n";
                else if (line == "SYST:ERR?") {
                    reply = pending_error ? "-222,\"Data out of range\"\n" : "+0,\"No error\"\n";
                    pending_error = 0;
                } else if (line == "VOLT 99") pending_error = 1;
                if (!reply.empty()) asio::write(s, asio::buffer(reply), ec);
            }
        }
    }
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
};

}  // namespace

TEST_CASE("mtjlab scpi sends commands and prints query replies", "[integration][cli][drivers]") {
    LineServer server;
    const auto r = run_cli("scpi " + server.resource() + " '*IDN?' 'VOLT 1' 'FREQ?'");
    CHECK(r.exit_code == 0);
    CHECK(r.out == "MTJLAB,TESTSERVER,0001,1.0\n1000\n");
}

TEST_CASE("mtjlab scpi --check-errors stops with exit code 3 on an instrument error", "[integration][cli][drivers]") {
    LineServer server;
    const auto r = run_cli("scpi --check-errors " + server.resource() + " 'VOLT 99' 'FREQ?'");
    CHECK(r.exit_code == 3);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains("-222") && Catch::Contains("VOLT 99"));
}

TEST_CASE("mtjlab scpi reads commands from stdin without arguments", "[integration][cli][drivers]") {
    LineServer server;
    mtjlab::test::TempDir dir("scpi");
    std::ofstream(dir / "in.txt") << "*IDN?\nFREQ?\nquit\n";
    const auto r = run_cli("scpi " + server.resource() + " < " + (dir / "in.txt").string());
    CHECK(r.exit_code == 0);
    CHECK(r.out == "MTJLAB,TESTSERVER,0001,1.0\n1000\n");
}

TEST_CASE("mtjlab scpi: bad resource is exit code 2, unreachable is 3", "[integration][cli][drivers]") {
    const auto bad = run_cli("scpi GPIB0::1::INSTR '*IDN?'");
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Contains("unknown interface"));
    asio::io_context io;
    std::uint16_t port;
    {
        tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = a.local_endpoint().port();
    }
    const auto down = run_cli("scpi TCPIP0::127.0.0.1::" + std::to_string(port) + "::SOCKET '*IDN?'");
    CHECK(down.exit_code == 3);
}

TEST_CASE("mtjlab instruments probe asks every role for *IDN?", "[integration][cli][drivers]") {
    LineServer a, b, c;
    mtjlab::test::TempDir dir("probe");
    std::ofstream(dir / "st.toml") << "[instruments.pulse_gen]\nmodel = \"33500b\"\nresource = \"" << a.resource()
                                   << "\"\n[instruments.lockin]\nmodel = \"sr860\"\nresource = \"" << b.resource()
                                   << "\"\n[instruments.magnet]\nmodel = \"kepco_bop\"\nresource = \"" << c.resource()
                                   << "\"\n[calibration]\ncoil_constant_T_per_A = 0.01\nreference_resistor_ohm = 1e6\n"
                                      "read_amplitude_V = 0.1\nread_frequency_Hz = 13.7\ntime_constant_s = 0.3\n"
                                      "[limits]\nmax_pulse_amplitude_V = 2\nmax_pulse_width_s = 1e-6\n"
                                      "max_coil_current_A = 5\nmax_field_T = 0.05\nmax_ramp_rate_T_per_s = 0.1\n"
                                      "max_read_voltage_V = 0.2\n";
    const auto r = run_cli("instruments probe " + (dir / "st.toml").string());
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("pulse_gen") && Catch::Contains("lockin") && Catch::Contains("magnet"));
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 4);
    CHECK_THAT(r.out, Catch::Contains("MTJLAB,TESTSERVER,0001,1.0"));
    std::ofstream(dir / "bad.toml") << "[instruments\n";
    const auto bad = run_cli("instruments probe " + (dir / "bad.toml").string());
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.err, Catch::Contains("bad.toml:1:"));
}
