// Virtual magnet supplies: Kepco BOP (SCPI, BIT 4886 / BOP-1K command set) and Keithley 2400 used as a coil
// current source. Both drive the bench electromagnet: their output current (0 when off) feeds the coil;
// the coil resistance sets the voltage and a compliance (voltage limit) caps the current.
#include <algorithm>
#include <cmath>

#include "models.hpp"

namespace mtjlab::devices_sim::detail {

namespace {

struct BopModel {
    std::string model;  ///< "BOP 20-10M": +-20 V, +-10 A
    double v_max;
    double i_max;
};

const std::vector<BopModel>& bop_models() {
    static const std::vector<BopModel> models = {{"BOP 20-10M", 20.0, 10.0}, {"BOP 20-20M", 20.0, 20.0},
                                                 {"BOP 36-6M", 36.0, 6.0},   {"BOP 50-4M", 50.0, 4.0},
                                                 {"BOP 72-3M", 72.0, 3.0},   {"BOP 100-2M", 100.0, 2.0}};
    return models;
}

/// Current a supply actually drives into the coil: the setpoint, unless the coil voltage would exceed
/// the voltage limit, where the supply crosses over and holds V = limit.
double coil_current(double setpoint, double v_limit, double r_coil) {
    const double i_lim = v_limit / r_coil;
    return std::clamp(setpoint, -i_lim, i_lim);
}

class KepcoBop final : public ScpiInstrument {
public:
    KepcoBop(BopModel m, std::string name, std::shared_ptr<VirtualBench> bench)
        : ScpiInstrument(std::move(name), std::move(bench)), m_(std::move(m)) {
        reset_settings_locked();
        add_commands();
        add_common_commands();
    }
    [[nodiscard]] std::string model() const override { return m_.model; }
    [[nodiscard]] std::string idn() const override {
        return "KEPCO," + m_.model + " 03-14-2022,E104117,4.08";
    }
    [[nodiscard]] std::optional<SerialSettings> serial() const override {
        return SerialSettings{9600, 8, 'N', 1, "xon/xoff"};
    }

protected:
    void reset_settings_locked() override {
        current_mode_ = false;  // *RST: voltage mode, output off, 0 V / 0 A
        i_set_ = 0.0;
        v_set_ = 0.0;
        i_limit_ = m_.i_max;
        v_limit_ = m_.v_max;
        output_ = false;
        update();
    }

private:
    // Drives the bench from the present settings (ramps at the coil slew rate).
    void update() {
        const double r = bench().options().coil_resistance.si();
        double i = 0.0;
        if (output_) {
            if (current_mode_) i = coil_current(i_set_, std::min(std::abs(v_set_) > 0 ? std::abs(v_set_) : v_limit_, v_limit_), r);
            else i = std::clamp(v_set_ / r, -i_limit_, i_limit_);
        }
        bench().set_supply_current_locked(name(), Ampere(i));
    }
    [[nodiscard]] double actual_current() { return bench().supply_current_locked(name()).si(); }

    /// [SOURce]:<q>[:LEVel][:IMMediate][:AMPLitude] (the setting, within +-max and the limit; MIN/MAX queries) and
    /// [SOURce]:<q>[:LEVel]:LIMit[:BOTH] (0..max; lowering it clamps the setting) for q = CURRent or VOLTage.
    void add_level(const std::string& q, const char* unit, double max, double& setting, double& limit) {
        const std::string short_name = q.substr(0, 4);
        commands_.add("[SOURce]:" + q + ":[LEVel]:[IMMediate]:[AMPLitude]", [this, unit, max, &setting, &limit,
                                                                             short_name](const ScpiCall& c) {
            c.expect_args(1, 1);
            const double x = c.number(0, {unit, -max, max, 0.0});
            if (std::abs(x) > limit * (1 + 1e-12))
                throw ScpiFault(scpi_code::data_out_of_range, c.header + " beyond " + short_name + ":LIM");
            setting = x;
            update();
            return std::string();
        }, [max, &setting](const ScpiCall& c) {
            const int lim = c.query_limit();
            if (lim == 1) return nr3(-max);
            if (lim == 2) return nr3(max);
            return nr3(setting);
        });
        commands_.add("[SOURce]:" + q + ":[LEVel]:LIMit:[BOTH]", [this, unit, max, &setting, &limit](const ScpiCall& c) {
            c.expect_args(1, 1);
            limit = c.number(0, {unit, 0.0, max, max});
            setting = std::clamp(setting, -limit, limit);
            update();
            return std::string();
        }, [&limit](const ScpiCall& c) {
            c.expect_args(0, 0);
            return nr3(limit);
        });
    }

