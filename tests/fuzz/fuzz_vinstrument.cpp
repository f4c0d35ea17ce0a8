// Fuzzes what a client can send to a virtual instrument: the first input byte picks one instrument of the
// default virtual lab (33522B, 81150A, SR830, SR860, BOP, 2400, 425), the rest is split at '\n' into program
// messages handed to VirtualInstrument::process(), as the socket and pty servers do. process() promises never
// to throw for bad input (errors go to the instrument's error queue or status bytes), so nothing may escape.
//
// Every input gets a fresh instrument on a fresh bench, built the way VirtualLab's constructor builds them
// (ProbeStation(device, ReadChain{}, seed 1) -> VirtualBench(station, bench seed 1) -> make_virtual_instrument),
// so every input replays on its own and -runs is deterministic (the bench's work budget per message is
// 1/20 of the lab's, see fresh_instrument). Only the device, an immutable value, is computed
// once: physics::nominal_device() (the calibration of the default lab's nominal device) was ~40 % of the time
// when the harness built a whole VirtualLab per input. LLVMFuzzerInitialize checks that an instrument built this
// way answers a fixed session exactly like the same instrument of a real VirtualLab.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "mtjlab/physics/device.hpp"
#include "mtjlab/physics/probe_station.hpp"

namespace {
using namespace mtjlab::devices_sim;

const std::vector<LabInstrument>& instruments() {
    static const auto list = default_lab_instruments();
    return list;
}

// The default VirtualLab's device (LabOptions{}.device: nominal, 1.6 nm, 1 cell) and seeds (LabOptions{}.seed).
const mtjlab::physics::CompoundDevice& lab_device() {
    static const auto device = [] {
        const LabDevice d{};
        return mtjlab::physics::nominal_device(d.thickness_nm, d.cells);
    }();
    return device;
}

std::unique_ptr<VirtualInstrument> fresh_instrument(const LabInstrument& which) {
    const LabOptions defaults{};
    mtjlab::physics::ProbeStation station(lab_device(), mtjlab::physics::ReadChain{}, defaults.seed);
    BenchOptions bo = defaults.bench;
    if (bo.seed == 1) bo.seed = defaults.seed;
    // The one difference from the lab: 1/20 of its work budget per message (5 x 10^4 fast-layer pulses or
    // 50 LLG pulses, <= 0.1 s under ASan), so 64 messages of maximal bursts take ~5 s, inside -timeout=25.
    bo.max_work_per_message = defaults.bench.max_work_per_message / 20;
    auto bench = std::make_shared<VirtualBench>(std::move(station), bo);
    return make_virtual_instrument(which.model, which.name, std::move(bench));
}

std::string reply_text(const Exchange& e) { return (e.drop ? "<drop>" : "") + e.reply.value_or("<none>"); }
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // The shortcut must build what VirtualLab builds: the same replies to a session that reads settings,
    // noise-driven measurements and errors, for each instrument.
    const std::vector<std::string> session = {"*IDN?", "*RST", "OUTP ON", "OUTP?", "OUTP1 ON", "FREQ 1E3",
                                              "FREQ?", "CURR 0.5", "VOLT 1", "READ?", "MEAS?", "OUTP?",
                                              "SNAP? 1,2", "OUTP? 1", "RDGFIELD?", "SYST:ERR?", "*ESR?",
                                              "LIAS?", "bogus", "*STB?"};
    for (const auto& which : instruments()) {
        LabOptions options;
        options.instruments = {which};
        options.serve_pty = false;
        VirtualLab lab(options);
        auto& reference = lab.instrument(which.name);
        const auto mine = fresh_instrument(which);
        for (const auto& m : session) {
            const auto a = reply_text(reference.process(m));
            const auto b = reply_text(mine->process(m));
            if (a != b) {
                std::fprintf(stderr, "fuzz_vinstrument: %s differs from the VirtualLab one on '%s': '%s' vs '%s'\n",
                             which.model.c_str(), m.c_str(), a.c_str(), b.c_str());
                __builtin_trap();
            }
        }
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const auto& which = instruments()[data[0] % instruments().size()];
    const auto instrument = fresh_instrument(which);

    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    std::size_t start = 0;
    int messages = 0;
    while (start <= text.size() && messages < 64) {  // the servers cap lines at 4096 bytes; -max_len keeps below
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view message = text.substr(start, end - start);
        if (!message.empty() && message.back() == '\r') message.remove_suffix(1);
        const auto exchange = instrument->process(message);
        (void)exchange;
        ++messages;
        start = end + 1;
    }
    return 0;
}
