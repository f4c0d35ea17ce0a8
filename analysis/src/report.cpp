// report.html: one self-contained file (inline CSS and SVG, no scripts, no external resources).
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "mtjlab/analysis/report.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/version.hpp"

namespace mtjlab::analysis {

std::string html_escape(std::string_view s) {
    std::string o;
    o.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': o += "&amp;"; break;
            case '<': o += "&lt;"; break;
            case '>': o += "&gt;"; break;
            case '"': o += "&quot;"; break;
            default: o += c;
        }
    }
    return o;
}

namespace {

std::string esc(std::string_view s) { return html_escape(s); }

std::string fmtv(const Extracted& e, std::string_view unit) {
    if (!e.ok()) return fmt::format("<span class=na title=\"{}\">&ndash;</span>", esc(e.reason));
    double v = *e.value;
    double err = e.error.value_or(nan);
    std::string u(unit);
    if (unit == "1") {
        u.clear();
    }
    if (unit == "Ohm") {
        v *= 1e-3;
        err *= 1e-3;
        u = "k&Omega;";
    }
    std::string s = fmt::format("{:.4g}", v);
    if (std::isfinite(err)) s += fmt::format(" &plusmn; {:.2g}", err);
    if (!u.empty()) {
        s += ' ';
        s += u;
    }
    return s;
}

/// The SVG text without the XML prolog/doctype (so it can sit inside HTML).
std::string inline_svg(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    const auto at = s.find("<svg");
    return at == std::string::npos ? std::string() : s.substr(at);
}

}  // namespace

