#include "mtjlab/acquisition/station.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/core/text_file.hpp"
#include "mtjlab/drivers/transport/resource.hpp"

namespace mtjlab::acquisition {

namespace {

using drivers::Role;

struct Ctx {
    const std::string& source;
    [[noreturn]] void fail(std::string_view key, const std::string& why) const {
        throw InputError(fmt::format("{}: key '{}': {}", source, key, why));
    }
    [[noreturn]] void fail_at(const toml::node* node, std::string_view key, const std::string& why) const {
        if (node && node->source().begin.line > 0) {
            throw InputError(fmt::format("{}:{}:{}: key '{}': {}", source, node->source().begin.line,
                                         node->source().begin.column, key, why));
        }
        fail(key, why);
    }
};

// Every key of `table` must be in `allowed` (a typo must not silently drop a safety limit).
void only_keys(const Ctx& c, const toml::table& table, std::string_view prefix, std::initializer_list<std::string_view> allowed) {
    for (const auto& [k, v] : table) {
        if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
            std::string list;
            for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
            c.fail_at(&v, fmt::format("{}{}", prefix, k.str()), fmt::format("unknown key (allowed here: {})", list));
        }
    }
}

const toml::table* sub_table(const Ctx& c, const toml::table& t, std::string_view key, std::string_view path, bool required) {
    const auto* node = t.get(key);
    if (!node) {
        if (required) c.fail(path, "missing table");
        return nullptr;
    }
    if (!node->is_table()) c.fail_at(node, path, "must be a table");
    return node->as_table();
}

std::optional<double> number(const Ctx& c, const toml::table& t, std::string_view key, std::string_view path) {
    const auto* node = t.get(key);
    if (!node) return std::nullopt;
    if (const auto* d = node->as_floating_point()) return d->get();
    if (const auto* i = node->as_integer()) return static_cast<double>(i->get());
    c.fail_at(node, path, "must be a number");
}

double required_in(const Ctx& c, const toml::table& t, std::string_view key, std::string_view path, double lo_excl,
                   double hi, std::string_view unit) {
    const auto v = number(c, t, key, path);
    if (!v) c.fail(path, fmt::format("missing (a number in ({}, {}] {})", lo_excl, hi, unit));
    if (!std::isfinite(*v) || *v <= lo_excl || *v > hi)
        c.fail_at(t.get(key), path, fmt::format("{} is outside ({}, {}] {}", *v, lo_excl, hi, unit));
    return *v;
}

std::optional<std::string> text(const Ctx& c, const toml::table& t, std::string_view key, std::string_view path) {
    const auto* node = t.get(key);
    if (!node) return std::nullopt;
    if (const auto* s = node->as_string()) return s->get();
    c.fail_at(node, path, "must be a string");
}

Role role_of(const Ctx& c, std::string_view key, const toml::node* node) {
    if (key == "pulse_gen") return Role::pulse_gen;
    if (key == "lockin") return Role::lockin;
    if (key == "magnet") return Role::magnet;
    if (key == "gaussmeter") return Role::gaussmeter;
    c.fail_at(node, fmt::format("instruments.{}", key), "unknown role (use pulse_gen, lockin, magnet, gaussmeter)");
}

InstrumentConfig parse_instrument(const Ctx& c, std::string_view role_key, const toml::node& node) {
    const auto base = fmt::format("instruments.{}", role_key);
    if (!node.is_table()) c.fail_at(&node, base, "must be a table");
    const auto& t = *node.as_table();
    only_keys(c, t, base + ".", {"model", "resource", "timeout_ms", "serial"});
    InstrumentConfig cfg;
    cfg.role = role_of(c, role_key, &node);
    const auto model = text(c, t, "model", base + ".model");
    if (!model) c.fail(base + ".model", "missing (e.g. \"srs_sr830\")");
    const drivers::ModelInfo* info = nullptr;
    try {
        info = &drivers::find_model(*model);
    } catch (const InputError& e) {
        c.fail_at(t.get("model"), base + ".model", e.what());
    }
    if (info->role != cfg.role) {
        c.fail_at(t.get("model"), base + ".model",
                  fmt::format("'{}' is a {}, not a {}", *model, drivers::to_string(info->role), role_key));
    }
    cfg.model = std::string(info->key);
    const auto resource = text(c, t, "resource", base + ".resource");
    if (!resource) c.fail(base + ".resource", "missing (e.g. \"TCPIP0::192.168.1.10::5025::SOCKET\")");
    drivers::Resource parsed;
    try {
        parsed = drivers::parse_resource(*resource);
    } catch (const InputError& e) {
        c.fail_at(t.get("resource"), base + ".resource", e.what());
    }
    cfg.resource = *resource;
    if (const auto ms = number(c, t, "timeout_ms", base + ".timeout_ms")) {
        if (*ms < 1 || *ms > 600000 || std::floor(*ms) != *ms)
            c.fail_at(t.get("timeout_ms"), base + ".timeout_ms", fmt::format("{} is not a whole number in 1..600000", *ms));
        cfg.timeout = std::chrono::milliseconds(static_cast<long long>(*ms));
    }
    if (info->serial) cfg.serial = *info->serial;
    if (const auto* st = sub_table(c, t, "serial", base + ".serial", false)) {
        const auto sp = base + ".serial.";
        if (!std::holds_alternative<drivers::SerialResource>(parsed))
            c.fail_at(t.get("serial"), base + ".serial", "serial settings given for a non-serial (ASRL) resource");
        only_keys(c, *st, sp, {"baud", "data_bits", "parity", "stop_bits", "flow_control"});
        if (st->contains("baud")) cfg.serial.baud = static_cast<unsigned>(required_in(c, *st, "baud", sp + "baud", 0, 4e6, "baud"));
        if (st->contains("data_bits")) {
            const auto b = required_in(c, *st, "data_bits", sp + "data_bits", 4, 8, "bits");
            cfg.serial.data_bits = static_cast<unsigned>(b);
        }
        if (st->contains("stop_bits")) {
            const auto b = required_in(c, *st, "stop_bits", sp + "stop_bits", 0, 2, "bits");
            cfg.serial.stop_bits = static_cast<unsigned>(b);
        }
        try {
            if (const auto p = text(c, *st, "parity", sp + "parity")) cfg.serial.parity = drivers::parse_parity(*p);
        } catch (const InputError& e) {
            c.fail_at(st->get("parity"), sp + "parity", e.what());
        }
        try {
            if (const auto f = text(c, *st, "flow_control", sp + "flow_control"))
                cfg.serial.flow_control = drivers::parse_flow_control(*f);
        } catch (const InputError& e) {
            c.fail_at(st->get("flow_control"), sp + "flow_control", e.what());
        }
    }
    return cfg;
}

}  // namespace

