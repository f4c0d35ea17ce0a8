// Virtual pulse generators: Keysight 33500B series (33509B ... 33522B) and Agilent 81150A. Commands and
// limits follow the 33500 Series Operating and Service Guide and the 81150A/81160A programming reference.
// A trigger with the output on and the pulse function selected applies the configured pulse(s) to the
// device's write channel through the shared bench.
#include <algorithm>
#include <cmath>
#include <limits>

#include "models.hpp"
#include "mtjlab/core/error.hpp"

namespace mtjlab::devices_sim::detail {

namespace {

/// Per-model limits (model table: differences are data).
struct PulseGenModel {
    std::string model;
    std::string idn;
    int channels;
    double f_max;          ///< Hz, pulse
    double width_min;      ///< s
    double edge_min;       ///< s
    double edge_max;       ///< s
    double emf_max;        ///< V: peak open-circuit level |offset| + amplitude/2 into high-Z
    double amp_min;        ///< Vpp at the load
    double r_out = 50.0;   ///< output impedance (Ohm)
};

enum class Function { sine, square, ramp, pulse, noise, arb, dc };

/// The state of one output channel.
struct Channel {
    Function function = Function::sine;
    double period = 1e-3;
    double width = 100e-6;
    double lead = 10e-9;
    double trail = 10e-9;
    double amplitude = 0.1;  ///< Vpp at the load
    double offset = 0.0;
    bool inverted = false;
    bool output = false;
    double load = 50.0;      ///< Ohm, +inf = high Z
    bool burst = false;
    bool gated = false;
    double ncycles = 1.0;    ///< +inf: infinite burst
    int trigger_source = 0;  ///< 0 IMMediate, 1 EXTernal, 2 TIMer/INT2, 3 BUS/MANual
    double burst_period = 10e-3;
};

constexpr const char* kFunctionNames[] = {"SIN", "SQU", "RAMP", "PULS", "NOIS", "ARB", "DC"};

double load_factor(const PulseGenModel& m, double load) {
    return std::isinf(load) ? 1.0 : load / (load + m.r_out);
}

class PulseGenerator final : public ScpiInstrument {
public:
    PulseGenerator(PulseGenModel m, bool keysight, std::string name, std::shared_ptr<VirtualBench> bench)
        : ScpiInstrument(std::move(name), std::move(bench)), m_(std::move(m)), keysight_(keysight) {
        reset_settings_locked();
        if (keysight_) add_33500b_commands();
        else add_81150a_commands();
        add_common_commands();
        commands_.add("*TRG", [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            for (int ch = 1; ch <= m_.channels; ++ch)
                if (ch_[ch - 1].trigger_source == 3) fire(ch);
            return std::string();
        }, nullptr);
    }
    [[nodiscard]] std::string model() const override { return m_.model; }
    [[nodiscard]] std::string idn() const override { return m_.idn; }
    [[nodiscard]] std::optional<std::string> live_output_locked() const override {
        for (int ch = 1; ch <= m_.channels; ++ch)
            if (ch_[static_cast<std::size_t>(ch - 1)].output) return "output " + std::to_string(ch) + " on";
        return std::nullopt;
    }

protected:
    void reset_settings_locked() override {
        for (auto& c : ch_) c = Channel{};
        if (!keysight_) {
            for (auto& c : ch_) {
                c.period = 1e-6;  // 81150A *RST: 1 MHz
                c.width = 100e-9;
                c.lead = 2.5e-9;
                c.trail = 2.5e-9;
                c.amplitude = 0.5;
                c.trigger_source = 0;
            }
        }
    }

private:
    Channel& channel(const ScpiCall& c, std::size_t node) { return ch_[static_cast<std::size_t>(c.suffix(node, m_.channels) - 1)]; }

    [[nodiscard]] double level_max(const Channel& c) const { return m_.emf_max * load_factor(m_, c.load); }

