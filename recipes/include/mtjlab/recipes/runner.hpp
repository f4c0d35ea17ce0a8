#pragma once
// A recipe file (or text) from disk to run files, as one library call on top of acquisition/runner.hpp.
//
//   Station st = acquisition::load_station("station.toml");
//   PreparedRecipe p = recipes::prepare(recipes::load("rh_minor.toml"), st);   // expand + preflight
//   std::cout << recipes::dry_run_report(p, st);                               // what --dry-run prints
//   acquisition::RunSummary s = recipes::run(p, st, options);                   // LimitError if refused
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mtjlab/acquisition/preflight.hpp"
#include "mtjlab/acquisition/runner.hpp"
#include "mtjlab/recipes/recipe.hpp"

namespace mtjlab::recipes {

/// A recipe expanded into jobs for a station and checked against its limits.
struct PreparedRecipe {
    std::string source;                       ///< recipe file name (messages)
    std::vector<Job> jobs;
    std::optional<Campaign> campaign;         ///< set for a campaign recipe (wafer map, selection)
    std::size_t total_points = 0;
    Second estimated_duration{0.0};           ///< on a real bench
    std::size_t refused = 0;                  ///< jobs whose plan exceeds the limits
    /// One preflight report per distinct run name (the refused one when any job of that run is refused).
    std::map<std::string, acquisition::PreflightReport> reports;
    [[nodiscard]] bool ok() const { return refused == 0; }
    [[nodiscard]] bool is_campaign() const { return campaign.has_value(); }
};

/// Expands the recipe with the station calibration and preflights every job (does not throw on a
/// refused plan: see `refused`/`reports`). A single-run recipe gets `device` as its device identity and
/// a file-safe job name.
PreparedRecipe prepare(const Recipe& recipe, const acquisition::Station& station,
                       const acquisition::DeviceRef& device = {});

/// The dry-run text: the recipe, one preflight summary per run, the campaign totals, and the verdict
/// line ("dry run: OK (nothing was sent to any instrument)" or "dry run: REFUSED (...)").
std::string dry_run_report(const PreparedRecipe& prepared, const acquisition::Station& station);

/// Runs a prepared recipe (acquisition::run_session). Throws LimitError naming the first offending step
/// when preflight refused a plan, before anything is opened. For a campaign the manifest name/text come
/// from the recipe (options.campaign_* are overwritten).
acquisition::RunSummary run(const PreparedRecipe& prepared, const acquisition::Station& station,
                            acquisition::SessionOptions options);

/// load/parse + prepare + run in one call.
acquisition::RunSummary run_file(const std::filesystem::path& recipe_file, const acquisition::Station& station,
                                 const acquisition::SessionOptions& options, const acquisition::DeviceRef& device = {});
acquisition::RunSummary run_text(std::string_view recipe_text, const std::string& source,
                                 const acquisition::Station& station, const acquisition::SessionOptions& options,
                                 const acquisition::DeviceRef& device = {});

}  // namespace mtjlab::recipes
