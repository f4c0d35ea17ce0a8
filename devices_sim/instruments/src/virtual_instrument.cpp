#include "mtjlab/devices_sim/virtual_instrument.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include "mtjlab/core/error.hpp"

namespace mtjlab::devices_sim {

VirtualInstrument::VirtualInstrument(std::string name, std::shared_ptr<VirtualBench> bench)
    : name_(std::move(name)), bench_(std::move(bench)), garbage_rng_(std::hash<std::string>{}(name_)) {
    if (!bench_) throw InputError("virtual instrument " + name_ + ": no bench");
}

bool VirtualInstrument::has_opc_query(std::string_view message) {
    std::string up;
    up.reserve(message.size());
    for (char c : message) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return up.find("*OPC?") != std::string::npos;
}

void VirtualInstrument::set_faults(const FaultPlan& plan) {
    std::lock_guard lock(fault_mutex_);
    faults_ = plan;
}

FaultPlan VirtualInstrument::faults() const {
    std::lock_guard lock(fault_mutex_);
    return faults_;
}

void VirtualInstrument::push_error(int code, std::string_view detail) {
    std::lock_guard lock(bench_->mutex());
    push_error_locked(code, detail);
}

void VirtualInstrument::reset() {
    std::lock_guard lock(bench_->mutex());
    reset_locked();
}

Exchange VirtualInstrument::process(std::string_view message) {
    Exchange ex;
    bool garbage = false;
    bool stuck = false;
    {
        std::lock_guard lock(fault_mutex_);
        ex.delay = faults_.reply_delay;
        if (faults_.drop_connection > 0) {
            --faults_.drop_connection;
            ex.drop = true;
            return ex;
        }
        stuck = faults_.stuck_opc && has_opc_query(message);
        if (faults_.garbage_replies > 0) {
            --faults_.garbage_replies;
            garbage = true;
        }
    }
    Second debt{0.0};
    {
        std::lock_guard lock(bench_->mutex());
        bench_->advance_locked(bench_->options().transaction_time);
        ex.reply = execute_locked(message);
        debt = bench_->take_sleep_debt_locked();
    }
    if (debt.si() > 0.0) std::this_thread::sleep_for(std::chrono::duration<double>(debt.si()));
    if (stuck) {
        ex.reply.reset();
        return ex;
    }
    if (garbage) {
        // Bytes a confused instrument or a bad cable might deliver: no terminator inside, never valid text.
        std::uniform_int_distribution<int> len(4, 40);
        std::uniform_int_distribution<int> byte(0x80, 0xFF);
        std::string g;
        const int n = len(garbage_rng_);
        for (int k = 0; k < n; ++k) g += static_cast<char>(byte(garbage_rng_));
        ex.reply = std::move(g);
    }
    return ex;
}

std::optional<std::string> VirtualInstrument::handle(std::string_view message) {
    auto ex = process(message);
    if (ex.delay.si() > 0.0) std::this_thread::sleep_for(std::chrono::duration<double>(ex.delay.si()));
    if (ex.drop)
        throw TransportError("virtual " + name_ + ": connection dropped (fault injection) on '" +
                             std::string(message.substr(0, 60)) + "'");
    return ex.reply;
}

ScpiInstrument::ScpiInstrument(std::string name, std::shared_ptr<VirtualBench> bench, std::size_t error_queue_size)
    : VirtualInstrument(std::move(name), std::move(bench)), errors_(error_queue_size) {}

std::optional<std::string> ScpiInstrument::execute_locked(std::string_view message) {
    return commands_.execute(message, errors_, status_);
}

void ScpiInstrument::push_error_locked(int code, std::string_view detail) {
    errors_.push(code, detail);
    status_.record_error(code);
}

void ScpiInstrument::reset_locked() {
    reset_settings_locked();
    errors_.clear();
    status_ = StatusRegisters{};
}

std::string ScpiInstrument::nr3(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%+.14E", v);
    return buf;
}

void ScpiInstrument::add_common_commands() {
    auto none = [](const ScpiCall& c) {
        c.expect_args(0, 0);
        return std::string();
    };
    commands_.add("*IDN", nullptr, [this, none](const ScpiCall& c) {
        none(c);
        return idn();
    });
    commands_.add("*RST", [this, none](const ScpiCall& c) {
        none(c);
        reset_settings_locked();
        return std::string();
    }, nullptr);
    commands_.add("*CLS", [this, none](const ScpiCall& c) {
        none(c);
        errors_.clear();
        status_.esr = 0;
        return std::string();
    }, nullptr);
    // Every operation of the virtual instrument completes before the next message is read.
    commands_.add("*OPC", [this, none](const ScpiCall& c) {
        none(c);
        status_.esr |= StatusRegisters::opc;
        return std::string();
    }, [none](const ScpiCall& c) {
        none(c);
        return std::string("1");
    });
    commands_.add("*WAI", none, nullptr);
    commands_.add("*TST", nullptr, [none](const ScpiCall& c) {
        none(c);
        return std::string("0");
    });
    commands_.add("*ESR", nullptr, [this, none](const ScpiCall& c) {
        none(c);
        const int v = status_.esr;
        status_.esr = 0;
        return std::to_string(v);
    });
    commands_.add("*ESE", [this](const ScpiCall& c) {
        c.expect_args(1, 1);
        status_.ese = static_cast<std::uint8_t>(c.integer(0, 0, 255));
        return std::string();
    }, [this, none](const ScpiCall& c) {
        none(c);
        return std::to_string(status_.ese);
    });
    commands_.add("*SRE", [this](const ScpiCall& c) {
        c.expect_args(1, 1);
        status_.sre = static_cast<std::uint8_t>(c.integer(0, 0, 255) & 0xBF);
        return std::string();
    }, [this, none](const ScpiCall& c) {
        none(c);
        return std::to_string(status_.sre);
    });
    commands_.add("*STB", nullptr, [this, none](const ScpiCall& c) {
        none(c);
        return std::to_string(status_.status_byte(!errors_.empty(), false));
    });
    commands_.add("SYSTem:ERRor:[NEXT]", nullptr, [this, none](const ScpiCall& c) {
        none(c);
        return ErrorQueue::format(errors_.pop());
    });
    commands_.add("SYSTem:ERRor:COUNt", nullptr, [this, none](const ScpiCall& c) {
        none(c);
        return std::to_string(errors_.size());
    });
    commands_.add("SYSTem:VERSion", nullptr, [none](const ScpiCall& c) {
        none(c);
        return std::string("1999.0");
    });
}

}  // namespace mtjlab::devices_sim

