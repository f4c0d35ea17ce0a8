#include <catch2/catch.hpp>

#include <cstdlib>
#include <deque>
#include <functional>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/scpi/session.hpp"
#include "mtjlab/drivers/transport/usbtmc.hpp"

using namespace mtjlab;
using namespace mtjlab::drivers;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes bytes(std::initializer_list<int> v) {
    Bytes out;
    for (int b : v) out.push_back(static_cast<std::uint8_t>(b));
    return out;
}

// A device whose bulk-IN transfers and control replies are scripted; records what the host sends.
class FakeDevice final : public usbtmc::DeviceIo {
public:
    std::vector<Bytes> outs;
    std::deque<std::optional<Bytes>> ins;  // nullopt = this transfer times out
    std::vector<std::pair<usbtmc::Request, std::uint16_t>> controls;
    std::deque<Bytes> control_replies;

    void bulk_out(std::span<const std::uint8_t> data, unsigned) override { outs.emplace_back(data.begin(), data.end()); }
    Bytes bulk_in(std::size_t max, unsigned) override {
        if (ins.empty() || !ins.front()) {
            if (!ins.empty()) ins.pop_front();
            throw TimeoutError("fake bulk-IN timeout");
        }
        Bytes b = *ins.front();
        ins.pop_front();
        REQUIRE(b.size() <= max);
        return b;
    }
    Bytes control_in_endpoint(usbtmc::Request r, std::uint16_t value, std::uint16_t, unsigned) override {
        controls.emplace_back(r, value);
        REQUIRE_FALSE(control_replies.empty());
        Bytes b = control_replies.front();
        control_replies.pop_front();
        return b;
    }
    Bytes control_in_interface(usbtmc::Request r, std::uint16_t, unsigned) override {
        controls.emplace_back(r, 0);
        REQUIRE_FALSE(control_replies.empty());
        Bytes b = control_replies.front();
        control_replies.pop_front();
        return b;
    }
    void clear_halt_out() override { ++halts_cleared; }
    std::size_t max_packet_size() const override { return 64; }
    int halts_cleared = 0;
};

Bytes in_msg(std::uint8_t tag, std::string_view payload, bool eom, std::size_t declared = SIZE_MAX) {
    const auto size = static_cast<std::uint32_t>(declared == SIZE_MAX ? payload.size() : declared);
    Bytes b{2, tag, static_cast<std::uint8_t>(~tag), 0, static_cast<std::uint8_t>(size & 0xFF),
            static_cast<std::uint8_t>(size >> 8), 0, 0, static_cast<std::uint8_t>(eom ? 1 : 0), 0, 0, 0};
    b.insert(b.end(), payload.begin(), payload.end());
    while (b.size() % 4) b.push_back(0);
    return b;
}

}  // namespace

TEST_CASE("USBTMC DEV_DEP_MSG_OUT header and padding", "[unit][drivers][usbtmc]") {
    CHECK(usbtmc::encode_dev_dep_msg_out(1, "*IDN?\n", true) ==
          bytes({0x01, 0x01, 0xFE, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, '*', 'I', 'D', 'N', '?', '\n',
                 0x00, 0x00}));
    // Exactly 4 payload bytes: no padding; EOM clear.
    CHECK(usbtmc::encode_dev_dep_msg_out(0x80, "ABCD", false) ==
          bytes({0x01, 0x80, 0x7F, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 'A', 'B', 'C', 'D'}));
    // A 300-byte message: little-endian size 0x012C.
    const auto big = usbtmc::encode_dev_dep_msg_out(7, std::string(300, 'x'), true);
    CHECK(big.size() == 12 + 300);
    CHECK(big[4] == 0x2C);
    CHECK(big[5] == 0x01);
    CHECK_THROWS_AS(usbtmc::encode_dev_dep_msg_out(0, "x", true), ProtocolError);
}

TEST_CASE("USBTMC REQUEST_DEV_DEP_MSG_IN header", "[unit][drivers][usbtmc]") {
    const auto h = usbtmc::encode_request_dev_dep_msg_in(2, 1024);
    CHECK(Bytes(h.begin(), h.end()) == bytes({0x02, 0x02, 0xFD, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}));
    const auto t = usbtmc::encode_request_dev_dep_msg_in(255, 0x01020304, '\n');
    CHECK(Bytes(t.begin(), t.end()) == bytes({0x02, 0xFF, 0x00, 0x00, 0x04, 0x03, 0x02, 0x01, 0x02, 0x0A, 0x00, 0x00}));
}

