// CSV tables. Empty cells mean "no value" (the reason is in runs.csv `error`/JSON `reasons`).
#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "mtjlab/analysis/report.hpp"
#include "mtjlab/core/error.hpp"

namespace mtjlab::analysis {
namespace {

std::string q(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string o = "\"";
    for (char c : s) {
        if (c == '"') o += '"';
        o += (c == '\n' || c == '\r') ? ' ' : c;
    }
    return o + "\"";
}

std::string n(double v) { return std::isfinite(v) ? fmt::format("{:.10g}", v) : std::string(); }

class CsvFile {
public:
    explicit CsvFile(const std::filesystem::path& p) : path_(p), out_(p, std::ios::trunc) {
        if (!out_) throw StorageError(fmt::format("{}: cannot create file", p.string()));
    }
    void row(const std::vector<std::string>& cells) {
        for (std::size_t i = 0; i < cells.size(); ++i) out_ << (i ? "," : "") << cells[i];
        out_ << '\n';
    }
    void close() {
        out_.close();
        if (!out_) throw StorageError(fmt::format("{}: write failed", path_.string()));
    }

private:
    std::filesystem::path path_;
    std::ofstream out_;
};

}  // namespace

std::vector<std::filesystem::path> write_csv_tables(const Campaign& c, const std::filesystem::path& dir) {
    std::vector<std::filesystem::path> files;
    const auto keys = figure_keys();
    {
        const auto p = dir / "runs.csv";
        CsvFile f(p);
        std::vector<std::string> h{"run", "source", "kind", "thickness_nm", "cells", "device"};
        for (auto k : keys) h.emplace_back(k);
        for (const char* k : {"levels", "levels_ohm", "field_free_switching", "dead", "outliers", "error"}) h.emplace_back(k);
        f.row(h);
        for (const auto& r : c.runs) {
            std::vector<std::string> row{q(r.run.name), q(r.run.source), std::string(to_string(r.run.kind)),
                                         n(r.run.device.thickness_nm),
                                         r.run.device.cells > 0 ? std::to_string(r.run.device.cells) : "",
                                         q(r.run.device.key())};
            for (const auto& fig : figures(r)) row.push_back(fig.value.ok() ? n(*fig.value) : "");
            const auto lv = levels_ohm(r);
            std::string lvs;
            for (double v : lv) {
                if (!lvs.empty()) lvs += ';';
                lvs += n(v);
            }
            row.push_back(lv.empty() ? "" : std::to_string(lv.size()));
            row.push_back(lvs);
            row.push_back(r.rv && r.rv->field_free_switching ? (*r.rv->field_free_switching ? "1" : "0") : "");
            row.push_back(r.dead ? "1" : "0");
            std::string outl;
            for (const auto& o : r.outliers) {
                if (!outl.empty()) outl += ';';
                outl += o;
            }
            row.push_back(outl);
            row.push_back(q(r.error));
            f.row(row);
        }
        f.close();
        files.push_back(p);
    }
    {
        const auto p = dir / "groups.csv";
        CsvFile f(p);
        std::vector<std::string> h{"thickness_nm", "cells", "runs", "devices", "dead", "field_free_tested",
                                   "field_free_switched"};
        for (auto k : keys)
            for (const char* s : {"_mean", "_std", "_n"}) h.push_back(std::string(k) + s);
        f.row(h);
        for (const auto& g : c.groups) {
            std::vector<std::string> row{n(g.thickness_nm), g.cells > 0 ? std::to_string(g.cells) : "",
                                         std::to_string(g.runs), std::to_string(g.devices), std::to_string(g.dead),
                                         std::to_string(g.field_free_tested), std::to_string(g.field_free_switched)};
            for (auto k : keys) {
                const auto* s = g.stat(k);
                row.push_back(s ? n(s->mean) : "");
                row.push_back(s ? n(s->std) : "");
                row.push_back(s ? std::to_string(s->count) : "0");
            }
            f.row(row);
        }
        f.close();
        files.push_back(p);
    }
    {
        // One row per device: identity, runs, dead flag and outlier flags (device-level statistics).
        const auto p = dir / "devices.csv";
        CsvFile f(p);
        f.row({"device", "thickness_nm", "cells", "runs", "dead", "dead_reason", "outliers", "notes"});
        for (const auto& d : c.devices) {
            std::string runs, outl, notes;
            for (std::size_t i : d.runs) runs += (runs.empty() ? "" : ";") + c.runs[i].run.name;
            for (const auto& o : d.outliers) outl += (outl.empty() ? "" : ";") + o;
            for (const auto& o : d.notes) notes += (notes.empty() ? "" : "; ") + o;
            f.row({q(d.key), n(d.thickness_nm), d.cells > 0 ? std::to_string(d.cells) : "", q(runs),
                   d.dead ? "1" : "0", q(d.dead_reason), outl, q(notes)});
        }
        f.close();
        files.push_back(p);
    }
    {
        const auto p = dir / "trends.csv";
        CsvFile f(p);
        f.row({"figure", "cells", "model", "param", "value", "error", "t0_nm", "points", "rms_residual", "reason"});
        for (const auto& t : c.trends) {
            if (t.params.empty()) {
                f.row({t.figure, std::to_string(t.cells), q(t.model), "", "", "", "", std::to_string(t.points), "",
                       q(t.reason)});
                continue;
            }
            for (std::size_t i = 0; i < t.params.size(); ++i)
                f.row({t.figure, std::to_string(t.cells), q(t.model), t.param_names[i], n(t.params[i]),
                       i < t.param_errors.size() ? n(t.param_errors[i]) : "", n(t.t0_nm), std::to_string(t.points),
                       n(t.rms_residual), ""});
        }
        f.close();
        files.push_back(p);
    }
    {
        const auto p = dir / "conductance_states.csv";
        CsvFile f(p);
        f.row({"thickness_nm", "cells", "state", "g_norm", "g_norm_std", "r_ohm", "r_ohm_std", "devices"});
        for (const auto& r : c.conductance)
            f.row({n(r.thickness_nm), std::to_string(r.cells), std::to_string(r.state), n(r.g_norm), n(r.g_norm_std),
                   n(r.r_ohm), n(r.r_ohm_std), std::to_string(r.devices)});
        f.close();
        files.push_back(p);
    }
    {
        const auto p = dir / "switching_probability.csv";
        CsvFile f(p);
        f.row({"run", "amplitude_V", "trials", "switched", "p_sw"});
        for (const auto& r : c.runs)
            if (r.psw)
                for (const auto& pt : r.psw->table)
                    f.row({q(r.run.name), n(pt.amplitude_V), std::to_string(pt.trials), std::to_string(pt.switched),
                           n(double(pt.switched) / double(pt.trials))});
        f.close();
        files.push_back(p);
    }
    {
        const auto p = dir / "levels.csv";
        CsvFile f(p);
        f.row({"run", "level", "r_ohm", "r_std_ohm", "points"});
        for (const auto& r : c.runs) {
            const Levels* l = r.rv ? &r.rv->levels : (r.rh ? &r.rh->levels : nullptr);
            if (!l) continue;
            for (std::size_t i = 0; i < l->levels.size(); ++i)
                f.row({q(r.run.name), std::to_string(i), n(l->levels[i].r_ohm), n(l->levels[i].r_std_ohm),
                       std::to_string(l->levels[i].points)});
        }
        f.close();
        files.push_back(p);
    }
    return files;
}

}  // namespace mtjlab::analysis