const InstrumentConfig* Station::instrument(Role role) const {
    for (const auto& i : instruments)
        if (i.role == role) return &i;
    return nullptr;
}

Ampere Station::max_coil_current_for_field() const {
    double i = limits.max_coil_current.si();
    if (calibration.coil_constant_T_per_A) i = std::min(i, limits.max_field.si() / *calibration.coil_constant_T_per_A);
    return Ampere(i);
}

Station parse_station(std::string_view toml_text, std::string source) {
    const Ctx c{source};
    toml::table root;
    try {
        root = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
        throw InputError(fmt::format("{}:{}:{}: malformed TOML: {}", source, e.source().begin.line,
                                     e.source().begin.column, e.description()));
    }
    only_keys(c, root, "", {"station", "instruments", "calibration", "limits"});
    Station st;
    st.source = source;
    st.text = std::string(toml_text);
    if (const auto* meta = sub_table(c, root, "station", "station", false)) {
        only_keys(c, *meta, "station.", {"name"});
        st.name = text(c, *meta, "name", "station.name").value_or("");
    }

    const auto* inst = sub_table(c, root, "instruments", "instruments", true);
    for (const auto& [k, v] : *inst) st.instruments.push_back(parse_instrument(c, k.str(), v));
    for (const char* required : {"pulse_gen", "lockin", "magnet"}) {
        if (!inst->contains(required)) c.fail(fmt::format("instruments.{}", required), "missing instrument");
    }

    // Limits first: the calibration is checked against them.
    const auto* lim = sub_table(c, root, "limits", "limits", true);
    only_keys(c, *lim, "limits.", {"max_pulse_amplitude_V", "max_pulse_width_s", "max_coil_current_A", "max_field_T",
                                   "max_ramp_rate_T_per_s", "max_read_voltage_V"});
    st.limits.max_pulse_amplitude = Volt(required_in(c, *lim, "max_pulse_amplitude_V", "limits.max_pulse_amplitude_V", 0, 20, "V"));
    st.limits.max_pulse_width = Second(required_in(c, *lim, "max_pulse_width_s", "limits.max_pulse_width_s", 0, 1, "s"));
    st.limits.max_coil_current = Ampere(required_in(c, *lim, "max_coil_current_A", "limits.max_coil_current_A", 0, 100, "A"));
    st.limits.max_field = Tesla(required_in(c, *lim, "max_field_T", "limits.max_field_T", 0, 10, "T"));
    st.limits.max_ramp_rate_T_per_s = required_in(c, *lim, "max_ramp_rate_T_per_s", "limits.max_ramp_rate_T_per_s", 0, 10, "T/s");
    st.limits.max_read_voltage = Volt(required_in(c, *lim, "max_read_voltage_V", "limits.max_read_voltage_V", 0, 10, "V"));

    const auto* cal = sub_table(c, root, "calibration", "calibration", true);
    only_keys(c, *cal, "calibration.", {"field_control", "coil_constant_T_per_A", "reference_resistor_ohm",
                                        "read_amplitude_V", "read_frequency_Hz", "time_constant_s",
                                        "field_tolerance_mT", "field_max_corrections"});
    const auto control = text(c, *cal, "field_control", "calibration.field_control").value_or("coil_constant");
    if (control == "coil_constant") st.calibration.field_control = FieldControl::coil_constant;
    else if (control == "gaussmeter") st.calibration.field_control = FieldControl::gaussmeter;
    else c.fail_at(cal->get("field_control"), "calibration.field_control",
                   fmt::format("'{}' (use \"coil_constant\" or \"gaussmeter\")", control));
    if (cal->contains("coil_constant_T_per_A"))
        st.calibration.coil_constant_T_per_A =
            required_in(c, *cal, "coil_constant_T_per_A", "calibration.coil_constant_T_per_A", 0, 10, "T/A");
    if (st.calibration.field_control == FieldControl::coil_constant && !st.calibration.coil_constant_T_per_A)
        c.fail("calibration.coil_constant_T_per_A", "missing (required when field_control = \"coil_constant\")");
    if (st.calibration.field_control == FieldControl::gaussmeter && !st.instrument(Role::gaussmeter))
        c.fail("instruments.gaussmeter", "missing (required when calibration.field_control = \"gaussmeter\")");
    if (cal->contains("field_tolerance_mT"))
        st.calibration.field_tolerance = Tesla(
            1e-3 * required_in(c, *cal, "field_tolerance_mT", "calibration.field_tolerance_mT", 0.001, 10, "mT"));
    if (cal->contains("field_max_corrections")) {
        const double n =
            required_in(c, *cal, "field_max_corrections", "calibration.field_max_corrections", 1, 50, "corrections");
        if (n != std::floor(n))
            c.fail_at(cal->get("field_max_corrections"), "calibration.field_max_corrections", "must be a whole number");
        st.calibration.field_max_corrections = static_cast<unsigned>(n);
    }
    st.calibration.reference_resistor =
        Ohm(required_in(c, *cal, "reference_resistor_ohm", "calibration.reference_resistor_ohm", 0, 1e12, "Ohm"));
    st.calibration.read_amplitude = Volt(required_in(c, *cal, "read_amplitude_V", "calibration.read_amplitude_V", 0,
                                                     st.limits.max_read_voltage.si(), "V (limits.max_read_voltage_V)"));
    st.calibration.read_frequency = Hertz(required_in(c, *cal, "read_frequency_Hz", "calibration.read_frequency_Hz", 0, 1e6, "Hz"));
    st.calibration.time_constant = Second(required_in(c, *cal, "time_constant_s", "calibration.time_constant_s", 0, 3e4, "s"));
    return st;
}

Station load_station(const std::filesystem::path& path) {
    return parse_station(read_text_file(path, max_recipe_bytes, "station"), path.string());
}

std::shared_ptr<drivers::ScpiSession> open_session(const InstrumentConfig& config) {
    drivers::TransportOptions topt;
    topt.serial = config.serial;
    auto options = drivers::session_options_for(drivers::find_model(config.model), std::string(drivers::to_string(config.role)));
    options.timeout = config.timeout;
    return std::make_shared<drivers::ScpiSession>(drivers::open_transport(config.resource, topt), std::move(options));
}

}  // namespace mtjlab::acquisition
