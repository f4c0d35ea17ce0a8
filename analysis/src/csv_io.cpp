#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "mtjlab/analysis/io.hpp"
#include "mtjlab/core/text_file.hpp"

namespace mtjlab::analysis {
namespace {

std::string trim(std::string_view s) {
    std::size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
    return std::string(s.substr(a, b - a));
}

std::vector<std::string> split(const std::string& line) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : line) {
        if (ch == ',' || ch == ';' || ch == '\t') {
            out.push_back(trim(cur));
            cur.clear();
        } else {
            cur += ch;
        }
    }
    out.push_back(trim(cur));
    return out;
}

/// Parses a number; "nan", "" and "NA" are NaN. Returns false for garbage.
bool parse_number(const std::string& s, double& v) {
    if (s.empty() || s == "nan" || s == "NaN" || s == "NA" || s == "-") {
        v = nan;
        return true;
    }
    const char* b = s.data();
    const char* e = s.data() + s.size();
    if (*b == '+') ++b;
    auto [p, ec] = std::from_chars(b, e, v);
    return ec == std::errc() && p == e;
}

}  // namespace

Run parse_csv(const std::string& text, const std::string& name) {
    Run run;
    run.name = name;
    run.source = name;
    std::istringstream in(text);
    std::string line;
    std::size_t lineno = 0;
    std::map<std::string, std::string> meta;
    std::vector<std::string> header;
    while (std::getline(in, line)) {
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::string t = trim(line);
        if (t.empty()) continue;
        if (t[0] == '#') {
            const auto eq = t.find('=');
            if (eq != std::string::npos) meta[trim(t.substr(1, eq - 1))] = trim(t.substr(eq + 1));
            continue;
        }
        header = split(t);
        break;
    }
    if (header.empty()) {
        run.load_error = fmt::format("{}: empty file (no header line)", name);
        return run;
    }
    std::map<std::string, std::size_t> col;
    for (std::size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
    auto has = [&](const char* c) { return col.count(c) > 0; };
    const bool rh = has("H_mT") || has("H_T");
    const bool rv = has("V_V");
    const bool sw = rv && has("switched");
    if (!(rh && has("R_ohm")) && !(rv && has("R_ohm")) && !sw) {
        std::string got;
        for (const auto& h : header) {
            if (!got.empty()) got += ',';
            got += h;
        }
        run.load_error = fmt::format(
            "{}:{}: wrong columns '{}': need H_mT,R_ohm or V_V,R_ohm (or V_V,switched)", name, lineno, got);
        return run;
    }
    // Metadata from comments.
    auto meta_num = [&](const char* key, double& v) {
        auto it = meta.find(key);
        if (it == meta.end()) return;
        double x = nan;
        if (parse_number(it->second, x)) v = x;
        else run.load_notes.push_back(fmt::format("ignored comment {}={} (not a number)", key, it->second));
    };
    meta_num("thickness_nm", run.device.thickness_nm);
    double cells = nan;
    meta_num("cells", cells);
    if (std::isfinite(cells)) run.device.cells = static_cast<int>(std::lround(cells));
    if (meta.count("wafer")) run.device.wafer = meta["wafer"];
    if (meta.count("die")) run.device.die = meta["die"];
    if (meta.count("device")) run.device.device = meta["device"];
    double assist_mT = nan;
    meta_num("assist_mT", assist_mT);

    if (sw && !has("R_ohm")) run.kind = RunKind::switching_probability;
    else if (rh && has("R_ohm")) run.kind = RunKind::rh_loop;
    else run.kind = RunKind::rv_pulse_train;
    if (meta.count("kind")) {
        const RunKind k = run_kind_from_string(meta["kind"]);
        if (k == RunKind::unknown) run.load_notes.push_back("ignored unknown kind '" + meta["kind"] + "'");
        else run.kind = k;
    }

    const double xscale = has("H_mT") ? 1e-3 : 1.0;
    const std::size_t cx = rh ? (has("H_mT") ? col["H_mT"] : col["H_T"]) : col["V_V"];
    const bool has_r = has("R_ohm");
    const std::size_t cr = has_r ? col["R_ohm"] : 0;
    std::vector<double> th, ce;
    std::size_t bad_rows = 0;
    std::string first_bad;
    while (std::getline(in, line)) {
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const std::string t = trim(line);
        if (t.empty() || t[0] == '#') continue;
        const auto f = split(t);
        auto get = [&](const char* c, double& v) -> bool {
            auto it = col.find(c);
            if (it == col.end()) return true;
            if (it->second >= f.size()) {
                v = nan;
                return false;
            }
            return parse_number(f[it->second], v);
        };
        double x = nan, r = nan, b = nan, d = nan, tn = nan, cn = nan, as = nan, swd = nan;
        bool ok = cx < f.size() && parse_number(f[cx], x);
        if (has_r) ok = ok && cr < f.size() && parse_number(f[cr], r);
        ok = ok && get("branch", b) && get("direction", d) && get("thickness_nm", tn) && get("cells", cn) &&
             get("assist_mT", as) && get("switched", swd);
        if (!ok) {
            ++bad_rows;
            if (first_bad.empty()) first_bad = fmt::format("line {}", lineno);
            continue;
        }
        x *= xscale;
        if (run.kind == RunKind::switching_probability) {
            if (!std::isfinite(x) || !(swd == 0 || swd == 1)) {
                ++bad_rows;
                continue;
            }
            run.trials.amplitude_V.push_back(x);
            run.trials.switched.push_back(static_cast<int>(swd));
            continue;
        }
        run.sweep.x.push_back(x);
        run.sweep.r_ohm.push_back(r);
        if (has("branch")) run.sweep.branch.push_back(std::isfinite(b) ? static_cast<int>(std::lround(b)) : -1);
        if (has("direction"))
            run.sweep.direction.push_back(std::isfinite(d) ? (d > 0 ? 1 : (d < 0 ? -1 : 0)) : 0);
        if (has("assist_mT")) run.sweep.assist_T.push_back(as * 1e-3);
        if (std::isfinite(tn)) th.push_back(tn);
        if (std::isfinite(cn)) ce.push_back(cn);
    }
    if (!has("assist_mT") && std::isfinite(assist_mT) && !run.sweep.x.empty())
        run.sweep.assist_T.assign(run.sweep.x.size(), assist_mT * 1e-3);
    if (!th.empty() && !std::isfinite(run.device.thickness_nm)) run.device.thickness_nm = th.front();
    if (!ce.empty() && run.device.cells == 0) run.device.cells = static_cast<int>(std::lround(ce.front()));
    if (bad_rows)
        run.load_notes.push_back(fmt::format("{}: skipped {} unparseable row(s), first at {}", name, bad_rows, first_bad));
    if (run.sweep.x.empty() && run.trials.amplitude_V.empty())
        run.load_error = fmt::format("{}: no data rows after the header", name);
    return run;
}

Run read_csv(const std::filesystem::path& path) {
    Run run;
    std::string text;
    try {
        text = read_text_file(path, max_csv_bytes, "CSV");
    } catch (const InputError& e) {
        run.name = path.stem().string();
        run.source = path.string();
        run.load_error = e.what();
        return run;
    }
    run = parse_csv(text, path.string());
    run.name = path.stem().string();
    run.source = path.string();
    return run;
}

bool is_hdf5_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    char sig[8] = {};
    if (!in.read(sig, 8)) return false;
    static constexpr char want[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
    return std::equal(sig, sig + 8, want);
}

std::vector<std::filesystem::path> collect_inputs(const std::vector<std::filesystem::path>& inputs,
                                                  const std::filesystem::path& exclude) {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path ex = exclude.empty() ? fs::path{} : fs::weakly_canonical(exclude, ec);
    static const std::set<std::string> outputs = {"results.h5", "runs.csv", "groups.csv", "trends.csv",
                                                  "conductance_states.csv", "switching_probability.csv",
                                                  "levels.csv"};
    auto excluded = [&](const fs::path& p) {
        if (ex.empty()) return false;
        const auto c = fs::weakly_canonical(p, ec).string();
        const auto e = ex.string();
        return c.size() >= e.size() && c.compare(0, e.size(), e) == 0 &&
               (c.size() == e.size() || c[e.size()] == '/');
    };
    std::vector<fs::path> out;
    for (const auto& in : inputs) {
        if (fs::is_directory(in, ec)) {
            std::vector<fs::path> found;
            for (auto it = fs::recursive_directory_iterator(in, fs::directory_options::skip_permission_denied, ec);
                 it != fs::recursive_directory_iterator(); it.increment(ec)) {
                if (ec) break;
                const auto& p = it->path();
                if (it->is_directory(ec) && excluded(p)) {
                    it.disable_recursion_pending();
                    continue;
                }
                if (!it->is_regular_file(ec)) continue;
                const auto ext = p.extension().string();
                if (ext != ".h5" && ext != ".hdf5" && ext != ".csv") continue;
                if (outputs.count(p.filename().string()) || excluded(p)) continue;
                found.push_back(p);
            }
            std::sort(found.begin(), found.end());
            out.insert(out.end(), found.begin(), found.end());
        } else {
            out.push_back(in);
        }
    }
    return out;
}

std::vector<Run> load_runs(const std::vector<std::filesystem::path>& paths) {
    std::vector<Run> runs;
    std::map<std::string, int> seen;
    for (const auto& p : paths) {
        std::error_code ec;
        Run r;
        if (!std::filesystem::exists(p, ec)) {
            r.name = p.stem().string();
            r.source = p.string();
            r.load_error = fmt::format("{}: no such file or directory", p.string());
        } else if (is_hdf5_file(p)) {
            r = read_run_file(p);
        } else {
            r = read_csv(p);
        }
        if (r.name.empty()) r.name = p.stem().string();
        if (int n = seen[r.name]++; n > 0) r.name += fmt::format("#{}", n + 1);
        runs.push_back(std::move(r));
    }
    return runs;
}

}  // namespace mtjlab::analysis