void write_report_html(const Campaign& c, const std::vector<PlotFile>& plots, const std::vector<std::string>& problems,
                       const std::filesystem::path& path) {
    std::ostringstream h;
    h << "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>mtjlab analysis report</title>\n<style>\n"
         "body{font-family:Helvetica,Arial,sans-serif;margin:2em;max-width:1200px;color:#222}\n"
         "table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.85em}\n"
         "th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#eef}\n"
         "td.l{text-align:left}.na{color:#999}.bad{color:#b00}.flag{background:#fee}\n"
         "figure{display:inline-block;margin:0.5em;vertical-align:top;max-width:660px}\n"
         "figcaption{font-size:0.85em;color:#444}svg{max-width:100%;height:auto}\n"
         "</style></head><body>\n";
    h << "<h1>mtjlab analysis report</h1>\n";
    h << fmt::format("<p>{} run(s), {} group(s). Produced by {} ({} v{}). Raw run files were only read. "
                     "Hover a dash to see why a figure is missing.</p>\n",
                     c.runs.size(), c.groups.size(), esc(version_string()), algorithm_name, algorithm_version);
    if (!problems.empty() || !c.notes.empty()) {
        h << "<h2>Notes</h2><ul>\n";
        for (const auto& n : c.notes) h << "<li>" << esc(n) << "</li>\n";
        for (const auto& p : problems) h << "<li>" << esc(p) << "</li>\n";
        h << "</ul>\n";
    }

    // Groups.
    const std::vector<std::pair<std::string_view, std::string_view>> gcols = {
        {"r_p_ohm", "Ohm"}, {"r_ap_ohm", "Ohm"}, {"tmr", "%"}, {"hc_mT", "mT"}, {"hex_mT", "mT"},
        {"vc_ap_to_p_V", "V"}, {"vc_p_to_ap_V", "V"}, {"breakdown_V", "V"}, {"v50_V", "V"}};
    h << "<h2>Populations per thickness and cell count</h2>\n<p>mean &plusmn; device-to-device standard deviation "
         "(n values); outliers (robust z &gt; "
      << c.options.outlier_z << ") and dead devices excluded.</p>\n<table><tr><th>t (nm)</th><th>cells</th><th>runs</th>"
                                "<th>devices</th><th>dead</th><th>field-free switched</th>";
    for (const auto& [k, u] : gcols) h << "<th>" << esc(k) << "</th>";
    h << "</tr>\n";
    for (const auto& g : c.groups) {
        h << "<tr><td>" << (std::isfinite(g.thickness_nm) ? fmt::format("{:.3g}", g.thickness_nm) : "?") << "</td><td>"
          << (g.cells > 0 ? std::to_string(g.cells) : "?") << "</td><td>" << g.runs << "</td><td>" << g.devices
          << "</td><td>" << g.dead << "</td><td>"
          << (g.field_free_tested ? fmt::format("{}/{}", g.field_free_switched, g.field_free_tested) : "&ndash;")
          << "</td>";
        for (const auto& [k, u] : gcols) {
            const auto* s = g.stat(k);
            if (!s || s->count == 0) {
                h << "<td class=na>&ndash;</td>";
                continue;
            }
            double scale = 1;
            if (u == "Ohm") scale = 1e-3;
            if (u == "%") scale = 100;
            h << "<td>" << fmt::format("{:.4g} &plusmn; {:.2g} ({})", s->mean * scale, s->std * scale, s->count)
              << (s->outliers ? fmt::format(" <span class=bad>{} out</span>", s->outliers) : "") << "</td>";
        }
        h << "</tr>\n";
    }
    h << "</table>\n<p>Resistances in k&Omega;, TMR in %.</p>\n";

    // Trends.
    if (!c.trends.empty()) {
        h << "<h2>Trends versus thickness</h2>\n<table><tr><th>figure</th><th>cells</th><th>model</th><th>parameters "
             "(&plusmn; 1&sigma;)</th><th>points</th><th>rms residual</th></tr>\n";
        for (const auto& t : c.trends) {
            std::string ps;
            if (t.params.empty()) ps = fmt::format("<span class=na>{}</span>", esc(t.reason));
            for (std::size_t i = 0; i < t.params.size(); ++i)
                ps += fmt::format("{}{} = {:.4g} &plusmn; {:.2g}", i ? ", " : "", t.param_names[i], t.params[i],
                                  i < t.param_errors.size() ? t.param_errors[i] : nan);
            if (t.model.rfind("exp", 0) == 0) ps += fmt::format(", t0 = {:.3g} nm", t.t0_nm);
            h << "<tr><td class=l>" << esc(t.figure) << "</td><td>" << t.cells << "</td><td class=l>" << esc(t.model)
              << "</td><td class=l>" << ps << "</td><td>" << t.points << "</td><td>"
              << fmt::format("{:.3g}", t.rms_residual) << "</td></tr>\n";
        }
        h << "</table>\n";
    }

    // Conductance states.
    h << "<h2>Conductance states (for the ANN evaluator)</h2>\n";
    if (c.conductance.empty()) {
        h << "<p class=na>No group with known cell count had devices showing cells + 1 levels.</p>\n";
    } else {
        h << "<p>state 0 = all cells AP (lowest conductance); g_norm = mean G / mean G of the top state; spreads are "
             "device to device. Also in conductance_states.csv and results.h5:/conductance_states.</p>\n"
             "<table><tr><th>t (nm)</th><th>cells</th><th>state</th><th>g_norm</th><th>g_norm_std</th><th>R "
             "(k&Omega;)</th><th>R std (k&Omega;)</th><th>devices</th></tr>\n";
        for (const auto& r : c.conductance)
            h << fmt::format("<tr><td>{:.3g}</td><td>{}</td><td>{}</td><td>{:.4f}</td><td>{:.4f}</td><td>{:.4g}</td>"
                             "<td>{:.3g}</td><td>{}</td></tr>\n",
                             r.thickness_nm, r.cells, r.state, r.g_norm, r.g_norm_std, r.r_ohm * 1e-3,
                             r.r_ohm_std * 1e-3, r.devices);
        h << "</table>\n";
    }

    // Figures.
    h << "<h2>Figures</h2>\n";
    for (const auto& p : plots) {
        const auto svg = inline_svg(p.svg);
        if (svg.empty()) continue;
        h << "<figure id=\"" << esc(p.id) << "\">" << svg << "<figcaption><b>" << esc(p.id) << ".</b> "
          << esc(p.caption) << "</figcaption></figure>\n";
    }

    // Runs.
    h << "<h2>Runs</h2>\n<table><tr><th>run</th><th>kind</th><th>t (nm)</th><th>cells</th>";
    const std::vector<std::string_view> rcols = {"r_p_ohm", "r_ap_ohm", "tmr", "hc_mT", "hex_mT", "vc_ap_to_p_V",
                                                 "vc_p_to_ap_V", "breakdown_V", "v50_V"};
    for (auto k : rcols) h << "<th>" << esc(k) << "</th>";
    h << "<th>levels</th><th>status</th></tr>\n";
    for (const auto& r : c.runs) {
        const auto figs = figures(r);
        h << "<tr" << (r.dead || !r.outliers.empty() ? " class=flag" : "") << "><td class=l>" << esc(r.run.name)
          << "</td><td class=l>" << to_string(r.run.kind) << "</td><td>"
          << (std::isfinite(r.run.device.thickness_nm) ? fmt::format("{:.3g}", r.run.device.thickness_nm) : "?")
          << "</td><td>" << (r.run.device.cells > 0 ? std::to_string(r.run.device.cells) : "?") << "</td>";
        for (auto k : rcols)
            for (const auto& f : figs)
                if (f.key == k) {
                    Extracted e = f.value;
                    std::string_view unit = f.unit;
                    if (k == "tmr" && e.ok()) {
                        *e.value *= 100;
                        if (e.error) *e.error *= 100;
                        unit = "%";
                    }
                    h << "<td>" << fmtv(e, unit) << "</td>";
                }
        const auto lv = levels_ohm(r);
        h << "<td>" << (lv.empty() ? std::string("&ndash;") : std::to_string(lv.size())) << "</td><td class=l>";
        if (!r.error.empty()) h << "<span class=bad>" << esc(r.error) << "</span>";
        else if (r.dead) h << "<span class=bad>dead: " << esc(r.dead_reason) << "</span>";
        else h << "ok";
        if (!r.outliers.empty()) {
            std::string o;
            for (const auto& x : r.outliers) {
                if (!o.empty()) o += ", ";
                o += x;
            }
            h << " <span class=bad>(outlier: " << esc(o) << ")</span>";
        }
        h << "</td></tr>\n";
    }
    h << "</table>\n</body></html>\n";

    std::ofstream out(path, std::ios::trunc | std::ios::binary);
    out << h.str();
    out.close();
    if (!out) throw StorageError(fmt::format("{}: cannot write report", path.string()));
}

OutputSummary write_outputs(const Campaign& c, const std::filesystem::path& dir, const PlotOptions& opt) {
    OutputSummary s;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw StorageError(fmt::format("{}: cannot create output directory: {}", dir.string(), ec.message()));
    s.files = write_csv_tables(c, dir);
    write_results_h5(c, dir / "results.h5");
    s.files.push_back(dir / "results.h5");
    const auto plots = render_plots(c, dir / "figures", opt, s.problems);
    for (const auto& p : plots) s.files.push_back(p.svg);
    write_report_html(c, plots, s.problems, dir / "report.html");
    s.files.push_back(dir / "report.html");
    return s;
}

}  // namespace mtjlab::analysis
