// The TCP transport and the session against a tiny in-test Asio server: normal queries, timeout,
// disconnect and reconnect, garbage, instrument errors. Every failure is the right exception type,
// names the instrument and the command, and comes back within its deadline.
#include <catch2/catch.hpp>

#include <utility>  // before Asio (Boost 1.74 + C++20)

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

#include <boost/asio.hpp>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/lockin/srs_lockin.hpp"
#include "mtjlab/drivers/registry.hpp"
#include "mtjlab/drivers/scpi/session.hpp"
#include "mtjlab/drivers/transport/tcp.hpp"

using namespace mtjlab;
using namespace mtjlab::drivers;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Answers one line at a time on 127.0.0.1:<ephemeral>. Behaviour per command:
//   FREQ? -> 1000; SLOW? -> "late" after 500 ms; DROP? -> closes the connection; GARBAGE? -> bytes;
//   LONG? -> 100 bytes without a terminator, then "tail" 150 ms later;
//   SYST:ERR? -> pops the error queue; VOLT 99 -> pushes -222; SNAP? 1,2,3,4 -> four numbers.
class FakeServer {
public:
    FakeServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        accept();
        thread_ = std::thread([this] { io_.run(); });
    }
    ~FakeServer() {
        io_.stop();
        thread_.join();
    }
    std::string resource() const {
        return "TCPIP0::127.0.0.1::" + std::to_string(acceptor_.local_endpoint().port()) + "::SOCKET";
    }
    std::atomic<int> connections{0};

private:
    struct Conn : std::enable_shared_from_this<Conn> {
        Conn(tcp::socket s, FakeServer* srv) : sock(std::move(s)), server(srv), timer(sock.get_executor()) {}
        tcp::socket sock;
        FakeServer* server;
        asio::streambuf buf;
        asio::steady_timer timer;
        void read() {
            asio::async_read_until(sock, buf, '\n', [self = shared_from_this()](auto ec, std::size_t n) {
                if (ec) return;
                std::string line(asio::buffers_begin(self->buf.data()), asio::buffers_begin(self->buf.data()) + static_cast<long>(n));
                self->buf.consume(n);
                while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
                self->handle(line);
            });
        }
        void reply(std::string text) {
            auto data = std::make_shared<std::string>(std::move(text));
            asio::async_write(sock, asio::buffer(*data), [self = shared_from_this(), data](auto ec, std::size_t) {
                if (!ec) self->read();
            });
        }
        void handle(const std::string& line) {
            if (line == "FREQ?") return reply("1000\n");
            if (line == "GARBAGE?") return reply(std::string("\x01\xfe garbage\n"));
            if (line == "SNAP? 1,2,3,4") return reply("1e-3,2e-4,1.0198e-3,11.3\n");
            if (line == "DROP?") {
                boost::system::error_code ignored;
                sock.close(ignored);
                return;
            }
            if (line == "LONG?") {
                // An overlong reply whose tail comes 150 ms later, before the answer to anything sent after it.
                auto head = std::make_shared<std::string>(100, 'x');
                asio::async_write(sock, asio::buffer(*head), [self = shared_from_this(), head](auto ec, std::size_t) {
                    if (ec) return;
                    self->timer.expires_after(std::chrono::milliseconds(150));
                    self->timer.async_wait([self](auto) { self->reply("tail\n"); });
                });
                return;
            }
            if (line == "SLOW?") {
                timer.expires_after(std::chrono::milliseconds(500));
                timer.async_wait([self = shared_from_this()](auto) { self->reply("late\n"); });
                return;
            }
            if (line == "SYST:ERR?") {
                std::lock_guard lock(server->mutex_);
                if (server->errors_.empty()) return reply("+0,\"No error\"\n");
                auto e = server->errors_.front();
                server->errors_.pop_front();
                return reply(e + "\n");
            }
            if (line == "VOLT 99") {
                std::lock_guard lock(server->mutex_);
                server->errors_.push_back("-222,\"Data out of range\"");
            }
            read();  // a command without reply
        }
    };
    void accept() {
        acceptor_.async_accept([this](auto ec, tcp::socket s) {
            if (!ec) {
                ++connections;
                s.set_option(tcp::no_delay(true));
                std::make_shared<Conn>(std::move(s), this)->read();
            }
            accept();
        });
    }
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    std::mutex mutex_;
    std::deque<std::string> errors_;
};

SessionOptions opts(std::string name, int timeout_ms = 300) {
    SessionOptions o;
    o.name = std::move(name);
    o.timeout = std::chrono::milliseconds(timeout_ms);
    return o;
}

template <class F>
double seconds_taken(F&& f) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("TCP: queries over a real loopback socket", "[integration][drivers][tcp]") {
    FakeServer server;
    ScpiSession s(open_transport(server.resource()), opts("pulse_gen"));
    CHECK(s.query_double("FREQ?") == 1000.0);
    CHECK(s.query("FREQ?") == "1000");
    CHECK(s.resource() == server.resource());
}