TEST_CASE("USBTMC DEV_DEP_MSG_IN decoding checks every field", "[unit][drivers][usbtmc]") {
    const auto ok = bytes({0x02, 0x05, 0xFA, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00});
    const auto h = usbtmc::decode_dev_dep_msg_in(ok, 5);
    CHECK(h.tag == 5);
    CHECK(h.transfer_size == 10);
    CHECK(h.eom);
    auto bad = ok;
    bad[0] = 1;
    CHECK_THROWS_WITH(usbtmc::decode_dev_dep_msg_in(bad, 5), Catch::Contains("MsgID"));
    bad = ok;
    bad[2] = 0xFB;
    CHECK_THROWS_WITH(usbtmc::decode_dev_dep_msg_in(bad, 5), Catch::Contains("inverse"));
    CHECK_THROWS_WITH(usbtmc::decode_dev_dep_msg_in(ok, 6), Catch::Contains("expected 6"));
    CHECK_THROWS_WITH(usbtmc::decode_dev_dep_msg_in(std::span(ok).first(11), 5), Catch::Contains("shorter"));
    bad = ok;
    bad[10] = 1;
    CHECK_THROWS_WITH(usbtmc::decode_dev_dep_msg_in(bad, 5), Catch::Contains("reserved"));
}

TEST_CASE("USBTMC tags run 1..255 and skip 0", "[unit][drivers][usbtmc]") {
    CHECK(usbtmc::next_tag(0) == 1);
    CHECK(usbtmc::next_tag(1) == 2);
    CHECK(usbtmc::next_tag(254) == 255);
    CHECK(usbtmc::next_tag(255) == 1);
}

TEST_CASE("USBTMC transport: a query, a reply split over two messages and over two transfers",
          "[unit][drivers][usbtmc]") {
    auto dev = std::make_unique<FakeDevice>();
    auto* d = dev.get();
    // Tags: write 1, first request 2, second request 3.
    d->ins.push_back(in_msg(2, "+1.2", false));
    // The second message spans two bulk-IN transfers: header + "5" then "E-3\n".
    auto second = in_msg(3, "5E-3\n", true);
    d->ins.push_back(Bytes(second.begin(), second.begin() + 13));
    d->ins.push_back(Bytes(second.begin() + 13, second.end()));
    auto tr = std::make_unique<UsbtmcTransport>(std::move(dev), "USB0::0x1::0x2::S::INSTR");
    ScpiSession s(std::move(tr), SessionOptions{.name = "pulse_gen"});
    CHECK(s.query_double("VOLT?") == Approx(1.25e-3));
    REQUIRE(d->outs.size() == 3);
    CHECK(d->outs[0] == usbtmc::encode_dev_dep_msg_out(1, "VOLT?\n", true));
    const auto req2 = usbtmc::encode_request_dev_dep_msg_in(2, 64 * 1024);
    CHECK(d->outs[1] == Bytes(req2.begin(), req2.end()));
    CHECK(d->outs[2][0] == 2);
    CHECK(d->outs[2][1] == 3);
}

TEST_CASE("USBTMC transport: a bulk-IN timeout runs the abort sequence, then TimeoutError",
          "[unit][drivers][usbtmc]") {
    auto dev = std::make_unique<FakeDevice>();
    auto* d = dev.get();
    d->ins.push_back(std::nullopt);                 // the reply never comes
    d->control_replies.push_back(bytes({0x01, 2})); // INITIATE_ABORT_BULK_IN: SUCCESS, tag 2
    d->control_replies.push_back(bytes({0x02, 0x01, 0, 0, 0, 0, 0, 0}));  // CHECK: PENDING, FIFO has data
    d->ins.push_back(bytes({0xAA, 0xBB}));          // drained by the host
    d->control_replies.push_back(bytes({0x01, 0x00, 0, 0, 0, 0, 0, 0}));  // CHECK: SUCCESS
    auto tr = std::make_unique<UsbtmcTransport>(std::move(dev), "USB0::0x1::0x2::S::INSTR");
    ScpiSession s(std::move(tr), SessionOptions{.name = "lockin"});
    try {
        (void)s.query("FREQ?");
        FAIL("no exception");
    } catch (const TimeoutError& e) {
        CHECK_THAT(e.what(), Catch::Contains("aborted"));
        CHECK_THAT(e.what(), Catch::Contains("asking 'FREQ?' to lockin"));
    }
    REQUIRE(d->controls.size() == 3);
    CHECK(d->controls[0] == std::pair{usbtmc::Request::initiate_abort_bulk_in, std::uint16_t{2}});
    CHECK(d->controls[1].first == usbtmc::Request::check_abort_bulk_in_status);
    CHECK(d->controls[2].first == usbtmc::Request::check_abort_bulk_in_status);
    CHECK(d->ins.empty());
}

