#pragma once
// Measurement recipes: TOML files that expand into acquisition plans (docs/acquisition.md).
//
//   auto r = recipes::load("rh_minor.toml");                 // RunRecipe or Campaign
//   acquisition::Plan plan = recipes::expand(std::get<RunRecipe>(r), station_calibration);
//
// Recipe files are strict: unknown keys, wrong types and impossible values are InputError naming the
// file, line, column and key. Units are in the key names (start_mT, width_ns, delay_s, amplitude_V).
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "mtjlab/acquisition/plan.hpp"
#include "mtjlab/core/units.hpp"

namespace mtjlab::recipes {

/// Lock-in settings of the reads; unset values come from the station calibration.
struct ReadSettings {
    unsigned averages = 1;
    std::optional<Volt> amplitude;
    std::optional<Hertz> frequency;
    std::optional<Second> time_constant;
};

/// R(H) loop: fields in sweep order (already expanded: start -> stop [-> start] x cycles).
struct RhLoop {
    std::string loop = "minor";  ///< "minor" (default +-20 mT) or "major" (default +-300 mT)
    std::vector<Tesla> fields;
    Second settle{0.05};         ///< wait after each field step before reading
    ReadSettings read;
};

/// R(V) pulse train (also field_free_rv with assist 0): pulse amplitudes in order (signed).
struct RvPulseTrain {
    std::vector<Volt> amplitudes;
    Second width{200e-9};
    Second delay{1.5};                 ///< between the pulse and the read
    Tesla assist{6e-3};                ///< magnitude (follows the pulse polarity) or signed (fixed)
    bool assist_follows_polarity = true;
    /// Stop the run when a read shows a broken junction (short/open vs the first reading); default on.
    std::optional<acquisition::BreakdownRule> stop_on_breakdown = acquisition::BreakdownRule{};
    ReadSettings read;
};

/// Switching probability: `repeats` trials per amplitude, each: reset pulse, read, pulse, read.
struct SwitchingProbability {
    std::vector<Volt> amplitudes;
    unsigned repeats = 10;
    Second width{200e-9};
    Second delay{1.5};
    Tesla assist{6e-3};                ///< during the write pulse; sign follows the pulse polarity
    bool assist_follows_polarity = true;
    Volt reset_amplitude{2.0};         ///< magnitude; the reset pulse has the opposite polarity
    Tesla reset_field{8e-3};           ///< magnitude; opposite sign to the write assist
    double switch_threshold = 0.05;    ///< |R_after - R_before| / R_before counted as a switch
    ReadSettings read;
};

/// Breakdown ramp: pulses of rising amplitude until the read-back shows a broken junction.
struct BreakdownRamp {
    std::vector<Volt> amplitudes;
    Second width{200e-9};
    Second delay{0.1};
    Tesla assist{0.0};
    acquisition::BreakdownRule rule;
    ReadSettings read;
};

using RunParameters = std::variant<RhLoop, RvPulseTrain, SwitchingProbability, BreakdownRamp>;

/// One single-run recipe.
struct RunRecipe {
    std::string kind;          ///< rh_loop, rv_pulse_train, field_free_rv, switching_probability, breakdown_ramp
    std::string name;
    std::string description;
    std::string file;          ///< where it was read from (messages)
    std::string text;          ///< the TOML text as read (provenance)
    RunParameters params;
    /// Resolved parameters as JSON text (SI units), for the run file.
    [[nodiscard]] std::string parameters_json() const;
};

/// The wafer map a campaign walks: dies along the thickness wedge, devices per die with their cell
/// counts cycling through `cell_pattern` (the same layout as the virtual lab's wafer).
struct WaferMap {
    std::string id = "W1";
    double t_min_nm = 1.6;
    double t_max_nm = 2.6;
    int dies = 11;
    int devices_per_die = 33;
    std::vector<int> cell_pattern{1, 2, 3};
    [[nodiscard]] double die_thickness_nm(int die) const;
    [[nodiscard]] int cells_of(int device) const;
};

/// Which devices a campaign run applies to.
enum class DeviceSet { measured, sacrificial };

/// One recipe of a campaign, applied to every selected device of `cells` (empty: all selected cells).
struct CampaignRun {
    RunRecipe recipe;
    DeviceSet devices = DeviceSet::measured;
    std::vector<int> cells;
    std::vector<double> thicknesses_nm;  ///< `thickness_nm` of the run table: only these dies (empty: all)
};

/// A campaign: selection on the wafer map and the runs to do on each device.
struct Campaign {
    std::string name;
    std::string description;
    std::string file;
    std::string text;
    WaferMap wafer;
    std::vector<double> thicknesses_nm;  ///< selected thicknesses (die thickness within 0.005 nm)
    std::vector<int> cells{1, 2, 3};     ///< selected cell counts
    int devices_per_group = 10;          ///< measured devices per (thickness, cells)
    std::vector<int> sacrificial_cells{1};  ///< one sacrificial device per thickness for each of these
    std::vector<CampaignRun> runs;
};

/// One run of an expanded campaign (or the single job of a run recipe).
using Job = acquisition::Job;

using Recipe = std::variant<RunRecipe, Campaign>;

/// At most this many points in the plan of one run (a run recipe, or one [[run]] of a campaign). A recipe
/// asking for more (an R(H) loop of 200,000 fields x 1000 cycles, 100,000 repeats of 1000 amplitudes) is
/// refused when it is parsed, before anything is allocated for it: such a plan needed gigabytes of memory
/// (found by tests/fuzz/fuzz_recipe_toml: a 7-line recipe made `mtjlab run` allocate more than 2 GiB).
/// 10^6 points at 50 ms each are 14 h of measurement; a longer measurement is several runs.
inline constexpr std::size_t max_run_points = 1'000'000;
/// At most this many points in all the jobs of a campaign (each job holds its own copy of its run's plan).
/// The paper campaign has about 2 x 10^5.
inline constexpr std::size_t max_campaign_points = 5'000'000;

/// Reads and parses a recipe file (InputError when unreadable or invalid).
Recipe load(const std::filesystem::path& path);
/// Parses recipe text; `file` is only used in messages.
Recipe parse(std::string_view text, const std::string& file);

/// The plan of a run recipe with this calibration (field -> coil current, read defaults).
acquisition::Plan expand(const RunRecipe& recipe, const acquisition::BenchCalibration& cal);
/// The single job of a run recipe (named after the recipe, device unknown).
Job make_job(const RunRecipe& recipe, const acquisition::BenchCalibration& cal);
/// Every job of a campaign in execution order (device by device, the campaign's runs in order).
/// InputError when the wafer map has too few devices for the selection, or when the jobs would hold more
/// than max_campaign_points points in all.
std::vector<Job> expand(const Campaign& campaign, const acquisition::BenchCalibration& cal);

}  // namespace mtjlab::recipes
