#pragma once
// A figure extracted from data: a value (SI) with an optional 1-sigma uncertainty, or no value and a
// reason. Never a made-up number: when the data do not determine a figure it stays empty.
#include <optional>
#include <string>
#include <utility>

namespace mtjlab::analysis {

struct Extracted {
    std::optional<double> value;
    std::optional<double> error;  ///< 1-sigma uncertainty when the method provides one
    std::string reason;           ///< why value is empty ("" when it is set)

    [[nodiscard]] bool ok() const { return value.has_value(); }
    [[nodiscard]] double operator*() const { return *value; }
    static Extracted of(double v) { return Extracted{v, std::nullopt, {}}; }
    static Extracted of(double v, double err) { return Extracted{v, err, {}}; }
    static Extracted none(std::string why) { return Extracted{std::nullopt, std::nullopt, std::move(why)}; }
};

}  // namespace mtjlab::analysis
