#pragma once
// Outputs of an analysis: JSON objects (CLI --json), CSV tables, the results HDF5 file, gnuplot SVG figures
// and the self-contained report.html. Raw run files are only ever read.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtjlab/analysis/campaign.hpp"

namespace mtjlab::analysis {

/// Name and version of the algorithms, written into results.h5 and the report.
inline constexpr const char* algorithm_name = "mtjlab.analysis";
inline constexpr int algorithm_version = 2;  ///< 2: group statistics over devices

/// One object per run: run, kind, thickness_nm, cells, r_p_ohm, r_ap_ohm, tmr, hc_mT, hex_mT, h_sw_plus_mT,
/// h_sw_minus_mT, levels_ohm, level_steps, vc_ap_to_p_V, vc_p_to_ap_V, breakdown_V (null when not
/// applicable) plus the further figures, field_free_switching, dead/outlier flags, `reasons` (key -> why it
/// is null), `error` and `notes`.
nlohmann::json run_json(const RunAnalysis& r);
/// One object per (thickness, cells) group: counts and {mean, std, count, outliers} per figure.
nlohmann::json group_json(const GroupSummary& g);
/// {"runs": [...], "groups": [...], "trends": [...], "conductance_states": [...], "devices": [...], "notes": [...]}
nlohmann::json campaign_json(const Campaign& c);
/// The analysis parameters (options) as JSON, as stored with the results.
nlohmann::json options_json(const AnalysisOptions& o);

/// CSV tables in `dir`: runs.csv, groups.csv, trends.csv, conductance_states.csv (contract D),
/// switching_probability.csv, levels.csv, devices.csv. Returns the files written. Throws StorageError.
std::vector<std::filesystem::path> write_csv_tables(const Campaign& c, const std::filesystem::path& dir);

/// Writes `path` (HDF5, overwritten): root attributes algorithm, algorithm_version, parameters (JSON),
/// mtjlab_version, git_hash, created; groups /runs, /groups, /trends, /conductance_states with one 1-D
/// dataset per column and `units` attributes. Throws StorageError.
void write_results_h5(const Campaign& c, const std::filesystem::path& path);

/// Text made safe for HTML element content and double-quoted attributes (& < > ").
std::string html_escape(std::string_view s);

/// A figure produced for the report.
struct PlotFile {
    std::string id;       ///< e.g. "fig3f"
    std::string title;
    std::string caption;
    std::filesystem::path svg;
};

struct PlotOptions {
    std::string gnuplot = "gnuplot";   ///< executable
    std::size_t max_device_loops = 24; ///< per-device loop figures drawn (first N runs)
};

/// Draws the figures with gnuplot into `dir` (one gnuplot process). If gnuplot is missing or fails,
/// returns what was drawn and appends the reason to `problems`. Never throws for plotting failures.
std::vector<PlotFile> render_plots(const Campaign& c, const std::filesystem::path& dir, const PlotOptions& opt,
                                   std::vector<std::string>& problems);

/// Writes the self-contained report (SVGs inlined, tables, captions, no external resources).
void write_report_html(const Campaign& c, const std::vector<PlotFile>& plots,
                       const std::vector<std::string>& problems, const std::filesystem::path& path);

/// What write_outputs produced.
struct OutputSummary {
    std::vector<std::filesystem::path> files;
    std::vector<std::string> problems;  ///< non-fatal (e.g. gnuplot missing)
};

/// All outputs into `dir` (created): CSV tables, results.h5, figures/ and report.html.
OutputSummary write_outputs(const Campaign& c, const std::filesystem::path& dir, const PlotOptions& opt = {});

}  // namespace mtjlab::analysis
