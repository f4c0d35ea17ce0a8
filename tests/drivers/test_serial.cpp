// The serial transport on a real pseudo-terminal pair: the test plays the instrument on the master.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/gaussmeter/lakeshore_425.hpp"
#include "mtjlab/drivers/registry.hpp"
#include "mtjlab/drivers/transport/serial.hpp"

using namespace mtjlab;
using namespace mtjlab::drivers;

namespace {

// A pty whose master side answers each CR/LF-terminated line through `answer` (nullopt: no reply).
class PtyInstrument {
public:
    explicit PtyInstrument(std::function<std::optional<std::string>(const std::string&)> answer)
        : answer_(std::move(answer)) {
        master_ = ::posix_openpt(O_RDWR | O_NOCTTY);
        REQUIRE(master_ >= 0);
        REQUIRE(::grantpt(master_) == 0);
        REQUIRE(::unlockpt(master_) == 0);
        slave_path_ = ::ptsname(master_);
        // Keep one slave descriptor open so the master never sees a hang-up between opens.
        keep_ = ::open(slave_path_.c_str(), O_RDWR | O_NOCTTY);
        REQUIRE(keep_ >= 0);
        thread_ = std::thread([this] { run(); });
    }
    ~PtyInstrument() {
        stop_ = true;
        thread_.join();
        ::close(keep_);
        if (master_ >= 0) ::close(master_);
    }
    const std::string& path() const { return slave_path_; }
    int slave_fd() const { return keep_; }
    void hang_up() {
        stop_ = true;
        thread_.join();
        thread_ = std::thread([] {});
        ::close(master_);
        master_ = -1;
    }

private:
    void run() {
        std::string line;
        while (!stop_) {
            pollfd p{master_, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            char c;
            if (::read(master_, &c, 1) != 1) continue;
            if (c == '\r' || c == '\n') {
                if (line.empty()) continue;
                if (auto r = answer_(line)) {
                    const std::string out = *r + "\r\n";
                    (void)!::write(master_, out.data(), out.size());
                }
                line.clear();
            } else {
                line += c;
            }
        }
    }
    std::function<std::optional<std::string>(const std::string&)> answer_;
    int master_ = -1;
    int keep_ = -1;
    std::string slave_path_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
};

// Session options with an instrument name and a reply deadline (the serial default settings are 9600 8N1).
SessionOptions named(std::string name, int timeout_ms) {
    SessionOptions o;
    o.name = std::move(name);
    o.timeout = std::chrono::milliseconds(timeout_ms);
    return o;
}

}  // namespace

TEST_CASE("serial: Lake Shore 425 over a pty at 57600 7O1 with CR LF", "[integration][drivers][serial]") {
    PtyInstrument pty([](const std::string& cmd) -> std::optional<std::string> {
        if (cmd == "UNIT?") return "2";
        if (cmd == "RDGFIELD?") return "+0.01234";
        if (cmd == "*IDN?") return "LSCI,MODEL425,LSA1234,1.0";
        return std::nullopt;
    });
    const auto& model = find_model("lakeshore_425");
    auto tr = std::make_unique<SerialTransport>(pty.path(), *model.serial);
    // The line settings reached the device. (Linux ptys force 8 data bits without parity, so 7O1
    // itself cannot be observed here; the transport logs that and carries on.)
    termios t{};
    REQUIRE(::tcgetattr(pty.slave_fd(), &t) == 0);
    CHECK(::cfgetospeed(&t) == B57600);
    CHECK(::cfgetispeed(&t) == B57600);
    CHECK((t.c_cflag & CSTOPB) == 0);
    CHECK((t.c_lflag & ICANON) == 0);  // raw mode: no line editing between us and the instrument
    CHECK(tr->resource() == "ASRL" + pty.path() + "::INSTR");
    auto session = std::make_shared<ScpiSession>(std::move(tr), session_options_for(model, "gaussmeter"));
    LakeShore425 g(session);
    CHECK(g.identify() == "LSCI,MODEL425,LSA1234,1.0");
    CHECK(g.read_field().si() == Approx(0.01234));
}

TEST_CASE("serial: settings 9600 8-2 with hardware flow control", "[integration][drivers][serial]") {
    PtyInstrument pty([](const std::string&) -> std::optional<std::string> { return "ok"; });
    SerialSettings s{9600, 8, SerialSettings::Parity::even, 2, SerialSettings::FlowControl::hardware};
    SerialTransport tr(pty.path(), s);
    termios t{};
    REQUIRE(::tcgetattr(pty.slave_fd(), &t) == 0);
    CHECK(::cfgetispeed(&t) == B9600);
    CHECK((t.c_cflag & CSIZE) == CS8);
    CHECK((t.c_cflag & CSTOPB) != 0);
    CHECK((t.c_cflag & CRTSCTS) != 0);
}

TEST_CASE("serial: silence times out, a hang-up is a TransportError", "[integration][drivers][serial]") {
    PtyInstrument pty([](const std::string& cmd) -> std::optional<std::string> {
        if (cmd == "PING?") return "pong";
        return std::nullopt;
    });
    ScpiSession s(std::make_unique<SerialTransport>(pty.path(), SerialSettings{}), named("lockin", 200));
    CHECK(s.query("PING?") == "pong");
    CHECK_THROWS_WITH(s.query("QUIET?"), Catch::Contains("asking 'QUIET?' to lockin"));
    CHECK_THROWS_AS(s.query("QUIET?"), TimeoutError);
    CHECK(s.query("PING?") == "pong");
    pty.hang_up();
    CHECK_THROWS_AS(s.query("PING?"), Error);
}

TEST_CASE("serial: bad settings and missing devices", "[unit][drivers][serial]") {
    SerialSettings s;
    s.data_bits = 9;
    CHECK_THROWS_AS(SerialTransport("/dev/null", s), InputError);
    s = {};
    s.stop_bits = 3;
    CHECK_THROWS_AS(SerialTransport("/dev/null", s), InputError);
    CHECK_THROWS_WITH(SerialTransport("/dev/no-such-tty-mtjlab", SerialSettings{}),
                      Catch::Contains("/dev/no-such-tty-mtjlab"));
}

TEST_CASE("serial: a reply that comes after its deadline is never read as the next query's answer",
          "[integration][drivers][serial]") {
    // The line stays open after a timeout, so the instrument's late reply arrives while the next query waits
    // for its own. A session that has not identified the instrument (no marker, see the next test) waits until
    // the line has been quiet for one deadline before the next command.
    std::atomic<int> delay_ms{250};
    std::atomic<int> slow_answered{0};
    PtyInstrument pty([&](const std::string& cmd) -> std::optional<std::string> {
        if (cmd == "SLOW?") {
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
            ++slow_answered;
            return "late";
        }
        if (cmd == "FAST?") return "fast";
        if (cmd == "NUM?") return "42";
        return std::nullopt;
    });
    ScpiSession s(std::make_unique<SerialTransport>(pty.path(), SerialSettings{}), named("gaussmeter", 150));
    CHECK(s.query("FAST?") == "fast");
    CHECK_THROWS_AS(s.query("SLOW?"), TimeoutError);  // "late" comes 100 ms after the deadline
    CHECK(s.query("FAST?") == "fast");               // not "late"
    CHECK(slow_answered == 1);
    CHECK_THROWS_AS(s.query("SLOW?"), TimeoutError);
    CHECK(s.query_double("NUM?") == 42.0);
    CHECK_THROWS_AS(s.query_double("SLOW?"), TimeoutError);
    CHECK(s.query("FAST?") == "fast");
    CHECK(s.query("FAST?") == "fast");  // in step again: nothing left over
    CHECK(slow_answered == 3);

    // Later than the quiet wait (400 ms = 2.7 deadlines): the late reply can reach the next query, but a reply
    // that does not parse puts the session out of step, so one typed query fails and the next is in step again.
    delay_ms = 400;
    CHECK_THROWS_AS(s.query("SLOW?"), TimeoutError);
    CHECK_THROWS_WITH(s.query_double("NUM?"), Catch::Contains("'late'") && Catch::Contains("asking 'NUM?' to gaussmeter"));
    CHECK(s.query_double("NUM?") == 42.0);
    CHECK(s.query("FAST?") == "fast");
    CHECK(slow_answered == 4);
}

TEST_CASE("serial: once identified, a session drops late replies up to the answer of its marker *IDN?",
          "[integration][drivers][serial]") {
    // An instrument answers in order: after a timeout the session sends *IDN? and drops every line up to its
    // reply, however late the lost reply is (the quiet wait of the test above misses one later than it).
    std::atomic<int> delay_ms{400};
    std::atomic<int> idn_answered{0};
    const std::string idn = "LSCI,MODEL425,LSA21XY,1.4";
    PtyInstrument pty([&](const std::string& cmd) -> std::optional<std::string> {
        if (cmd == "*IDN?") {
            ++idn_answered;
            return idn;
        }
        if (cmd == "SLOW?") {
            std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
            return "late";
        }
        if (cmd == "NUM?") return "42";
        return std::nullopt;
    });
    ScpiSession s(std::make_unique<SerialTransport>(pty.path(), SerialSettings{}), named("gaussmeter", 150));
    REQUIRE(s.identify() == idn);

    // 250 ms after its deadline: later than the quiet wait, within the marker's wait (4 deadlines).
    CHECK_THROWS_AS(s.query("SLOW?"), TimeoutError);
    CHECK(s.query_double("NUM?") == 42.0);
    CHECK(idn_answered == 2);

    // 850 ms after its deadline, later than the marker's wait too: the next command fails, naming the marker;
    // the one after reads up to the first marker answer, drops the second (it follows at once) and is in step.
    delay_ms = 1000;
    CHECK_THROWS_AS(s.query("SLOW?"), TimeoutError);
    CHECK_THROWS_WITH(s.query_double("NUM?"),
                      Catch::Contains("marker query '*IDN?'") && Catch::Contains("writing 'NUM?' to gaussmeter"));
    CHECK(s.query_double("NUM?") == 42.0);
    CHECK(s.query_double("NUM?") == 42.0);  // nothing left over
    CHECK(idn_answered == 4);
}

TEST_CASE("serial: an instrument that keeps sending ends the resynchronisation with an error, not a hang",
          "[integration][drivers][serial]") {
    // Lines keep coming and none is the marker's answer (a streaming mode, a wrong baud rate): the session gives
    // up after a bounded number of lines. A marker the instrument never answers costs one quiet wait later on.
    std::atomic<bool> streaming{false};
    const std::string idn = "LSCI,MODEL425,LSA21XY,1.4";
    PtyInstrument pty([&](const std::string& cmd) -> std::optional<std::string> {
        if (cmd == "*IDN?") {
            if (!streaming) return idn;
            std::string noise;
            for (int i = 0; i < 299; ++i) noise += "+1.234E-3\r\n";
            return noise + "+1.234E-3";  // 300 lines, and this marker is never answered
        }
        if (cmd == "NUM?") return "42";
        return std::nullopt;
    });
    ScpiSession s(std::make_unique<SerialTransport>(pty.path(), SerialSettings{}), named("gaussmeter", 150));
    REQUIRE(s.identify() == idn);
    CHECK_THROWS_AS(s.query("QUIET?"), TimeoutError);  // out of step
    streaming = true;
    CHECK_THROWS_WITH(s.query_double("NUM?"), Catch::Contains("256 replies and none the answer") &&
                                                  Catch::Contains("writing 'NUM?' to gaussmeter"));
    streaming = false;
    CHECK(s.query_double("NUM?") == 42.0);  // the remaining noise dropped up to the next marker's answer
    CHECK(s.query_double("NUM?") == 42.0);
}
