#pragma once
// The virtual lab: a set of virtual instruments sharing one virtual probe station, served on loopback TCP
// sockets (one port per instrument, raw SCPI like a LAN instrument on port 5025) and, for the serial
// models, also on pseudo-terminals. Everything runs on one background io_context thread.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mtjlab/devices_sim/bench.hpp"
#include "mtjlab/devices_sim/virtual_instrument.hpp"
#include "mtjlab/physics/wafer.hpp"

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

    // --- virtual prober -------------------------------------------------------------------------------
    /// Puts a seeded virtual wafer with this layout on the chuck (the device on the stage is unchanged
    /// until probe() is called).
    void load_wafer(const physics::WaferSpec& spec, std::uint64_t wafer_seed);
    /// Puts device (die, device) of the loaded wafer on the stage: a fresh probe station with that device
    /// (seeded from the lab seed, die and device), the same read chain, the same magnet state. Throws
    /// InputError when no wafer is loaded or (die, device) is outside it.
    void probe(int die, int device);
    /// The (die, device) on the stage after the last probe(), if any.
    [[nodiscard]] std::optional<std::pair<int, int>> probed() const;

    // --- virtual clock ---------------------------------------------------------------------------------
    /// Lets `dt` of virtual time pass on the bench (and sleeps for it when the bench is realtime).
    void wait(Second dt);
    /// The bench's virtual time.
    [[nodiscard]] Second now() const;

private:
    struct Impl;
    LabOptions options_;
    std::optional<physics::Wafer> wafer_;
    std::optional<std::pair<int, int>> probed_;
    std::shared_ptr<VirtualBench> bench_;
    std::vector<std::unique_ptr<VirtualInstrument>> instruments_;
    std::unique_ptr<Impl> impl_;
};

/// The virtual lab model that stands in for a driver-registry key ("srs_sr830" -> "SR830",
/// "kepco_bop" -> "BOP 20-10M", ...). Throws InputError for a key with no virtual model.
std::string virtual_model_for(std::string_view registry_key);

/// One instrument a station wants: its role name ("pulse_gen", ...) and driver-registry key.
struct StationInstrument {
    std::string role;
    std::string registry_key;
};

/// A started lab and where each role is served.
struct StationLab {
    std::unique_ptr<VirtualLab> lab;
    std::map<std::string, std::string> resources;  ///< role -> TCPIP0::127.0.0.1::<port>::SOCKET
};

/// Builds and starts a lab with exactly these instruments (TCP only, one port each, the virtual model of
/// each registry key), and the coil constant `coil_constant_t_per_a * (1 + coil_error)` with `remanence`
/// (a coil_error or remanence gives closed-loop field control something to correct). `options.instruments`
/// is replaced; the rest of `options` (device, seed, bench) is used as given.
StationLab start_lab_for(const std::vector<StationInstrument>& instruments, LabOptions options,
                         double coil_constant_t_per_a, double coil_error = 0.0, Tesla remanence = Tesla(0.0));

}  // namespace mtjlab::devices_sim
