#include "mtjlab/devices_sim/scpi_parser.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace mtjlab::devices_sim {

namespace {

char upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

std::string to_upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = upper(c);
    return out;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

// Skips a quoted string starting at s[i] (a quote); returns the index after the closing quote.
// A doubled quote inside is an escaped quote (IEEE 488.2 7.7.5).
std::size_t skip_string(std::string_view s, std::size_t i) {
    const char q = s[i];
    ++i;
    while (i < s.size()) {
        if (s[i] == q) {
            if (i + 1 < s.size() && s[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        ++i;
    }
    throw ScpiFault(scpi_code::syntax_error, "unterminated string");
}

// Skips an arbitrary block `#<n><len><bytes>` or `#0<bytes...>` starting at s[i] ('#').
std::size_t skip_block(std::string_view s, std::size_t i) {
    if (i + 1 >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i + 1]))) return i + 1;  // not a block
    const int ndigits = s[i + 1] - '0';
    if (ndigits == 0) return s.size();  // indefinite length: the rest of the message
    const std::size_t start = i + 2;
    if (start + static_cast<std::size_t>(ndigits) > s.size())
        throw ScpiFault(scpi_code::syntax_error, "truncated block header");
    std::size_t len = 0;
    for (std::size_t k = start; k < start + static_cast<std::size_t>(ndigits); ++k) {
        if (!std::isdigit(static_cast<unsigned char>(s[k])))
            throw ScpiFault(scpi_code::syntax_error, "bad block length");
        len = len * 10 + static_cast<std::size_t>(s[k] - '0');
        if (len > s.size()) throw ScpiFault(scpi_code::syntax_error, "block longer than message");
    }
    const std::size_t end = start + static_cast<std::size_t>(ndigits) + len;
    if (end > s.size()) throw ScpiFault(scpi_code::syntax_error, "block longer than message");
    return end;
}

template <class F>
std::vector<std::string> split_outside(std::string_view s, char sep, F&& finish) {
    std::vector<std::string> out;
    std::size_t start = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == '"' || c == '\'') {
            i = skip_string(s, i);
        } else if (c == '#') {
            i = skip_block(s, i);
        } else if (c == sep) {
            out.push_back(finish(s.substr(start, i - start)));
            start = ++i;
        } else {
            ++i;
        }
    }
    out.push_back(finish(s.substr(start)));
    return out;
}

struct Prefix {
    const char* name;
    double factor;
};
// SCPI multipliers (SCPI-99 7.7.3). "M" is milli; mega is "MA" except in MHZ and MOHM.
constexpr Prefix kPrefixes[] = {{"EX", 1e18}, {"PE", 1e15}, {"T", 1e12}, {"G", 1e9}, {"MA", 1e6},
                                {"K", 1e3},   {"M", 1e-3},  {"U", 1e-6}, {"N", 1e-9}, {"P", 1e-12},
                                {"F", 1e-15}, {"A", 1e-18}};

double suffix_factor(std::string_view suffix_upper, std::string_view unit_upper) {
    if (suffix_upper == unit_upper) return 1.0;
    if (unit_upper == "HZ" && suffix_upper == "MHZ") return 1e6;
    if (unit_upper == "OHM" && suffix_upper == "MOHM") return 1e6;
    if (suffix_upper.size() > unit_upper.size() &&
        suffix_upper.substr(suffix_upper.size() - unit_upper.size()) == unit_upper) {
        const auto p = suffix_upper.substr(0, suffix_upper.size() - unit_upper.size());
        for (const auto& pre : kPrefixes)
            if (p == pre.name) return pre.factor;
    }
    return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

std::string_view standard_error_text(int code) {
    switch (code) {
        case 0: return "No error";
        case -100: return "Command error";
        case -101: return "Invalid character";
        case -102: return "Syntax error";
        case -103: return "Invalid separator";
        case -104: return "Data type error";
        case -108: return "Parameter not allowed";
        case -109: return "Missing parameter";
        case -112: return "Program mnemonic too long";
        case -113: return "Undefined header";
        case -114: return "Header suffix out of range";
        case -121: return "Invalid character in number";
        case -128: return "Numeric data not allowed";
        case -131: return "Invalid suffix";
        case -138: return "Suffix not allowed";
        case -140: return "Character data error";
        case -200: return "Execution error";
        case -220: return "Parameter error";
        case -221: return "Settings conflict";
        case -222: return "Data out of range";
        case -223: return "Too much data";
        case -224: return "Illegal parameter value";
        case -241: return "Hardware missing";
        case -300: return "Device-specific error";
        case -350: return "Queue overflow";
        case -363: return "Input buffer overrun";
        case -400: return "Query error";
        case -410: return "Query INTERRUPTED";
        case -420: return "Query UNTERMINATED";
        case -430: return "Query DEADLOCKED";
        case 803: return "Output disabled";  // Keithley 2400: a reading was requested with the output off
        default: return "Unknown error";
    }
}

ScpiFault::ScpiFault(int code, std::string detail) : code_(code), detail_(std::move(detail)) {
    what_ = std::to_string(code_) + ",\"" + std::string(standard_error_text(code_)) +
            (detail_.empty() ? "" : ";" + detail_) + "\"";
}

ErrorQueue::ErrorQueue(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 2)) {}

