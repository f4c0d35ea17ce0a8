// The only file that talks to libusb: discovery, kernel-driver detach, claim, and the seam calls.
#include <libusb.h>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/transport/usbtmc.hpp"

namespace mtjlab::drivers::usbtmc {
namespace {

std::string where_of(const UsbResource& r) {
    return fmt::format("USB::0x{:04X}::0x{:04X}::{}::INSTR", r.vendor_id, r.product_id, r.serial);
}

// Throwing wrapper for libusb return codes (style: wrap every C call).
int check(int rc, const std::string& where, const char* what) {
    if (rc == LIBUSB_ERROR_TIMEOUT) throw TimeoutError(fmt::format("{}: {} timed out", where, what));
    if (rc < 0) throw TransportError(fmt::format("{}: {} failed: {} ({})", where, what, libusb_error_name(rc), rc));
    return rc;
}

class LibusbDevice final : public DeviceIo {
public:
    LibusbDevice(libusb_context* ctx, libusb_device_handle* h, std::uint8_t iface, std::uint8_t ep_in,
                 std::uint8_t ep_out, std::size_t max_packet, std::string where)
        : ctx_(ctx), h_(h), iface_(iface), ep_in_(ep_in), ep_out_(ep_out), max_packet_(max_packet),
          where_(std::move(where)) {}
    ~LibusbDevice() override {
        libusb_release_interface(h_, iface_);
        libusb_close(h_);
        libusb_exit(ctx_);
    }
    void bulk_out(std::span<const std::uint8_t> data, unsigned timeout_ms) override {
        int done = 0;
        check(libusb_bulk_transfer(h_, ep_out_, const_cast<unsigned char*>(data.data()), static_cast<int>(data.size()),
                                   &done, timeout_ms),
              where_, "bulk-OUT");
        if (static_cast<std::size_t>(done) != data.size())
            throw TransportError(fmt::format("{}: bulk-OUT sent {} of {} bytes", where_, done, data.size()));
    }
    std::vector<std::uint8_t> bulk_in(std::size_t max, unsigned timeout_ms) override {
        std::vector<std::uint8_t> buf(max);
        int got = 0;
        check(libusb_bulk_transfer(h_, ep_in_, buf.data(), static_cast<int>(buf.size()), &got, timeout_ms), where_,
              "bulk-IN");
        buf.resize(static_cast<std::size_t>(got));
        return buf;
    }
    std::vector<std::uint8_t> control_in_endpoint(Request request, std::uint16_t value, std::uint16_t length,
                                                  unsigned timeout_ms) override {
        std::vector<std::uint8_t> buf(length);
        const int n = check(libusb_control_transfer(h_, 0xA2, static_cast<std::uint8_t>(request), value, ep_in_,
                                                    buf.data(), length, timeout_ms),
                            where_, "USBTMC control request");
        buf.resize(static_cast<std::size_t>(n));
        return buf;
    }
    std::vector<std::uint8_t> control_in_interface(Request request, std::uint16_t length,
                                                   unsigned timeout_ms) override {
        std::vector<std::uint8_t> buf(length);
        const int n = check(libusb_control_transfer(h_, 0xA1, static_cast<std::uint8_t>(request), 0, iface_,
                                                    buf.data(), length, timeout_ms),
                            where_, "USBTMC control request");
        buf.resize(static_cast<std::size_t>(n));
        return buf;
    }
    void clear_halt_out() override { check(libusb_clear_halt(h_, ep_out_), where_, "clearing the bulk-OUT halt"); }
    [[nodiscard]] std::size_t max_packet_size() const override { return max_packet_; }

private:
    libusb_context* ctx_;
    libusb_device_handle* h_;
    std::uint8_t iface_, ep_in_, ep_out_;
    std::size_t max_packet_;
    std::string where_;
};

}  // namespace

std::unique_ptr<DeviceIo> open_libusb_device(const UsbResource& r) {
    const auto where = where_of(r);
    libusb_context* ctx = nullptr;
    check(libusb_init(&ctx), where, "libusb_init");
    libusb_device** list = nullptr;
    const auto n = libusb_get_device_list(ctx, &list);
    if (n < 0) {
        libusb_exit(ctx);
        check(static_cast<int>(n), where, "listing USB devices");
    }
    libusb_device_handle* handle = nullptr;
    std::uint8_t iface = 0, ep_in = 0, ep_out = 0;
    std::size_t max_packet = 64;
    std::string last_problem = "no device with this vendor and product ID";
    for (ssize_t i = 0; i < n && !handle; ++i) {
        libusb_device_descriptor dd{};
        if (libusb_get_device_descriptor(list[i], &dd) != 0) continue;
        if (dd.idVendor != r.vendor_id || dd.idProduct != r.product_id) continue;
        libusb_device_handle* h = nullptr;
        if (const int rc = libusb_open(list[i], &h); rc != 0) {
            last_problem = fmt::format("cannot open a matching device: {} (permissions? udev rule)", libusb_error_name(rc));
            continue;
        }
        if (!r.serial.empty()) {
            unsigned char sn[256] = {};
            const int len = dd.iSerialNumber ? libusb_get_string_descriptor_ascii(h, dd.iSerialNumber, sn, sizeof sn) : -1;
            if (len < 0 || std::string(reinterpret_cast<char*>(sn), static_cast<std::size_t>(len)) != r.serial) {
                last_problem = "matching vendor/product but a different serial number";
                libusb_close(h);
                continue;
            }
        }
        libusb_config_descriptor* cfg = nullptr;
        if (libusb_get_active_config_descriptor(list[i], &cfg) != 0) {
            libusb_close(h);
            continue;
        }
        bool found = false;
        for (int k = 0; k < cfg->bNumInterfaces && !found; ++k) {
            const auto& alt = cfg->interface[k].altsetting[0];
            if (alt.bInterfaceClass != interface_class || alt.bInterfaceSubClass != interface_subclass) continue;
            if (r.interface_number && alt.bInterfaceNumber != *r.interface_number) continue;
            std::uint8_t in = 0, out = 0;
            std::size_t mps = 64;
            for (int e = 0; e < alt.bNumEndpoints; ++e) {
                const auto& ep = alt.endpoint[e];
                if ((ep.bmAttributes & 0x03) != LIBUSB_TRANSFER_TYPE_BULK) continue;
                if (ep.bEndpointAddress & LIBUSB_ENDPOINT_IN) {
                    in = ep.bEndpointAddress;
                    mps = ep.wMaxPacketSize;
                } else {
                    out = ep.bEndpointAddress;
                }
            }
            if (in && out) {
                found = true;
                iface = alt.bInterfaceNumber;
                ep_in = in;
                ep_out = out;
                max_packet = mps;
            }
        }
        libusb_free_config_descriptor(cfg);
        if (!found) {
            last_problem = "matching device has no USBTMC interface (class 0xFE, subclass 0x03)";
            libusb_close(h);
            continue;
        }
        // The kernel's usbtmc driver may own the interface: detach it (re-attached on close).
        libusb_set_auto_detach_kernel_driver(h, 1);
        if (libusb_kernel_driver_active(h, iface) == 1) {
            if (const int rc = libusb_detach_kernel_driver(h, iface); rc != 0 && rc != LIBUSB_ERROR_NOT_FOUND) {
                last_problem = fmt::format("cannot detach the kernel driver: {}", libusb_error_name(rc));
                libusb_close(h);
                continue;
            }
        }
        if (const int rc = libusb_claim_interface(h, iface); rc != 0) {
            last_problem = fmt::format("cannot claim interface {}: {}", iface, libusb_error_name(rc));
            libusb_close(h);
            continue;
        }
        handle = h;
    }
    libusb_free_device_list(list, 1);
    if (!handle) {
        libusb_exit(ctx);
        throw TransportError(fmt::format("{}: {}", where, last_problem));
    }
    return std::make_unique<LibusbDevice>(ctx, handle, iface, ep_in, ep_out, max_packet, where);
}

}  // namespace mtjlab::drivers::usbtmc