TEST_CASE("TCP: a missing reply times out within the deadline; the next query is not poisoned",
          "[integration][drivers][tcp]") {
    FakeServer server;
    auto tr = open_transport(server.resource());
    auto* tcp_tr = dynamic_cast<TcpTransport*>(tr.get());
    REQUIRE(tcp_tr);
    ScpiSession s(std::move(tr), opts("pulse_gen", 200));
    const double took = seconds_taken([&] {
        try {
            (void)s.query("SLOW?");
            FAIL("no exception");
        } catch (const TimeoutError& e) {
            CHECK_THAT(e.what(), Catch::Contains("asking 'SLOW?' to pulse_gen"));
        }
    });
    CHECK(took < 5.0);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));  // the late reply is sent meanwhile
    CHECK(s.query("FREQ?") == "1000");
    CHECK(tcp_tr->reconnects() == 1);
}

TEST_CASE("TCP: disconnect gives TransportError, then the link reconnects", "[integration][drivers][tcp]") {
    FakeServer server;
    auto tr = open_transport(server.resource());
    auto* tcp_tr = dynamic_cast<TcpTransport*>(tr.get());
    ScpiSession s(std::move(tr), opts("magnet"));
    CHECK_THROWS_WITH(s.query("DROP?"), Catch::Contains("closed") && Catch::Contains("asking 'DROP?' to magnet"));
    CHECK_THROWS_AS(s.query("DROP?"), TransportError);
    CHECK(s.query_double("FREQ?") == 1000.0);
    CHECK(tcp_tr->reconnects() >= 1);
    CHECK(server.connections >= 2);
}

TEST_CASE("TCP: garbage reply is a ProtocolError", "[integration][drivers][tcp]") {
    FakeServer server;
    ScpiSession s(open_transport(server.resource()), opts("lockin"));
    CHECK_THROWS_AS(s.query_double("GARBAGE?"), ProtocolError);
    CHECK_THROWS_WITH(s.query_double("GARBAGE?"), Catch::Contains("asking 'GARBAGE?' to lockin"));
    CHECK(s.query_double("FREQ?") == 1000.0);
}

TEST_CASE("TCP: the tail of an overlong reply never answers the next query", "[integration][drivers][tcp]") {
    FakeServer server;
    auto tr = open_transport(server.resource());
    auto* tcp_tr = dynamic_cast<TcpTransport*>(tr.get());
    auto o = opts("lockin");
    o.max_reply = 64;
    ScpiSession s(std::move(tr), o);
    CHECK_THROWS_WITH(s.query("LONG?"), Catch::Contains("longer than 64") && Catch::Contains("asking 'LONG?' to lockin"));
    CHECK(s.query("FREQ?") == "1000");  // not "tail": the link was dropped and re-opened
    CHECK(tcp_tr->reconnects() == 1);
}

TEST_CASE("TCP: a write that times out drops the link", "[integration][drivers][tcp]") {
    // A peer that accepts and never reads: once the socket buffers are full the write times out, part of the
    // message sent. Kept, the link would glue that part to the next command.
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket peer(io);
    std::thread accept_one([&] { acceptor.accept(peer); });
    TcpTransport t(TcpResource{0, "127.0.0.1", acceptor.local_endpoint().port()}, std::chrono::seconds(2));
    accept_one.join();
    REQUIRE(t.connected());
    const std::string huge(64u << 20, 'A');
    const double took = seconds_taken([&] { CHECK_THROWS_AS(t.write(huge, std::chrono::milliseconds(200)), TimeoutError); });
    CHECK(took < 5.0);
    CHECK_FALSE(t.connected());
}

TEST_CASE("TCP: an instrument error becomes InstrumentError", "[integration][drivers][tcp]") {
    FakeServer server;
    ScpiSession s(open_transport(server.resource()), opts("pulse_gen"));
    CHECK_NOTHROW(s.write_checked("VOLT 1"));
    CHECK_THROWS_WITH(s.write_checked("VOLT 99"),
                      Catch::Contains("-222") && Catch::Contains("writing 'VOLT 99' to pulse_gen"));
    CHECK(s.drain_errors().empty());
}

TEST_CASE("TCP: a driver over the socket", "[integration][drivers][tcp]") {
    FakeServer server;
    auto session = std::make_shared<ScpiSession>(open_transport(server.resource()),
                                                 session_options_for(find_model("sr830"), "lockin"));
    SrsSr830 li(session);
    const auto r = li.read();
    CHECK(r.x.si() == 1e-3);
    CHECK(r.r.si() == 1.0198e-3);
}

TEST_CASE("TCP: nobody listening is a TransportError naming the address", "[integration][drivers][tcp]") {
    std::uint16_t port = 0;
    {
        asio::io_context io;
        tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        port = a.local_endpoint().port();
    }
    const auto res = "TCPIP0::127.0.0.1::" + std::to_string(port) + "::SOCKET";
    CHECK_THROWS_WITH(open_transport(res), Catch::Contains(std::to_string(port)));
    CHECK_THROWS_AS(open_transport(res), TransportError);
}

TEST_CASE("TCP: an unroutable host times out at the connect deadline", "[integration][drivers][tcp]") {
    TransportOptions o;
    o.connect_timeout = std::chrono::milliseconds(200);
    // 192.0.2.0/24 is TEST-NET-1: never routed. Either the deadline or "unreachable" must end it quickly.
    const double took = seconds_taken([&] { CHECK_THROWS_AS(open_transport("TCPIP0::192.0.2.1::5025::SOCKET", o), Error); });
    CHECK(took < 5.0);
}
