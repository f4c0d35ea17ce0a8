// Figures with gnuplot (Debian gnuplot-nox): one script, one gnuplot process, SVG output. The data go
// inline as datablocks so the script in figures/plots.gp reproduces every figure on its own.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "mtjlab/analysis/report.hpp"
#include "robust.hpp"

extern char** environ;

namespace mtjlab::analysis {
namespace {

std::string gq(const std::string& s) {  // gnuplot single-quoted string
    std::string o = "'";
    for (char c : s) {
        if (c == '\'') o += "''";
        else if (c != '\n') o += c;
    }
    return o + "'";
}

std::string g(double v) { return std::isfinite(v) ? fmt::format("{:.8g}", v) : std::string("NaN"); }

/// Group-level mean/std of one figure per (cells, thickness), for thickness-resolved plots.
struct Series {
    std::vector<double> t, m, s;
};

std::map<int, Series> group_series(const Campaign& c, std::string_view key, double scale = 1.0) {
    std::map<int, Series> out;
    for (const auto& gr : c.groups) {
        if (!std::isfinite(gr.thickness_nm)) continue;
        const auto* st = gr.stat(key);
        if (!st || st->count == 0) continue;
        auto& s = out[gr.cells];
        s.t.push_back(gr.thickness_nm);
        s.m.push_back(st->mean * scale);
        s.s.push_back(st->std * scale);
    }
    return out;
}

/// Per (cells, thickness) statistics of a figure over runs of one kind.
std::map<int, Series> kind_series(const Campaign& c, RunKind kind, std::string_view key, bool absolute) {
    std::map<std::pair<int, long>, std::vector<double>> vals;
    std::map<std::pair<int, long>, double> thick;
    for (const auto& r : c.runs) {
        if (r.run.kind != kind || r.dead || !std::isfinite(r.run.device.thickness_nm)) continue;
        for (const auto& f : figures(r)) {
            if (f.key != key || !f.value.ok()) continue;
            const auto k = std::make_pair(r.run.device.cells, std::lround(r.run.device.thickness_nm * 1000));
            vals[k].push_back(absolute ? std::abs(*f.value) : *f.value);
            thick[k] = r.run.device.thickness_nm;
        }
    }
    std::map<int, Series> out;
    for (const auto& [k, v] : vals) {
        auto& s = out[k.first];
        s.t.push_back(thick[k]);
        s.m.push_back(detail::mean(v));
        s.s.push_back(detail::stddev(v));
    }
    return out;
}

std::string cells_label(int cells) { return cells > 0 ? fmt::format("{}-cell", cells) : "cells unknown"; }

class Script {
public:
    explicit Script(std::filesystem::path dir) : dir_(std::move(dir)) {
        s_ << "# mtjlab analyze: figures (gnuplot " << "5" << "); run `gnuplot plots.gp` in this directory\n";
        s_ << "set encoding utf8\n";
    }
    std::string block(const std::vector<std::vector<double>>& cols) {
        const std::string name = fmt::format("$d{}", nblocks_++);
        s_ << name << " << EOD\n";
        const std::size_t n = cols.empty() ? 0 : cols.front().size();
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t c = 0; c < cols.size(); ++c) s_ << (c ? " " : "") << g(cols[c][i]);
            s_ << '\n';
        }
        s_ << "EOD\n";
        return name;
    }
    void begin(PlotFile pf, int w = 640, int h = 420) {
        s_ << "reset\nset terminal svg size " << w << "," << h
           << " dynamic noenhanced font 'Helvetica,13' background rgb 'white'\n";
        s_ << "set output " << gq(pf.svg.filename().string()) << "\n";
        s_ << "set grid lc rgb '#dddddd'\nset key top left box opaque\nset border lw 1.2\n";
        files_.push_back(std::move(pf));
    }
    std::ostringstream& out() { return s_; }
    [[nodiscard]] const std::vector<PlotFile>& files() const { return files_; }
    [[nodiscard]] std::string text() const { return s_.str() + "set output\n"; }

private:
    std::filesystem::path dir_;
    std::ostringstream s_;
    int nblocks_ = 0;
    std::vector<PlotFile> files_;
};

const char* color(int i) {
    static const char* c[] = {"#1b3a8c", "#c0392b", "#7b2cbf", "#2a9d8f", "#e9a23b", "#555555"};
    return c[static_cast<std::size_t>(i) % 6];
}