    void check_levels(const Channel& c, double amplitude, double offset, const std::string& header) const {
        const double vmax = level_max(c);
        if (amplitude < m_.amp_min * (1 - 1e-12) || amplitude > 2.0 * vmax + 1e-12)
            throw ScpiFault(scpi_code::data_out_of_range, header);
        if (std::abs(offset) + amplitude / 2.0 > vmax + 1e-12) throw ScpiFault(scpi_code::data_out_of_range, header);
    }

    void check_pulse(const Channel& c, double period, double width, double lead, double trail,
                     const std::string& header) const {
        // The pulse must fit in its period with its edges (33500B: width <= period - 1.6 * edges), and each
        // edge in the pulse (33500B: edge time <= 0.625 * width; applied to the 81150A as well). The second
        // rule keeps every pulse the instrument accepts one the write channel can take: a width below
        // (lead + trail) / 2 has no plateau and physics::ProbeStation refuses it.
        if (width + 0.8 * (lead + trail) > period * (1 + 1e-12) || width < m_.width_min * (1 - 1e-12) ||
            std::max(lead, trail) > 0.625 * width * (1 + 1e-12))
            throw ScpiFault(scpi_code::settings_conflict, header);
        (void)c;
    }

    // The pulse generator fires: `ncycles` pulses on channel ch into the write channel (if the output is on).
    void fire(int ch) {
        Channel& c = ch_[static_cast<std::size_t>(ch - 1)];
        if (!c.output) return;            // a burst with the output off reaches nothing
        if (c.function != Function::pulse) return;  // only pulses are wired to the SOT channel model
        if (std::isinf(c.ncycles)) {
            push_error_locked(scpi_code::settings_conflict, "infinite burst is not simulated");
            return;
        }
        const double high = c.offset + c.amplitude / 2.0;
        const double low = c.offset - c.amplitude / 2.0;
        const double amp = (high - low) * (c.inverted ? -1.0 : 1.0);
        const auto n = static_cast<long>(c.ncycles);
        const physics::Pulse p{Volt(amp), Second(c.width), Second(c.lead), Second(c.trail)};
        if (!bench().reserve_pulses_locked(p, static_cast<std::uint64_t>(n))) {
            push_error_locked(scpi_code::settings_conflict,
                              "burst of " + std::to_string(n) + " pulses is more than the virtual lab simulates in one message");
            return;
        }
        for (long k = 0; k < n; ++k) {
            const Second t0 = bench().now_locked();
            try {
                bench().apply_pulse_locked(p);
            } catch (const mtjlab::InputError& e) {
                // check_pulse() keeps such settings out; should one get through, the client sees an
                // execution error, the lab keeps serving (an exception here would stop its io thread).
                push_error_locked(scpi_code::execution_error, e.what());
                return;
            }
            const Second used = bench().now_locked() - t0;
            if (k + 1 < n && used.si() < c.period) bench().advance_locked(Second(c.period - used.si()));
        }
    }