void ErrorQueue::push(int code, std::string_view detail) {
    std::string text(standard_error_text(code));
    if (!detail.empty()) {
        // Keep the reply parseable: no double quotes or line breaks inside the quoted text.
        std::string d;
        for (char c : detail.substr(0, 80)) d += (c == '"' || c == '\n' || c == '\r') ? '\'' : c;
        text += ";" + d;
    }
    if (entries_.size() >= capacity_) {
        entries_.back() = {scpi_code::queue_overflow, std::string(standard_error_text(scpi_code::queue_overflow))};
        return;
    }
    entries_.push_back({code, std::move(text)});
}

ScpiErrorEntry ErrorQueue::pop() {
    if (entries_.empty()) return {0, "No error"};
    auto e = std::move(entries_.front());
    entries_.pop_front();
    return e;
}

std::string ErrorQueue::format(const ScpiErrorEntry& e) {
    return (e.code > 0 ? "+" : "") + std::to_string(e.code) + ",\"" + e.text + "\"";
}

void StatusRegisters::record_error(int code) {
    if (code <= -100 && code > -200) esr |= cme;
    else if (code <= -200 && code > -300) esr |= exe;
    else if (code <= -400 && code > -500) esr |= qye;
    else if (code != 0) esr |= dde;
}

std::uint8_t StatusRegisters::status_byte(bool error_queue_not_empty, bool message_available) const {
    std::uint8_t stb = 0;
    if (error_queue_not_empty) stb |= 0x04;
    if (message_available) stb |= 0x10;
    if ((esr & ese) != 0) stb |= 0x20;
    if ((stb & sre & 0xBF) != 0) stb |= 0x40;
    return stb;
}

double parse_number_with_unit(std::string_view text, std::string_view unit) {
    const auto t = trim(text);
    if (t.empty()) throw ScpiFault(scpi_code::missing_parameter);
    const std::string s(t);
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str()) throw ScpiFault(scpi_code::data_type_error, s);
    // strtod accepts "inf"/"nan" and hex; SCPI numbers do not.
    for (const char* p = s.c_str(); p < end; ++p) {
        const char c = *p;
        if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-' || c == 'e' ||
              c == 'E'))
            throw ScpiFault(scpi_code::invalid_character_in_number, s);
    }
    if (errno == ERANGE || !std::isfinite(v)) throw ScpiFault(scpi_code::data_out_of_range, s);
    const auto rest = trim(std::string_view(end));
    if (rest.empty()) return v;
    for (char c : rest)
        if (!std::isalpha(static_cast<unsigned char>(c)))
            throw ScpiFault(scpi_code::invalid_character_in_number, s);
    if (unit.empty()) throw ScpiFault(scpi_code::suffix_not_allowed, s);
    const double f = suffix_factor(to_upper(rest), to_upper(unit));
    if (std::isnan(f)) throw ScpiFault(scpi_code::invalid_suffix, s);
    return v * f;
}

double parse_numeric(std::string_view text, const NumericSpec& spec) {
    const auto t = trim(text);
    if (t.empty()) throw ScpiFault(scpi_code::missing_parameter);
    if (keyword_matches("MINimum", t)) return spec.min;
    if (keyword_matches("MAXimum", t)) return spec.max;
    if (keyword_matches("DEFault", t)) return spec.def;
    if (keyword_matches("INFinity", t)) {
        if (!spec.allow_inf) throw ScpiFault(scpi_code::illegal_parameter_value, std::string(t));
        return std::numeric_limits<double>::infinity();
    }
    if (std::isalpha(static_cast<unsigned char>(t.front())))
        throw ScpiFault(scpi_code::data_type_error, std::string(t));
    const double v = parse_number_with_unit(t, spec.unit);
    // Allow a relative rounding slack so that values printed with limited digits read back in range.
    // A relative slack of 1e-9 on each bound lets values printed with limited digits read back in range.
    if (v < spec.min - 1e-9 * std::abs(spec.min) || v > spec.max + 1e-9 * std::abs(spec.max))
        throw ScpiFault(scpi_code::data_out_of_range, std::string(t));
    return std::clamp(v, spec.min, spec.max);
}

