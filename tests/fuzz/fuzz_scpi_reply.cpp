// Fuzzes what an instrument can send back: the reply parsers (parse_double/int/bool/doubles, parse_scpi_error)
// and a whole ScpiSession over a transport whose far end replays the fuzz input (text replies, IEEE 488.2
// definite and indefinite blocks, *OPC?, the SYST:ERR? queue, *IDN? and, as a serial line, the resynchronisation on
// its reply after an error). Only mtjlab::Error may escape a session call.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_support.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/log.hpp"
#include "mtjlab/drivers/scpi/session.hpp"
#include "mtjlab/drivers/transport/transport.hpp"

namespace {

using namespace mtjlab::drivers;

/// The far end replays a fixed byte stream in chunks; when it is used up, reads time out.
class ReplayTransport final : public Transport {
public:
    ReplayTransport(std::string stream, std::uint8_t chunk, bool serial)
        : stream_(std::move(stream)), chunk_(chunk), serial_(serial) {}
    void write(std::string_view, Duration) override {}
    // As a serial line: what is still to come cannot be dropped, the session resynchronises on its marker.
    bool abandon_exchange() override {
        discard_input();
        return !serial_;
    }
    void close() override {}
    [[nodiscard]] std::string resource() const override { return "FUZZ::replay"; }

protected:
    void read_some(std::string& out, std::size_t max, Clock::time_point) override {
        if (pos_ >= stream_.size()) throw mtjlab::TimeoutError("fuzz: replay exhausted");
        std::size_t n = std::min({max, stream_.size() - pos_, std::size_t{chunk_} + 1});
        out.append(stream_, pos_, n);
        pos_ += n;
    }

private:
    std::string stream_;
    std::size_t pos_ = 0;
    std::uint8_t chunk_;
    bool serial_;
};

void parse_helpers(const std::string& text) {
    try { (void)parse_double(text); } catch (const mtjlab::ProtocolError&) {}
    try { (void)parse_int(text); } catch (const mtjlab::ProtocolError&) {}
    try { (void)parse_bool(text); } catch (const mtjlab::ProtocolError&) {}
    try { (void)parse_doubles(text); } catch (const mtjlab::ProtocolError&) {}
    try { (void)parse_scpi_error(text); } catch (const mtjlab::ProtocolError&) {}
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The session logs a warning each time it resynchronises: millions of lines over a campaign, and the time
    // spent formatting them would be most of each execution.
    static const bool quiet = (mtjlab::log::setup("off"), true);
    (void)quiet;
    mtjlab::fuzz::Bytes in(data, size);
    const std::uint8_t config = in.byte();
    const std::uint8_t chunk = in.byte();
    std::uint8_t ops[4];
    for (auto& op : ops) op = in.byte();
    const std::string stream = in.rest();

    parse_helpers(stream);

    SessionOptions opt;
    opt.name = "fuzz";
    opt.timeout = std::chrono::milliseconds(1);
    opt.termination.read = (config & 1) ? "\n" : "\r\n";
    opt.max_reply = (config & 2) ? 64 : 64 * 1024;
    opt.max_block = (config & 4) ? 256 : 16 * 1024 * 1024;
    opt.max_error_drain = 1 + (config >> 4);
    ScpiSession session(std::make_unique<ReplayTransport>(stream, chunk, (config & 8) != 0), opt);
    for (const std::uint8_t op : ops) {
        try {
            switch (op % 11) {
            case 0: (void)session.query("Q?"); break;
            case 1: (void)session.query_double("Q?"); break;
            case 2: (void)session.query_int("Q?"); break;
            case 3: (void)session.query_bool("Q?"); break;
            case 4: (void)session.query_doubles("Q?"); break;
            case 5: (void)session.query_block("CURV?"); break;
            case 6: (void)session.drain_errors(); break;
            case 7: session.check_errors("CMD"); break;
            case 8: session.sync(std::chrono::milliseconds(1)); break;
            case 10: (void)session.identify(); break;  // sets the marker a serial session resynchronises on
            default: session.write_checked("CMD 1"); break;
            }
        } catch (const mtjlab::Error&) {
        }
    }
    return 0;
}
