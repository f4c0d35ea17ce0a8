// Virtual Stanford Research SR830 and SR860 lock-in amplifiers (their own command syntax; index tables
// exactly as in the manuals: SR830 "SENS" 0 = 2 nV ... 26 = 1 V and "OFLT" 0 = 10 us ... 19 = 30 ks;
// SR860 "SCAL" 0 = 1 V ... 27 = 1 nV and "OFLT" 0 = 1 us ... 21 = 30 ks).
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "models.hpp"
#include "srs_instrument.hpp"

namespace mtjlab::devices_sim::detail {

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

// 1-2-5 sensitivities from 2 nV (SR830 index 0) to 1 V (index 26).
constexpr std::array<double, 27> kSr830Sens = {2e-9,  5e-9,  10e-9,  20e-9,  50e-9,  100e-9, 200e-9,
                                               500e-9, 1e-6, 2e-6,   5e-6,   10e-6,  20e-6,  50e-6,
                                               100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3,
                                               50e-3, 100e-3, 200e-3, 500e-3, 1.0};
// 1-3 time constants from 10 us (index 0) to 30 ks (index 19).
constexpr std::array<double, 20> kSr830Tau = {10e-6, 30e-6, 100e-6, 300e-6, 1e-3, 3e-3, 10e-3,
                                              30e-3, 100e-3, 300e-3, 1.0, 3.0, 10.0, 30.0,
                                              100.0, 300.0, 1e3, 3e3, 10e3, 30e3};
// SR860: 1 V (index 0) down to 1 nV (index 27), 1-2-5.
constexpr std::array<double, 28> kSr860Scale = {1.0,   500e-3, 200e-3, 100e-3, 50e-3, 20e-3, 10e-3,
                                                5e-3,  2e-3,   1e-3,   500e-6, 200e-6, 100e-6, 50e-6,
                                                20e-6, 10e-6,  5e-6,   2e-6,   1e-6,  500e-9, 200e-9,
                                                100e-9, 50e-9, 20e-9, 10e-9, 5e-9, 2e-9, 1e-9};
// SR860: 1 us (index 0) to 30 ks (index 21).
constexpr std::array<double, 22> kSr860Tau = {1e-6,  3e-6,  10e-6, 30e-6, 100e-6, 300e-6, 1e-3, 3e-3,
                                              10e-3, 30e-3, 100e-3, 300e-3, 1.0,  3.0,    10.0, 30.0,
                                              100.0, 300.0, 1e3,   3e3,   10e3,  30e3};

// Filter slope 0..3 = 6/12/18/24 dB/oct: settling to 99 % in 5/7/9/10 tau (SR830 manual, "Time constants"),
// equivalent noise bandwidth 1/(4 tau), 1/(8 tau), 3/(32 tau), 5/(64 tau) expressed as an effective
// first-order tau for the read chain (ENBW = 1/(4 tau_eff)).
constexpr std::array<double, 4> kSettle = {5.0, 7.0, 9.0, 10.0};
constexpr std::array<double, 4> kTauEff = {1.0, 2.0, 8.0 / 3.0, 16.0 / 5.0};

long index_arg(const ScpiCall& c, std::size_t i, long min, long max) {
    c.expect_args(i + 1, 99);
    const double v = parse_number_with_unit(c.args[i], "");
    if (std::abs(v - std::round(v)) > 1e-9) throw ScpiFault(scpi_code::data_out_of_range, c.header + " " + c.args[i]);
    const long k = std::lround(v);
    if (k < min || k > max) throw ScpiFault(scpi_code::data_out_of_range, c.header + " " + c.args[i]);
    return k;
}

double real_arg(const ScpiCall& c, std::size_t i, double min, double max, std::string_view unit = "") {
    c.expect_args(i + 1, i + 1);
    const double v = parse_number_with_unit(c.args[i], unit);
    if (v < min || v > max) throw ScpiFault(scpi_code::data_out_of_range, c.header + " " + c.args[i]);
    return v;
}

}  // namespace

SrsInstrument::SrsInstrument(std::string name, std::shared_ptr<VirtualBench> bench)
    : VirtualInstrument(std::move(name), std::move(bench)) {}

std::string SrsInstrument::num(double v, int precision) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    return buf;
}

void SrsInstrument::add(const std::string& name, ScpiHandler set, ScpiHandler query) {
    table_[upper(name)] = Command{std::move(set), std::move(query)};
}

