#include "mtjlab/ann/levels.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "mtjlab/storage/h5.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/text_file.hpp"
#include "whole_number.hpp"

namespace mtjlab::ann {
namespace fs = std::filesystem;

LevelSet parametric_levels(double tmr, int cells, double rel_sigma) {
    if (!(tmr > 0) || !std::isfinite(tmr)) throw InputError(fmt::format("TMR must be positive, got {}", tmr));
    if (cells < 1 || cells > 64) throw InputError(fmt::format("cells must be 1..64, got {}", cells));
    if (!(rel_sigma >= 0)) throw InputError(fmt::format("relative spread must be >= 0, got {}", rel_sigma));
    LevelSet l;
    l.source = "parametric";
    l.cells = cells;
    const double n = cells;
    for (int k = 0; k <= cells; ++k) {
        const double g = (k + (n - k) / (1.0 + tmr)) / n;
        l.g.push_back(g);
        l.g_std.push_back(rel_sigma * g);
    }
    l.g.back() = 1.0;
    return l;
}

namespace {

struct Row {
    double thickness = 0, g = 0, g_std = 0, r = 0;
    int cells = 0, state = 0, devices = 0;
    std::size_t line = 0;
};

std::vector<std::string> split_csv(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : line) {
        if (c == ',') {
            out.push_back(cur);
            cur.clear();
        } else if (c != '\r' && c != '"') {
            cur.push_back(c);
        }
    }
    out.push_back(cur);
    for (auto& s : out) {
        const auto b = s.find_first_not_of(" \t");
        const auto e = s.find_last_not_of(" \t");
        s = b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
    }
    return out;
}

double parse_number(const std::string& s, const fs::path& file, std::size_t line, const std::string& column) {
    double v = 0;
    const auto* end = s.data() + s.size();
    const auto [ptr, ec] = std::from_chars(s.data(), end, v);
    if (s.empty() || ec != std::errc{} || ptr != end || !std::isfinite(v)) {
        throw InputError(fmt::format("{}:{}: column {}: '{}' is not a finite number", file.string(), line, column, s));
    }
    return v;
}

// Integer columns (cells, state, devices) are stored as numbers: whole numbers in 0..10^6 (whole_number.hpp).
constexpr double kMaxWhole = 1e6;
// Rows of a table: a measured campaign has tens; an HDF5 table declaring more is refused before it is read.
constexpr std::size_t kMaxRows = 1'000'000;

int whole_number(double v, const std::string& where, const std::string& column) {
    return static_cast<int>(detail::checked_whole(v, kMaxWhole, where, "column " + column));
}

std::vector<Row> read_csv_rows(const fs::path& file) {
    // Bounded like every CSV import (an endless file such as /dev/zero is one InputError, not all the memory).
    std::istringstream in(read_text_file(file, max_csv_bytes, "levels CSV"));
    std::string line;
    std::size_t lineno = 0;
    std::vector<std::string> header;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
        header = split_csv(line);
        break;
    }
    if (header.empty()) throw InputError(fmt::format("{}: empty file (no header)", file.string()));
    const std::vector<std::string> needed{"thickness_nm", "cells", "state", "g_norm", "g_norm_std"};
    std::map<std::string, std::size_t> col;
    for (std::size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
    for (const auto& n : needed) {
        if (!col.count(n)) {
            throw InputError(fmt::format("{}:{}: header has no column '{}' (expected thickness_nm,cells,state,"
                                         "g_norm,g_norm_std,r_ohm,r_ohm_std,devices)",
                                         file.string(), lineno, n));
        }
    }
    std::vector<Row> rows;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.find_first_not_of(" \t\r") == std::string::npos || line[0] == '#') continue;
        const auto f = split_csv(line);
        if (f.size() != header.size()) {
            throw InputError(fmt::format("{}:{}: {} fields, the header has {}", file.string(), lineno, f.size(),
                                         header.size()));
        }
        auto get = [&](const std::string& c) { return parse_number(f[col[c]], file, lineno, c); };
        const std::string where = fmt::format("{}:{}", file.string(), lineno);
        auto whole = [&](const std::string& c) { return whole_number(get(c), where, c); };
        Row r;
        r.line = lineno;
        r.thickness = get("thickness_nm");
        r.cells = whole("cells");
        r.state = whole("state");
        r.g = get("g_norm");
        r.g_std = get("g_norm_std");
        if (col.count("r_ohm")) r.r = get("r_ohm");
        if (col.count("devices")) r.devices = whole("devices");
        if (rows.size() >= kMaxRows) throw InputError(fmt::format("{}: more than {} rows", where, kMaxRows));
        rows.push_back(r);
    }
    return rows;
}

