#pragma once
// Strict TOML access for recipes: every error names the file, line, column and the full key; keys a
// recipe does not know are rejected (a typo must not silently fall back to a default).
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace mtjlab::recipes::detail {

/// Parses `text` (from `file`, for messages). InputError "file:line:col: <what>" on syntax errors.
toml::table parse_toml(std::string_view text, const std::string& file);

class TomlTable {
public:
    TomlTable(const toml::table& table, std::string file, std::string prefix = {});

    [[nodiscard]] bool has(std::string_view key) const;
    [[nodiscard]] double number(std::string_view key);
    [[nodiscard]] double number_or(std::string_view key, double fallback);
    [[nodiscard]] std::optional<double> opt_number(std::string_view key);
    [[nodiscard]] long long integer(std::string_view key);
    [[nodiscard]] long long integer_or(std::string_view key, long long fallback);
    [[nodiscard]] std::string string(std::string_view key);
    [[nodiscard]] std::string string_or(std::string_view key, std::string fallback);
    [[nodiscard]] bool boolean_or(std::string_view key, bool fallback);
    [[nodiscard]] std::vector<double> numbers(std::string_view key);
    [[nodiscard]] std::vector<long long> integers(std::string_view key);
    [[nodiscard]] std::vector<std::string> strings(std::string_view key);
    [[nodiscard]] TomlTable table(std::string_view key);
    [[nodiscard]] std::optional<TomlTable> opt_table(std::string_view key);
    [[nodiscard]] std::vector<TomlTable> tables(std::string_view key);  ///< array of tables

    /// InputError "file:line:col: key 'prefix.key': message" (position of the key's value, or the table).
    [[noreturn]] void fail(std::string_view key, std::string_view message) const;
    /// Rejects every key of this table that was not read.
    void finish() const;
    /// Where this table starts, "file:line:col".
    [[nodiscard]] std::string where() const;
    [[nodiscard]] const std::string& file() const { return file_; }
    [[nodiscard]] const toml::table& raw() const { return *table_; }

private:
    const toml::node* node(std::string_view key);
    [[nodiscard]] std::string full_key(std::string_view key) const;
    const toml::table* table_;
    std::string file_;
    std::string prefix_;
    std::set<std::string, std::less<>> used_;
};

}  // namespace mtjlab::recipes::detail
