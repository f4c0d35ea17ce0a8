#include "toml_reader.hpp"

#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::recipes::detail {
namespace {
std::string pos(const std::string& file, const toml::source_region& r) {
    if (r.begin.line == 0) return file;
    return fmt::format("{}:{}:{}", file, r.begin.line, r.begin.column);
}
}  // namespace

toml::table parse_toml(std::string_view text, const std::string& file) {
    try {
        return toml::parse(text, file);
    } catch (const toml::parse_error& e) {
        throw InputError(fmt::format("{}: TOML syntax error: {}", pos(file, e.source()), e.description()));
    }
}

TomlTable::TomlTable(const toml::table& table, std::string file, std::string prefix)
    : table_(&table), file_(std::move(file)), prefix_(std::move(prefix)) {}

std::string TomlTable::full_key(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

std::string TomlTable::where() const { return pos(file_, table_->source()); }

void TomlTable::fail(std::string_view key, std::string_view message) const {
    const toml::node* n = table_->get(key);
    const std::string at = n ? pos(file_, n->source()) : where();
    throw InputError(fmt::format("{}: key '{}': {}", at, full_key(key), message));
}

bool TomlTable::has(std::string_view key) const { return table_->contains(key); }

const toml::node* TomlTable::node(std::string_view key) {
    used_.insert(std::string(key));
    return table_->get(key);
}

std::optional<double> TomlTable::opt_number(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    double v = 0;
    if (auto i = n->as_integer()) {
        v = static_cast<double>(i->get());
    } else if (auto f = n->as_floating_point()) {
        v = f->get();
    } else {
        fail(key, "expected a number");
    }
    if (!std::isfinite(v)) fail(key, "expected a finite number");
    return v;
}

double TomlTable::number(std::string_view key) {
    auto v = opt_number(key);
    if (!v) fail(key, "missing (a number is required)");
    return *v;
}

double TomlTable::number_or(std::string_view key, double fallback) { return opt_number(key).value_or(fallback); }

long long TomlTable::integer(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) fail(key, "missing (an integer is required)");
    auto i = n->as_integer();
    if (!i) fail(key, "expected an integer");
    return i->get();
}

long long TomlTable::integer_or(std::string_view key, long long fallback) {
    return has(key) ? integer(key) : (used_.insert(std::string(key)), fallback);
}

std::string TomlTable::string(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) fail(key, "missing (a string is required)");
    auto s = n->as_string();
    if (!s) fail(key, "expected a string");
    return s->get();
}

std::string TomlTable::string_or(std::string_view key, std::string fallback) {
    return has(key) ? string(key) : (used_.insert(std::string(key)), std::move(fallback));
}

bool TomlTable::boolean_or(std::string_view key, bool fallback) {
    const toml::node* n = node(key);
    if (!n) return fallback;
    auto b = n->as_boolean();
    if (!b) fail(key, "expected true or false");
    return b->get();
}

std::vector<double> TomlTable::numbers(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) fail(key, "missing (an array of numbers is required)");
    auto a = n->as_array();
    if (!a) fail(key, "expected an array of numbers");
    std::vector<double> out;
    for (const toml::node& e : *a) {
        if (auto i = e.as_integer()) {
            out.push_back(static_cast<double>(i->get()));
        } else if (auto f = e.as_floating_point()) {
            if (!std::isfinite(f->get())) fail(key, "array holds a value that is not finite");
            out.push_back(f->get());
        } else {
            fail(key, fmt::format("element {} is not a number", out.size()));
        }
    }
    return out;
}

std::vector<long long> TomlTable::integers(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) fail(key, "missing (an array of integers is required)");
    auto a = n->as_array();
    if (!a) fail(key, "expected an array of integers");
    std::vector<long long> out;
    for (const toml::node& e : *a) {
        auto i = e.as_integer();
        if (!i) fail(key, fmt::format("element {} is not an integer", out.size()));
        out.push_back(i->get());
    }
    return out;
}

std::vector<std::string> TomlTable::strings(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) fail(key, "missing (an array of strings is required)");
    auto a = n->as_array();
    if (!a) fail(key, "expected an array of strings");
    std::vector<std::string> out;
    for (const toml::node& e : *a) {
        auto s = e.as_string();
        if (!s) fail(key, fmt::format("element {} is not a string", out.size()));
        out.push_back(s->get());
    }
    return out;
}

TomlTable TomlTable::table(std::string_view key) {
    auto t = opt_table(key);
    if (!t) fail(key, "missing (a table is required)");
    return std::move(*t);
}

std::optional<TomlTable> TomlTable::opt_table(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    auto t = n->as_table();
    if (!t) fail(key, "expected a table");
    return TomlTable(*t, file_, full_key(key));
}

std::vector<TomlTable> TomlTable::tables(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) fail(key, "missing (an array of tables [[" + std::string(key) + "]] is required)");
    auto a = n->as_array();
    if (!a) fail(key, "expected an array of tables");
    std::vector<TomlTable> out;
    for (const toml::node& e : *a) {
        auto t = e.as_table();
        if (!t) fail(key, fmt::format("element {} is not a table", out.size()));
        out.emplace_back(*t, file_, fmt::format("{}[{}]", full_key(key), out.size()));
    }
    return out;
}

void TomlTable::finish() const {
    for (const auto& [k, v] : *table_) {
        if (!used_.contains(k.str())) {
            throw InputError(fmt::format("{}: key '{}': unknown key (misspelt?)", pos(file_, v.source()),
                                         full_key(k.str())));
        }
    }
}

}  // namespace mtjlab::recipes::detail
