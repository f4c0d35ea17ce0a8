#pragma once
// Server-side SCPI / IEEE 488.2 parsing for the virtual instruments: message units split on ';' (not inside
// quoted strings or blocks), colon trees with relative paths after ';', short/long keyword forms, optional
// nodes, numeric suffixes, numbers with units and SI prefixes, MIN/MAX/DEF, the SCPI error queue and the
// 488.2 status registers. No I/O: a command set turns one program message into an optional reply.
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mtjlab::devices_sim {

/// Standard SCPI error codes used by the virtual instruments (SCPI-99 volume 2, chapter 21).
namespace scpi_code {
inline constexpr int no_error = 0;
inline constexpr int command_error = -100;
inline constexpr int invalid_character = -101;
inline constexpr int syntax_error = -102;
inline constexpr int invalid_separator = -103;
inline constexpr int data_type_error = -104;
inline constexpr int parameter_not_allowed = -108;
inline constexpr int missing_parameter = -109;
inline constexpr int header_too_long = -112;
inline constexpr int undefined_header = -113;
inline constexpr int header_suffix_out_of_range = -114;
inline constexpr int invalid_character_in_number = -121;
inline constexpr int numeric_data_not_allowed = -128;
inline constexpr int invalid_suffix = -131;
inline constexpr int suffix_not_allowed = -138;
inline constexpr int character_data_error = -140;
inline constexpr int illegal_parameter_value = -224;
inline constexpr int execution_error = -200;
inline constexpr int settings_conflict = -221;
inline constexpr int parameter_error = -220;
inline constexpr int data_out_of_range = -222;
inline constexpr int too_much_data = -223;
inline constexpr int hardware_missing = -241;
inline constexpr int device_specific_error = -300;
inline constexpr int queue_overflow = -350;
inline constexpr int input_buffer_overrun = -363;
inline constexpr int query_error = -400;
inline constexpr int query_interrupted = -410;
inline constexpr int query_unterminated = -420;
inline constexpr int query_deadlocked = -430;
}  // namespace scpi_code

/// The standard text of an SCPI error code ("Undefined header" for -113); "Unknown error" for others.
std::string_view standard_error_text(int code);

/// Thrown by a command handler to report an SCPI error; the command set catches it and queues it.
class ScpiFault : public std::exception {
public:
    explicit ScpiFault(int code, std::string detail = {});
    [[nodiscard]] int code() const { return code_; }
    [[nodiscard]] const std::string& detail() const { return detail_; }
    [[nodiscard]] const char* what() const noexcept override { return what_.c_str(); }

private:
    int code_;
    std::string detail_;
    std::string what_;
};

/// One entry of the error queue.
struct ScpiErrorEntry {
    int code = 0;
    std::string text;  ///< standard text, optionally followed by ";<detail>"
};

/// The SCPI error/event queue: FIFO, bounded; on overflow the newest entry is replaced by -350
/// "Queue overflow" (SCPI-99 21.8). `SYST:ERR?` pops; empty gives 0,"No error".
class ErrorQueue {
public:
    explicit ErrorQueue(std::size_t capacity = 20);
    /// Queues `code` with its standard text and an optional detail (the offending header or value).
    void push(int code, std::string_view detail = {});
    /// Oldest entry, removed; {0, "No error"} when empty.
    ScpiErrorEntry pop();
    [[nodiscard]] std::size_t size() const { return entries_.size(); }
    [[nodiscard]] bool empty() const { return entries_.empty(); }
    [[nodiscard]] std::size_t capacity() const { return capacity_; }
    void clear() { entries_.clear(); }
    /// The reply form of an entry: `-113,"Undefined header"`.
    static std::string format(const ScpiErrorEntry& e);

private:
    std::size_t capacity_;
    std::deque<ScpiErrorEntry> entries_;
};

/// IEEE 488.2 status registers (standard event status register and enables).
struct StatusRegisters {
    // Standard event status register bits.
    static constexpr std::uint8_t opc = 0x01;  ///< operation complete
    static constexpr std::uint8_t qye = 0x04;  ///< query error (-4xx)
    static constexpr std::uint8_t dde = 0x08;  ///< device-dependent error (-3xx, +codes)
    static constexpr std::uint8_t exe = 0x10;  ///< execution error (-2xx)
    static constexpr std::uint8_t cme = 0x20;  ///< command error (-1xx)
    static constexpr std::uint8_t pon = 0x80;  ///< power on
    std::uint8_t esr = pon;
    std::uint8_t ese = 0;
    std::uint8_t sre = 0;
    /// Sets the ESR bit that matches an error code's class.
    void record_error(int code);
    /// The status byte: bit 2 error queue not empty, bit 5 ESB, bit 6 MSS.
    [[nodiscard]] std::uint8_t status_byte(bool error_queue_not_empty, bool message_available) const;
};

/// What a numeric parameter accepts. `unit` is the SCPI base unit ("S", "V", "HZ", "A", "OHM", "T", "VPP"...)
/// or empty for unit-less values; SI prefixes (N, U, M, K, MA, ...) are accepted before the unit.
struct NumericSpec {
    std::string_view unit;
    double min = 0.0;
    double max = 0.0;
    double def = 0.0;
    bool allow_inf = false;  ///< INFinity accepted (loads, burst counts)
};

/// Parses one numeric parameter (`200 NS`, `2V`, `1.5e-3`, `MIN`, `MAX`, `DEF`, `INF`) and checks the range.
/// Throws ScpiFault: -104 not a number, -131 wrong unit, -138 unit where none allowed, -222 out of range.
double parse_numeric(std::string_view text, const NumericSpec& spec);

/// Parses a number with optional unit but no range check (used by the SRS-style parser too).
/// Throws ScpiFault -104/-131/-138 like parse_numeric.
double parse_number_with_unit(std::string_view text, std::string_view unit);

/// True if `token` (any case) is the short or long form of `keyword` written in SCPI notation
/// ("FREQuency": short FREQ, long FREQUENCY).
bool keyword_matches(std::string_view keyword, std::string_view token);

/// Splits a program message into message units on ';' outside quoted strings and IEEE 488.2 blocks.
/// Throws ScpiFault(-102) for an unterminated string or a malformed block.
std::vector<std::string> split_message_units(std::string_view message);

/// Splits a parameter list on ',' outside quotes and blocks, trimming blanks around each parameter.
std::vector<std::string> split_parameters(std::string_view params);

/// One parsed call of a command or query handed to its handler.
class ScpiCall {
public:
    bool query = false;
    std::string header;                ///< the header as received (for messages)
    std::vector<std::string> args;     ///< raw parameters, trimmed
    std::vector<int> suffixes;         ///< numeric suffix per pattern node (1 when absent)

    /// Requires between min and max parameters: -109 Missing parameter / -108 Parameter not allowed.
    void expect_args(std::size_t min, std::size_t max) const;
    /// Parameter i as a number with the spec (see parse_numeric).
    [[nodiscard]] double number(std::size_t i, const NumericSpec& spec) const;
    /// Parameter i as an integer in [min, max] (MIN/MAX accepted); -222 outside.
    [[nodiscard]] long integer(std::size_t i, long min, long max) const;
    /// Parameter i as a boolean: ON/OFF/1/0 (numbers round to 0 or 1); -224 otherwise.
    [[nodiscard]] bool boolean(std::size_t i) const;
    /// Parameter i matched against keywords in SCPI notation; returns the index; -224 if none matches.
    [[nodiscard]] std::size_t choice(std::size_t i, const std::vector<std::string_view>& keywords) const;
    /// Numeric suffix of pattern node `node`, checked to lie in [1, max]: -114 otherwise.
    [[nodiscard]] int suffix(std::size_t node, int max) const;
    /// Optional query parameter MIN/MAX/DEF (e.g. `VOLT? MAX`): 0 none, 1 MIN, 2 MAX, 3 DEF; -224 otherwise.
    [[nodiscard]] int query_limit() const;
};

/// A command handler: for a query it returns the reply text; for a command the return value is ignored.
using ScpiHandler = std::function<std::string(const ScpiCall&)>;

/// A tree of SCPI commands. Patterns are written as colon-separated nodes in manual notation, optional
/// nodes in brackets and a `#` where a numeric suffix is allowed, e.g. "[SOURce#]:FUNCtion:PULSe:WIDTh",
/// "OUTPut#:[STATe]", "*IDN". Not thread-safe: the owner serialises.
class ScpiCommandSet {
public:
    /// Adds a command; either handler may be empty (no command form / no query form: -113).
    void add(std::string_view pattern, ScpiHandler set, ScpiHandler query);

    /// Executes one program message (terminator already removed). Errors go to `errors` and `status`;
    /// a -1xx error abandons the rest of the message (IEEE 488.2 7.1.1). Returns the replies of all
    /// queries joined by ';', or nullopt when the message held no query that answered.
    std::optional<std::string> execute(std::string_view message, ErrorQueue& errors, StatusRegisters& status);

    /// Longest accepted header in characters (-112 beyond, guards against absurd input).
    static constexpr std::size_t max_header_length = 128;

private:
    struct Node {
        std::string keyword;  // manual notation, e.g. "FREQuency" or "*IDN"
        bool optional = false;
        bool suffix = false;
    };
    struct Entry {
        std::vector<Node> nodes;
        ScpiHandler set;
        ScpiHandler query;
    };
    struct Token {
        std::string name;  // upper case, suffix stripped
        int suffix = 0;    // 0 = none given
        std::string raw;
    };
    bool match(const Entry& e, const std::vector<Token>& tokens, std::vector<int>& suffixes) const;
    bool match_from(const Entry& e, const std::vector<Token>& tokens, std::size_t ti, std::size_t ni,
                    std::vector<int>& suffixes) const;
    std::vector<Entry> entries_;
};

}  // namespace mtjlab::devices_sim
