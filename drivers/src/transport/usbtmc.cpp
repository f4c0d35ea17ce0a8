#include "mtjlab/drivers/transport/usbtmc.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::drivers::usbtmc {

std::uint8_t next_tag(std::uint8_t tag) { return tag >= 255 ? std::uint8_t{1} : static_cast<std::uint8_t>(tag + 1); }

namespace {
void put_u32le(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v & 0xFF);
    p[1] = static_cast<std::uint8_t>((v >> 8) & 0xFF);
    p[2] = static_cast<std::uint8_t>((v >> 16) & 0xFF);
    p[3] = static_cast<std::uint8_t>((v >> 24) & 0xFF);
}
std::uint32_t get_u32le(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}
void check_tag(std::uint8_t tag) {
    if (tag == 0) throw ProtocolError("USBTMC bTag 0 is not allowed (1..255)");
}
}  // namespace

std::vector<std::uint8_t> encode_dev_dep_msg_out(std::uint8_t tag, std::string_view payload, bool eom) {
    check_tag(tag);
    if (payload.size() > 0xFFFFFFFFu) throw ProtocolError("USBTMC message too long");
    const std::size_t padded = (payload.size() + 3) / 4 * 4;
    std::vector<std::uint8_t> out(header_size + padded, 0);
    out[0] = static_cast<std::uint8_t>(MsgId::dev_dep_msg_out);
    out[1] = tag;
    out[2] = static_cast<std::uint8_t>(~tag);
    out[3] = 0;
    put_u32le(&out[4], static_cast<std::uint32_t>(payload.size()));
    out[8] = eom ? 0x01 : 0x00;
    std::copy(payload.begin(), payload.end(), out.begin() + header_size);
    return out;
}

std::array<std::uint8_t, header_size> encode_request_dev_dep_msg_in(std::uint8_t tag, std::uint32_t max_size,
                                                                      std::optional<char> term_char) {
    check_tag(tag);
    std::array<std::uint8_t, header_size> h{};
    h[0] = static_cast<std::uint8_t>(MsgId::request_dev_dep_msg_in);
    h[1] = tag;
    h[2] = static_cast<std::uint8_t>(~tag);
    put_u32le(&h[4], max_size);
    if (term_char) {
        h[8] = 0x02;  // bmTransferAttributes bit 1: TermCharEnabled
        h[9] = static_cast<std::uint8_t>(*term_char);
    }
    return h;
}

InHeader decode_dev_dep_msg_in(std::span<const std::uint8_t> b, std::uint8_t expected_tag) {
    if (b.size() < header_size)
        throw ProtocolError(fmt::format("USBTMC: bulk-IN transfer of {} bytes is shorter than a header", b.size()));
    if (b[0] != static_cast<std::uint8_t>(MsgId::dev_dep_msg_in))
        throw ProtocolError(fmt::format("USBTMC: bulk-IN MsgID {} (expected 2, DEV_DEP_MSG_IN)", b[0]));
    if (static_cast<std::uint8_t>(b[1] ^ b[2]) != 0xFF)
        throw ProtocolError(fmt::format("USBTMC: bTag {} and its inverse {} do not match", b[1], b[2]));
    if (b[1] != expected_tag)
        throw ProtocolError(fmt::format("USBTMC: reply bTag {} (expected {})", b[1], expected_tag));
    if (b[3] != 0 || b[9] != 0 || b[10] != 0 || b[11] != 0)
        throw ProtocolError("USBTMC: reserved header bytes are not zero");
    if (b[8] & ~0x03u) throw ProtocolError(fmt::format("USBTMC: unknown bmTransferAttributes 0x{:02X}", b[8]));
    return InHeader{b[1], get_u32le(&b[4]), (b[8] & 0x01) != 0};
}

Status abort_bulk_in(DeviceIo& io, std::uint8_t tag, unsigned timeout_ms, unsigned max_polls) {
    const auto init = io.control_in_endpoint(Request::initiate_abort_bulk_in, tag, 2, timeout_ms);
    if (init.empty()) throw ProtocolError("USBTMC: empty INITIATE_ABORT_BULK_IN response");
    const auto status = static_cast<Status>(init[0]);
    if (status != Status::success) return status;  // e.g. TRANSFER_NOT_IN_PROGRESS: nothing to abort
    for (unsigned i = 0; i < max_polls; ++i) {
        const auto check = io.control_in_endpoint(Request::check_abort_bulk_in_status, 0, 8, timeout_ms);
        if (check.size() < 2) throw ProtocolError("USBTMC: short CHECK_ABORT_BULK_IN_STATUS response");
        const auto st = static_cast<Status>(check[0]);
        if (st != Status::pending) return st;
        // bmAbortBulkIn.D0: the device still has data queued; read it out so it can finish.
        if (check[1] & 0x01) {
            try {
                (void)io.bulk_in(std::max<std::size_t>(io.max_packet_size(), 64), timeout_ms);
            } catch (const TimeoutError&) {
            }
        }
    }
    return Status::pending;
}

