#pragma once
// The virtual lab: a set of virtual instruments sharing one virtual probe station, served on loopback TCP
// sockets (one port per instrument, raw SCPI like a LAN instrument on port 5025) and, for the serial
// models, also on pseudo-terminals. Everything runs on one background io_context thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtjlab/devices_sim/bench.hpp"
#include "mtjlab/devices_sim/virtual_instrument.hpp"

namespace mtjlab::devices_sim {

/// Which device sits on the stage: a device of a seeded virtual wafer, or the nominal device of a
/// thickness and cell count.
struct LabDevice {
    std::optional<std::uint64_t> wafer_seed;  ///< set: take (die, device) of this wafer
    int die = 0;
    int device = 0;
    double thickness_nm = 1.6;                ///< nominal device (when no wafer seed)
    int cells = 1;
};

/// One instrument of the lab.
struct LabInstrument {
    std::string name;   ///< "pulse_gen", "lockin", "magnet", "gaussmeter", ...
    std::string model;  ///< a model make_virtual_instrument accepts
    bool pty = false;   ///< also serve it on a pseudo-terminal (serial models)
};

/// The default bench: 33522B and 81150A pulse generators, SR830 and SR860 lock-ins, Kepco BOP 20-10M
/// (also on a pty) and Keithley 2400 magnet supplies, Lake Shore 425 (also on a pty).
std::vector<LabInstrument> default_lab_instruments();

struct LabOptions {
    LabDevice device;
    BenchOptions bench;
    std::uint64_t seed = 1;               ///< seeds the probe station (thermal switching, read noise)
    std::string listen = "127.0.0.1";     ///< bind address; loopback unless the user names another
    unsigned port_base = 0;               ///< first port (instrument k gets port_base + k); 0 = ephemeral
    std::vector<LabInstrument> instruments = default_lab_instruments();
    std::size_t max_line = 4096;          ///< longer input lines are discarded with -363
    bool serve_pty = true;                ///< open pseudo-terminals for instruments that ask for one
};

/// Where one instrument is served.
struct LabEndpoint {
    std::string name;
    std::string model;
    std::string idn;
    unsigned port = 0;
    std::string tcp_resource;  ///< TCPIP0::127.0.0.1::<port>::SOCKET
    std::string pty_path;      ///< /dev/pts/N or empty
    std::string pty_resource;  ///< ASRL/dev/pts/N::INSTR or empty
    std::optional<SerialSettings> serial;
};

/// Handler type of contract C's InProcessTransport.
using InProcessHandler = std::function<std::optional<std::string>(std::string_view message)>;

class VirtualLab {
public:
    /// Builds the bench and the instruments (does not open sockets). Throws InputError for a bad device
    /// choice, unknown model or duplicate name.
    explicit VirtualLab(LabOptions options);
    ~VirtualLab();
    VirtualLab(const VirtualLab&) = delete;
    VirtualLab& operator=(const VirtualLab&) = delete;

    /// Binds every socket, opens the ptys and starts the io thread. Throws TransportError when a port
    /// cannot be bound or a pty cannot be opened.
    void start();
    /// Closes every connection and joins the io thread. Idempotent; the destructor calls it.
    void stop();
    [[nodiscard]] bool running() const;

    /// One entry per instrument (ports are known after start()).
    [[nodiscard]] std::vector<LabEndpoint> endpoints() const;
    /// The instrument with this name; throws InputError if there is none.
    VirtualInstrument& instrument(const std::string& name);
    /// In-process handler for contract C's InProcessTransport (no sockets involved).
    InProcessHandler handler(const std::string& name);
    /// The shared bench (lock its mutex to inspect the probe station).
    std::shared_ptr<VirtualBench> bench() { return bench_; }
    /// Sets the coil constant (T/A) and remanence of the electromagnet.
    void set_coil(double t_per_a, Tesla remanence);

private:
    struct Impl;
    LabOptions options_;
    std::shared_ptr<VirtualBench> bench_;
    std::vector<std::unique_ptr<VirtualInstrument>> instruments_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace mtjlab::devices_sim