void SrsInstrument::push_error_locked(int code, std::string_view detail) {
    last_detail_ = std::string(detail);
    if (code <= -100 && code > -200) esr_ |= esr_cmd;
    else if (code <= -200 && code > -300) esr_ |= esr_exe;
    else if (code <= -400 && code > -500) esr_ |= esr_qry;
    else errs_ |= 0x40;  // a device error: the error status byte (ERRS?) records it
}

void SrsInstrument::reset_locked() {
    reset_settings_locked();
    esr_ = 0;
    errs_ = 0;
    lias_ = 0;
}

std::optional<std::string> SrsInstrument::execute_locked(std::string_view message) {
    std::vector<std::string> units;
    try {
        units = split_message_units(message);
    } catch (const ScpiFault& f) {
        push_error_locked(scpi_code::syntax_error, f.detail());
        return std::nullopt;
    }
    std::vector<std::string> replies;
    for (const auto& unit : units) {
        if (unit.empty()) continue;
        std::size_t i = 0;
        if (unit[0] == '*') i = 1;
        while (i < unit.size() && std::isalpha(static_cast<unsigned char>(unit[i]))) ++i;
        const std::string name = upper(std::string_view(unit).substr(0, i));
        ScpiCall call;
        call.header = unit.substr(0, std::min<std::size_t>(unit.size(), 40));
        if (i < unit.size() && unit[i] == '?') {
            call.query = true;
            ++i;
        }
        try {
            if (name.empty() || name == "*") throw ScpiFault(scpi_code::syntax_error, call.header);
            const auto it = table_.find(name);
            if (it == table_.end()) throw ScpiFault(scpi_code::undefined_header, call.header);
            const auto& handler = call.query ? it->second.query : it->second.set;
            if (!handler) throw ScpiFault(scpi_code::undefined_header, call.header);
            const auto rest = std::string_view(unit).substr(i);
            if (!rest.empty() && !(rest.front() == ' ' || rest.front() == '\t' ||
                                   std::isdigit(static_cast<unsigned char>(rest.front())) || rest.front() == '-' ||
                                   rest.front() == '+' || rest.front() == '.' ||
                                   std::isalpha(static_cast<unsigned char>(rest.front()))))
                throw ScpiFault(scpi_code::syntax_error, call.header);
            call.args = split_parameters(rest);
            auto reply = handler(call);
            if (call.query) replies.push_back(std::move(reply));
        } catch (const ScpiFault& f) {
            push_error_locked(f.code(), f.detail());
        }
    }
    if (replies.empty()) return std::nullopt;
    std::string out;
    for (std::size_t k = 0; k < replies.size(); ++k) {
        if (k) out += ';';
        out += replies[k];
    }
    return out;
}

void SrsInstrument::add_status_commands(bool has_opc, bool srs_registers) {
    // Register reads take an optional bit number: "*ESR? 4" returns that bit (and clears only it).
    auto reg_query = [](std::uint8_t& reg, bool clears) {
        return [&reg, clears](const ScpiCall& c) {
            c.expect_args(0, 1);
            if (c.args.empty()) {
                const int v = reg;
                if (clears) reg = 0;
                return std::to_string(v);
            }
            const long bit = index_arg(c, 0, 0, 7);
            const int v = (reg >> bit) & 1;
            if (clears) reg = static_cast<std::uint8_t>(reg & ~(1u << bit));
            return std::to_string(v);
        };
    };
    auto reg_set = [](std::uint8_t& reg) {
        return [&reg](const ScpiCall& c) {
            c.expect_args(1, 2);
            if (c.args.size() == 1) {
                reg = static_cast<std::uint8_t>(index_arg(c, 0, 0, 255));
            } else {
                const long bit = index_arg(c, 0, 0, 7);
                const long val = index_arg(c, 1, 0, 1);
                reg = static_cast<std::uint8_t>(val ? (reg | (1u << bit)) : (reg & ~(1u << bit)));
            }
            return std::string();
        };
    };
    add("*IDN", nullptr, [this](const ScpiCall& c) {
        c.expect_args(0, 0);
        return idn();
    });
    add("*RST", [this](const ScpiCall& c) {
        c.expect_args(0, 0);
        reset_settings_locked();
        return std::string();
    }, nullptr);
    add("*CLS", [this](const ScpiCall& c) {
        c.expect_args(0, 0);
        esr_ = 0;
        errs_ = 0;
        lias_ = 0;
        return std::string();
    }, nullptr);
    add("*ESE", reg_set(ese_), reg_query(ese_, false));
    add("*ESR", nullptr, reg_query(esr_, true));
    add("*SRE", reg_set(sre_), reg_query(sre_, false));
    if (srs_registers) {
        add("ERRE", reg_set(erre_), reg_query(erre_, false));
        add("ERRS", nullptr, reg_query(errs_, true));
        add("LIAE", reg_set(liae_), reg_query(liae_, false));
        add("LIAS", nullptr, [this, reg_query](const ScpiCall& c) {
            lias_ = static_cast<std::uint8_t>(lias_ | lia_status_locked());
            return reg_query(lias_, true)(c);
        });
    }
    add("*STB", nullptr, [this](const ScpiCall& c) {
        c.expect_args(0, 1);
        // bit0 SCN (no scan), bit1 IFC (no command in progress), bit2 ERR, bit3 LIA, bit5 ESB, bit6 SRQ.
        std::uint8_t stb = 0x03;
        if (errs_ & erre_) stb |= 0x04;
        if (lias_ & liae_) stb |= 0x08;
        if (esr_ & ese_) stb |= 0x20;
        if (stb & sre_ & 0xBF) stb |= 0x40;
        if (c.args.empty()) return std::to_string(stb);
        return std::to_string((stb >> index_arg(c, 0, 0, 7)) & 1);
    });
    add("*PSC", [this](const ScpiCall& c) {
        psc_ = index_arg(c, 0, 0, 1) != 0;
        return std::string();
    }, [this](const ScpiCall& c) {
        c.expect_args(0, 0);
        return std::string(psc_ ? "1" : "0");
    });
    if (has_opc) {
        add("*OPC", [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            esr_ |= 0x01;
            return std::string();
        }, [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string("1");
        });
        add("*WAI", [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string();
        }, nullptr);
    }
}

