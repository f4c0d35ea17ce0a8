// mtjlab h5 compare REFERENCE CANDIDATE: are two run files (or two campaign directories) the same
// measurement? Used by the fault-injection soak (scripts/soak) to compare a run under faults, kills and
// resumes against a fault-free run of the same seed; useful to anyone who re-ran or resumed a campaign.
//
// "Same" (docs/reliability.md, section Soak):
//  - structure, exact: the same run files; per file the same kind, recipe text, device, final status and
//    row count (fewer rows = points lost, more = points duplicated); the same columns; every setpoint and
//    bookkeeping column (field_T, pulse_amplitude_V, pulse_width_s, assist_field_T, branch, direction,
//    trial) bit-identical row by row; time_s non-decreasing (a duplicated or re-ordered row breaks it).
//  - measured values, within tolerance: field_measured_T within --field-tol (default 50 uT = 10 sigma of
//    the gaussmeter noise); resistance_ohm, resistance_before_ohm and x_V either within --r-tol (relative,
//    default 2 %) of the reference row (same magnetic state), or, where the device's stochastic state
//    differs (thermal switching draws from the same generator as the read noise, so a retried read or a
//    resumed process shifts it), within --r-tol of some value the reference run measured (a state the
//    device really has; for a device of several cells, any value between the reference's extremes, as the
//    reference visits only some of its 2^cells states). A value on no level, non-finite where the reference is finite, or the other way
//    round, is corrupted. y_V within --r-tol of the reference's largest |x_V| (quadrature noise).
//  - campaign.json: the same jobs with the same status and rows.
// Exit 0 when the same, 1 when they differ (like cmp), 2 for unreadable input.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/storage/run_file.hpp"

namespace mtjlab::cli {
namespace {
namespace fs = std::filesystem;

struct Tolerances {
    double field_T = 50e-6;
    double r_rel = 0.02;
};

/// What one comparison found.
struct Tally {
    std::size_t files = 0;
    std::size_t rows = 0;
    std::size_t same_state = 0;      // measured values within tolerance of the reference row
    std::size_t other_state = 0;     // a different (stochastic) state, but on a level of the reference
    std::size_t corrupted = 0;       // values on no level / non-finite mismatch
    std::size_t structural = 0;      // missing/extra files, status, rows, setpoints, columns
    std::vector<std::string> problems;  // first few, for the report
    void problem(std::string s) {
        if (problems.size() < 40) problems.push_back(std::move(s));
    }
};

bool same_bits(double a, double b) {
    if (std::isnan(a) && std::isnan(b)) return true;
    return a == b;
}

const std::set<std::string>& exact_columns() {
    static const std::set<std::string> s = {"field_T",        "pulse_amplitude_V", "pulse_width_s", "assist_field_T",
                                            "branch",         "direction",         "trial"};
    return s;
}

const std::set<std::string>& level_columns() {
    static const std::set<std::string> s = {"resistance_ohm", "resistance_before_ohm", "x_V"};
    return s;
}

bool near_rel(double a, double b, double rel) {
    if (!std::isfinite(a) || !std::isfinite(b)) return std::isinf(a) && std::isinf(b) && (a > 0) == (b > 0);
    return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b));
}

/// Whether `v` is within `rel` of some value of `levels` (a reference column, a few hundred values).
bool on_level(double v, const std::vector<double>& levels, double rel) {
    if (!std::isfinite(v)) return false;
    for (double l : levels)
        if (near_rel(l, v, rel)) return true;
    return false;
}

/// Readings of one device over a whole reference campaign, per column: the states the device has.
using DeviceLevels = std::map<std::string, std::vector<double>>;

std::string device_key(const storage::DeviceIdentity& d) {
    return fmt::format("{}/{}/{}", d.wafer_id, d.die, d.device);
}

