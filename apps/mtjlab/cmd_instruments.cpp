// mtjlab scpi RESOURCE [CMD...]       send commands, print the replies of queries (or an interactive prompt)
// mtjlab instruments probe STATION    who answers *IDN? for each role of a station
// mtjlab instruments models           the models the registry knows
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "mtjlab/acquisition/station.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/registry.hpp"
#include "mtjlab/drivers/scpi/session.hpp"
#include "mtjlab/drivers/transport/resource.hpp"

namespace mtjlab::cli {

namespace {

struct ScpiOptions {
    std::string resource;
    std::vector<std::string> commands;
    std::string model;
    int timeout_ms = 2000;
    std::string termination = "lf";
    bool check_errors = false;
    unsigned baud = 0;
    unsigned data_bits = 0;
    std::string parity;
    unsigned stop_bits = 0;
    std::string flow_control;
};

drivers::Termination termination_named(const std::string& name) {
    if (name == "lf") return {"\n", "\r\n"};
    if (name == "crlf") return {"\r\n", "\r\n"};
    if (name == "cr") return {"\r", "\r\n"};
    throw InputError(fmt::format("--termination '{}' (use lf, crlf or cr)", name));
}

bool is_query(const std::string& cmd) { return cmd.find('?') != std::string::npos; }

// One command: queries print their reply, other commands print nothing (or the error queue check).
void run_one(drivers::ScpiSession& s, const std::string& cmd, bool check) {
    if (is_query(cmd)) {
        std::cout << s.query(cmd) << '\n' << std::flush;
    } else if (check) {
        s.write_checked(cmd);
    } else {
        s.write(cmd);
    }
}

void run_scpi(const ScpiOptions& o) {
    drivers::TransportOptions topt;
    drivers::SessionOptions sopt;
    sopt.name = o.resource;
    if (!o.model.empty()) {
        const auto& m = drivers::find_model(o.model);
        sopt = drivers::session_options_for(m, o.resource);
        if (m.serial) topt.serial = *m.serial;
    } else {
        sopt.termination = termination_named(o.termination);
    }
    if (o.timeout_ms < 1 || o.timeout_ms > 600000) throw InputError("--timeout-ms must be in 1..600000");
    sopt.timeout = std::chrono::milliseconds(o.timeout_ms);
    if (o.baud) topt.serial.baud = o.baud;
    if (o.data_bits) topt.serial.data_bits = o.data_bits;
    if (o.stop_bits) topt.serial.stop_bits = o.stop_bits;
    if (!o.parity.empty()) topt.serial.parity = drivers::parse_parity(o.parity);
    if (!o.flow_control.empty()) topt.serial.flow_control = drivers::parse_flow_control(o.flow_control);
    if (o.check_errors && sopt.error_query.empty())
        throw InputError(fmt::format("--check-errors: model '{}' has no SYST:ERR? queue", o.model));
    drivers::ScpiSession session(drivers::open_transport(o.resource, topt), sopt);

    if (!o.commands.empty()) {
        for (const auto& cmd : o.commands) run_one(session, cmd, o.check_errors);
        return;
    }
    // Interactive: one command per line; errors are reported and the prompt continues.
    const bool tty = ::isatty(STDIN_FILENO) != 0;
    std::string line;
    bool failed = false;
    for (;;) {
        if (tty) std::cerr << o.resource << "> " << std::flush;
        if (!std::getline(std::cin, line)) break;
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (line.empty()) continue;
        if (line == "quit" || line == "exit") break;
        try {
            run_one(session, line, o.check_errors);
        } catch (const Error& e) {
            std::cerr << "error: " << e.what() << '\n';
            failed = true;
            if (!tty) throw;  // scripted input stops at the first failure
        }
    }
    (void)failed;
}

void run_probe(const std::string& path) {
    const auto station = acquisition::load_station(path);
    int failures = 0;
    std::cout << fmt::format("station {} ({})\n", station.name.empty() ? "(unnamed)" : station.name, path);
    for (const auto& inst : station.instruments) {
        const auto role = drivers::to_string(inst.role);
        try {
            auto session = acquisition::open_session(inst);
            const auto idn = session->identify();
            // IEEE 488.2: maker,model,serial,firmware. Anything else is not an instrument talking.
            if (std::count(idn.begin(), idn.end(), ',') != 3) {
                ++failures;
                std::cout << fmt::format("{:<11} {:<16} {:<40} NOT AN *IDN? REPLY: '{}'\n", role, inst.model,
                                         inst.resource, idn.substr(0, 60));
            } else {
                std::cout << fmt::format("{:<11} {:<16} {:<40} {}\n", role, inst.model, inst.resource, idn);
            }
        } catch (const Error& e) {
            ++failures;
            std::cout << fmt::format("{:<11} {:<16} {:<40} NO ANSWER: {}\n", role, inst.model, inst.resource, e.what());
        }
        std::cout << std::flush;
    }
    if (failures > 0) {
        throw TransportError(fmt::format("{} of {} instruments did not answer *IDN?", failures, station.instruments.size()));
    }
}

}  // namespace

void register_instruments(CLI::App& app, const GlobalOptions& /*global*/) {
    auto o = std::make_shared<ScpiOptions>();
    auto* scpi = app.add_subcommand("scpi", "Send SCPI commands to an instrument and print the replies of queries "
                                            "(no commands: an interactive prompt reading stdin)");
    scpi->add_option("resource", o->resource, "PyVISA resource, e.g. TCPIP0::127.0.0.1::5025::SOCKET")->required();
    scpi->add_option("commands", o->commands, "Commands; those containing '?' are queries");
    scpi->add_option("--model", o->model, "Model key (sets terminations, serial defaults, error queue)");
    scpi->add_option("--timeout-ms", o->timeout_ms, "Deadline of each read and write")->capture_default_str();
    scpi->add_option("--termination", o->termination, "lf, crlf or cr (without --model)")->capture_default_str();
    scpi->add_flag("--check-errors", o->check_errors, "Read SYST:ERR? after each command; stop at an error");
    scpi->add_option("--baud", o->baud, "Serial: baud rate");
    scpi->add_option("--data-bits", o->data_bits, "Serial: 5..8");
    scpi->add_option("--parity", o->parity, "Serial: none, odd, even");
    scpi->add_option("--stop-bits", o->stop_bits, "Serial: 1 or 2");
    scpi->add_option("--flow-control", o->flow_control, "Serial: none, software, hardware");
    scpi->callback([o] { run_scpi(*o); });

    auto* inst = app.add_subcommand("instruments", "Instrument utilities");
    inst->require_subcommand(1);
    auto station = std::make_shared<std::string>();
    auto* probe = inst->add_subcommand("probe", "Ask every instrument of a station for *IDN?");
    probe->add_option("station", *station, "Station file (TOML)")->required();
    probe->callback([station] { run_probe(*station); });
    auto* models = inst->add_subcommand("models", "List the instrument models the drivers know");
    models->callback([] {
        for (const auto& m : drivers::known_models())
            std::cout << fmt::format("{:<16} {:<11} {}\n", m.key, drivers::to_string(m.role), m.aliases);
    });
}

}  // namespace mtjlab::cli