namespace {

/// What differs between the SR830 and the SR860: tables, limits, output and SNAP codes.
struct LockInModel {
    std::string model;
    std::string idn;
    const double* sens;
    int n_sens;
    bool sens_descending;  ///< SR860 SCAL counts down from 1 V
    const double* tau;
    int n_tau;
    double f_min, f_max;
    double slvl_min, slvl_max, slvl_step;
    int harm_max;
    int default_sens, default_tau;
};

class SrsLockIn final : public SrsInstrument {
public:
    SrsLockIn(LockInModel m, std::string name, std::shared_ptr<VirtualBench> bench)
        : SrsInstrument(std::move(name), std::move(bench)), m_(std::move(m)) {
        reset_settings_locked();
        add_status_commands(m_.model == "SR860");
        add_commands();
    }
    [[nodiscard]] std::string model() const override { return m_.model; }
    [[nodiscard]] std::string idn() const override { return m_.idn; }

protected:
    void reset_settings_locked() override {
        freq_ = 1000.0;
        slvl_ = m_.model == "SR830" ? 1.0 : 1e-6;
        phase_ = 0.0;
        harm_ = 1;
        fmod_ = 1;
        sens_ = m_.default_sens;
        tau_ = m_.default_tau;
        ofsl_ = 1;
        sync_ = 0;
        rmod_ = 1;
        isrc_ = 0;
        ignd_ = 0;
        icpl_ = 0;
        ilin_ = 3;
        irng_ = 0;
        outx_ = 1;
        lias_ = 0;
    }

private:
    [[nodiscard]] bool sr860() const { return m_.model == "SR860"; }
    [[nodiscard]] double sensitivity() const { return m_.sens[sens_]; }

    // One settled reading of X and Y (rms V) with the configured phase, clamped at overload.
    std::array<double, 2> read_xy() {
        auto xy = read_xy_unclamped();
        const double full = sensitivity();
        if (std::hypot(xy[0], xy[1]) > full) lias_ |= 0x04;  // output overload
        const double lim = 1.09 * full;                      // the outputs saturate just above full scale
        return {std::clamp(xy[0], -lim, lim), std::clamp(xy[1], -lim, lim)};
    }

    std::array<double, 2> read_xy_unclamped() {
        const int slope = std::clamp(ofsl_, 0, 3);
        const double tau = m_.tau[tau_];
        const auto s = bench().read_lockin_locked(Volt(slvl_), Hertz(freq_ * harm_),
                                                   Second(tau * kTauEff[static_cast<std::size_t>(slope)]),
                                                   Second(tau * kSettle[static_cast<std::size_t>(slope)]));
        const double ph = phase_ * std::numbers::pi / 180.0;
        const double x = s.x.si() * std::cos(ph) + s.y.si() * std::sin(ph);
        const double y = -s.x.si() * std::sin(ph) + s.y.si() * std::cos(ph);
        return {x, y};
    }

