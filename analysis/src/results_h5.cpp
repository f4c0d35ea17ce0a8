// results.h5: the analysis results in their own file (never inside a raw run file), written through the
// storage module's HDF5 RAII layer. Layout (docs/analysis.md):
//   /            attrs: schema "mtjlab-analysis-results", format_version, algorithm, algorithm_version,
//                       parameters (JSON), mtjlab_version, git_hash, created, inputs (count)
//   /runs/<col>  one 1-D dataset per column (figure values NaN when empty, strings as vlen UTF-8)
//   /groups/<col>, /trends/<col>, /conductance_states/<col>  (contract D: same names as the CSV)
#include <chrono>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "mtjlab/analysis/report.hpp"
#include "mtjlab/core/version.hpp"
#include "mtjlab/storage/h5.hpp"

namespace mtjlab::analysis {
namespace {

namespace h5 = storage::h5;

void write_doubles(h5::Group& g, const std::string& name, const std::vector<double>& v, const std::string& units,
                   const std::string& description) {
    auto ds = g.write_vector(name, v);
    ds.set_attribute("units", units);
    ds.set_attribute("description", description);
}

void write_strings(h5::Group& g, const std::string& name, const std::vector<std::string>& v,
                   const std::string& description) {
    auto ds = g.write_strings(name, v);
    ds.set_attribute("units", "1");
    ds.set_attribute("description", description);
}

std::string utc_now() {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string si_units(std::string_view u) { return u == "mT" ? "mT" : std::string(u); }

}  // namespace

void write_results_h5(const Campaign& c, const std::filesystem::path& path) {
    h5::silence();
    std::error_code ec;
    std::filesystem::remove(path, ec);  // results are derived data: regenerate
    auto f = h5::File::create(path.string());
    f.set_attribute("schema", "mtjlab-analysis-results");
    f.set_attribute("format_version", std::int64_t{1});
    f.set_attribute("algorithm", algorithm_name);
    f.set_attribute("algorithm_version", std::int64_t{algorithm_version});
    f.set_attribute("parameters", options_json(c.options).dump());
    f.set_attribute("mtjlab_version", std::string(version()));
    f.set_attribute("git_hash", std::string(git_hash()));
    f.set_attribute("created", utc_now());
    f.set_attribute("runs", static_cast<std::int64_t>(c.runs.size()));
    f.set_attribute("description",
                    "Figures extracted by mtjlab analyze; raw run files are unchanged. NaN = no value (see /runs/error "
                    "and the JSON reasons).");

    const auto keys = figure_keys();
    {
        auto g = f.create_group("runs");
        std::vector<std::string> name, source, kind, device, error, levels;
        std::vector<double> thick, cells, dead, nlev, ff;
        for (const auto& r : c.runs) {
            name.push_back(r.run.name);
            source.push_back(r.run.source);
            kind.emplace_back(to_string(r.run.kind));
            device.push_back(r.run.device.key());
            error.push_back(r.error);
            thick.push_back(r.run.device.thickness_nm);
            cells.push_back(r.run.device.cells > 0 ? r.run.device.cells : nan);
            dead.push_back(r.dead ? 1 : 0);
            const auto lv = levels_ohm(r);
            nlev.push_back(static_cast<double>(lv.size()));
            std::string s;
            for (double v : lv) {
                if (!s.empty()) s += ';';
                s += fmt::format("{:.10g}", v);
            }
            levels.push_back(s);
            ff.push_back(r.rv && r.rv->field_free_switching ? (*r.rv->field_free_switching ? 1.0 : 0.0) : nan);
        }
        write_strings(g, "run", name, "run id or file stem");
        write_strings(g, "source", source, "input file");
        write_strings(g, "kind", kind, "run kind");
        write_strings(g, "device", device, "wafer/die/device");
        write_strings(g, "error", error, "why the run could not be analysed (empty when it was)");
        write_strings(g, "levels_ohm", levels, "resistance levels in Ohm, ';'-separated, ascending");
        write_doubles(g, "thickness_nm", thick, "nm", "free-layer thickness");
        write_doubles(g, "cells", cells, "1", "cells in the compound device (NaN unknown)");
        write_doubles(g, "dead", dead, "1", "1 = dead device");
        write_doubles(g, "levels", nlev, "1", "number of resistance levels");
        write_doubles(g, "field_free_switching", ff, "1", "1 switched without assist field, 0 not, NaN n/a");
        std::vector<std::vector<double>> cols(keys.size());
        std::vector<std::string_view> units(keys.size()), labels(keys.size());
        for (const auto& r : c.runs) {
            const auto fig = figures(r);
            for (std::size_t k = 0; k < keys.size(); ++k) {
                cols[k].push_back(fig[k].value.ok() ? *fig[k].value : nan);
                units[k] = fig[k].unit;
                labels[k] = fig[k].label;
            }
        }
        for (std::size_t k = 0; k < keys.size(); ++k)
            write_doubles(g, std::string(keys[k]), cols[k], si_units(units[k]), std::string(labels[k]));
    }
    {
        auto g = f.create_group("groups");
        std::vector<double> t, cl, runs, devs, dead, fft, ffs;
        for (const auto& gr : c.groups) {
            t.push_back(gr.thickness_nm);
            cl.push_back(gr.cells > 0 ? gr.cells : nan);
            runs.push_back(static_cast<double>(gr.runs));
            devs.push_back(static_cast<double>(gr.devices));
            dead.push_back(static_cast<double>(gr.dead));
            fft.push_back(static_cast<double>(gr.field_free_tested));
            ffs.push_back(static_cast<double>(gr.field_free_switched));
        }
        write_doubles(g, "thickness_nm", t, "nm", "free-layer thickness");
        write_doubles(g, "cells", cl, "1", "cells per device");
        write_doubles(g, "runs", runs, "1", "runs in the group");
        write_doubles(g, "devices", devs, "1", "distinct devices");
        write_doubles(g, "dead", dead, "1", "dead devices");
        write_doubles(g, "field_free_tested", fft, "1", "field-free R(V) runs");
        write_doubles(g, "field_free_switched", ffs, "1", "field-free R(V) runs that switched");
        RunAnalysis dummy;
        const auto fig = figures(dummy);
        for (std::size_t k = 0; k < keys.size(); ++k) {
            std::vector<double> m, s, n;
            for (const auto& gr : c.groups) {
                const auto* st = gr.stat(keys[k]);
                m.push_back(st ? st->mean : nan);
                s.push_back(st ? st->std : nan);
                n.push_back(st ? static_cast<double>(st->count) : 0.0);
            }
            const std::string key(keys[k]);
            write_doubles(g, key + "_mean", m, si_units(fig[k].unit), "group mean (outliers, dead excluded)");
            write_doubles(g, key + "_std", s, si_units(fig[k].unit), "device-to-device standard deviation");
            write_doubles(g, key + "_n", n, "1", "values in the mean");
        }
    }
    {
        auto g = f.create_group("trends");
        std::vector<std::string> fig, model, param, reason;
        std::vector<double> cells, value, error, t0, pts;
        for (const auto& t : c.trends) {
            if (t.params.empty()) {
                fig.push_back(t.figure); model.push_back(t.model); param.emplace_back(); reason.push_back(t.reason);
                cells.push_back(t.cells); value.push_back(nan); error.push_back(nan); t0.push_back(nan);
                pts.push_back(static_cast<double>(t.points));
                continue;
            }
            for (std::size_t i = 0; i < t.params.size(); ++i) {
                fig.push_back(t.figure); model.push_back(t.model); param.push_back(t.param_names[i]);
                reason.emplace_back();
                cells.push_back(t.cells); value.push_back(t.params[i]);
                error.push_back(i < t.param_errors.size() ? t.param_errors[i] : nan);
                t0.push_back(t.t0_nm); pts.push_back(static_cast<double>(t.points));
            }
        }
        write_strings(g, "figure", fig, "figure key");
        write_strings(g, "model", model, "fitted model (t in nm)");
        write_strings(g, "param", param, "parameter name");
        write_strings(g, "reason", reason, "why no fit");
        write_doubles(g, "cells", cells, "1", "cells per device");
        write_doubles(g, "value", value, "1", "parameter value (units of the figure, t in nm)");
        write_doubles(g, "error", error, "1", "1-sigma uncertainty");
        write_doubles(g, "t0_nm", t0, "nm", "reference thickness of the exp model");
        write_doubles(g, "points", pts, "1", "thicknesses in the fit");
    }
    {
        auto g = f.create_group("conductance_states");
        g.set_attribute("description",
                        "Contract D: per (thickness, cells) one row per level; state 0 = lowest conductance (all "
                        "cells AP); g_norm = mean G / mean G of the top state; g_norm_std = device-to-device std.");
        std::vector<double> t, cl, st, gn, gs, r, rs, dv;
        for (const auto& row : c.conductance) {
            t.push_back(row.thickness_nm);
            cl.push_back(row.cells);
            st.push_back(row.state);
            gn.push_back(row.g_norm);
            gs.push_back(row.g_norm_std);
            r.push_back(row.r_ohm);
            rs.push_back(row.r_ohm_std);
            dv.push_back(static_cast<double>(row.devices));
        }
        write_doubles(g, "thickness_nm", t, "nm", "free-layer thickness");
        write_doubles(g, "cells", cl, "1", "cells per device");
        write_doubles(g, "state", st, "1", "0 = lowest conductance (all AP)");
        write_doubles(g, "g_norm", gn, "1", "normalised conductance (top state = 1)");
        write_doubles(g, "g_norm_std", gs, "1", "device-to-device standard deviation of g_norm");
        write_doubles(g, "r_ohm", r, "Ohm", "mean level resistance");
        write_doubles(g, "r_ohm_std", rs, "Ohm", "device-to-device standard deviation of the level resistance");
        write_doubles(g, "devices", dv, "1", "devices contributing");
    }
    f.close();
}

}  // namespace mtjlab::analysis