    // --- Keysight 33500B ---------------------------------------------------------------------------
    void add_33500b_commands() {
        const std::string src = "[SOURce#]:";
        auto num_reply = [](double v) { return nr3(v); };
        commands_.add(src + "FUNCtion:[SHAPe]", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            const auto k = c.choice(0, {"SINusoid", "SQUare", "RAMP", "PULSe", "NOISe", "ARB", "DC"});
            channel(c, 0).function = static_cast<Function>(k);
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string(kFunctionNames[static_cast<int>(channel(c, 0).function)]);
        });
        commands_.add(src + "FREQuency:[CW]", [this](const ScpiCall& c) {
            auto& ch = channel(c, 0);
            const double f = c.number(0, {"HZ", 1e-6, m_.f_max, 1e3});
            check_pulse(ch, 1.0 / f, ch.width, ch.lead, ch.trail, c.header);
            ch.period = 1.0 / f;
            return std::string();
        }, [this, num_reply](const ScpiCall& c) {
            const int lim = c.query_limit();
            if (lim == 1) return num_reply(1e-6);
            if (lim == 2) return num_reply(m_.f_max);
            return num_reply(1.0 / channel(c, 0).period);
        });
        commands_.add(src + "FUNCtion:PULSe:PERiod", [this](const ScpiCall& c) {
            auto& ch = channel(c, 0);
            const double p = c.number(0, {"S", 1.0 / m_.f_max, 1e6, 1e-3});
            check_pulse(ch, p, ch.width, ch.lead, ch.trail, c.header);
            ch.period = p;
            return std::string();
        }, [this, num_reply](const ScpiCall& c) {
            c.expect_args(0, 1);
            return num_reply(channel(c, 0).period);
        });
        commands_.add(src + "FUNCtion:PULSe:WIDTh", [this](const ScpiCall& c) {
            auto& ch = channel(c, 0);
            const double w = c.number(0, {"S", m_.width_min, 1e6, 100e-6});
            check_pulse(ch, ch.period, w, ch.lead, ch.trail, c.header);
            ch.width = w;
            return std::string();
        }, [this, num_reply](const ScpiCall& c) {
            const int lim = c.query_limit();
            if (lim == 1) return num_reply(m_.width_min);
            return num_reply(channel(c, 0).width);
        });
        commands_.add(src + "FUNCtion:PULSe:DCYCle", [this](const ScpiCall& c) {
            auto& ch = channel(c, 0);
            const double d = c.number(0, {"PCT", 0.0, 100.0, 10.0});
            check_pulse(ch, ch.period, ch.period * d / 100.0, ch.lead, ch.trail, c.header);
            ch.width = ch.period * d / 100.0;
            return std::string();
        }, [this, num_reply](const ScpiCall& c) {
            c.expect_args(0, 1);
            return num_reply(100.0 * channel(c, 0).width / channel(c, 0).period);
        });
        auto edge_set = [this](int which) {
            return [this, which](const ScpiCall& c) {
                auto& ch = channel(c, 0);
                const double e = c.number(0, {"S", m_.edge_min, m_.edge_max, 10e-9});
                const double lead = which == 1 ? ch.lead : e;
                const double trail = which == 0 ? ch.trail : e;
                check_pulse(ch, ch.period, ch.width, which == 2 ? e : lead, which == 2 ? e : trail, c.header);
                if (which != 1) ch.lead = e;
                if (which != 0) ch.trail = e;
                return std::string();
            };
        };
        commands_.add(src + "FUNCtion:PULSe:TRANsition:[BOTH]", edge_set(2), [this, num_reply](const ScpiCall& c) {
            c.expect_args(0, 1);
            return num_reply(channel(c, 0).lead);
        });
        commands_.add(src + "FUNCtion:PULSe:TRANsition:LEADing", edge_set(0), [this, num_reply](const ScpiCall& c) {
            c.expect_args(0, 1);
            return num_reply(channel(c, 0).lead);
        });
        commands_.add(src + "FUNCtion:PULSe:TRANsition:TRAiling", edge_set(1), [this, num_reply](const ScpiCall& c) {
            c.expect_args(0, 1);
            return num_reply(channel(c, 0).trail);
        });
        add_level_commands(src + "VOLTage", 0);
        commands_.add(src + "VOLTage:UNIT", [](const ScpiCall& c) {
            c.expect_args(1, 1);
            if (c.choice(0, {"VPP", "VRMS", "DBM"}) != 0)
                throw ScpiFault(scpi_code::settings_conflict, "pulse amplitude is set in VPP");
            return std::string();
        }, [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string("VPP");
        });
        add_output_commands();
        commands_.add("OUTPut#:LOAD", [this](const ScpiCall& c) {
            auto& ch = channel(c, 0);
            const double l = c.number(0, {"OHM", 1.0, 10e3, 50.0, true});
            ch.load = l;
            // The displayed levels keep their values when they still fit; otherwise they are clipped.
            const double vmax = level_max(ch);
            ch.amplitude = std::min(ch.amplitude, 2.0 * vmax);
            ch.offset = std::clamp(ch.offset, -(vmax - ch.amplitude / 2.0), vmax - ch.amplitude / 2.0);
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            const double l = channel(c, 0).load;
            return std::isinf(l) ? std::string("+9.9E+37") : nr3(l);
        });
        commands_.add(src + "BURSt:STATe", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            channel(c, 0).burst = c.boolean(0);
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string(channel(c, 0).burst ? "1" : "0");
        });
        commands_.add(src + "BURSt:MODE", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            channel(c, 0).gated = c.choice(0, {"TRIGgered", "GATed"}) == 1;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string(channel(c, 0).gated ? "GAT" : "TRIG");
        });
        commands_.add(src + "BURSt:NCYCles", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            const double n = c.number(0, {"", 1.0, 1e8, 1.0, true});
            channel(c, 0).ncycles = std::isinf(n) ? n : std::round(n);
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            const double n = channel(c, 0).ncycles;
            return std::isinf(n) ? std::string("+9.9E+37") : nr3(n);
        });
        commands_.add(src + "BURSt:INTernal:PERiod", [this](const ScpiCall& c) {
            channel(c, 0).burst_period = c.number(0, {"S", 1e-6, 8000.0, 10e-3});
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(channel(c, 0).burst_period);
        });
        commands_.add("TRIGger#:SOURce", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            const auto k = c.choice(0, {"IMMediate", "EXTernal", "TIMer", "BUS"});
            channel(c, 0).trigger_source = static_cast<int>(k);
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            static const char* names[] = {"IMM", "EXT", "TIM", "BUS"};
            return std::string(names[channel(c, 0).trigger_source]);
        });
        // TRIGger[1|2]: an immediate trigger whatever the source (fires the burst).
        commands_.add("TRIGger#:[IMMediate]", [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            const int ch = c.suffix(0, m_.channels);
            if (ch_[static_cast<std::size_t>(ch - 1)].burst) fire(ch);
            return std::string();
        }, nullptr);
    }

    // VOLTage[:AMPLitude], :OFFSet, :HIGH, :LOW under `base` (33500B "[SOURce#]:VOLTage", 81150A
    // "[SOURce]:VOLTage#"); `node` is the pattern node holding the channel suffix.
    /// OUTPut#[:STATe] and OUTPut#:POLarity: the same on both models.
    void add_output_commands() {
        commands_.add("OUTPut#:[STATe]", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            channel(c, 0).output = c.boolean(0);
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string(channel(c, 0).output ? "1" : "0");
        });
        commands_.add("OUTPut#:POLarity", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            channel(c, 0).inverted = c.choice(0, {"NORMal", "INVerted"}) == 1;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string(channel(c, 0).inverted ? "INV" : "NORM");
        });
    }

    void add_level_commands(const std::string& base, std::size_t node) {
        const std::string amp_pattern = keysight_ ? base + ":[AMPLitude]" : base + ":[LEVel]:[IMMediate]:[AMPLitude]";
        const std::string lvl = keysight_ ? base + ":" : base + ":[LEVel]:[IMMediate]:";
        commands_.add(amp_pattern, [this, node](const ScpiCall& c) {
            auto& ch = channel(c, node);
            const double a = c.number(0, {"VPP", m_.amp_min, 2.0 * level_max(ch), 0.1});
            check_levels(ch, a, ch.offset, c.header);
            ch.amplitude = a;
            return std::string();
        }, [this, node](const ScpiCall& c) {
            const int lim = c.query_limit();
            const auto& ch = channel(c, node);
            if (lim == 1) return nr3(m_.amp_min);
            if (lim == 2) return nr3(2.0 * (level_max(ch) - std::abs(ch.offset)));
            return nr3(ch.amplitude);
        });
        commands_.add(lvl + "OFFSet", [this, node](const ScpiCall& c) {
            auto& ch = channel(c, node);
            const double vmax = level_max(ch);
            const double o = c.number(0, {"V", -vmax, vmax, 0.0});
            check_levels(ch, ch.amplitude, o, c.header);
            ch.offset = o;
            return std::string();
        }, [this, node](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(channel(c, node).offset);
        });
        auto set_level = [this, node](bool high) {
            return [this, node, high](const ScpiCall& c) {
                auto& ch = channel(c, node);
                const double vmax = level_max(ch);
                const double v = c.number(0, {"V", -vmax, vmax, high ? 0.05 : -0.05});
                const double hi = high ? v : ch.offset + ch.amplitude / 2.0;
                const double lo = high ? ch.offset - ch.amplitude / 2.0 : v;
                if (hi <= lo) throw ScpiFault(scpi_code::settings_conflict, c.header + ": high must exceed low");
                check_levels(ch, hi - lo, (hi + lo) / 2.0, c.header);
                ch.amplitude = hi - lo;
                ch.offset = (hi + lo) / 2.0;
                return std::string();
            };
        };
        commands_.add(lvl + "HIGH", set_level(true), [this, node](const ScpiCall& c) {
            c.expect_args(0, 1);
            const auto& ch = channel(c, node);
            return nr3(ch.offset + ch.amplitude / 2.0);
        });
        commands_.add(lvl + "LOW", set_level(false), [this, node](const ScpiCall& c) {
            c.expect_args(0, 1);
            const auto& ch = channel(c, node);
            return nr3(ch.offset - ch.amplitude / 2.0);
        });
    }

    // --- Agilent 81150A (channel suffix at the end of the keyword: :VOLT2, :PULS:WIDT2, :OUTP2) -------
    void add_81150a_commands() {
        commands_.add("[SOURce]:FUNCtion#:[SHAPe]", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            const auto k = c.choice(0, {"SINusoid", "SQUare", "RAMP", "PULSe", "NOISe", "USER", "DC"});
            channel(c, 1).function = static_cast<Function>(k);
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            const auto f = channel(c, 1).function;
            return std::string(f == Function::arb ? "USER" : kFunctionNames[static_cast<int>(f)]);
        });
        commands_.add("[SOURce]:FREQuency#:[CW]", [this](const ScpiCall& c) {
            auto& ch = channel(c, 1);
            const double f = c.number(0, {"HZ", 1e-6, m_.f_max, 1e6});
            check_pulse(ch, 1.0 / f, ch.width, ch.lead, ch.trail, c.header);
            ch.period = 1.0 / f;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(1.0 / channel(c, 1).period);
        });
        commands_.add("[SOURce]:PULSe:PERiod#", [this](const ScpiCall& c) {
            auto& ch = channel(c, 2);
            const double p = c.number(0, {"S", 1.0 / m_.f_max, 1e6, 1e-6});
            check_pulse(ch, p, ch.width, ch.lead, ch.trail, c.header);
            ch.period = p;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(channel(c, 2).period);
        });
        commands_.add("[SOURce]:PULSe:WIDTh#", [this](const ScpiCall& c) {
            auto& ch = channel(c, 2);
            const double w = c.number(0, {"S", m_.width_min, 1e6, 100e-9});
            check_pulse(ch, ch.period, w, ch.lead, ch.trail, c.header);
            ch.width = w;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(channel(c, 2).width);
        });
        commands_.add("[SOURce]:PULSe:DCYCle#", [this](const ScpiCall& c) {
            auto& ch = channel(c, 2);
            const double d = c.number(0, {"PCT", 0.0, 100.0, 10.0});
            check_pulse(ch, ch.period, ch.period * d / 100.0, ch.lead, ch.trail, c.header);
            ch.width = ch.period * d / 100.0;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(100.0 * channel(c, 2).width / channel(c, 2).period);
        });
        commands_.add("[SOURce]:PULSe:TRANsition#:[LEADing]", [this](const ScpiCall& c) {
            auto& ch = channel(c, 2);
            const double e = c.number(0, {"S", m_.edge_min, m_.edge_max, 2.5e-9});
            check_pulse(ch, ch.period, ch.width, e, ch.trail, c.header);
            ch.lead = e;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(channel(c, 2).lead);
        });
        commands_.add("[SOURce]:PULSe:TRANsition#:TRAiling", [this](const ScpiCall& c) {
            auto& ch = channel(c, 2);
            const double e = c.number(0, {"S", m_.edge_min, m_.edge_max, 2.5e-9});
            check_pulse(ch, ch.period, ch.width, ch.lead, e, c.header);
            ch.trail = e;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(channel(c, 2).trail);
        });
        add_level_commands("[SOURce]:VOLTage#", 1);
        add_output_commands();
        commands_.add("OUTPut#:IMPedance:EXTernal", [this](const ScpiCall& c) {
            auto& ch = channel(c, 0);
            ch.load = c.number(0, {"OHM", 0.3, 1e6, 50.0, true});
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 1);
            return nr3(std::min(channel(c, 0).load, 1e6));
        });
        commands_.add("OUTPut#:IMPedance:[INTernal]", [](const ScpiCall& c) {
            c.expect_args(1, 1);
            (void)c.choice(0, {"50", "5"});
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return nr3(m_.r_out);
        });
        commands_.add("ARM:SOURce#", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            const auto k = c.choice(0, {"IMMediate", "EXTernal", "INTernal2", "MANual"});
            channel(c, 1).trigger_source = static_cast<int>(k);
            channel(c, 1).burst = k != 0;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            static const char* names[] = {"IMM", "EXT", "INT2", "MAN"};
            return std::string(names[channel(c, 1).trigger_source]);
        });
        commands_.add("TRIGger:COUNt#", [this](const ScpiCall& c) {
            const double n = c.number(0, {"", 1.0, 16777215.0, 1.0});
            channel(c, 1).ncycles = std::round(n);
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::to_string(static_cast<long>(channel(c, 1).ncycles));
        });
        // :TRIGger (software trigger): fires the channels armed for manual triggering.
        commands_.add("TRIGger:[SEQuence]:[IMMediate]", [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            for (int ch = 1; ch <= m_.channels; ++ch)
                if (ch_[static_cast<std::size_t>(ch - 1)].trigger_source == 3) fire(ch);
            return std::string();
        }, nullptr);
    }

    PulseGenModel m_;
    bool keysight_;
    std::array<Channel, 2> ch_{};
};

