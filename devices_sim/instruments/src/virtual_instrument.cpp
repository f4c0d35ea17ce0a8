#include "mtjlab/devices_sim/virtual_instrument.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <thread>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::devices_sim {

std::string_view to_string(FaultKind k) {
    switch (k) {
        case FaultKind::drop: return "drop";
        case FaultKind::timeout: return "timeout";
        case FaultKind::garbage: return "garbage";
        case FaultKind::error: return "error";
        case FaultKind::slow: return "slow";
    }
    return "?";
}

FaultCounts& FaultCounts::operator+=(const FaultCounts& o) {
    messages += o.messages;
    drop += o.drop;
    timeout += o.timeout;
    garbage += o.garbage;
    error += o.error;
    slow += o.slow;
    return *this;
}

namespace {
std::string trimmed(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return std::string(s);
}

double spec_number(const std::string& item, const std::string& value, double lo, double hi) {
    std::size_t used = 0;
    double v = 0;
    try {
        v = std::stod(value, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != value.size() || !(v >= lo && v <= hi))
        throw InputError(fmt::format("fault spec: '{}': value must be a number in {:g}..{:g}", item, lo, hi));
    return v;
}
}  // namespace

RandomFaults parse_fault_spec(std::string_view spec) {
    RandomFaults f;
    const std::string all = trimmed(spec);
    if (all.empty() || all == "off" || all == "none") return f;
    if (all.size() > 1024) throw InputError("fault spec: longer than 1024 characters");
    bool have_rate = false;
    std::size_t pos = 0;
    while (pos <= all.size()) {
        const std::size_t comma = std::min(all.find(',', pos), all.size());
        const std::string item = trimmed(std::string_view(all).substr(pos, comma - pos));
        pos = comma + 1;
        if (item.empty()) throw InputError("fault spec: empty item in '" + all + "'");
        const auto eq = item.find('=');
        if (eq == std::string::npos)
            throw InputError("fault spec: '" + item + "' is not key=value (keys: rate, seed, kinds, slow_ms)");
        const std::string key = trimmed(std::string_view(item).substr(0, eq));
        const std::string value = trimmed(std::string_view(item).substr(eq + 1));
        if (key == "rate") {
            f.rate = spec_number(item, value, 0.0, 1.0);
            have_rate = true;
        } else if (key == "seed") {
            if (value.empty() || value.size() > 20 || value.find_first_not_of("0123456789") != std::string::npos)
                throw InputError("fault spec: '" + item + "': seed must be a whole number");
            try {
                f.seed = std::stoull(value);
            } catch (const std::exception&) {
                throw InputError("fault spec: '" + item + "': seed out of range");
            }
        } else if (key == "slow_ms") {
            f.slow_delay = Second(spec_number(item, value, 0.0, 60000.0) / 1000.0);
        } else if (key == "kinds") {
            f.kinds.clear();
            std::size_t p = 0;
            while (p <= value.size()) {
                const std::size_t plus = std::min(value.find('+', p), value.size());
                const std::string k = trimmed(std::string_view(value).substr(p, plus - p));
                p = plus + 1;
                bool known = false;
                for (FaultKind fk : {FaultKind::drop, FaultKind::timeout, FaultKind::garbage, FaultKind::error,
                                     FaultKind::slow}) {
                    if (k == to_string(fk)) {
                        known = true;
                        bool dup = false;
                        for (FaultKind have : f.kinds) dup = dup || have == fk;
                        if (!dup) f.kinds.push_back(fk);
                    }
                }
                if (!known)
                    throw InputError("fault spec: unknown fault kind '" + k +
                                     "' (kinds: drop, timeout, garbage, error, slow, joined by '+')");
            }
        } else {
            throw InputError("fault spec: unknown key '" + key + "' (keys: rate, seed, kinds, slow_ms)");
        }
    }
    if (!have_rate) throw InputError("fault spec: 'rate=P' (0..1, faults per message) is required");
    return f;
}

std::string describe(const RandomFaults& f) {
    if (!f.enabled()) return "off";
    std::string kinds;
    for (FaultKind k : f.kinds) kinds += (kinds.empty() ? "" : "+") + std::string(to_string(k));
    return fmt::format("rate={},seed={},kinds={},slow_ms={}", f.rate, f.seed, kinds, f.slow_delay.si() * 1000.0);
}

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

void VirtualInstrument::set_random_faults(const RandomFaults& faults, FaultObserver observer) {
    if (!(faults.rate >= 0.0 && faults.rate <= 1.0))
        throw InputError("virtual " + name_ + ": fault rate must be in 0..1");
    std::lock_guard lock(fault_mutex_);
    random_ = faults;
    observer_ = std::move(observer);
    // FNV-1a of the name: a different, reproducible fault sequence per instrument.
    std::uint64_t h = 1469598103934665603ull;
    for (char c : name_) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    fault_rng_.seed(faults.seed ^ h);
}

FaultCounts VirtualInstrument::fault_counts() const {
    std::lock_guard lock(fault_mutex_);
    return counts_;
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
    std::optional<FaultKind> random;  // the random fault drawn for this message, if any
    FaultObserver observer;
    Second slow_delay{0.0};
    bool error_enabled = false;
    {
        std::lock_guard lock(fault_mutex_);
        ++counts_.messages;
        ex.delay = faults_.reply_delay;
        if (random_.enabled()) {
            std::uniform_real_distribution<double> u(0.0, 1.0);
            if (u(fault_rng_) < random_.rate) {
                std::uniform_int_distribution<std::size_t> pick(0, random_.kinds.size() - 1);
                random = random_.kinds[pick(fault_rng_)];
            }
            observer = observer_;
            slow_delay = random_.slow_delay;
            for (FaultKind k : random_.kinds) error_enabled = error_enabled || k == FaultKind::error;
        }
        if (faults_.drop_connection > 0 || random == FaultKind::drop) {
            if (random != FaultKind::drop) --faults_.drop_connection;
            ++counts_.drop;
            ex.drop = true;
        } else {
            stuck = faults_.stuck_opc && has_opc_query(message);
            if (faults_.garbage_replies > 0) {
                --faults_.garbage_replies;
                garbage = true;
                ++counts_.garbage;
            }
            if (stuck) ++counts_.timeout;
        }
    }
    auto notify = [&](FaultKind k) {
        if (observer) observer(FaultEvent{name_, k, std::string(message.substr(0, 80))});
    };
    if (ex.drop) {
        if (random == FaultKind::drop) notify(FaultKind::drop);
        return ex;
    }
    Second debt{0.0};
    {
        std::lock_guard lock(bench_->mutex());
        bench_->advance_locked(bench_->options().transaction_time);
        bench_->begin_message_locked();
        ex.reply = execute_locked(message);
        if (random && (*random == FaultKind::timeout || *random == FaultKind::garbage) && !ex.reply)
            random = error_enabled ? FaultKind::error : FaultKind::slow;  // nothing to lose or spoil
        if (random == FaultKind::error)
            push_error_locked(scpi_code::device_specific_error, "injected fault");
        debt = bench_->take_sleep_debt_locked();
    }
    if (random) {
        std::lock_guard lock(fault_mutex_);
        switch (*random) {
            case FaultKind::timeout: ++counts_.timeout; stuck = true; break;
            case FaultKind::garbage: ++counts_.garbage; garbage = true; break;
            case FaultKind::error: ++counts_.error; break;
            case FaultKind::slow: ++counts_.slow; ex.delay += slow_delay; break;
            case FaultKind::drop: break;
        }
    }
    if (random) notify(*random);
    if (debt.si() > 0.0) std::this_thread::sleep_for(std::chrono::duration<double>(debt.si()));
    if (stuck) {
        ex.reply.reset();
        return ex;
    }
    if (garbage) {
        // Bytes a confused instrument or a bad cable might deliver: no terminator inside, never valid text.
        std::lock_guard lock(fault_mutex_);
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