    // Value of output code k for OUTP?/SNAP? (SR830 codes 1..11, SR860 codes 0..16).
    double value(int code, const std::array<double, 2>& xy) const {
        const double x = xy[0];
        const double y = xy[1];
        const double r = std::hypot(x, y);
        const double th = std::atan2(y, x) * 180.0 / std::numbers::pi;
        if (!sr860()) {
            switch (code) {
                case 1: return x;
                case 2: return y;
                case 3: return r;
                case 4: return th;
                case 5: case 6: case 7: case 8: return 0.0;  // aux inputs: nothing connected
                case 9: return freq_ * harm_;
                case 10: return x;  // CH1 display shows X (default)
                case 11: return y;  // CH2 display shows Y (default)
                default: break;
            }
        } else {
            switch (code) {
                case 0: return x;
                case 1: return y;
                case 2: return r;
                case 3: return th;
                case 4: case 5: case 6: case 7: return 0.0;  // aux inputs
                case 8: case 9: return 0.0;                  // X/Y noise estimate (not modelled)
                case 10: case 11: return 0.0;                // aux outputs
                case 12: return phase_;
                case 13: return slvl_;
                case 14: return 0.0;                         // reference offset level
                case 15: return freq_ * harm_;               // internal frequency
                case 16: return 0.0;                         // external frequency (internal reference)
                default: break;
            }
        }
        throw ScpiFault(scpi_code::data_out_of_range, "output code " + std::to_string(code));
    }

    // Output code from a parameter: a number, or on the SR860 also a name (X, Y, R, THeta, ...).
    int output_code(const ScpiCall& c, std::size_t i, int min, int max) const {
        if (sr860() && i < c.args.size() && !c.args[i].empty() &&
            std::isalpha(static_cast<unsigned char>(c.args[i].front()))) {
            static const std::vector<std::string_view> names = {
                "X", "Y", "R", "THeta", "IN1", "IN2", "IN3", "IN4", "XNOise", "YNOise",
                "OUT1", "OUT2", "PHAse", "SAMp", "LEVel", "FInt", "FExt"};
            for (std::size_t k = 0; k < names.size(); ++k)
                if (keyword_matches(names[k], c.args[i])) return static_cast<int>(k);
            throw ScpiFault(scpi_code::data_out_of_range, c.header + " " + c.args[i]);
        }
        return static_cast<int>(index_arg(c, i, min, max));
    }

    template <class T>
    void int_setting(const std::string& name, T& field, long min, long max) {
        add(name, [&field, min, max](const ScpiCall& c) {
            c.expect_args(1, 1);
            field = static_cast<T>(index_arg(c, 0, min, max));
            return std::string();
        }, [&field](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::to_string(field);
        });
    }

