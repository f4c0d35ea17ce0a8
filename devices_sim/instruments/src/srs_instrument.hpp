#pragma once
// The Stanford Research lock-in command syntax (SR830/SR860 manuals, "Command syntax"): four-letter
// mnemonics without colon trees, a '?' for queries, parameters with or without a blank after the
// header (`OUTP? 1`, `OUTP?1`), ',' between parameters, ';' or the terminator between commands. There
// is no error queue: errors set bits of the status bytes (CMD: illegal command, EXE: parameter out of
// range), which `*ESR?`, `*STB?` and `ERRS?` report.
#include <map>
#include <string>

#include "mtjlab/devices_sim/virtual_instrument.hpp"

namespace mtjlab::devices_sim::detail {

class SrsInstrument : public VirtualInstrument {
public:
    SrsInstrument(std::string name, std::shared_ptr<VirtualBench> bench);

    // Standard event status bits (SR830 manual 5-20; SR860 the same positions).
    static constexpr std::uint8_t esr_inp = 0x01;  ///< input queue overflow (SR830) / OPC (SR860)
    static constexpr std::uint8_t esr_qry = 0x04;  ///< output queue overflow / query error
    static constexpr std::uint8_t esr_exe = 0x10;  ///< execution error: parameter out of range
    static constexpr std::uint8_t esr_cmd = 0x20;  ///< command error: illegal command or syntax
    static constexpr std::uint8_t esr_pon = 0x80;  ///< power on

protected:
    std::optional<std::string> execute_locked(std::string_view message) override;
    void push_error_locked(int code, std::string_view detail) override;
    void reset_locked() override;
    virtual void reset_settings_locked() = 0;
    /// The LIA status byte as the model computes it (overloads etc.), or'ed into lias_.
    virtual std::uint8_t lia_status_locked() { return lias_; }

    /// Registers a command: `name` is the mnemonic as in the manual ("FREQ", "*IDN").
    void add(const std::string& name, ScpiHandler set, ScpiHandler query);
    /// Registers the status commands (*CLS *ESE *ESR? *SRE *STB? *PSC ERRE ERRS? LIAE LIAS? *IDN? *RST
    /// *OPC?) common to both lock-ins.
    void add_status_commands(bool has_opc, bool srs_registers = true);
    static std::string num(double v, int precision = 6);

    std::uint8_t esr_ = esr_pon;
    std::uint8_t ese_ = 0;
    std::uint8_t sre_ = 0;
    std::uint8_t errs_ = 0;  ///< error status byte (device errors)
    std::uint8_t erre_ = 0;
    std::uint8_t lias_ = 0;  ///< LIA status byte (overloads, unlock, ...)
    std::uint8_t liae_ = 0;
    bool psc_ = true;
    std::string last_detail_;  ///< text of the last error (for the log / docs; the SR830 has no queue)

private:
    struct Command {
        ScpiHandler set;
        ScpiHandler query;
    };
    std::map<std::string, Command> table_;
};

}  // namespace mtjlab::devices_sim::detail
