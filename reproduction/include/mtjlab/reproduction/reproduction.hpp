#pragma once
// The paper reproduction behind `mtjlab campaign` (issue 8): from a measured campaign directory to
// OUTDIR/report.html and OUTDIR/summary.json.
//
//   const Preset& p = preset("paper");                       // embedded campaign recipe + ANN settings
//   Options o = options_from(p); o.output_dir = "out/demo";
//   ... measure p.recipe_text into o.output_dir / "campaign" (acquisition runner, virtual lab or bench) ...
//   Result r = reproduce(o.output_dir / "campaign", o, provenance, progress);
//
// Stages (each timed, each usable alone): analyse() runs mtjlab::analysis on every run file and writes
// OUTDIR/analysis (CSV tables, results.h5, figures, the analysis report); evaluate_networks() trains or
// reuses the cached 784x128x10 networks (one per dataset and seed) and evaluates them on the measured
// conductance states (Fig. 5b/c) and on the parametric TMR x states grid (Fig. 5d/e); compare() puts every
// number the paper states next to ours; write_report()/summary_json() write the outputs.
// Every number in the outputs is computed from this run's data; paper values are quoted as paper values.
// Library code: never prints; progress goes through the callback.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtjlab/analysis/campaign.hpp"
#include "mtjlab/analysis/report.hpp"
#include "mtjlab/ann/dataset.hpp"
#include "mtjlab/ann/quantize.hpp"
#include "mtjlab/ann/sweep.hpp"