bool keyword_matches(std::string_view keyword, std::string_view token) {
    std::string shortf;
    for (char c : keyword) {
        if (std::islower(static_cast<unsigned char>(c))) break;
        shortf += c;
    }
    const std::string tok = to_upper(trim(token));
    return tok == shortf || tok == to_upper(keyword);
}

std::vector<std::string> split_message_units(std::string_view message) {
    return split_outside(message, ';', [](std::string_view u) { return std::string(trim(u)); });
}

std::vector<std::string> split_parameters(std::string_view params) {
    if (trim(params).empty()) return {};
    return split_outside(params, ',', [](std::string_view p) { return std::string(trim(p)); });
}

void ScpiCall::expect_args(std::size_t min, std::size_t max) const {
    if (args.size() < min) throw ScpiFault(scpi_code::missing_parameter, header);
    if (args.size() > max) throw ScpiFault(scpi_code::parameter_not_allowed, header);
    for (const auto& a : args)
        if (a.empty()) throw ScpiFault(scpi_code::syntax_error, header + ": empty parameter");
}

double ScpiCall::number(std::size_t i, const NumericSpec& spec) const {
    if (i >= args.size()) throw ScpiFault(scpi_code::missing_parameter, header);
    return parse_numeric(args[i], spec);
}

long ScpiCall::integer(std::size_t i, long min, long max) const {
    const double v = number(i, NumericSpec{"", static_cast<double>(min), static_cast<double>(max),
                                           static_cast<double>(min), false});
    return std::lround(v);
}

bool ScpiCall::boolean(std::size_t i) const {
    if (i >= args.size()) throw ScpiFault(scpi_code::missing_parameter, header);
    const auto& a = args[i];
    if (keyword_matches("ON", a)) return true;
    if (keyword_matches("OFF", a)) return false;
    if (!a.empty() && (std::isdigit(static_cast<unsigned char>(a.front())) || a.front() == '-' ||
                       a.front() == '+' || a.front() == '.')) {
        const double v = parse_number_with_unit(a, "");
        return std::lround(v) != 0;
    }
    throw ScpiFault(scpi_code::illegal_parameter_value, header + " " + a);
}

std::size_t ScpiCall::choice(std::size_t i, const std::vector<std::string_view>& keywords) const {
    if (i >= args.size()) throw ScpiFault(scpi_code::missing_parameter, header);
    for (std::size_t k = 0; k < keywords.size(); ++k)
        if (keyword_matches(keywords[k], args[i])) return k;
    throw ScpiFault(scpi_code::illegal_parameter_value, header + " " + args[i]);
}

int ScpiCall::suffix(std::size_t node, int max) const {
    const int s = node < suffixes.size() ? suffixes[node] : 1;
    if (s < 1 || s > max) throw ScpiFault(scpi_code::header_suffix_out_of_range, header);
    return s;
}

int ScpiCall::query_limit() const {
    if (args.empty()) return 0;
    if (args.size() > 1) throw ScpiFault(scpi_code::parameter_not_allowed, header);
    if (keyword_matches("MINimum", args[0])) return 1;
    if (keyword_matches("MAXimum", args[0])) return 2;
    if (keyword_matches("DEFault", args[0])) return 3;
    throw ScpiFault(scpi_code::illegal_parameter_value, header + " " + args[0]);
}

void ScpiCommandSet::add(std::string_view pattern, ScpiHandler set, ScpiHandler query) {
    Entry e;
    std::size_t start = 0;
    while (start <= pattern.size()) {
        auto end = pattern.find(':', start);
        if (end == std::string_view::npos) end = pattern.size();
        auto part = pattern.substr(start, end - start);
        if (!part.empty()) {
            Node n;
            if (part.front() == '[' && part.back() == ']') {
                n.optional = true;
                part = part.substr(1, part.size() - 2);
            }
            if (!part.empty() && part.back() == '#') {
                n.suffix = true;
                part.remove_suffix(1);
            }
            n.keyword = std::string(part);
            e.nodes.push_back(std::move(n));
        }
        start = end + 1;
    }
    e.set = std::move(set);
    e.query = std::move(query);
    entries_.push_back(std::move(e));
}

bool ScpiCommandSet::match_from(const Entry& e, const std::vector<Token>& tokens, std::size_t ti, std::size_t ni,
                                std::vector<int>& suffixes) const {
    if (ni == e.nodes.size()) return ti == tokens.size();
    const Node& n = e.nodes[ni];
    if (ti < tokens.size()) {
        const Token& t = tokens[ti];
        const bool suffix_ok = t.suffix == 0 || n.suffix;
        if (suffix_ok && keyword_matches(n.keyword, t.name)) {
            suffixes[ni] = t.suffix == 0 ? 1 : t.suffix;
            if (match_from(e, tokens, ti + 1, ni + 1, suffixes)) return true;
        }
    }
    if (n.optional) {
        suffixes[ni] = 1;
        return match_from(e, tokens, ti, ni + 1, suffixes);
    }
    return false;
}

