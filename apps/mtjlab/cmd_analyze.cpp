// mtjlab analyze INPUT... -o OUTDIR [--json]: device figures, populations, conductance states, figures and
// report.html from run files, campaign directories and CSV files. Exit code 2 only when nothing could be
// analysed; per-run problems are one line each on stderr and null figures with reasons in the JSON.
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "mtjlab/analysis/campaign.hpp"
#include "mtjlab/analysis/io.hpp"
#include "mtjlab/analysis/report.hpp"
#include "mtjlab/core/error.hpp"

namespace mtjlab::cli {
namespace {

struct AnalyzeArgs {
    std::vector<std::string> inputs;
    std::string outdir;
    bool json = false;
    std::size_t max_loops = 24;
    std::string gnuplot = "gnuplot";
};

std::string short_value(const analysis::Extracted& e, double scale, const char* unit) {
    if (!e.ok()) return "-";
    return fmt::format("{:.4g}{}", *e.value * scale, unit);
}

void run_analyze(const AnalyzeArgs& a) {
    namespace an = mtjlab::analysis;
    std::vector<std::filesystem::path> in(a.inputs.begin(), a.inputs.end());
    const auto paths = an::collect_inputs(in, a.outdir);
    if (paths.empty()) throw InputError("analyze: no run files or CSV files found in the given inputs");
    auto campaign = an::analyze_campaign(an::load_runs(paths));
    an::PlotOptions po;
    po.max_device_loops = a.max_loops;
    po.gnuplot = a.gnuplot;
    const auto out = an::write_outputs(campaign, a.outdir, po);

    std::size_t ok = 0;
    for (const auto& r : campaign.runs) {
        if (r.error.empty()) ++ok;
        else std::cerr << "mtjlab analyze: " << r.error << "\n";
        for (const auto& n : r.run.load_notes) std::cerr << "mtjlab analyze: note: " << r.run.source << ": " << n << '\n';
    }
    for (const auto& p : out.problems) std::cerr << "mtjlab analyze: note: " << p << '\n';

    if (a.json) {
        std::cout << an::campaign_json(campaign).dump(2) << '\n';
    } else {
        std::cout << fmt::format("{:<28} {:<22} {:>6} {:>5} {:>9} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6}\n", "run",
                                 "kind", "t_nm", "cells", "R_P", "R_AP", "TMR", "Hc_mT", "Hex_mT", "Vc-_V", "VB_V",
                                 "levels");
        for (const auto& r : campaign.runs) {
            const auto f = an::figures(r);
            auto get = [&](std::string_view k) -> const an::Extracted& {
                for (const auto& x : f)
                    if (x.key == k) return x.value;
                return f.front().value;
            };
            const auto lv = an::levels_ohm(r);
            std::cout << fmt::format(
                "{:<28} {:<22} {:>6} {:>5} {:>9} {:>9} {:>7} {:>7} {:>7} {:>7} {:>7} {:>6}{}\n", r.run.name,
                an::to_string(r.run.kind),
                std::isfinite(r.run.device.thickness_nm) ? fmt::format("{:.3g}", r.run.device.thickness_nm) : "-",
                r.run.device.cells > 0 ? std::to_string(r.run.device.cells) : "-", short_value(get("r_p_ohm"), 1, ""),
                short_value(get("r_ap_ohm"), 1, ""), short_value(get("tmr"), 100, "%"), short_value(get("hc_mT"), 1, ""),
                short_value(get("hex_mT"), 1, ""), short_value(get("vc_ap_to_p_V"), 1, ""),
                short_value(get("breakdown_V"), 1, ""), lv.empty() ? "-" : std::to_string(lv.size()),
                r.error.empty() ? (r.dead ? "  (dead)" : "") : "  (not analysed)");
        }
        std::cout << fmt::format("{} of {} run(s) analysed; {} group(s); report: {}\n", ok, campaign.runs.size(),
                                 campaign.groups.size(), (std::filesystem::path(a.outdir) / "report.html").string());
    }
    if (ok == 0)
        throw InputError(fmt::format("analyze: nothing could be analysed ({} input(s), see the messages above)",
                                     campaign.runs.size()));
}

}  // namespace

void register_analyze(CLI::App& app, const GlobalOptions& /*global*/) {
    auto args = std::make_shared<AnalyzeArgs>();
    auto* sub = app.add_subcommand(
        "analyze", "Extract R_P, R_AP, TMR, Hc, Hex, Vc, levels, breakdown and P_sw fits; populations, conductance "
                   "states, figures and report.html");
    sub->add_option("inputs", args->inputs,
                    "Run files (.h5), campaign directories (scanned recursively) or CSV files (H_mT,R_ohm or "
                    "V_V,R_ohm columns)")
        ->required();
    sub->add_option("-o,--output", args->outdir, "Output directory (results.h5, CSV tables, figures/, report.html)")
        ->required();
    sub->add_flag("--json", args->json, "Print one JSON document with per-run and per-group objects on stdout");
    sub->add_option("--max-loop-figures", args->max_loops, "Per-device loop figures to draw")->capture_default_str();
    sub->add_option("--gnuplot", args->gnuplot, "gnuplot executable")->capture_default_str();
    sub->callback([args] { run_analyze(*args); });
}

}  // namespace mtjlab::cli