// 33500B series: model, channels, max frequency (Hz), min pulse width, edge range (Operating Guide specs).
const std::vector<PulseGenModel>& keysight_models() {
    static const std::vector<PulseGenModel> models = [] {
        std::vector<PulseGenModel> v;
        struct Row { const char* m; int ch; double f; double wmin; };
        const Row rows[] = {{"33509B", 1, 20e6, 16e-9}, {"33510B", 2, 20e6, 16e-9}, {"33511B", 1, 20e6, 16e-9},
                            {"33512B", 2, 20e6, 16e-9}, {"33519B", 1, 30e6, 16e-9}, {"33520B", 2, 30e6, 16e-9},
                            {"33521B", 1, 30e6, 16e-9}, {"33522B", 2, 30e6, 16e-9}};
        for (const auto& r : rows)
            v.push_back(PulseGenModel{r.m, std::string("Keysight Technologies,") + r.m + ",MY57400151,4.03-1.19-2.00-52-00",
                                      r.ch, r.f, r.wmin, 8.4e-9, 1e-6, 10.0, 1e-3, 50.0});
        return v;
    }();
    return models;
}

}  // namespace

bool is_keysight_33500b_model(const std::string& model) {
    for (const auto& m : keysight_models())
        if (m.model == model) return true;
    return false;
}

std::unique_ptr<VirtualInstrument> make_keysight_33500b(const std::string& model, const std::string& name,
                                                        std::shared_ptr<VirtualBench> bench) {
    for (const auto& m : keysight_models())
        if (m.model == model) return std::make_unique<PulseGenerator>(m, true, name, std::move(bench));
    return nullptr;
}

std::unique_ptr<VirtualInstrument> make_agilent_81150a(const std::string& name, std::shared_ptr<VirtualBench> bench) {
    // 81150A: 2 channels, pulse up to 120 MHz, width >= 4.1 ns, transitions 2.5 ns .. 1 ms, 10 Vpp into 50 Ohm.
    PulseGenModel m{"81150A", "Agilent Technologies,81150A,DE47C01234,2.0.0.0-2.5", 2, 120e6, 4.1e-9,
                    2.5e-9, 1e-3, 10.0, 20e-3, 50.0};
    return std::make_unique<PulseGenerator>(std::move(m), false, name, std::move(bench));
}

}  // namespace mtjlab::devices_sim::detail
