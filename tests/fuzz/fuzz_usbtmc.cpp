// Fuzzes what a USB device can send: the DEV_DEP_MSG_IN header decoder and a UsbtmcTransport (behind a
// ScpiSession) whose fake device answers bulk-IN transfers, the abort and clear control requests (the clear after
// any failed exchange) from the fuzz input.
// The fake device writes the expected tag into a reply header when the input asks it to, so the fuzzer also
// reaches the multi-transfer and abort paths. Only mtjlab::Error may escape.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/log.hpp"
#include "mtjlab/drivers/scpi/session.hpp"
#include "mtjlab/drivers/transport/usbtmc.hpp"

namespace {

using namespace mtjlab::drivers;

class FakeDevice final : public usbtmc::DeviceIo {
public:
    explicit FakeDevice(mtjlab::fuzz::Bytes& in) : in_(in) {}
    void bulk_out(std::span<const std::uint8_t> bytes, unsigned) override {
        if (bytes.size() >= 2) last_tag_ = bytes[1];
    }
    std::vector<std::uint8_t> bulk_in(std::size_t max, unsigned) override {
        if (in_.remaining() == 0) throw mtjlab::TimeoutError("fuzz: device silent");
        const std::uint8_t ctl = in_.byte();
        const std::string s = in_.take(std::min<std::size_t>(max, ctl & 0x3fu) + ((ctl & 0x40u) ? 12 : 0));
        std::vector<std::uint8_t> out(s.begin(), s.end());
        out.resize(std::min(out.size(), max));
        if ((ctl & 0x80u) && out.size() >= 3) {  // a well-formed header start with the expected tag
            out[0] = 2;
            out[1] = last_tag_;
            out[2] = static_cast<std::uint8_t>(~last_tag_);
        }
        return out;
    }
    std::vector<std::uint8_t> control_in_endpoint(usbtmc::Request, std::uint16_t, std::uint16_t length,
                                                  unsigned) override {
        const std::string s = in_.take(std::min<std::size_t>(length, in_.byte() % 8));
        return {s.begin(), s.end()};
    }
    std::vector<std::uint8_t> control_in_interface(usbtmc::Request, std::uint16_t length, unsigned) override {
        const std::string s = in_.take(std::min<std::size_t>(length, in_.byte() % 4));
        return {s.begin(), s.end()};
    }
    void clear_halt_out() override {
        if (in_.byte() & 1) throw mtjlab::TransportError("fuzz: clear halt refused");
    }
    [[nodiscard]] std::size_t max_packet_size() const override { return 64; }

private:
    mtjlab::fuzz::Bytes& in_;
    std::uint8_t last_tag_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The session logs a warning each time it resynchronises: millions of lines over a campaign, and the time
    // spent formatting them would be most of each execution.
    static const bool quiet = (mtjlab::log::setup("off"), true);
    (void)quiet;
    try {
        const auto h = usbtmc::decode_dev_dep_msg_in(std::span<const std::uint8_t>(data, size),
                                                     size > 1 ? data[1] : std::uint8_t{0});
        if (h.transfer_size > 0xffffffffu) __builtin_trap();
    } catch (const mtjlab::ProtocolError&) {
    }

    mtjlab::fuzz::Bytes in(data, size);
    const std::uint8_t ops = in.byte();
    SessionOptions opt;
    opt.name = "fuzz-usb";
    opt.timeout = std::chrono::milliseconds(1);
    opt.max_reply = 4096;
    opt.max_block = 4096;
    opt.error_query = "";
    ScpiSession session(std::make_unique<UsbtmcTransport>(std::make_unique<FakeDevice>(in), "USB0::1::2::F::INSTR"),
                        opt);
    for (int i = 0; i < 4 && in.remaining() > 0; ++i) {
        try {
            switch ((ops >> (2 * i)) & 3) {
            case 0: (void)session.query("Q?"); break;
            case 1: (void)session.query_block("CURV?"); break;
            case 2: (void)session.query_doubles("Q?"); break;
            default: session.write("CMD"); break;
            }
        } catch (const mtjlab::Error&) {
        }
    }
    return 0;
}
