// Plots through gnuplot (Debian gnuplot-nox): a script with inline data is piped to `gnuplot`, SVG out.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "mtjlab/ann/sweep.hpp"
#include "mtjlab/core/error.hpp"

namespace mtjlab::ann {
namespace {

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "''";
        else out.push_back(c);
    }
    return out + "'";
}

void run_gnuplot(const std::string& script, const std::filesystem::path& svg) {
    // gnuplot's own messages go to a log next to the figure (never to our stdout); kept only on failure
    const std::filesystem::path log = svg.string() + ".gnuplot.log";
    const std::string cmd = "gnuplot >'" + log.string() + "' 2>&1";
    FILE* p = ::popen(cmd.c_str(), "w");
    if (!p) throw Error(fmt::format("{}: cannot start gnuplot", svg.string()));
    const bool ok = std::fwrite(script.data(), 1, script.size(), p) == script.size();
    const int rc = ::pclose(p);
    if (!ok || rc != 0) {
        throw Error(fmt::format("{}: gnuplot failed (exit status {}; see {}; is gnuplot-nox installed?)", svg.string(),
                                rc, log.string()));
    }
    std::error_code ec;
    std::filesystem::remove(log, ec);
}

}  // namespace

void plot_sweep_lines(const std::filesystem::path& svg, const std::vector<SweepCell>& cells, const std::string& title) {
    std::map<int, std::vector<const SweepCell*>> by_states;
    for (const auto& c : cells) by_states[c.states].push_back(&c);
    std::ostringstream s;
    s << "set terminal svg size 800,560 dynamic font 'sans,12'\n"
      << "set output " << quote(svg.string()) << "\n"
      << "set title " << quote(title) << " noenhanced\n"
      << "set xlabel 'TMR (%)'\nset ylabel 'test accuracy (%)'\nset grid\nset key outside right\n";
    s << "plot ";
    bool first = true;
    for (const auto& [states, v] : by_states) {
        s << (first ? "" : ", ") << "'-' using 1:2:3 with yerrorlines title '" << states << " states'";
        first = false;
    }
    s << "\n";
    for (auto& [states, v] : by_states) {
        std::sort(v.begin(), v.end(), [](const SweepCell* a, const SweepCell* b) { return a->tmr < b->tmr; });
        for (const SweepCell* c : v) s << fmt::format("{} {} {}\n", 100 * c->tmr, 100 * c->mean, 100 * c->std);
        s << "e\n";
    }
    run_gnuplot(s.str(), svg);
}

void plot_sweep_contour(const std::filesystem::path& svg, const std::vector<SweepCell>& cells,
                        const std::string& title) {
    std::map<int, std::map<double, double>> grid;  // states -> tmr -> mean
    for (const auto& c : cells) grid[c.states][c.tmr] = c.mean;
    std::ostringstream s;
    s << "set terminal svg size 800,600 dynamic font 'sans,12'\n"
      << "set output " << quote(svg.string()) << "\n"
      << "set title " << quote(title) << " noenhanced\n"
      << "set xlabel 'TMR (%)'\nset ylabel 'number of states'\nset cblabel 'test accuracy (%)'\n"
      << "set view map\nset palette rgbformulae 33,13,10\nset contour base\nset cntrparam levels 8\n"
      << "unset clabel\nset pm3d at b\nunset surface\nset key off\n";
    if (grid.size() < 2 || grid.begin()->second.size() < 2) {
        // a contour needs a 2-D grid; fall back to coloured points
        s << "plot '-' using 1:2:3 with points pt 5 ps 3 palette notitle\n";
        for (const auto& [states, row] : grid) {
            for (const auto& [tmr, mean] : row) s << fmt::format("{} {} {}\n", 100 * tmr, states, 100 * mean);
        }
        s << "e\n";
    } else {
        s << fmt::format("set xrange [{}:{}]\nset yrange [{}:{}]\n", 100 * grid.begin()->second.begin()->first,
                         100 * grid.begin()->second.rbegin()->first, grid.begin()->first, grid.rbegin()->first);
        // the same grid twice: filled map (pm3d) and black contour lines
        s << "splot '-' using 1:2:3 with pm3d notitle, '-' using 1:2:3 with lines lc rgb 'black' nosurface notitle\n";
        for (int copy = 0; copy < 2; ++copy) {
            for (const auto& [states, row] : grid) {
                for (const auto& [tmr, mean] : row) s << fmt::format("{} {} {}\n", 100 * tmr, states, 100 * mean);
                s << "\n";
            }
            s << "e\n";
        }
    }
    run_gnuplot(s.str(), svg);
}

}  // namespace mtjlab::ann