#include "models.hpp"

namespace mtjlab::devices_sim {

std::unique_ptr<VirtualInstrument> make_virtual_instrument(const std::string& model, const std::string& name,
                                                           std::shared_ptr<VirtualBench> bench) {
    std::unique_ptr<VirtualInstrument> out;
    if (detail::is_keysight_33500b_model(model)) out = detail::make_keysight_33500b(model, name, std::move(bench));
    else if (model == "81150A") out = detail::make_agilent_81150a(name, std::move(bench));
    else if (model == "SR830") out = detail::make_srs_sr830(name, std::move(bench));
    else if (model == "SR860") out = detail::make_srs_sr860(name, std::move(bench));
    else if (detail::is_kepco_bop_model(model)) out = detail::make_kepco_bop(model, name, std::move(bench));
    else if (model == "2400") out = detail::make_keithley_2400(name, std::move(bench));
    else if (model == "425") out = detail::make_lakeshore_425(name, std::move(bench));
    if (!out) {
        std::string known;
        for (const auto& m : virtual_models()) known += (known.empty() ? "" : ", ") + m;
        throw InputError("virtual lab: unknown instrument model '" + model + "' (known: " + known + ")");
    }
    return out;
}

std::vector<std::string> virtual_models() {
    return {"33509B", "33510B", "33511B", "33512B", "33519B", "33520B", "33521B", "33522B", "81150A",
            "SR830", "SR860", "BOP 20-10M", "BOP 20-20M", "BOP 36-6M", "BOP 50-4M", "BOP 72-3M", "BOP 100-2M",
            "2400", "425"};
}

}  // namespace mtjlab::devices_sim
