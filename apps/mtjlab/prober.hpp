#pragma once
// The probe move of a real bench, for `mtjlab run` and `mtjlab campaign` (the virtual lab has its own prober):
// an external command (a prober's control program or a script) or a prompt on the terminal. The runner calls
// it with the field at zero and every output off, before the first run on each new device.
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "mtjlab/acquisition/runner.hpp"
#include "mtjlab/core/error.hpp"

namespace mtjlab::cli {

/// `command`: run as `COMMAND WAFER DIE DEVICE THICKNESS_NM CELLS` (exit status 0 = probes down on that device;
/// anything else stops the campaign with an instrument error, resumable). Empty: ask on the terminal and wait
/// for Enter. The wafer id reaching the shell is validated by the campaign parser (letters, digits, - _ .).
inline std::function<void(const acquisition::DeviceRef&)> real_prober(const std::string& command) {
    if (!command.empty())
        return [command](const acquisition::DeviceRef& d) {
            const std::string line =
                fmt::format("{} {} {} {} {:.3f} {}", command, d.wafer_id, d.die, d.device, d.thickness_nm, d.cells);
            if (std::system(line.c_str()) != 0) throw InstrumentError("prober command failed: " + line);
        };
    return [](const acquisition::DeviceRef& d) {
        std::cerr << fmt::format("\nMove the probes to wafer {} die {} device {} ({:.2f} nm, {} cells), "
                                 "then press Enter (field at zero, outputs off)... ",
                                 d.wafer_id, d.die, d.device, d.thickness_nm, d.cells);
        std::string line;
        if (!std::getline(std::cin, line)) throw InputError("no answer on stdin to the probe-move prompt");
    };
}

inline constexpr const char* k_prober_command_help =
    "Real bench: command run before each new device with arguments WAFER DIE DEVICE THICKNESS_NM CELLS "
    "(exit 0 = probes down; default: prompt on the terminal)";

}  // namespace mtjlab::cli