    void add_commands() {
        commands_.add("[SOURce]:FUNCtion:MODE", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            current_mode_ = c.choice(0, {"VOLTage", "CURRent"}) == 1;
            update();
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string(current_mode_ ? "CURR" : "VOLT");
        });
        add_level("CURRent", "A", m_.i_max, i_set_, i_limit_);
        // In current mode the voltage setting is the limit the output may reach (compliance).
        add_level("VOLTage", "V", m_.v_max, v_set_, v_limit_);
        commands_.add("[SOURce]:CURRent:MODE", [](const ScpiCall& c) {
            c.expect_args(1, 1);
            if (c.choice(0, {"FIXed", "LIST", "TRANsient", "EXTernal", "GAIN"}) != 0)
                throw ScpiFault(scpi_code::settings_conflict, "only FIXed mode is simulated");
            return std::string();
        }, [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string("FIXED");
        });
        commands_.add("OUTPut:[STATe]", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            output_ = c.boolean(0);
            update();
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string(output_ ? "1" : "0");
        });
        commands_.add("MEASure:[SCALar]:CURRent:[DC]", nullptr, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return nr3(actual_current());
        });
        commands_.add("MEASure:[SCALar]:VOLTage:[DC]", nullptr, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return nr3(actual_current() * bench().options().coil_resistance.si());
        });
        commands_.add("SYSTem:REMote", [](const ScpiCall& c) {
            c.expect_args(1, 1);
            (void)c.boolean(0);
            return std::string();
        }, [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string("1");
        });
    }

    BopModel m_;
    bool current_mode_ = false;
    double i_set_ = 0.0;
    double v_set_ = 0.0;
    double i_limit_ = 0.0;
    double v_limit_ = 0.0;
    bool output_ = false;
};

class Keithley2400 final : public ScpiInstrument {
public:
    Keithley2400(std::string name, std::shared_ptr<VirtualBench> bench)
        : ScpiInstrument(std::move(name), std::move(bench), 10) {
        reset_settings_locked();
        add_commands();
        add_common_commands();
    }
    [[nodiscard]] std::string model() const override { return "2400"; }
    [[nodiscard]] std::string idn() const override {
        return "KEITHLEY INSTRUMENTS INC.,MODEL 2400,4117364,C32   Oct  4 2010 14:20:11/A02  /S/K";
    }

protected:
    void reset_settings_locked() override {
        source_current_ = false;  // *RST: source voltage, 0 V, compliance 105 uA / 21 V, output off
        i_set_ = 0.0;
        v_set_ = 0.0;
        v_comp_ = 21.0;
        i_comp_ = 105e-6;
        output_ = false;
        elements_ = {"VOLT", "CURR", "RES", "TIME", "STAT"};
        update();
    }

private:
    void update() {
        const double r = bench().options().coil_resistance.si();
        double i = 0.0;
        if (output_) {
            if (source_current_) i = coil_current(i_set_, v_comp_, r);
            else i = std::clamp(v_set_ / r, -i_comp_, i_comp_);
        }
        bench().set_supply_current_locked(name(), Ampere(i));
    }
    [[nodiscard]] bool in_compliance() {
        const double r = bench().options().coil_resistance.si();
        if (!output_) return false;
        if (source_current_) return std::abs(i_set_ * r) > v_comp_ * (1 + 1e-12);
        return std::abs(v_set_ / r) > i_comp_ * (1 + 1e-12);
    }

    std::string reading() {
        if (!output_) throw ScpiFault(803, "READ? with output off");
        const double i = bench().supply_current_locked(name()).si();
        const double v = i * bench().options().coil_resistance.si();
        std::string out;
        for (const auto& e : elements_) {
            if (!out.empty()) out += ',';
            char buf[32];
            double x = 0.0;
            if (e == "VOLT") x = v;
            else if (e == "CURR") x = i;
            else if (e == "RES") x = 9.91e37;  // resistance not computed (not in ohms mode)
            else if (e == "TIME") x = bench().now_locked().si();
            else x = in_compliance() ? 8.0 : 0.0;  // status word: bit 3 = compliance
            std::snprintf(buf, sizeof buf, "%+.6E", x);
            out += buf;
        }
        return out;
    }

