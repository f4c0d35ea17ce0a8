// OUTDIR/report.html (self-contained: inline CSS and SVG, no scripts, no external resources) and
// OUTDIR/summary.json.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "mtjlab/analysis/report.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/version.hpp"
#include "mtjlab/reproduction/reproduction.hpp"

namespace mtjlab::reproduction {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string esc(std::string_view s) { return analysis::html_escape(s); }

void replace_all(std::string& s, const std::string& from, const std::string& to) {
    if (from.empty()) return;
    std::size_t at = 0;
    while ((at = s.find(from, at)) != std::string::npos) {
        s.replace(at, from.size(), to);
        at += to.size();
    }
}

/// The SVG element of a gnuplot file (no prolog), with every id and reference to it prefixed so that several
/// figures can share one HTML document without id clashes. Empty when the file is missing or not SVG.
std::string inline_svg(const fs::path& p, const std::string& prefix) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return {};
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    const auto at = s.find("<svg");
    if (at == std::string::npos) return {};
    s = s.substr(at);
    std::set<std::string> ids;
    for (const char q : {'"', '\''}) {
        const std::string key = std::string("id=") + q;
        for (std::size_t i = s.find(key); i != std::string::npos; i = s.find(key, i + 1)) {
            const auto b = i + key.size();
            const auto e = s.find(q, b);
            if (e == std::string::npos) break;
            ids.insert(s.substr(b, e - b));
        }
    }
    for (const auto& id : ids) {
        for (const char q : {'"', '\''}) {
            const std::string qs(1, q);
            replace_all(s, "id=" + qs + id + qs, "id=" + qs + prefix + id + qs);
            replace_all(s, "#" + id + qs, "#" + prefix + id + qs);
        }
        replace_all(s, "url(#" + id + ")", "url(#" + prefix + id + ")");
    }
    return s;
}

json cell_json(const ann::SweepCell& c) {
    return {{"mapping", c.mapping},
            {"scale", c.scale},
            {"thickness_nm", c.thickness_nm > 0 ? json(c.thickness_nm) : json(nullptr)},
            {"tmr_percent", 100 * c.tmr},
            {"cells", c.cells},
            {"states", c.states},
            {"r_p_ohm", c.r_p_ohm},
            {"r_ap_ohm", c.r_ap_ohm},
            {"accuracy_mean", c.mean},
            {"accuracy_std", c.std},
            {"float_accuracy_mean", c.float_mean},
            {"per_seed", c.per_model}};
}

json opt_json(const std::optional<double>& v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); }

const std::vector<std::string_view> kDeviceFigures = {"fig3e", "fig3f", "fig4c", "fig4d", "fig4g", "fig4h"};

}  // namespace