bool ScpiCommandSet::match(const Entry& e, const std::vector<Token>& tokens, std::vector<int>& suffixes) const {
    suffixes.assign(e.nodes.size(), 1);
    return match_from(e, tokens, 0, 0, suffixes);
}

std::optional<std::string> ScpiCommandSet::execute(std::string_view message, ErrorQueue& errors,
                                                   StatusRegisters& status) {
    std::vector<std::string> replies;
    auto fail = [&](int code, std::string_view detail) {
        errors.push(code, detail);
        status.record_error(code);
    };
    std::vector<std::string> units;
    try {
        units = split_message_units(message);
    } catch (const ScpiFault& f) {
        fail(f.code(), f.detail());
        return std::nullopt;
    }
    std::vector<Token> path;  // current path for relative headers (IEEE 488.2 A.1.1)
    for (const auto& unit : units) {
        if (unit.empty()) continue;
        // Header: up to the first blank.
        std::size_t hend = 0;
        while (hend < unit.size() && !is_blank(unit[hend])) ++hend;
        std::string header = unit.substr(0, hend);
        const std::string_view params = hend < unit.size() ? std::string_view(unit).substr(hend) : std::string_view{};
        try {
            if (header.size() > max_header_length) throw ScpiFault(scpi_code::header_too_long, header.substr(0, 40));
            ScpiCall call;
            call.header = header;
            std::string h = header;
            if (!h.empty() && h.back() == '?') {
                call.query = true;
                h.pop_back();
            }
            if (h.empty()) throw ScpiFault(scpi_code::syntax_error, header);
            const bool common = h.front() == '*';
            const bool absolute = h.front() == ':';
            if (absolute) h.erase(0, 1);
            std::vector<Token> tokens;
            std::size_t s = 0;
            while (true) {
                auto e = h.find(':', s);
                const std::string part = h.substr(s, e == std::string::npos ? std::string::npos : e - s);
                if (part.empty()) throw ScpiFault(scpi_code::syntax_error, header);
                Token t;
                t.raw = part;
                std::size_t k = 0;
                if (common) {
                    if (part.front() != '*' || tokens.size() > 0) throw ScpiFault(scpi_code::syntax_error, header);
                    k = 1;
                }
                for (; k < part.size(); ++k) {
                    const char c = part[k];
                    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
                        throw ScpiFault(scpi_code::invalid_character, header);
                }
                // Numeric suffix: trailing digits after at least one letter.
                std::size_t d = part.size();
                while (d > 1 && std::isdigit(static_cast<unsigned char>(part[d - 1]))) --d;
                if (!std::isalpha(static_cast<unsigned char>(part[common ? 1 : 0])))
                    throw ScpiFault(scpi_code::syntax_error, header);
                t.name = to_upper(part.substr(0, d));
                if (d < part.size()) {
                    const auto digits = part.substr(d);
                    if (digits.size() > 6) throw ScpiFault(scpi_code::header_suffix_out_of_range, header);
                    t.suffix = std::stoi(digits);
                    if (t.suffix == 0) throw ScpiFault(scpi_code::header_suffix_out_of_range, header);
                }
                tokens.push_back(std::move(t));
                if (e == std::string::npos) break;
                s = e + 1;
            }
            std::vector<Token> full;
            if (!common && !absolute) full = path;
            full.insert(full.end(), tokens.begin(), tokens.end());
            const Entry* found = nullptr;
            std::vector<int> suffixes;
            for (const auto& entry : entries_) {
                if (match(entry, full, suffixes)) {
                    found = &entry;
                    break;
                }
            }
            if (!common) path.assign(full.begin(), full.end() - 1);
            if (found == nullptr) throw ScpiFault(scpi_code::undefined_header, header);
            const ScpiHandler& handler = call.query ? found->query : found->set;
            if (!handler) throw ScpiFault(scpi_code::undefined_header, header);
            call.suffixes = std::move(suffixes);
            call.args = split_parameters(params);
            auto reply = handler(call);
            if (call.query) replies.push_back(std::move(reply));
        } catch (const ScpiFault& f) {
            fail(f.code(), f.detail());
            // A command error leaves the parser unsure of the rest of the message: discard it.
            if (f.code() <= -100 && f.code() > -200) break;
        }
    }
    if (replies.empty()) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < replies.size(); ++i) {
        if (i) out += ';';
        out += replies[i];
    }
    return out;
}

}  // namespace mtjlab::devices_sim