namespace mtjlab::reproduction {

/// A named campaign: the campaign recipe (TOML text) and the ANN settings that go with it.
struct Preset {
    std::string name;
    std::string description;
    std::string recipe_text;    ///< a `kind = "campaign"` recipe
    std::string recipe_source;  ///< the source file it was embedded from
    int seeds = 5;
    int epochs = 40;
    std::size_t train_limit = 0;   ///< 0 = every training image
    std::vector<double> tmr_grid;  ///< Fig. 5d/e TMR values (fractions)
    std::vector<int> cells_grid;   ///< Fig. 5d/e cells per device (states = cells + 1)
};

/// "paper" (the paper's campaign: 11 thicknesses x 1-3 cells x 10 devices, 5 seeds, 40 epochs, TMR 60-260 %
/// in 10 % steps x 1-6 cells) and "smoke" (2 thicknesses, 1 and 3 cells, 2 devices, 1 seed, 2 epochs, TMR 60/160/260 % x 1-3 cells). Throws InputError listing the names for an unknown one.
const Preset& preset(std::string_view name);
std::vector<std::string> preset_names();
/// recipes/station.example.toml as embedded (the virtual lab serves its instruments).
std::string_view example_station_text();

/// What the reproduction does after measuring.
struct Options {
    std::filesystem::path output_dir;
    int seeds = 5;
    int epochs = 40;
    std::size_t train_limit = 0;
    std::vector<double> tmr_grid;
    std::vector<int> cells_grid;
    /// Mappings evaluated; the first is the primary one (figures 5b-e are drawn for each).
    std::vector<ann::Mapping> mappings{ann::Mapping::mirror, ann::Mapping::differential};
    ann::ScalePolicy scale = ann::ScalePolicy::mse;
    std::filesystem::path model_cache;                 ///< trained models, reused across runs
    std::optional<std::filesystem::path> data_dir;     ///< --data-dir for both datasets
    std::vector<ann::DatasetKind> datasets{ann::DatasetKind::mnist, ann::DatasetKind::fashion};
    int threads = 0;                                   ///< 0 = hardware concurrency
    std::string gnuplot = "gnuplot";
    std::size_t max_device_loops = 6;                  ///< per-device loop figures in the analysis report
};

/// Options with the preset's seeds, epochs, training limit and grid.
Options options_from(const Preset& p);

/// The default model cache: $MTJLAB_MODEL_CACHE, else $XDG_CACHE_HOME/mtjlab/models, else
/// $HOME/.cache/mtjlab/models, else <output>/models.
std::filesystem::path default_model_cache(const std::filesystem::path& output_dir);

/// Progress lines for people (the CLI prints them on stderr).
using ProgressFn = std::function<void(const std::string&)>;

/// Where the data came from and how the run was made (goes into the report and summary.json as given).
struct Provenance {
    std::string command_line;
    std::string preset;
    std::string recipe_source;
    std::string station;       ///< station file, or "virtual lab (<file>)"
    bool virtual_lab = false;
    std::uint64_t lab_seed = 0, wafer_seed = 0;
    std::string started_utc;   ///< ISO 8601
    nlohmann::json measurement = nlohmann::json::object();  ///< what the measuring stage reports
};

struct StageTiming {
    std::string stage;
    double seconds = 0.0;
    std::string detail;
};

// ------------------------------------------------------------------------------------------- analysis
struct AnalysisStage {
    analysis::Campaign campaign;
    std::vector<analysis::PlotFile> plots;     ///< fig3e, fig3f, fig4c, fig4d, fig4g, fig4h, run loops
    std::vector<std::string> problems;         ///< non-fatal (figures not drawn, ...)
    std::filesystem::path states_csv;          ///< conductance_states.csv (contract D)
    std::size_t runs_loaded = 0, runs_analysed = 0;
};

/// Analyses every run file under `campaign_dir` into `out_dir` (CSV tables, results.h5, figures/,
/// report.html). Throws InputError when there is nothing to analyse.
AnalysisStage analyse(const std::filesystem::path& campaign_dir, const std::filesystem::path& out_dir,
                      const Options& options);

// ------------------------------------------------------------------------------------------------ ANN
struct ModelRecord {
    ann::DatasetKind dataset = ann::DatasetKind::mnist;
    int seed = 0;
    std::filesystem::path file;
    bool cached = false;            ///< reused from the cache (not trained in this run)
    double test_accuracy = 0.0;     ///< full precision, on the test split used here
    double train_seconds = 0.0;     ///< of the training run that made the model
    std::string train_source;
};

struct DatasetResult {
    ann::DatasetKind dataset = ann::DatasetKind::mnist;
    std::vector<ModelRecord> models;
    double float_mean = 0.0, float_std = 0.0;   ///< full-precision test accuracy over seeds
    std::size_t test_images = 0;
    std::vector<ann::SweepCell> measured;       ///< Fig. 5b/c: every (mapping, measured group)
    std::vector<ann::SweepCell> grid;           ///< Fig. 5d/e: every (mapping, TMR, cells)
};

struct AnnStage {
    std::vector<DatasetResult> datasets;
    std::vector<analysis::PlotFile> plots;      ///< fig5b, fig5c, fig5d, fig5e (+ per mapping, lines)
    std::vector<std::string> problems;
    double train_seconds = 0.0, evaluate_seconds = 0.0;  ///< wall time of the two parts
    [[nodiscard]] const DatasetResult* find(ann::DatasetKind k) const;
};

/// The cache key of a model: dataset, training source and every training parameter. Models are reused only
/// when the stored configuration matches (checked on load; a mismatch retrains and replaces the file).
std::string model_cache_name(ann::DatasetKind dataset, const std::string& train_source, const ann::TrainConfig& c);

/// Trains (or reuses) the models and runs the Fig. 5b/c and 5d/e evaluations, writing OUTDIR/ann/ (CSV, HDF5,
/// SVG). Throws InputError when a dataset is missing (naming where it was looked for).
AnnStage evaluate_networks(const std::filesystem::path& states_csv, const Options& options,
                           const ProgressFn& progress);

// ------------------------------------------------------------------------------------------ comparison
/// One number (or claim) of the paper next to ours.
struct Comparison {
    std::string id;          ///< stable key, e.g. "tmr_2.6nm"
    std::string section;     ///< "device" or "ann"
    std::string quantity;    ///< what is compared
    std::string where;       ///< where the paper states it (e.g. "Fig. 3f, Sec. C")
    std::string paper;       ///< the paper's value as quoted
    std::optional<double> paper_value;
    std::optional<double> ours_value;   ///< computed in this run (empty when not measurable here)
    std::string ours;        ///< ours as shown (with spread / counts)
    std::string tolerance;   ///< the tolerance we claim
    std::optional<bool> met; ///< empty when not comparable in this run (reason in `note`)
    std::string note;
    std::string mapping;     ///< ANN rows: the mapping the number comes from
};

/// A known tension in the paper and what this run gives instead.
struct Tension {
    std::string title;
    std::string paper;
    std::string ours;   ///< with numbers computed in this run
};

std::vector<Comparison> compare(const AnalysisStage& a, const AnnStage& n, const Options& options);
std::vector<Tension> tensions(const AnalysisStage& a, const AnnStage& n, const std::vector<Comparison>& rows);

// ---------------------------------------------------------------------------------------------- output
struct Result {
    AnalysisStage analysis;
    AnnStage ann;
    std::vector<Comparison> comparison;
    std::vector<Tension> tension;
    std::vector<StageTiming> timings;
    std::filesystem::path report, summary;
};

/// summary.json: provenance, timings, options, device populations, conductance table, ANN cells, the
/// comparison and tensions.
nlohmann::json summary_json(const Result& r, const Options& options, const Provenance& prov);

/// OUTDIR/report.html: self-contained (inline SVG and CSS, no scripts, no external resources).
void write_report(const Result& r, const Options& options, const Provenance& prov, const std::filesystem::path& file);

/// analyse + evaluate_networks + compare + write_report + summary.json. `timings` already spent (e.g. the
/// measurement) are carried into the outputs.
Result reproduce(const std::filesystem::path& campaign_dir, const Options& options, const Provenance& prov,
                 const ProgressFn& progress, std::vector<StageTiming> timings = {});

}  // namespace mtjlab::reproduction