json summary_json(const Result& r, const Options& o, const Provenance& p) {
    json j;
    j["format"] = "mtjlab-reproduction";
    j["format_version"] = 1;
    j["provenance"] = {{"mtjlab_version", std::string(version())},
                       {"git_hash", std::string(git_hash())},
                       {"command_line", p.command_line},
                       {"preset", p.preset},
                       {"recipe", p.recipe_source},
                       {"station", p.station},
                       {"virtual_lab", p.virtual_lab},
                       {"lab_seed", p.lab_seed},
                       {"wafer_seed", p.wafer_seed},
                       {"started_utc", p.started_utc},
                       {"measurement", p.measurement}};
    json timings = json::array();
    double total = 0;
    for (const auto& t : r.timings) {
        timings.push_back({{"stage", t.stage}, {"seconds", t.seconds}, {"detail", t.detail}});
        total += t.seconds;
    }
    j["timings"] = timings;
    j["total_seconds"] = total;
    json maps = json::array();
    for (auto m : o.mappings) maps.push_back(std::string(ann::to_string(m)));
    j["ann_options"] = {{"seeds", o.seeds},
                        {"training_seeds", [&] {
                             json s = json::array();
                             for (int i = 1; i <= o.seeds; ++i) s.push_back(i);
                             return s;
                         }()},
                        {"epochs", o.epochs},
                        {"train_limit", o.train_limit},
                        {"mappings", maps},
                        {"scale", std::string(ann::to_string(o.scale))},
                        {"biases", "float"},
                        {"model_cache", o.model_cache.string()},
                        {"tmr_grid_percent", [&] {
                             json a = json::array();
                             for (double t : o.tmr_grid) a.push_back(100 * t);
                             return a;
                         }()},
                        {"cells_grid", o.cells_grid}};
    const auto cj = analysis::campaign_json(r.analysis.campaign);
    j["device"] = {{"runs_loaded", r.analysis.runs_loaded},
                   {"runs_analysed", r.analysis.runs_analysed},
                   {"groups", cj.value("groups", json::array())},
                   {"trends", cj.value("trends", json::array())},
                   {"conductance_states", cj.value("conductance_states", json::array())},
                   {"analysis_dir", (o.output_dir / "analysis").string()}};
    json ds = json::array();
    for (const auto& d : r.ann.datasets) {
        json models = json::array();
        for (const auto& m : d.models)
            models.push_back({{"seed", m.seed},
                              {"file", m.file.string()},
                              {"cached", m.cached},
                              {"test_accuracy", m.test_accuracy},
                              {"train_seconds", m.train_seconds},
                              {"train_source", m.train_source}});
        json measured = json::array(), grid = json::array();
        for (const auto& c : d.measured) measured.push_back(cell_json(c));
        for (const auto& c : d.grid) grid.push_back(cell_json(c));
        ds.push_back({{"dataset", std::string(ann::to_string(d.dataset))},
                      {"test_images", d.test_images},
                      {"float_accuracy_mean", d.float_mean},
                      {"float_accuracy_std", d.float_std},
                      {"models", models},
                      {"fig5bc_measured", measured},
                      {"fig5de_grid", grid}});
    }
    j["ann"] = ds;
    json cmp = json::array();
    std::size_t met = 0, missed = 0, na = 0;
    for (const auto& c : r.comparison) {
        cmp.push_back({{"id", c.id},
                       {"section", c.section},
                       {"quantity", c.quantity},
                       {"where", c.where},
                       {"paper", c.paper},
                       {"paper_value", opt_json(c.paper_value)},
                       {"ours", c.ours},
                       {"ours_value", opt_json(c.ours_value)},
                       {"tolerance", c.tolerance},
                       {"met", c.met ? json(*c.met) : json(nullptr)},
                       {"mapping", c.mapping.empty() ? json(nullptr) : json(c.mapping)},
                       {"note", c.note}});
        if (!c.met) ++na;
        else if (*c.met) ++met;
        else ++missed;
    }
    j["comparison"] = cmp;
    j["comparison_counts"] = {{"met", met}, {"not_met", missed}, {"not_comparable", na}};
    json ts = json::array();
    for (const auto& t : r.tension) ts.push_back({{"title", t.title}, {"paper", t.paper}, {"ours", t.ours}});
    j["tensions"] = ts;
    json figs = json::array();
    for (const auto* list : {&r.analysis.plots, &r.ann.plots})
        for (const auto& f : *list) {
            if (list == &r.analysis.plots &&
                std::find(kDeviceFigures.begin(), kDeviceFigures.end(), f.id) == kDeviceFigures.end())
                continue;
            figs.push_back({{"id", f.id}, {"title", f.title}, {"file", f.svg.string()}});
        }
    j["figures"] = figs;
    json problems = json::array();
    for (const auto& s : r.analysis.problems) problems.push_back(s);
    for (const auto& s : r.ann.problems) problems.push_back(s);
    j["problems"] = problems;
    return j;
}

