#include <cmath>

#include <fmt/format.h>

#include "mtjlab/analysis/report.hpp"

namespace mtjlab::analysis {
namespace {

nlohmann::json num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

nlohmann::json run_json(const RunAnalysis& r) {
    nlohmann::json j;
    nlohmann::json reasons = nlohmann::json::object();
    j["run"] = r.run.name;
    j["source"] = r.run.source;
    j["kind"] = std::string(to_string(r.run.kind));
    j["thickness_nm"] = num(r.run.device.thickness_nm);
    j["cells"] = r.run.device.cells > 0 ? nlohmann::json(r.run.device.cells) : nlohmann::json(nullptr);
    j["device"] = r.run.device.key().empty() ? nlohmann::json(nullptr) : nlohmann::json(r.run.device.key());
    for (const auto& f : figures(r)) {
        const std::string key(f.key);
        if (f.value.ok()) {
            j[key] = *f.value;
            if (f.value.error) j[key + "_err"] = *f.value.error;
        } else {
            j[key] = nullptr;
            reasons[key] = f.value.reason;
        }
    }
    const auto lv = levels_ohm(r);
    if (lv.empty()) {
        j["levels_ohm"] = nullptr;
        j["level_steps"] = nullptr;
        const Levels* l = r.rv ? &r.rv->levels : (r.rh ? &r.rh->levels : nullptr);
        const std::string why = !r.error.empty() ? r.error
                                : l              ? l->reason
                                                 : fmt::format("no resistance levels in a {} run", to_string(r.run.kind));
        reasons["levels_ohm"] = why;
        reasons["level_steps"] = why;
    } else {
        j["levels_ohm"] = lv;
        j["level_steps"] = level_steps(r);
    }
    if (r.rv && r.rv->field_free_switching) {
        j["field_free_switching"] = *r.rv->field_free_switching;
    } else {
        j["field_free_switching"] = nullptr;
        reasons["field_free_switching"] = r.rv ? r.rv->field_free_reason : "not an R(V) run";
    }
    j["dead"] = r.dead;
    j["dead_reason"] = r.dead ? nlohmann::json(r.dead_reason) : nlohmann::json(nullptr);
    j["outliers"] = r.outliers;
    j["error"] = r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error);
    std::vector<std::string> notes = r.run.load_notes;
    if (r.rh) notes.insert(notes.end(), r.rh->notes.begin(), r.rh->notes.end());
    if (r.rv) notes.insert(notes.end(), r.rv->notes.begin(), r.rv->notes.end());
    notes.insert(notes.end(), r.notes.begin(), r.notes.end());
    j["notes"] = notes;
    j["reasons"] = reasons;
    return j;
}

nlohmann::json group_json(const GroupSummary& g) {
    nlohmann::json j;
    j["thickness_nm"] = num(g.thickness_nm);
    j["cells"] = g.cells > 0 ? nlohmann::json(g.cells) : nlohmann::json(nullptr);
    j["runs"] = g.runs;
    j["devices"] = g.devices;
    j["dead"] = g.dead;
    j["field_free_tested"] = g.field_free_tested;
    j["field_free_switched"] = g.field_free_switched;
    j["field_free_fraction"] =
        g.field_free_tested ? nlohmann::json(double(g.field_free_switched) / double(g.field_free_tested)) : nullptr;
    for (auto key : figure_keys()) {
        const auto* s = g.stat(key);
        if (!s || s->count == 0) {
            j[std::string(key)] = nullptr;
            continue;
        }
        j[std::string(key)] = {{"mean", num(s->mean)}, {"std", num(s->std)}, {"count", s->count},
                               {"outliers", s->outliers}, {"runs", s->runs}};
    }
    return j;
}

nlohmann::json options_json(const AnalysisOptions& o) {
    auto lv = [](const LevelOptions& l) {
        return nlohmann::json{{"method", "optimal 1-D k-means on ln R, BIC model selection"},
                              {"max_levels", l.max_levels},
                              {"min_points", l.min_points},
                              {"min_step", l.min_step},
                              {"noise_floor", l.noise_floor}};
    };
    return {{"rh",
             {{"hampel_k", o.rh.hampel_k},
              {"edge_guard", o.rh.edge_guard},
              {"min_switch_sigma", o.rh.min_switch_sigma},
              {"min_switch_rel", o.rh.min_switch_rel},
              {"trim", o.rh.trim},
              {"levels", lv(o.rh.levels)}}},
            {"rv", {{"field_free_max_T", o.rv.field_free_max_T}, {"levels", lv(o.rv.levels)}}},
            {"breakdown",
             {{"short_factor", o.breakdown.short_factor},
              {"open_factor", o.breakdown.open_factor},
              {"min_baseline", o.breakdown.min_baseline}}},
            {"switching_probability", {{"model", "probit, binomial maximum likelihood, Fisher-information errors"}}},
            {"population",
             {{"outlier_z", o.outlier_z},
              {"outlier_min_count", o.outlier_min_count},
              {"dead_r_min_ohm", o.dead_r_min_ohm},
              {"dead_r_max_ohm", o.dead_r_max_ohm}}}};
}

nlohmann::json campaign_json(const Campaign& c) {
    nlohmann::json j;
    j["runs"] = nlohmann::json::array();
    for (const auto& r : c.runs) j["runs"].push_back(run_json(r));
    j["groups"] = nlohmann::json::array();
    for (const auto& g : c.groups) j["groups"].push_back(group_json(g));
    j["trends"] = nlohmann::json::array();
    for (const auto& t : c.trends) {
        nlohmann::json tj{{"figure", t.figure}, {"cells", t.cells}, {"model", t.model}, {"points", t.points}};
        if (t.params.empty()) {
            tj["params"] = nullptr;
            tj["reason"] = t.reason;
        } else {
            nlohmann::json p;
            for (std::size_t i = 0; i < t.params.size(); ++i)
                p[t.param_names[i]] = {{"value", num(t.params[i])},
                                       {"error", num(i < t.param_errors.size() ? t.param_errors[i] : nan)}};
            tj["params"] = p;
            tj["t0_nm"] = t.t0_nm;
            tj["rms_residual"] = t.rms_residual;
        }
        j["trends"].push_back(tj);
    }
    j["conductance_states"] = nlohmann::json::array();
    for (const auto& row : c.conductance)
        j["conductance_states"].push_back({{"thickness_nm", row.thickness_nm},
                                           {"cells", row.cells},
                                           {"state", row.state},
                                           {"g_norm", row.g_norm},
                                           {"g_norm_std", row.g_norm_std},
                                           {"r_ohm", row.r_ohm},
                                           {"r_ohm_std", row.r_ohm_std},
                                           {"devices", row.devices}});
    j["devices"] = nlohmann::json::array();
    for (const auto& d : c.devices) {
        std::vector<std::string> runs;
        for (std::size_t i : d.runs) runs.push_back(c.runs[i].run.name);
        j["devices"].push_back({{"device", d.key},
                                {"thickness_nm", num(d.thickness_nm)},
                                {"cells", d.cells > 0 ? nlohmann::json(d.cells) : nlohmann::json(nullptr)},
                                {"runs", runs},
                                {"dead", d.dead},
                                {"dead_reason", d.dead ? nlohmann::json(d.dead_reason) : nlohmann::json(nullptr)},
                                {"outliers", d.outliers},
                                {"notes", d.notes}});
    }
    j["notes"] = c.notes;
    return j;
}

}  // namespace mtjlab::analysis
