#pragma once
// Pieces shared by the recipe implementations: reads, amplitude sequences, branch/direction.
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtjlab/acquisition/plan.hpp"
#include "mtjlab/recipes/recipe.hpp"
#include "toml_reader.hpp"

namespace mtjlab::recipes::detail {

/// [read] table: averages, amplitude_V, frequency_Hz, time_constant_s (all optional).
ReadSettings parse_read(TomlTable& top);
acquisition::Read make_read(const ReadSettings& r, const acquisition::BenchCalibration& cal,
                            acquisition::ReadRole role = acquisition::ReadRole::main);
nlohmann::json to_json(const ReadSettings& r);

/// Signed pulse amplitudes: either `amplitudes_V = [...]`, or min_V/max_V/step_V with
/// `polarities` (default `default_polarities`) and `return_sweep` (magnitude back down to min_V).
std::vector<Volt> parse_amplitudes(TomlTable& t, std::vector<std::string> default_polarities,
                                   bool default_return);

/// `stop_on_breakdown` (default true), `short_fraction`, `open_factor`: the rule that stops a pulse run
/// when the read-back shows a broken junction (nullopt when switched off).
std::optional<acquisition::BreakdownRule> parse_breakdown_rule(TomlTable& t, bool allow_off);

/// A positive duration from `<key>_ns` or `<key>_s` (exactly one of them may be given).
Second parse_duration(TomlTable& t, const std::string& key, Second fallback);

/// The write-pulse width: `width_ns` or `width_s` (default 200 ns, the paper's), must be positive.
Second parse_pulse_width(TomlTable& t);

/// The amplitudes in volts (for branches and the recipe's JSON echo).
std::vector<double> volts(const std::vector<Volt>& amplitudes);

/// (branch, direction) for each value of a sequence: direction is the sign of the change to the next
/// value (the previous one at the end), a new branch starts when the direction changes or, with
/// `split_on_sign`, when the sign of the value changes.
std::vector<std::pair<int, int>> branches(const std::vector<double>& values, bool split_on_sign);

acquisition::SetField set_field(Tesla field, const acquisition::BenchCalibration& cal);

/// Per-kind parsers and expanders (one file each).
RhLoop parse_rh_loop(TomlTable& t);
acquisition::Plan expand_rh_loop(const RhLoop& p, const acquisition::BenchCalibration& cal);
nlohmann::json to_json(const RhLoop& p);

RvPulseTrain parse_rv_pulse_train(TomlTable& t);
RvPulseTrain parse_field_free_rv(TomlTable& t);
acquisition::Plan expand_rv_pulse_train(const RvPulseTrain& p, const acquisition::BenchCalibration& cal);
/// One point per amplitude: set the assist field, the write pulse, wait the delay, read (the R(V) loop, the
/// field-free R(V) and the breakdown ramp differ only in `kind`, the assist rule and the stop rule).
acquisition::Plan expand_pulse_train(const RvPulseTrain& p, const acquisition::BenchCalibration& cal,
                                     std::string kind);
nlohmann::json to_json(const RvPulseTrain& p);

SwitchingProbability parse_switching_probability(TomlTable& t);
acquisition::Plan expand_switching_probability(const SwitchingProbability& p, const acquisition::BenchCalibration& cal);
nlohmann::json to_json(const SwitchingProbability& p);

BreakdownRamp parse_breakdown_ramp(TomlTable& t);
acquisition::Plan expand_breakdown_ramp(const BreakdownRamp& p, const acquisition::BenchCalibration& cal);
nlohmann::json to_json(const BreakdownRamp& p);

/// Parses the body of a run recipe (kind already known) from table `t` (top level or a campaign run).
RunRecipe parse_run_body(TomlTable& t, std::string kind);

Campaign parse_campaign(TomlTable& t);

}  // namespace mtjlab::recipes::detail