std::vector<Row> read_h5_rows(const fs::path& file) {
    const auto f = storage::h5::File::open(file.string(), storage::h5::Access::read_only);
    if (!f.exists("conductance_states")) {
        throw InputError(fmt::format("{}: no group /conductance_states", file.string()));
    }
    auto col = [&](const std::string& name, bool required) {
        const std::string p = "conductance_states/" + name;
        if (!f.exists(p)) {
            if (required) throw InputError(fmt::format("{}: no dataset /{}", file.string(), p));
            return std::vector<double>{};
        }
        const auto ds = f.open_dataset(p);
        const auto dims = ds.dims();
        if (dims.size() != 1) throw InputError(fmt::format("{}: /{} is not a 1-D dataset", file.string(), p));
        if (dims[0] > kMaxRows)
            throw InputError(fmt::format("{}: /{} declares {} rows, more than {}", file.string(), p, dims[0], kMaxRows));
        return ds.read_doubles();
    };
    const auto th = col("thickness_nm", true), cells = col("cells", true), state = col("state", true),
               g = col("g_norm", true), gs = col("g_norm_std", true), r = col("r_ohm", false),
               dev = col("devices", false);
    const std::size_t n = th.size();
    if (cells.size() != n || state.size() != n || g.size() != n || gs.size() != n || (!r.empty() && r.size() != n) ||
        (!dev.empty() && dev.size() != n)) {
        throw InputError(fmt::format("{}: /conductance_states columns have different lengths", file.string()));
    }
    std::vector<Row> rows(n);
    for (std::size_t i = 0; i < n; ++i) {
        for (double v : {th[i], g[i], gs[i], cells[i], state[i], r.empty() ? 0.0 : r[i]}) {
            if (!std::isfinite(v)) throw InputError(fmt::format("{}: row {}: non-finite value", file.string(), i + 1));
        }
        const std::string where = fmt::format("{}: row {}", file.string(), i + 1);
        rows[i].line = i + 1;
        rows[i].thickness = th[i];
        rows[i].cells = whole_number(cells[i], where, "cells");
        rows[i].state = whole_number(state[i], where, "state");
        rows[i].g = g[i];
        rows[i].g_std = gs[i];
        rows[i].r = r.empty() ? 0.0 : r[i];
        rows[i].devices = dev.empty() ? 0 : whole_number(dev[i], where, "devices");
    }
    return rows;
}

}  // namespace

std::vector<LevelSet> read_states_table(const fs::path& file) {
    const auto ext = file.extension().string();
    const bool h5 = ext == ".h5" || ext == ".hdf5" || ext == ".he5";
    if (h5) {  // a crafted file can crash libhdf5 itself: the same reads run in a probe process first (h5.hpp)
        storage::h5::crash_probe(file.string(), [&] { (void)read_h5_rows(file); });
    }
    const std::vector<Row> rows = h5 ? read_h5_rows(file) : read_csv_rows(file);
    // CSV problems point at file:line, HDF5 ones at the row index
    auto at = [&](const Row& r) {
        return h5 ? fmt::format("{}: row {}", file.string(), r.line) : fmt::format("{}:{}", file.string(), r.line);
    };
    if (rows.empty()) throw InputError(fmt::format("{}: no conductance states in the table", file.string()));
    std::map<std::pair<long long, int>, std::vector<Row>> groups;  // thickness in pm to group exactly
    for (const Row& r : rows) {
        if (r.g <= 0) {
            throw InputError(fmt::format("{}: g_norm {} is not a positive conductance", at(r), r.g));
        }
        if (r.g_std < 0) {
            throw InputError(fmt::format("{}: g_norm_std {} is negative", at(r), r.g_std));
        }
        if (r.r < 0) {
            throw InputError(fmt::format("{}: r_ohm {} is negative", at(r), r.r));
        }
        if (r.cells < 1) throw InputError(fmt::format("{}: cells must be >= 1", at(r)));
        if (!(r.thickness > 0.0 && r.thickness < 1000.0))
            throw InputError(fmt::format("{}: thickness_nm {} is not in (0, 1000) nm", at(r), r.thickness));
        groups[{std::llround(r.thickness * 1000.0), r.cells}].push_back(r);
    }
    std::vector<LevelSet> out;
    for (auto& [key, grp] : groups) {
        std::sort(grp.begin(), grp.end(), [](const Row& a, const Row& b) { return a.state < b.state; });
        const double th = grp.front().thickness;
        const std::string id = fmt::format("thickness {} nm, {} cells", th, key.second);
        if (grp.size() < 2) {
            throw InputError(fmt::format("{}: group ({}) has {} level; at least 2 are needed", file.string(), id,
                                         grp.size()));
        }
        for (std::size_t i = 0; i < grp.size(); ++i) {
            if (grp[i].state != static_cast<int>(i)) {
                throw InputError(fmt::format("{}: group ({}): states must be 0..{} without gaps or repeats", file.string(),
                                             id, grp.size() - 1));
            }
            if (i > 0 && !(grp[i].g > grp[i - 1].g)) {
                throw InputError(fmt::format("{}: group ({}): g_norm must increase with state", at(grp[i]), id));
            }
        }
        LevelSet l;
        l.source = file.string();
        l.thickness_nm = th;
        l.cells = key.second;
        const double top = grp.back().g;
        for (const Row& r : grp) {
            l.g.push_back(r.g / top);
            l.g_std.push_back(r.g_std / top);
            l.r_ohm.push_back(r.r);
            l.devices = std::max(l.devices, r.devices);
        }
        l.g.back() = 1.0;
        out.push_back(std::move(l));
    }
    return out;
}

const LevelSet& select_group(const std::vector<LevelSet>& groups, const fs::path& file,
                             std::optional<double> thickness_nm, std::optional<int> cells) {
    std::vector<const LevelSet*> hits;
    for (const auto& g : groups) {
        if (thickness_nm && std::abs(g.thickness_nm - *thickness_nm) > 1e-6) continue;
        if (cells && g.cells != *cells) continue;
        hits.push_back(&g);
    }
    if (hits.size() == 1) return *hits.front();
    std::string list;
    for (const auto& g : groups) list += fmt::format("{}{} nm/{} cells", list.empty() ? "" : ", ", g.thickness_nm, g.cells);
    if (hits.empty()) throw InputError(fmt::format("{}: no group matches (groups: {})", file.string(), list));
    throw InputError(fmt::format("{}: {} groups match; choose one with --thickness and --cells (groups: {})",
                                 file.string(), hits.size(), list));
}

}  // namespace mtjlab::ann