    void add_commands() {
        commands_.add("SOURce#:FUNCtion:[MODE]", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            (void)c.suffix(0, 1);
            source_current_ = c.choice(0, {"VOLTage", "CURRent", "MEMory"}) == 1;
            update();
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string(source_current_ ? "CURR" : "VOLT");
        });
        commands_.add("SOURce#:CURRent:MODE", [](const ScpiCall& c) {
            c.expect_args(1, 1);
            if (c.choice(0, {"FIXed", "SWEep", "LIST"}) != 0)
                throw ScpiFault(scpi_code::settings_conflict, "only FIXed mode is simulated");
            return std::string();
        }, [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string("FIX");
        });
        commands_.add("SOURce#:CURRent:[LEVel]:[IMMediate]:[AMPLitude]", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            i_set_ = c.number(0, {"A", -1.05, 1.05, 0.0});
            update();
            return std::string();
        }, [this](const ScpiCall& c) {
            const int lim = c.query_limit();
            if (lim == 1) return nr3(-1.05);
            if (lim == 2) return nr3(1.05);
            return nr3(i_set_);
        });
        commands_.add("SOURce#:CURRent:RANGe", [](const ScpiCall& c) {
            (void)c.number(0, {"A", -1.05, 1.05, 1e-4});
            return std::string();
        }, [](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(1.05);
        });
        commands_.add("SOURce#:CURRent:RANGe:AUTO", [](const ScpiCall& c) {
            c.expect_args(1, 1);
            (void)c.boolean(0);
            return std::string();
        }, [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string("1");
        });
        commands_.add("SOURce#:VOLTage:[LEVel]:[IMMediate]:[AMPLitude]", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            v_set_ = c.number(0, {"V", -210.0, 210.0, 0.0});
            update();
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(v_set_);
        });
        commands_.add("[SENSe#]:VOLTage:[DC]:PROTection:[LEVel]", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            v_comp_ = c.number(0, {"V", 0.2e-3, 210.0, 21.0});
            update();
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(v_comp_);
        });
        commands_.add("[SENSe#]:VOLTage:[DC]:PROTection:TRIPped", nullptr, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string(source_current_ && in_compliance() ? "1" : "0");
        });
        commands_.add("[SENSe#]:CURRent:[DC]:PROTection:[LEVel]", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            i_comp_ = c.number(0, {"A", 1e-9, 1.05, 105e-6});
            update();
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(i_comp_);
        });
        commands_.add("[SENSe#]:FUNCtion:[ON]", [](const ScpiCall& c) {
            c.expect_args(1, 3);
            for (const auto& a : c.args) {
                std::string u;
                for (char ch : a) if (ch != '"' && ch != '\'') u += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                if (u.rfind("VOLT", 0) != 0 && u.rfind("CURR", 0) != 0 && u.rfind("RES", 0) != 0)
                    throw ScpiFault(scpi_code::illegal_parameter_value, c.header + " " + a);
            }
            return std::string();
        }, [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string("\"VOLT:DC\",\"CURR:DC\"");
        });
        commands_.add("[SENSe#]:FUNCtion:CONCurrent", [](const ScpiCall& c) {
            c.expect_args(1, 1);
            (void)c.boolean(0);
            return std::string();
        }, [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string("1");
        });
        commands_.add("FORMat:ELEMents:[SENSe#]", [this](const ScpiCall& c) {
            c.expect_args(1, 5);
            std::vector<std::string> el;
            for (std::size_t k = 0; k < c.args.size(); ++k) {
                static const std::vector<std::string_view> names = {"VOLTage", "CURRent", "RESistance", "TIME", "STATus"};
                static const char* shortn[] = {"VOLT", "CURR", "RES", "TIME", "STAT"};
                el.emplace_back(shortn[c.choice(k, names)]);
            }
            elements_ = el;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            std::string out;
            for (const auto& e : elements_) out += (out.empty() ? "" : ",") + e;
            return out;
        });
        commands_.add("OUTPut#:[STATe]", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            output_ = c.boolean(0);
            update();
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string(output_ ? "1" : "0");
        });
        commands_.add("INITiate:[IMMediate]", [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            if (!output_) throw ScpiFault(803, "INIT with output off");
            return std::string();
        }, nullptr);
        auto read = [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return reading();
        };
        commands_.add("READ", nullptr, read);
        commands_.add("FETCh", nullptr, read);
        commands_.add("MEASure:[VOLTage]", nullptr, read);
        commands_.add("MEASure:CURRent", nullptr, read);
        commands_.add("SYSTem:BEEPer:STATe", [](const ScpiCall& c) {
            c.expect_args(1, 1);
            (void)c.boolean(0);
            return std::string();
        }, [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string("0");
        });
        commands_.add("SYSTem:RSENse", [](const ScpiCall& c) {
            c.expect_args(1, 1);
            (void)c.boolean(0);
            return std::string();
        }, [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string("0");
        });
    }

    bool source_current_ = false;
    double i_set_ = 0.0;
    double v_set_ = 0.0;
    double v_comp_ = 21.0;
    double i_comp_ = 105e-6;
    bool output_ = false;
    std::vector<std::string> elements_;
};

}  // namespace

bool is_kepco_bop_model(const std::string& model) {
    for (const auto& m : bop_models())
        if (m.model == model) return true;
    return false;
}

std::unique_ptr<VirtualInstrument> make_kepco_bop(const std::string& model, const std::string& name,
                                                  std::shared_ptr<VirtualBench> bench) {
    for (const auto& m : bop_models())
        if (m.model == model) return std::make_unique<KepcoBop>(m, name, std::move(bench));
    return nullptr;
}

std::unique_ptr<VirtualInstrument> make_keithley_2400(const std::string& name, std::shared_ptr<VirtualBench> bench) {
    return std::make_unique<Keithley2400>(name, std::move(bench));
}

}  // namespace mtjlab::devices_sim::detail