void compare_files(const fs::path& a_path, const fs::path& b_path, const Tolerances& tol, Tally& t,
                   const DeviceLevels* device_levels = nullptr) {
    const std::string name = b_path.filename().string();
    ++t.files;
    const auto a = storage::RunReader::open(a_path);
    const auto b = storage::RunReader::open(b_path);
    auto structural = [&](const std::string& what) {
        ++t.structural;
        t.problem(name + ": " + what);
    };
    if (a.info().kind != b.info().kind) structural("kind " + a.info().kind + " vs " + b.info().kind);
    if (a.info().recipe_text != b.info().recipe_text) structural("recipe text differs");
    const auto& da = a.info().device;
    const auto& db = b.info().device;
    if (da.wafer_id != db.wafer_id || da.die != db.die || da.device != db.device || da.cells != db.cells ||
        da.thickness_nm != db.thickness_nm)
        structural("device differs");
    if (a.status() != b.status())
        structural(fmt::format("status {} vs {} ({})", storage::to_string(a.status()), storage::to_string(b.status()),
                               b.info().error_message));
    if (a.size() != b.size())
        structural(fmt::format("{} rows vs {} ({})", a.size(), b.size(),
                               b.size() < a.size() ? "points lost" : "points duplicated or extra"));
    const auto names_a = a.column_names();
    const auto names_b = b.column_names();
    if (std::set<std::string>(names_a.begin(), names_a.end()) != std::set<std::string>(names_b.begin(), names_b.end()))
        structural("different columns");
    const std::size_t n = std::min(a.size(), b.size());
    t.rows += n;
    std::vector<bool> row_other(n, false), row_bad(n, false);
    // x_V scale for the quadrature check.
    double x_scale = 0;
    if (a.has_column("x_V"))
        for (double x : a.column("x_V"))
            if (std::isfinite(x)) x_scale = std::max(x_scale, std::abs(x));
    for (const auto& col : names_a) {
        if (!b.has_column(col)) continue;
        auto va = a.column(col);
        auto vb = b.column(col);
        va.resize(n);
        vb.resize(n);
        if (exact_columns().count(col)) {
            for (std::size_t i = 0; i < n; ++i)
                if (!same_bits(va[i], vb[i])) {
                    structural(fmt::format("row {} {}: {} vs {}", i, col, va[i], vb[i]));
                    break;
                }
        } else if (col == "time_s") {
            for (std::size_t i = 1; i < vb.size(); ++i)
                if (!(vb[i] >= vb[i - 1])) {
                    structural(fmt::format("row {} time_s goes back ({} after {}): duplicated or re-ordered row", i,
                                           vb[i], vb[i - 1]));
                    break;
                }
        } else if (col == "field_measured_T") {
            for (std::size_t i = 0; i < n; ++i) {
                const bool ok = (std::isnan(va[i]) && std::isnan(vb[i])) || std::abs(va[i] - vb[i]) <= tol.field_T;
                if (!ok) {
                    if (!row_bad[i]) t.problem(fmt::format("{}: row {} field_measured_T {} vs {}", name, i, va[i], vb[i]));
                    row_bad[i] = true;
                }
            }
        } else if (level_columns().count(col)) {
            std::vector<double> levels;
            double lo = std::numeric_limits<double>::infinity(), hi = -lo;
            std::vector<double> all = a.column(col);  // every row of the reference
            if (device_levels)                        // and every reading of the device in the reference campaign
                if (auto it = device_levels->find(col); it != device_levels->end())
                    all.insert(all.end(), it->second.begin(), it->second.end());
            for (double v : all)
                if (std::isfinite(v)) {
                    levels.push_back(v);
                    lo = std::min(lo, v);
                    hi = std::max(hi, v);
                }
            // A compound device of several cells has 2^cells states; a run visits only some. Any value between
            // its all-P and all-AP readings (the extremes of the reference) is a state it can be in.
            const bool compound = a.info().device.cells > 1;
            auto in_range = [&](double v) {
                return compound && std::isfinite(v) && v >= lo - tol.r_rel * std::abs(lo) && v <= hi + tol.r_rel * std::abs(hi);
            };
            for (std::size_t i = 0; i < n; ++i) {
                if (same_bits(va[i], vb[i]) || near_rel(va[i], vb[i], tol.r_rel)) continue;
                if (on_level(vb[i], levels, tol.r_rel) || in_range(vb[i])) {
                    row_other[i] = true;
                } else {
                    if (!row_bad[i]) t.problem(fmt::format("{}: row {} {} {} vs {} (on no level of the reference)", name, i,
                                                          col, va[i], vb[i]));
                    row_bad[i] = true;
                }
            }
        } else if (col == "y_V") {
            for (std::size_t i = 0; i < n; ++i) {
                const bool ok = same_bits(va[i], vb[i]) || (std::isfinite(vb[i]) && std::isfinite(va[i]) &&
                                                            std::abs(vb[i] - va[i]) <= tol.r_rel * x_scale);
                if (!ok) {
                    if (!row_bad[i]) t.problem(fmt::format("{}: row {} y_V {} vs {}", name, i, va[i], vb[i]));
                    row_bad[i] = true;
                }
            }
        }
        // switched follows the resistance (a different state may switch at another point): not compared.
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (row_bad[i]) ++t.corrupted;
        else if (row_other[i]) ++t.other_state;
        else ++t.same_state;
    }
}

std::map<std::string, std::pair<std::string, std::size_t>> manifest_jobs(const fs::path& p) {
    std::map<std::string, std::pair<std::string, std::size_t>> out;
    std::ifstream in(p);
    nlohmann::json m;
    try {
        m = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw InputError(p.string() + ": unreadable campaign manifest: " + e.what());
    }
    if (!m.contains("jobs") || !m["jobs"].is_array()) throw InputError(p.string() + ": no 'jobs' list");
    for (const auto& j : m["jobs"])
        out[j.value("name", std::string())] = {j.value("status", std::string()), j.value("rows", std::size_t{0})};
    return out;
}