    void add_commands() {
        const int out_min = sr860() ? 0 : 1;
        const int out_max = sr860() ? 3 : 4;
        const int snap_min = sr860() ? 0 : 1;
        const int snap_max = sr860() ? 16 : 11;
        add("FREQ", [this](const ScpiCall& c) {
            const double f = real_arg(c, 0, m_.f_min, m_.f_max, "HZ");
            if (f * harm_ > m_.f_max) throw ScpiFault(scpi_code::data_out_of_range, c.header);
            freq_ = f;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return num(freq_, 10);
        });
        add("SLVL", [this](const ScpiCall& c) {
            const double v = real_arg(c, 0, m_.slvl_min, m_.slvl_max, "V");
            slvl_ = m_.slvl_step > 0 ? std::round(v / m_.slvl_step) * m_.slvl_step : v;
            slvl_ = std::clamp(slvl_, m_.slvl_min, m_.slvl_max);
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return num(slvl_, 6);
        });
        add("PHAS", [this](const ScpiCall& c) {
            double p = real_arg(c, 0, -360.0, 729.99, "DEG");
            p = std::fmod(p + 180.0, 360.0);
            if (p < 0) p += 360.0;
            phase_ = p - 180.0;  // the manual wraps into -180 .. 180
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return num(phase_, 6);
        });
        add("HARM", [this](const ScpiCall& c) {
            const long h = index_arg(c, 0, 1, m_.harm_max);
            if (freq_ * static_cast<double>(h) > m_.f_max) throw ScpiFault(scpi_code::data_out_of_range, c.header);
            harm_ = static_cast<int>(h);
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::to_string(harm_);
        });
        int_setting(sr860() ? "RSRC" : "FMOD", fmod_, 0, sr860() ? 3 : 1);
        int_setting("OFSL", ofsl_, 0, 3);
        int_setting("SYNC", sync_, 0, 1);
        int_setting("ISRC", isrc_, 0, sr860() ? 1 : 3);
        int_setting(sr860() ? "IGND" : "IGND", ignd_, 0, 1);
        int_setting("ICPL", icpl_, 0, 1);
        if (!sr860()) {
            int_setting("ILIN", ilin_, 0, 3);
            int_setting("RMOD", rmod_, 0, 2);
            int_setting("OUTX", outx_, 0, 1);
        } else {
            int_setting("IRNG", irng_, 0, 4);
        }
        add(sr860() ? "SCAL" : "SENS", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            sens_ = static_cast<int>(index_arg(c, 0, 0, m_.n_sens - 1));
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::to_string(sens_);
        });
        add("OFLT", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            tau_ = static_cast<int>(index_arg(c, 0, 0, m_.n_tau - 1));
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::to_string(tau_);
        });
        add("OUTP", nullptr, [this, out_min, out_max](const ScpiCall& c) {
            c.expect_args(1, 1);
            const int code = output_code(c, 0, out_min, out_max);
            return num(value(code, read_xy()), 6);
        });
        add("SNAP", nullptr, [this, snap_min, snap_max](const ScpiCall& c) {
            c.expect_args(2, sr860() ? 3 : 6);
            std::vector<int> codes;
            for (std::size_t i = 0; i < c.args.size(); ++i) codes.push_back(output_code(c, i, snap_min, snap_max));
            const auto xy = read_xy();  // one instant for all values
            std::string out;
            for (std::size_t i = 0; i < codes.size(); ++i) {
                if (i) out += ',';
                out += num(value(codes[i], xy), 6);
            }
            return out;
        });
        // Auto gain / auto scale: the smallest full scale that holds R (at least 1.25 x R); the instrument
        // sees its input before the output stage, so an overloaded output does not fool it.
        add(sr860() ? "ASCL" : "AGAN", [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            const auto xy = read_xy_unclamped();
            const double r = std::hypot(xy[0], xy[1]);
            int best = -1;
            for (int k = 0; k < m_.n_sens; ++k) {
                const double full = m_.sens[k];
                if (full >= 1.25 * r && (best < 0 || full < m_.sens[best])) best = k;
            }
            if (best < 0) best = m_.sens_descending ? 0 : m_.n_sens - 1;
            sens_ = best;
            lias_ = static_cast<std::uint8_t>(lias_ & ~0x04);
            return std::string();
        }, nullptr);
        add("APHS", [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            const auto xy = read_xy();
            phase_ += std::atan2(xy[1], xy[0]) * 180.0 / std::numbers::pi;
            phase_ = std::remainder(phase_, 360.0);
            return std::string();
        }, nullptr);
    }

    LockInModel m_;
    double freq_ = 1000.0;
    double slvl_ = 1.0;
    double phase_ = 0.0;
    int harm_ = 1;
    int fmod_ = 1;
    int sens_ = 0;
    int tau_ = 0;
    int ofsl_ = 1;
    int sync_ = 0;
    int rmod_ = 1;
    int isrc_ = 0;
    int ignd_ = 0;
    int icpl_ = 0;
    int ilin_ = 3;
    int irng_ = 0;
    int outx_ = 1;
};

}  // namespace

std::unique_ptr<VirtualInstrument> make_srs_sr830(const std::string& name, std::shared_ptr<VirtualBench> bench) {
    // *RST state: 1 kHz, 1 Vrms, 1 V full scale (SENS 26), 100 ms (OFLT 8), 12 dB/oct.
    LockInModel m{"SR830", "Stanford_Research_Systems,SR830,s/n86713,ver1.07",
                  kSr830Sens.data(), static_cast<int>(kSr830Sens.size()), false,
                  kSr830Tau.data(), static_cast<int>(kSr830Tau.size()),
                  0.001, 102000.0, 0.004, 5.0, 0.002, 19999, 26, 8};
    return std::make_unique<SrsLockIn>(std::move(m), name, std::move(bench));
}

std::unique_ptr<VirtualInstrument> make_srs_sr860(const std::string& name, std::shared_ptr<VirtualBench> bench) {
    // Reset state of the virtual SR860: 1 kHz, 1 uVrms sine out, 1 V full scale (SCAL 0), 100 ms (OFLT 10),
    // 12 dB/oct.
    LockInModel m{"SR860", "Stanford_Research_Systems,SR860,003141,v1.47",
                  kSr860Scale.data(), static_cast<int>(kSr860Scale.size()), true,
                  kSr860Tau.data(), static_cast<int>(kSr860Tau.size()),
                  0.001, 500000.0, 1e-9, 2.0, 0.0, 99, 0, 10};
    return std::make_unique<SrsLockIn>(std::move(m), name, std::move(bench));
}

}  // namespace mtjlab::devices_sim::detail