TEST_CASE("USBTMC abort: nothing in progress ends at once", "[unit][drivers][usbtmc]") {
    FakeDevice d;
    d.control_replies.push_back(bytes({0x81, 7}));
    CHECK(usbtmc::abort_bulk_in(d, 7, 100) == usbtmc::Status::transfer_not_in_progress);
    CHECK(d.controls.size() == 1);
}

TEST_CASE("USBTMC clear: INITIATE_CLEAR, CHECK_CLEAR_STATUS draining the FIFO, then the bulk-OUT halt",
          "[unit][drivers][usbtmc]") {
    FakeDevice d;
    d.control_replies.push_back(bytes({0x01}));        // INITIATE_CLEAR: SUCCESS
    d.control_replies.push_back(bytes({0x02, 0x01}));  // CHECK_CLEAR_STATUS: PENDING, bulk-IN FIFO has data
    d.ins.push_back(bytes({0x11, 0x22, 0x33}));       // read out by the host
    d.control_replies.push_back(bytes({0x02, 0x00}));  // PENDING, FIFO empty
    d.control_replies.push_back(bytes({0x01, 0x00}));  // SUCCESS
    CHECK(usbtmc::clear(d, 100) == usbtmc::Status::success);
    REQUIRE(d.controls.size() == 4);
    CHECK(d.controls[0].first == usbtmc::Request::initiate_clear);
    CHECK(d.controls[3].first == usbtmc::Request::check_clear_status);
    CHECK(d.ins.empty());
    CHECK(d.halts_cleared == 1);

    FakeDevice failed;
    failed.control_replies.push_back(bytes({0x80}));  // FAILED: nothing polled, halt left alone
    CHECK(usbtmc::clear(failed, 100) == usbtmc::Status::failed);
    CHECK(failed.controls.size() == 1);
    CHECK(failed.halts_cleared == 0);

    FakeDevice endless;  // PENDING for ever: bounded by max_polls
    endless.control_replies.push_back(bytes({0x01}));
    for (int i = 0; i < 5; ++i) endless.control_replies.push_back(bytes({0x02, 0x00}));
    CHECK(usbtmc::clear(endless, 100, 5) == usbtmc::Status::pending);
    CHECK(endless.controls.size() == 6);
    CHECK(endless.halts_cleared == 0);
}

TEST_CASE("USBTMC transport: after a reply with a foreign bTag the device is cleared before the next query",
          "[unit][drivers][usbtmc]") {
    // A stray reply (a wrong tag, a short transfer) may leave more of itself in the device's bulk-IN FIFO, where
    // the next query would find it. The session abandons the exchange: the transport clears the device.
    auto dev = std::make_unique<FakeDevice>();
    auto* d = dev.get();
    // Tags: write 1, request 2 (answered with tag 9), then after the clear write 3, request 4.
    d->ins.push_back(in_msg(9, "1.5\n", true));
    d->control_replies.push_back(bytes({0x01}));        // INITIATE_CLEAR: SUCCESS
    d->control_replies.push_back(bytes({0x01, 0x00}));  // CHECK_CLEAR_STATUS: SUCCESS
    d->ins.push_back(in_msg(4, "7\n", true));
    ScpiSession s(std::make_unique<UsbtmcTransport>(std::move(dev), "USB0::0x1::0x2::S::INSTR"),
                  SessionOptions{.name = "pulse_gen"});
    CHECK_THROWS_WITH(s.query("A?"), Catch::Contains("bTag 9") && Catch::Contains("asking 'A?' to pulse_gen"));
    CHECK(d->controls.empty());  // cleared when the session next needs the link, not inside the failed read
    CHECK(s.query_double("B?") == 7.0);
    REQUIRE(d->controls.size() == 2);
    CHECK(d->controls[0].first == usbtmc::Request::initiate_clear);
    CHECK(d->halts_cleared == 1);
}

TEST_CASE("USBTMC transport rejects a reply larger than requested", "[unit][drivers][usbtmc]") {
    auto dev = std::make_unique<FakeDevice>();
    dev->ins.push_back(in_msg(2, "1", true, 100000000));
    UsbtmcTransport tr(std::move(dev), "USB0::0x1::0x2::S::INSTR");
    tr.write("X?\n", std::chrono::seconds(1));
    CHECK_THROWS_AS(tr.read_line(std::chrono::seconds(1), 100), ProtocolError);
}

TEST_CASE("USBTMC on real hardware answers *IDN?", "[hardware][drivers][usbtmc]") {
    const char* res = std::getenv("MTJLAB_USBTMC_RESOURCE");
    if (!res) {
        WARN("set MTJLAB_USBTMC_RESOURCE=USB0::0x....::0x....::SERIAL::INSTR to run against a device");
        return;
    }
    ScpiSession s(open_transport(res), SessionOptions{.name = "usb"});
    CHECK_FALSE(s.identify().empty());
}