void compare_dirs(const fs::path& a, const fs::path& b, const Tolerances& tol, Tally& t) {
    auto list = [](const fs::path& d) {
        std::set<std::string> s;
        for (const auto& e : fs::directory_iterator(d))
            if (e.is_regular_file() && e.path().extension() == ".h5") s.insert(e.path().filename().string());
        return s;
    };
    const auto fa = list(a);
    const auto fb = list(b);
    // A resumed process may meet the device in a state this run of the reference never visited but another
    // run on the same device did (the R(H) loop visits P and AP): collect each device's readings first.
    std::map<std::string, DeviceLevels> devices;
    for (const auto& f : fa) {
        const auto r = storage::RunReader::open(a / f);
        auto& lv = devices[device_key(r.info().device)];
        for (const auto& col : level_columns())
            if (r.has_column(col)) {
                auto v = r.column(col);
                auto& dst = lv[col == "resistance_before_ohm" ? "resistance_ohm" : col];
                dst.insert(dst.end(), v.begin(), v.end());
            }
        if (auto it = lv.find("resistance_ohm"); it != lv.end()) lv["resistance_before_ohm"] = it->second;
    }
    for (const auto& f : fa) {
        if (!fb.count(f)) {
            ++t.structural;
            t.problem(f + ": missing from " + b.string());
            continue;
        }
        const auto r = storage::RunReader::open(a / f);
        compare_files(a / f, b / f, tol, t, &devices[device_key(r.info().device)]);
    }
    for (const auto& f : fb)
        if (!fa.count(f)) {
            ++t.structural;
            t.problem(f + ": not in the reference " + a.string());
        }
    const bool ma = fs::exists(a / "campaign.json");
    const bool mb = fs::exists(b / "campaign.json");
    if (ma != mb) {
        ++t.structural;
        t.problem("campaign.json present in only one directory");
    } else if (ma) {
        const auto ja = manifest_jobs(a / "campaign.json");
        const auto jb = manifest_jobs(b / "campaign.json");
        for (const auto& [name, st] : ja) {
            const auto it = jb.find(name);
            if (it == jb.end()) {
                ++t.structural;
                t.problem("campaign.json: job " + name + " missing");
            } else if (it->second != st) {
                ++t.structural;
                t.problem(fmt::format("campaign.json: job {}: {} {} rows vs {} {} rows", name, st.first, st.second,
                                      it->second.first, it->second.second));
            }
        }
        if (jb.size() != ja.size()) {
            ++t.structural;
            t.problem(fmt::format("campaign.json: {} jobs vs {}", ja.size(), jb.size()));
        }
    }
}

}  // namespace

void register_h5_compare(CLI::App& h5) {
    struct Args {
        std::string reference, candidate;
        double field_tol_uT = 50.0;
        double r_tol = 0.02;
        bool json = false;
    };
    auto a = std::make_shared<Args>();
    auto* cmd = h5.add_subcommand(
        "compare", "Compare run files or campaign directories: structure and setpoints exactly, readings within noise");
    cmd->add_option("REFERENCE", a->reference, "Reference run file or campaign directory")->required();
    cmd->add_option("CANDIDATE", a->candidate, "Run file or campaign directory to check against it")->required();
    cmd->add_option("--field-tol", a->field_tol_uT, "Tolerance of field_measured_T (uT)")->capture_default_str();
    cmd->add_option("--r-tol", a->r_tol, "Relative tolerance of resistance and x_V readings")->capture_default_str();
    cmd->add_flag("--json", a->json, "Machine-readable summary on stdout");
    cmd->callback([a] {
        if (!(a->field_tol_uT >= 0) || !(a->r_tol >= 0 && a->r_tol < 1))
            throw InputError("h5 compare: --field-tol must be >= 0 and --r-tol in 0..1");
        Tolerances tol{a->field_tol_uT * 1e-6, a->r_tol};
        const fs::path ra(a->reference), rb(a->candidate);
        if (!fs::exists(ra)) throw InputError(ra.string() + ": no such file or directory");
        if (!fs::exists(rb)) throw InputError(rb.string() + ": no such file or directory");
        Tally t;
        if (fs::is_directory(ra) != fs::is_directory(rb))
            throw InputError("h5 compare: give two run files or two directories");
        if (fs::is_directory(ra)) compare_dirs(ra, rb, tol, t);
        else compare_files(ra, rb, tol, t);
        const bool same = t.structural == 0 && t.corrupted == 0;
        if (a->json) {
            nlohmann::json j = {{"same", same},           {"files", t.files},
                                {"rows", t.rows},           {"same_state_rows", t.same_state},
                                {"other_state_rows", t.other_state}, {"corrupted_rows", t.corrupted},
                                {"structural_differences", t.structural}, {"problems", t.problems}};
            std::cout << j.dump(2) << "\n";
        } else {
            for (const auto& p : t.problems) std::cout << "  " << p << "\n";
            std::cout << fmt::format(
                "{}: {} files, {} rows: {} in the same state, {} in another (stochastic) state on a reference level, "
                "{} corrupted; {} structural differences (files, status, rows, setpoints)\n",
                same ? "SAME" : "DIFFERENT", t.files, t.rows, t.same_state, t.other_state, t.corrupted, t.structural);
        }
        if (!same) {
            std::cout.flush();
            std::exit(1);
        }
    });
}

}  // namespace mtjlab::cli