void write_report(const Result& r, const Options& o, const Provenance& p, const fs::path& file) {
    std::ostringstream h;
    h << "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>mtjlab: reproduction of Kumar et al., "
         "Nanoscale Horiz. 2024</title>\n<style>\n"
         "body{font-family:Helvetica,Arial,sans-serif;margin:2em;max-width:1300px;color:#222}\n"
         "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.85em}\n"
         "th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}th{background:#eef}\n"
         "td.n{text-align:right}.yes{color:#070;font-weight:bold}.no{color:#b00;font-weight:bold}.na{color:#888}\n"
         "figure{display:inline-block;margin:0.5em;vertical-align:top;max-width:620px}\n"
         "figcaption{font-size:0.85em;color:#444}svg{max-width:100%;height:auto}\n"
         "dt{font-weight:bold;margin-top:0.6em}\n"
         "</style></head><body>\n";
    h << "<h1>Reproduction of Kumar et al., <i>Nanoscale Horiz.</i> 2024 (compound SOT-MTJ synapses)</h1>\n";
    std::size_t met = 0, missed = 0, na = 0;
    for (const auto& c : r.comparison) (c.met ? (*c.met ? met : missed) : na)++;
    h << fmt::format(
        "<p>{} ({}): {} run file(s) analysed, {} network(s) per dataset ({} epochs), {} number(s) of the paper compared: "
        "<span class=yes>{} met</span>, <span class=no>{} not met</span>, <span class=na>{} not comparable here</span>. "
        "Every value in the column <i>ours</i> was computed in this run; paper values are quoted. "
        "The per-run analysis report is <a href=\"analysis/report.html\">analysis/report.html</a>.</p>\n",
        esc(p.virtual_lab ? "Measured on the virtual lab" : "Measured on a bench"), esc(p.station),
        r.analysis.runs_analysed, o.seeds, o.epochs, r.comparison.size(), met, missed, na);

    // Comparison table.
    h << "<h2 id=comparison>The paper's numbers next to ours</h2>\n"
         "<table><tr><th>quantity</th><th>where</th><th>paper</th><th>ours</th><th>tolerance we claim</th>"
         "<th>met</th><th>note</th></tr>\n";
    std::string section;
    for (const auto& c : r.comparison) {
        if (c.section != section) {
            section = c.section;
            h << "<tr><th colspan=7>"
              << (section == "device" ? "Devices (Sec. C-D, Fig. 3-4)" : "Neural network (Sec. E, Fig. 5)")
              << "</th></tr>\n";
        }
        const std::string m = !c.met ? "<span class=na>n/a</span>" : *c.met ? "<span class=yes>yes</span>"
                                                                              : "<span class=no>no</span>";
        h << "<tr id=\"cmp-" << esc(c.id) << "\"><td>" << esc(c.quantity) << "</td><td>" << esc(c.where) << "</td><td>"
          << esc(c.paper) << "</td><td>" << esc(c.ours) << "</td><td>" << esc(c.tolerance) << "</td><td>" << m
          << "</td><td>" << esc(c.note) << "</td></tr>\n";
    }
    h << "</table>\n";

    // Figures.
    h << "<h2 id=figures>Figures</h2>\n";
    auto figure = [&](const analysis::PlotFile& f) {
        const std::string svg = inline_svg(f.svg, f.id + "-");
        if (svg.empty()) {
            h << "<p class=na>Figure " << esc(f.id) << " could not be read from " << esc(f.svg.string()) << ".</p>\n";
            return;
        }
        h << "<figure id=\"" << esc(f.id) << "\">" << svg << "<figcaption><b>" << esc(f.id) << ". " << esc(f.title)
          << ".</b> " << esc(f.caption) << "</figcaption></figure>\n";
    };
    h << "<h3>Devices (Fig. 3e, 3f, 4c, 4d, 4g, 4h analogues)</h3>\n";
    for (auto id : kDeviceFigures) {
        bool found = false;
        for (const auto& f : r.analysis.plots)
            if (f.id == id) {
                figure(f);
                found = true;
            }
        if (!found) h << "<p class=na>Figure " << id << " was not drawn (see problems below).</p>\n";
    }
    h << "<h3>Neural network (Fig. 5b-e analogues)</h3>\n";
    for (const auto& f : r.ann.plots) figure(f);

    // Conductance states.
    h << "<h2 id=states>Measured conductance states (input of Fig. 5b/c)</h2>\n";
    if (r.analysis.campaign.conductance.empty()) {
        h << "<p class=na>No group showed cells + 1 levels.</p>\n";
    } else {
        h << "<table><tr><th>t (nm)</th><th>cells</th><th>state</th><th>g_norm</th><th>g_norm sd</th><th>R (kΩ)</th>"
             "<th>R sd (kΩ)</th><th>devices</th></tr>\n";
        for (const auto& c : r.analysis.campaign.conductance)
            h << fmt::format("<tr><td class=n>{:.3g}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{:.4f}</td>"
                             "<td class=n>{:.4f}</td><td class=n>{:.4g}</td><td class=n>{:.3g}</td><td class=n>{}</td>"
                             "</tr>\n",
                             c.thickness_nm, c.cells, c.state, c.g_norm, c.g_norm_std, c.r_ohm * 1e-3,
                             c.r_ohm_std * 1e-3, c.devices);
        h << "</table>\n";
    }

    // ANN: models.
    h << "<h2 id=networks>Networks</h2>\n<table><tr><th>dataset</th><th>test images</th><th>seed</th>"
         "<th>full-precision accuracy</th><th>training time (s)</th><th>from cache</th><th>training data</th></tr>\n";
    for (const auto& d : r.ann.datasets)
        for (const auto& m : d.models)
            h << fmt::format("<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{:.2f} %</td>"
                             "<td class=n>{:.1f}</td><td>{}</td><td>{}</td></tr>\n",
                             ann::to_string(d.dataset), d.test_images, m.seed, 100 * m.test_accuracy, m.train_seconds,
                             m.cached ? "yes" : "no", esc(m.train_source));
    h << "</table>\n";

    // Tensions.
    h << "<h2 id=tensions>Known tensions in the paper and what this run gives instead</h2>\n<dl>\n";
    for (const auto& t : r.tension)
        h << "<dt>" << esc(t.title) << "</dt><dd><i>Paper:</i> " << esc(t.paper) << "<br><i>Ours:</i> " << esc(t.ours)
          << "</dd>\n";
    h << "</dl>\n";

    // Provenance.
    h << "<h2 id=provenance>Provenance</h2>\n<table>\n";
    auto prow = [&](std::string_view k, const std::string& v) {
        h << "<tr><th>" << esc(k) << "</th><td>" << esc(v) << "</td></tr>\n";
    };
    prow("mtjlab", std::string(version_string()));
    prow("git commit", std::string(git_hash()));
    prow("command line", p.command_line);
    prow("preset", p.preset.empty() ? "(none)" : p.preset);
    prow("campaign recipe", p.recipe_source);
    prow("station", p.station);
    if (p.virtual_lab) prow("virtual lab seeds", fmt::format("lab {}, wafer {}", p.lab_seed, p.wafer_seed));
    prow("training seeds", fmt::format("1..{}", o.seeds));
    std::string maps;
    for (auto m : o.mappings) maps += (maps.empty() ? "" : ", ") + std::string(ann::to_string(m));
    prow("ANN", fmt::format("784x128x10, Adam, batch 32, {} epochs{}, mappings {} (first is primary), scale {}, "
                            "biases float",
                            o.epochs, o.train_limit ? fmt::format(", first {} training images", o.train_limit) : "",
                            maps, ann::to_string(o.scale)));
    prow("model cache", o.model_cache.string());
    prow("started (UTC)", p.started_utc);
    if (!p.measurement.empty()) prow("measurement", p.measurement.dump());
    double total = 0;
    for (const auto& t : r.timings) {
        prow("time: " + t.stage, fmt::format("{:.1f} s ({})", t.seconds, t.detail));
        total += t.seconds;
    }
    prow("time: total", fmt::format("{:.1f} s", total));
    h << "</table>\n";
    std::vector<std::string> problems = r.analysis.problems;
    problems.insert(problems.end(), r.ann.problems.begin(), r.ann.problems.end());
    if (!problems.empty()) {
        h << "<h2 id=problems>Problems</h2>\n<ul>\n";
        for (const auto& s : problems) h << "<li>" << esc(s) << "</li>\n";
        h << "</ul>\n";
    }
    h << "</body></html>\n";

    const fs::path tmp = file.string() + ".tmp";
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    out << h.str();
    out.close();
    if (!out) throw StorageError(fmt::format("{}: cannot write the report", tmp.string()));
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) throw StorageError(fmt::format("{}: cannot rename into place: {}", file.string(), ec.message()));
}

}  // namespace mtjlab::reproduction