void thickness_plot(Script& sc, const std::filesystem::path& dir, const std::string& id, const std::string& title,
                    const std::string& caption, const std::string& ylabel,
                    const std::vector<std::pair<std::string, Series>>& series, std::vector<std::string>& skipped) {
    std::vector<std::string> blocks;
    for (const auto& [label, s] : series) blocks.push_back(sc.block({s.t, s.m, s.s}));
    if (blocks.empty()) {
        skipped.push_back(id + ": no data");
        return;
    }
    sc.begin({id, title, caption, dir / (id + ".svg")});
    auto& o = sc.out();
    o << "set xlabel 'free-layer thickness t (nm)'\nset ylabel " << gq(ylabel) << "\nset title " << gq(title) << "\n";
    o << "set offsets 0.05, 0.05, 0, 0\n";
    o << "plot ";
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        o << (i ? ", \\\n     " : "") << blocks[i] << " using 1:2:3 with yerrorlines lw 1.5 pt 7 lc rgb '" << color(int(i))
          << "' title " << gq(series[i].first);
    }
    o << "\n";
}

}  // namespace

std::vector<PlotFile> render_plots(const Campaign& c, const std::filesystem::path& dir, const PlotOptions& opt,
                                   std::vector<std::string>& problems) {
    std::filesystem::create_directories(dir);
    Script sc(dir);
    std::vector<std::string> skipped;

    // Fig. 3e: H_ex and H_c versus thickness.
    {
        std::vector<std::pair<std::string, Series>> s;
        for (auto& [cells, ser] : group_series(c, "hex_mT")) s.emplace_back(fmt::format("H_ex, {}", cells_label(cells)), ser);
        for (auto& [cells, ser] : group_series(c, "hc_mT")) s.emplace_back(fmt::format("H_c, {}", cells_label(cells)), ser);
        thickness_plot(sc, dir, "fig3e", "Exchange (offset) and coercive fields",
                       "Like the paper's Fig. 3e: loop offset H_ex and coercive field H_c from R(H) loops, mean +- "
                       "device-to-device standard deviation per thickness.",
                       "field (mT)", s, skipped);
    }
    // Fig. 3f: R_P, R_AP (kOhm) and TMR (%) versus thickness, TMR on the right axis with its trend fit.
    {
        auto rp = group_series(c, "r_p_ohm", 1e-3), rap = group_series(c, "r_ap_ohm", 1e-3),
             tmr = group_series(c, "tmr", 100);
        if (rp.empty() && tmr.empty()) {
            skipped.push_back("fig3f: no data");
        } else {
            std::vector<std::string> lines;
            int ci = 0;
            for (auto& [cells, ser] : rp)
                lines.push_back(sc.block({ser.t, ser.m, ser.s}) + " using 1:2:3 axes x1y1 with yerrorlines lw 1.5 pt 5 lc rgb '" +
                                color(ci++) + "' title " + gq(fmt::format("R_P, {}", cells_label(cells))));
            for (auto& [cells, ser] : rap)
                lines.push_back(sc.block({ser.t, ser.m, ser.s}) + " using 1:2:3 axes x1y1 with yerrorlines lw 1.5 pt 4 lc rgb '" +
                                color(ci++) + "' title " + gq(fmt::format("R_AP, {}", cells_label(cells))));
            for (auto& [cells, ser] : tmr)
                lines.push_back(sc.block({ser.t, ser.m, ser.s}) + " using 1:2:3 axes x1y2 with yerrorbars pt 13 ps 1.3 lc rgb '" +
                                color(ci++) + "' title " + gq(fmt::format("TMR, {}", cells_label(cells))));
            for (const auto& t : c.trends) {
                if (t.figure != "tmr" || t.params.empty()) continue;
                double tmin = 1e9, tmax = -1e9;
                for (const auto& gr : c.groups)
                    if (gr.cells == t.cells && std::isfinite(gr.thickness_nm)) {
                        tmin = std::min(tmin, gr.thickness_nm);
                        tmax = std::max(tmax, gr.thickness_nm);
                    }
                std::vector<double> tt, yy;
                for (int k = 0; k <= 60; ++k) {
                    const double x = tmin + (tmax - tmin) * k / 60.0;
                    tt.push_back(x);
                    yy.push_back(100 * t.eval(x));
                }
                lines.push_back(sc.block({tt, yy}) + " using 1:2 axes x1y2 with lines dt 2 lw 1.5 lc rgb '" + color(ci++) +
                                "' title " + gq(fmt::format("TMR fit ({}), {}", t.model.substr(0, t.model.find(':')), cells_label(t.cells))));
            }
            sc.begin({"fig3f", "R_P, R_AP and TMR versus thickness",
                      "Like the paper's Fig. 3f: plateau resistances (left axis) and TMR (right axis) from R(H) loops, "
                      "mean +- standard deviation; dashed: TMR trend fit (see trends table).",
                      dir / "fig3f.svg"});
            auto& o = sc.out();
            o << "set xlabel 'free-layer thickness t (nm)'\nset ylabel 'resistance (kOhm)'\nset y2label 'TMR (%)'\n"
                 "set ytics nomirror\nset y2tics\nset offsets 0.05, 0.05, 0, 0\nset title 'R_P, R_AP, TMR'\nplot ";
            for (std::size_t i = 0; i < lines.size(); ++i) o << (i ? ", \\\n     " : "") << lines[i];
            o << "\n";
        }
    }
    // Fig. 4c: field-free critical voltage (AP->P) versus thickness.
    {
        std::vector<std::pair<std::string, Series>> s;
        for (auto& [cells, ser] : kind_series(c, RunKind::field_free_rv, "vc_ap_to_p_V", true))
            s.emplace_back(fmt::format("|V_c| AP->P field-free, {}", cells_label(cells)), ser);
        for (auto& [cells, ser] : kind_series(c, RunKind::rv_pulse_train, "vc_ap_to_p_V", true))
            s.emplace_back(fmt::format("|V_c| AP->P with assist field, {}", cells_label(cells)), ser);
        thickness_plot(sc, dir, "fig4c", "Critical switching voltage",
                       "Like the paper's Fig. 4c: |V_c| for AP->P (first pulse amplitude after which R crosses the "
                       "R_P/R_AP midpoint), mean +- standard deviation over devices.",
                       "|V_c| (V)", s, skipped);
    }
    // Fig. 4d: field-free switching fraction versus thickness.
    {
        std::vector<double> t, frac, n;
        for (const auto& gr : c.groups) {
            if (!std::isfinite(gr.thickness_nm) || gr.field_free_tested == 0) continue;
            t.push_back(gr.thickness_nm);
            frac.push_back(100.0 * double(gr.field_free_switched) / double(gr.field_free_tested));
            n.push_back(double(gr.field_free_tested));
        }
        if (t.empty()) {
            skipped.push_back("fig4d: no field-free R(V) runs");
        } else {
            const auto b = sc.block({t, frac, n});
            sc.begin({"fig4d", "Field-free switching probability",
                      "Like the paper's Fig. 4d: percentage of field-free R(V) runs that switched, per thickness "
                      "(labels: number of runs).",
                      dir / "fig4d.svg"});
            sc.out() << "set xlabel 'free-layer thickness t (nm)'\nset ylabel 'field-free switching (%)'\n"
                        "set yrange [0:110]\nset style fill solid 0.6 border -1\nset boxwidth 0.06\n"
                        "set offsets 0.1, 0.1, 0, 0\nset title 'Field-free switching'\n"
                        "plot " << b << " using 1:2 with boxes lc rgb '#1b3a8c' title 'switched', \\\n     " << b
                     << " using 1:($2+5):(sprintf('n=%d',$3)) with labels notitle\n";
        }
    }
    // Fig. 4g: R(V) of one 3-cell device per thickness.
    {
        std::map<long, const RunAnalysis*> pick;
        for (const auto& r : c.runs)
            if (r.run.kind == RunKind::rv_pulse_train && r.run.device.cells == 3 && r.rv && r.error.empty() &&
                std::isfinite(r.run.device.thickness_nm))
                pick.emplace(std::lround(r.run.device.thickness_nm * 1000), &r);
        if (pick.empty()) {
            skipped.push_back("fig4g: no 3-cell R(V) runs");
        } else {
            std::vector<std::string> lines;
            int ci = 0;
            for (const auto& [k, r] : pick) {
                std::vector<double> v, rr;
                for (std::size_t i = 0; i < r->run.sweep.x.size(); ++i) {
                    v.push_back(r->run.sweep.x[i]);
                    rr.push_back(r->run.sweep.r_ohm[i] * 1e-3);
                }
                lines.push_back(sc.block({v, rr}) + " using 1:2 with linespoints pt 7 ps 0.5 lc rgb '" + color(ci++) +
                                "' title " + gq(fmt::format("{:.2f} nm ({} levels)", r->run.device.thickness_nm,
                                                            r->rv->levels.levels.size())));
            }
            sc.begin({"fig4g", "3-cell R(V) loops",
                      "Like the paper's Fig. 4g: R(V) of one 3-cell device per thickness (the first such run); the "
                      "level count comes from BIC model selection.",
                      dir / "fig4g.svg"});
            auto& o = sc.out();
            o << "set xlabel 'pulse amplitude V (V)'\nset ylabel 'R (kOhm)'\nset key outside right\n"
                 "set title '3-cell compound MTJ'\nplot ";
            for (std::size_t i = 0; i < lines.size(); ++i) o << (i ? ", \\\n     " : "") << lines[i];
            o << "\n";
        }
    }
    // Fig. 4h: breakdown voltage versus thickness per cell count.
    {
        std::vector<std::pair<std::string, Series>> s;
        for (auto& [cells, ser] : group_series(c, "breakdown_V")) s.emplace_back(fmt::format("V_B, {}", cells_label(cells)), ser);
        thickness_plot(sc, dir, "fig4h", "Breakdown voltage",
                       "Like the paper's Fig. 4h: mean breakdown voltage +- standard deviation per thickness and cell "
                       "count (first pulse after which R leaves the intact range for good).",
                       "V_B (V)", s, skipped);
    }
    // Switching-probability fits.
    {
        std::vector<std::string> lines;
        int ci = 0;
        for (const auto& r : c.runs) {
            if (!r.psw || r.psw->table.empty() || ci >= 6) continue;
            std::vector<double> v, p;
            for (const auto& pt : r.psw->table) {
                v.push_back(pt.amplitude_V);
                p.push_back(double(pt.switched) / double(pt.trials));
            }
            const auto& ps = *r.psw;
            const std::string col = color(ci++);
            lines.push_back(sc.block({v, p}) + " using 1:2 with points pt 7 lc rgb '" + col + "' title " +
                            gq(r.run.name));
            if (ps.v50_V.ok() && ps.width_V.ok()) {
                std::vector<double> vv, pp;
                const double v0 = v.front(), v1 = v.back();
                for (int k = 0; k <= 100; ++k) {
                    const double x = v0 + (v1 - v0) * k / 100.0;
                    vv.push_back(x);
                    pp.push_back(0.5 * std::erfc(-ps.polarity * (x - *ps.v50_V) / *ps.width_V / std::sqrt(2.0)));
                }
                lines.push_back(sc.block({vv, pp}) + " using 1:2 with lines lw 1.5 lc rgb '" + col + "' title " +
                                gq(fmt::format("fit V50 = {:.3f} +- {:.3f} V", *ps.v50_V, ps.v50_V.error.value_or(0))));
            }
        }
        if (lines.empty()) {
            skipped.push_back("psw: no switching-probability runs");
        } else {
            sc.begin({"psw", "Switching probability",
                      "P_sw(V) with the binomial maximum-likelihood probit fit (V50 +- 1 sigma from the Fisher "
                      "information).",
                      dir / "psw.svg"});
            auto& o = sc.out();
            o << "set xlabel 'pulse amplitude V (V)'\nset ylabel 'P_sw'\nset yrange [-0.05:1.05]\nset key noenhanced outside right\nplot ";
            for (std::size_t i = 0; i < lines.size(); ++i) o << (i ? ", \\\n     " : "") << lines[i];
            o << "\n";
        }
    }
    // Per-device loops.
    std::size_t drawn = 0;
    for (std::size_t ri = 0; ri < c.runs.size() && drawn < opt.max_device_loops; ++ri) {
        const auto& r = c.runs[ri];
        const bool rh = r.rh && r.run.kind == RunKind::rh_loop;
        const bool rv = r.rv.has_value();
        const bool bd = r.breakdown.has_value();
        if (!(rh || rv || bd) || r.run.sweep.x.empty()) continue;
        std::vector<double> x, y;
        for (std::size_t i = 0; i < r.run.sweep.x.size() && i < r.run.sweep.r_ohm.size(); ++i) {
            if (!std::isfinite(r.run.sweep.x[i]) || !std::isfinite(r.run.sweep.r_ohm[i])) continue;
            x.push_back(rh ? r.run.sweep.x[i] * 1e3 : r.run.sweep.x[i]);
            y.push_back(r.run.sweep.r_ohm[i] * 1e-3);
        }
        if (x.empty()) continue;
        const auto b = sc.block({x, y});
        const std::string id = fmt::format("run{:03d}", ri);
        std::string cap = fmt::format("{} ({}){}", r.run.name, to_string(r.run.kind),
                                      std::isfinite(r.run.device.thickness_nm)
                                          ? fmt::format(", t = {:.2f} nm, {} cell(s)", r.run.device.thickness_nm, r.run.device.cells)
                                          : std::string());
        sc.begin({id, r.run.name, cap, dir / (id + ".svg")}, 560, 360);
        auto& o = sc.out();
        o << "set xlabel " << gq(rh ? "field H (mT)" : "pulse amplitude V (V)") << "\nset ylabel 'R (kOhm)'\n";
        o << "set title " << gq(cap) << " noenhanced\nset key noenhanced bottom right\n";
        std::string extra;
        if (rh) {
            if (r.rh->r_p_ohm.ok()) extra += fmt::format(", {} with lines dt 2 lc rgb '#2a9d8f' title 'R_P'", g(*r.rh->r_p_ohm * 1e-3));
            if (r.rh->r_ap_ohm.ok()) extra += fmt::format(", {} with lines dt 2 lc rgb '#c0392b' title 'R_AP'", g(*r.rh->r_ap_ohm * 1e-3));
            if (r.rh->h_sw_plus_T.ok()) o << fmt::format("set arrow from first {0}, graph 0 to first {0}, graph 1 nohead dt 3 lc rgb '#7b2cbf'\n", g(*r.rh->h_sw_plus_T * 1e3));
            if (r.rh->h_sw_minus_T.ok()) o << fmt::format("set arrow from first {0}, graph 0 to first {0}, graph 1 nohead dt 3 lc rgb '#7b2cbf'\n", g(*r.rh->h_sw_minus_T * 1e3));
        } else if (rv) {
            for (const auto& lv : r.rv->levels.levels)
                o << fmt::format("set arrow from graph 0, first {0} to graph 1, first {0} nohead dt 2 lc rgb '#999999'\n", g(lv.r_ohm * 1e-3));
        } else if (bd && r.breakdown->breakdown_V.ok()) {
            o << fmt::format("set arrow from first {0}, graph 0 to first {0}, graph 1 nohead dt 3 lc rgb '#c0392b'\n", g(*r.breakdown->breakdown_V));
            o << "set logscale y\n";
        }
        o << "plot " << b << " using 1:2 with linespoints pt 7 ps 0.4 lc rgb '#1b3a8c' title 'data'" << extra << "\n";
        ++drawn;
    }

    for (const auto& s : skipped) problems.push_back("figure " + s);
    if (sc.files().empty()) return {};
    const auto script = dir / "plots.gp";
    {
        std::ofstream out(script, std::ios::trunc);
        out << sc.text();
        if (!out) {
            problems.push_back("cannot write " + script.string());
            return {};
        }
    }
    // Run gnuplot in `dir`, output to gnuplot.log (never to our stdout).
    const auto log = dir / "gnuplot.log";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    const std::string dir_s = dir.string();
    // gnuplot resolves relative 'set output' names against its working directory: use `cd` in the script.
    const std::string cd_cmd = fmt::format("cd {}", gq(dir_s));
    std::vector<std::string> args{opt.gnuplot, "-e", cd_cmd, script.filename().string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, opt.gnuplot.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        problems.push_back(fmt::format("gnuplot ('{}') could not be started: {}; figures skipped (install gnuplot-nox)",
                                       opt.gnuplot, std::strerror(rc)));
        return {};
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::ifstream in(log);
        std::string first, line;
        while (std::getline(in, line))
            if (!line.empty()) first = line;
        problems.push_back(fmt::format("gnuplot failed (see {}): {}", log.string(), first));
    }
    std::vector<PlotFile> ok;
    for (const auto& f : sc.files()) {
        std::error_code ec;
        if (std::filesystem::file_size(f.svg, ec) > 0 && !ec) ok.push_back(f);
        else problems.push_back("figure " + f.id + " was not produced");
    }
    return ok;
}

}  // namespace mtjlab::analysis