Status clear(DeviceIo& io, unsigned timeout_ms, unsigned max_polls) {
    const auto init = io.control_in_interface(Request::initiate_clear, 1, timeout_ms);
    if (init.empty()) throw ProtocolError("USBTMC: empty INITIATE_CLEAR response");
    auto status = static_cast<Status>(init[0]);
    if (status != Status::success) return status;
    status = Status::pending;
    for (unsigned i = 0; i < max_polls && status == Status::pending; ++i) {
        const auto check = io.control_in_interface(Request::check_clear_status, 2, timeout_ms);
        if (check.size() < 2) throw ProtocolError("USBTMC: short CHECK_CLEAR_STATUS response");
        status = static_cast<Status>(check[0]);
        if (status != Status::pending) break;
        if (check[1] & 0x01) {
            // bmClear.D0: the bulk-IN FIFO still holds data; read it out so the clear can finish.
            try {
                (void)io.bulk_in(std::max<std::size_t>(io.max_packet_size(), 64), timeout_ms);
            } catch (const TimeoutError&) {
            }
        }
    }
    if (status == Status::success) io.clear_halt_out();
    return status;
}

}  // namespace mtjlab::drivers::usbtmc

namespace mtjlab::drivers {

namespace {
unsigned ms_until(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<unsigned>(std::clamp<long long>(left, 1, 600'000));
}
}  // namespace

UsbtmcTransport::UsbtmcTransport(std::unique_ptr<usbtmc::DeviceIo> io, std::string resource)
    : io_(std::move(io)), resource_(std::move(resource)) {
    if (!io_) throw TransportError(resource_ + ": no USB device");
}

void UsbtmcTransport::write(std::string_view data, Duration timeout) {
    if (!io_) throw TransportError(resource_ + ": link closed");
    tag_ = usbtmc::next_tag(tag_);
    const auto msg = usbtmc::encode_dev_dep_msg_out(tag_, data, true);
    io_->bulk_out(msg, ms_until(Clock::now() + timeout));
}

void UsbtmcTransport::read_some(std::string& out, std::size_t max, Clock::time_point deadline) {
    if (!io_) throw TransportError(resource_ + ": link closed");
    tag_ = usbtmc::next_tag(tag_);
    const std::uint8_t tag = tag_;
    const auto want = static_cast<std::uint32_t>(std::clamp<std::size_t>(max, 1, 1u << 20));
    const auto request = usbtmc::encode_request_dev_dep_msg_in(tag, want);
    io_->bulk_out(request, ms_until(deadline));
    try {
        // The reply: header + payload (+ padding), possibly spread over several bulk-IN transfers.
        const std::size_t chunk = std::max<std::size_t>(io_->max_packet_size(), 64) * 64;
        auto first = io_->bulk_in(chunk, ms_until(deadline));
        const auto header = usbtmc::decode_dev_dep_msg_in(first, tag);
        if (header.transfer_size > want)
            throw ProtocolError(fmt::format("{}: USBTMC reply of {} bytes exceeds the {} requested", resource_,
                                            header.transfer_size, want));
        std::string payload(first.begin() + usbtmc::header_size, first.end());
        while (payload.size() < header.transfer_size) {
            auto more = io_->bulk_in(chunk, ms_until(deadline));
            if (more.empty()) throw ProtocolError(resource_ + ": USBTMC transfer ended early");
            payload.append(more.begin(), more.end());
        }
        payload.resize(header.transfer_size);  // drop alignment padding
        in_message_ = !header.eom;
        if (payload.empty()) throw ProtocolError(resource_ + ": empty USBTMC reply");
        out += payload;
    } catch (const TimeoutError&) {
        // Leave the device ready for the next transaction (USBTMC 1.0 section 4.2.1.4).
        try {
            (void)usbtmc::abort_bulk_in(*io_, tag, 500);
        } catch (const Error&) {
        }
        in_message_ = false;
        throw TimeoutError(resource_ + ": no USBTMC reply within the deadline (bulk-IN aborted)");
    }
}

bool UsbtmcTransport::abandon_exchange() {
    discard_input();
    in_message_ = false;
    if (!io_) return true;  // closed: nothing can arrive
    try {
        return usbtmc::clear(*io_, 1000) == usbtmc::Status::success;
    } catch (const Error&) {
        return false;
    }
}

void UsbtmcTransport::close() { io_.reset(); }

}  // namespace mtjlab::drivers
