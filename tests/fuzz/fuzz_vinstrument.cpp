// Fuzzes what a client can send to a virtual instrument: the first input byte picks one instrument of the
// default virtual lab (33522B, 81150A, SR830, SR860, BOP, 2400, 425), the rest is split at '\n' into program
// messages handed to VirtualInstrument::process(), as the socket and pty servers do. process() promises never
// to throw for bad input (errors go to the instrument's error queue or status bytes), so nothing may escape.
// A fresh lab per input keeps every input reproducible on its own.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mtjlab::devices_sim;
    static const auto instruments = default_lab_instruments();
    if (size < 1) return 0;
    const auto& which = instruments[data[0] % instruments.size()];

    LabOptions options;
    options.instruments = {which};
    options.serve_pty = false;
    VirtualLab lab(options);
    auto& instrument = lab.instrument(which.name);

    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    std::size_t start = 0;
    int messages = 0;
    while (start <= text.size() && messages < 64) {  // the servers cap lines at 4096 bytes; -max_len keeps below
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view message = text.substr(start, end - start);
        if (!message.empty() && message.back() == '\r') message.remove_suffix(1);
        const auto exchange = instrument.process(message);
        (void)exchange;
        ++messages;
        start = end + 1;
    }
    return 0;
}
