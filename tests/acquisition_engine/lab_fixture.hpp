#pragma once
// A bench of real drivers talking to the virtual lab, in process (InProcessTransport) or over loopback
// sockets, with every message recorded at the transport seam.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mtjlab/acquisition/guard.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "mtjlab/drivers/registry.hpp"
#include "mtjlab/drivers/transport/in_process.hpp"
#include "mtjlab/drivers/transport/transport.hpp"

namespace mtjlab::test {

struct Recorded {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> messages;  // (instrument, message)
    void add(const std::string& who, std::string_view msg) {
        std::lock_guard lock(mutex);
        messages.emplace_back(who, std::string(msg));
    }
};

/// The station most engine tests use: a 12.5 mT/A coil ramped in 1 mT steps at 50 mT/s; limits 2.5 V and 1 us
/// pulses, 8 A, 0.1 T, 50 mT/s, 0.2 V reads.
inline acquisition::BenchCalibration bench_calibration() {
    acquisition::BenchCalibration c;
    c.coil_constant_t_per_a = 0.0125;
    c.time_constant = Second(0.03);
    c.ramp_rate_t_per_s = 0.05;
    c.ramp_step = Tesla(1e-3);
    return c;
}
inline acquisition::BenchLimits bench_limits() {
    acquisition::BenchLimits l;
    l.max_pulse_amplitude = Volt(2.5);
    l.max_pulse_width = Second(1e-6);
    l.max_coil_current = Ampere(8.0);
    l.max_field = Tesla(0.1);
    l.max_ramp_rate_t_per_s = 0.05;
    l.max_read_voltage = Volt(0.2);
    return l;
}

struct LabBench {
    std::unique_ptr<devices_sim::VirtualLab> lab;
    std::shared_ptr<Recorded> recorded = std::make_shared<Recorded>();
    std::unique_ptr<drivers::PulseGenerator> pulse;
    std::unique_ptr<drivers::LockIn> lockin;
    std::unique_ptr<drivers::MagnetSupply> magnet;
    std::unique_ptr<drivers::Gaussmeter> gaussmeter;

    /// `sockets`: serve the lab on loopback TCP and connect the drivers there (else in process).
    LabBench(double thickness_nm, int cells, double coil_t_per_a, bool sockets, bool with_gaussmeter = false,
             std::uint64_t seed = 1) {
        devices_sim::LabOptions lo;
        lo.seed = seed;
        lo.serve_pty = false;
        lo.device.thickness_nm = thickness_nm;
        lo.device.cells = cells;
        lo.instruments = {{"pulse_gen", "33522B", false}, {"lockin", "SR830", false}, {"magnet", "BOP 20-10M", false}};
        if (with_gaussmeter) lo.instruments.push_back({"gaussmeter", "425", false});
        lab = std::make_unique<devices_sim::VirtualLab>(lo);
        lab->set_coil(coil_t_per_a, Tesla(0.0));
        if (sockets) lab->start();
        auto session = [&](const std::string& name, const char* model) {
            const auto& info = drivers::find_model(model);
            std::unique_ptr<drivers::Transport> t;
            if (sockets) {
                std::string res;
                for (const auto& ep : lab->endpoints())
                    if (ep.name == name) res = ep.tcp_resource;
                t = drivers::open_transport(res);
                return std::make_shared<drivers::ScpiSession>(std::move(t), drivers::session_options_for(info, name));
            }
            auto inner = lab->handler(name);
            auto rec = recorded;
            t = std::make_unique<drivers::InProcessTransport>(
                [inner, rec, name](std::string_view msg) {
                    rec->add(name, msg);
                    return inner(msg);
                },
                "SIM::" + name);
            return std::make_shared<drivers::ScpiSession>(std::move(t), drivers::session_options_for(info, name));
        };
        pulse = drivers::make_pulse_generator("keysight_33500b", session("pulse_gen", "keysight_33500b"));
        lockin = drivers::make_lock_in("srs_sr830", session("lockin", "srs_sr830"));
        magnet = drivers::make_magnet_supply("kepco_bop", session("magnet", "kepco_bop"));
        if (with_gaussmeter) gaussmeter = drivers::make_gaussmeter("lakeshore_425", session("gaussmeter", "lakeshore_425"));
    }

    acquisition::Instruments instruments() { return {pulse.get(), lockin.get(), magnet.get(), gaussmeter.get()}; }

    acquisition::BenchClock clock() {
        auto bench = lab->bench();
        return {[bench](Second dt) {
                    std::lock_guard lock(bench->mutex());
                    bench->advance_locked(dt);
                },
                [bench] {
                    std::lock_guard lock(bench->mutex());
                    return bench->now_locked();
                }};
    }
    Tesla field() {
        auto bench = lab->bench();
        std::lock_guard lock(bench->mutex());
        return bench->field_locked();
    }
};

}  // namespace mtjlab::test
