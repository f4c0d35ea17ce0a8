// campaign: walks the dies and devices of a wafer map (selected by thickness and cell count) and runs a
// list of recipes on each device; one run file per (device, recipe), progress in a manifest.
#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "common.hpp"
#include "mtjlab/core/error.hpp"

namespace mtjlab::recipes {

double WaferMap::die_thickness_nm(int die) const {
    if (dies == 1) return t_min_nm;
    return t_min_nm + (t_max_nm - t_min_nm) * static_cast<double>(die) / static_cast<double>(dies - 1);
}

int WaferMap::cells_of(int device) const {
    return cell_pattern[static_cast<std::size_t>(device) % cell_pattern.size()];
}

namespace detail {
namespace {
bool valid_name(const std::string& s) {
    if (s.empty()) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}
std::vector<int> to_ints(const std::vector<long long>& v) { return {v.begin(), v.end()}; }
}  // namespace

Campaign parse_campaign(TomlTable& t) {
    Campaign c;
    c.name = t.string_or("name", "campaign");
    c.description = t.string_or("description", "");
    if (auto w = t.opt_table("wafer")) {
        c.wafer.id = w->string_or("id", "W1");
        // The id goes into run files, the manifest and the prober command's arguments: no shell or path syntax.
        if (!valid_name(c.wafer.id) || c.wafer.id.size() > 64)
            w->fail("id", "must be 1-64 letters, digits, '_' or '-'");
        c.wafer.t_min_nm = w->number_or("t_min_nm", 1.6);
        c.wafer.t_max_nm = w->number_or("t_max_nm", 2.6);
        if (c.wafer.t_max_nm < c.wafer.t_min_nm) w->fail("t_max_nm", "must be >= t_min_nm");
        const long long dies = w->integer_or("dies", 11);
        if (dies < 1 || dies > 1000) w->fail("dies", "must be between 1 and 1000");
        c.wafer.dies = static_cast<int>(dies);
        const long long dev = w->integer_or("devices_per_die", 33);
        if (dev < 1 || dev > 10000) w->fail("devices_per_die", "must be between 1 and 10000");
        c.wafer.devices_per_die = static_cast<int>(dev);
        if (w->has("cell_pattern")) c.wafer.cell_pattern = to_ints(w->integers("cell_pattern"));
        if (c.wafer.cell_pattern.empty()) w->fail("cell_pattern", "is empty");
        for (int n : c.wafer.cell_pattern)
            if (n < 1 || n > 16) w->fail("cell_pattern", "cell counts must be between 1 and 16");
        w->finish();
    }
    auto s = t.table("select");
    if (s.has("thickness_nm")) {
        c.thicknesses_nm = s.numbers("thickness_nm");
    } else {
        for (int d = 0; d < c.wafer.dies; ++d) c.thicknesses_nm.push_back(c.wafer.die_thickness_nm(d));
    }
    if (c.thicknesses_nm.empty()) s.fail("thickness_nm", "is empty");
    if (s.has("cells")) c.cells = to_ints(s.integers("cells"));
    if (c.cells.empty()) s.fail("cells", "is empty");
    const long long per = s.integer_or("devices_per_group", 10);
    if (per < 0 || per > 10000) s.fail("devices_per_group", "must be between 0 and 10000");
    c.devices_per_group = static_cast<int>(per);
    if (s.has("sacrificial_cells")) c.sacrificial_cells = to_ints(s.integers("sacrificial_cells"));
    s.finish();

    for (TomlTable& r : t.tables("run")) {
        CampaignRun run;
        const std::string dev = r.string_or("devices", "measured");
        if (dev == "measured") run.devices = DeviceSet::measured;
        else if (dev == "sacrificial") run.devices = DeviceSet::sacrificial;
        else r.fail("devices", "must be \"measured\" or \"sacrificial\"");
        if (r.has("cells")) run.cells = to_ints(r.integers("cells"));
        if (r.has("thickness_nm")) run.thicknesses_nm = r.numbers("thickness_nm");
        const std::string kind = r.string("kind");
        if (kind == "campaign") r.fail("kind", "a campaign cannot contain a campaign");
        run.recipe = parse_run_body(r, kind);
        if (!valid_name(run.recipe.name)) r.fail("name", "must be letters, digits, '_' or '-' (it names the files)");
        for (const CampaignRun& other : c.runs)
            if (other.recipe.name == run.recipe.name) r.fail("name", "two runs of a campaign have the same name");
        // Provenance: the run's own table as TOML text, with where it came from.
        std::ostringstream ss;
        ss << "# run '" << run.recipe.name << "' of campaign '" << c.name << "' (" << r.where() << ")\n"
           << r.raw() << "\n";
        run.recipe.text = ss.str();
        r.finish();
        c.runs.push_back(std::move(run));
    }
    if (c.runs.empty()) t.fail("run", "a campaign needs at least one [[run]]");
    return c;
}

}  // namespace detail

std::vector<Job> expand(const Campaign& c, const acquisition::BenchCalibration& cal) {
    std::vector<std::shared_ptr<const acquisition::Plan>> plans;
    std::vector<std::string> params;
    for (const CampaignRun& r : c.runs) {
        plans.push_back(std::make_shared<const acquisition::Plan>(expand(r.recipe, cal)));
        params.push_back(r.recipe.parameters_json());
    }
    std::vector<Job> jobs;
    std::size_t points = 0;  // to measure in all jobs so far (the jobs of one run share its plan)
    for (double t : c.thicknesses_nm) {
        int die = -1;
        for (int d = 0; d < c.wafer.dies; ++d)
            if (std::abs(c.wafer.die_thickness_nm(d) - t) < 0.005) die = d;
        if (die < 0)
            throw InputError(fmt::format("{}: campaign '{}': no die of wafer '{}' has thickness {:g} nm "
                                         "(dies are {:g}..{:g} nm in {} steps)",
                                         c.file, c.name, c.wafer.id, t, c.wafer.t_min_nm, c.wafer.t_max_nm,
                                         c.wafer.dies - 1));
        struct Chosen { int device; int cells; bool sacrificial; };
        std::vector<Chosen> chosen;
        std::vector<int> used(static_cast<std::size_t>(c.wafer.devices_per_die), 0);
        for (int cells : c.cells) {
            int got = 0;
            for (int dev = 0; dev < c.wafer.devices_per_die && got < c.devices_per_group; ++dev) {
                if (c.wafer.cells_of(dev) == cells && !used[static_cast<std::size_t>(dev)]) {
                    chosen.push_back({dev, cells, false});
                    used[static_cast<std::size_t>(dev)] = 1;
                    ++got;
                }
            }
            if (got < c.devices_per_group)
                throw InputError(fmt::format("{}: campaign '{}': die {} ({:g} nm) has only {} {}-cell devices, "
                                             "{} requested",
                                             c.file, c.name, die, t, got, cells, c.devices_per_group));
        }
        for (int cells : c.sacrificial_cells) {
            bool found = false;
            for (int dev = 0; dev < c.wafer.devices_per_die && !found; ++dev) {
                if (c.wafer.cells_of(dev) == cells && !used[static_cast<std::size_t>(dev)]) {
                    chosen.push_back({dev, cells, true});
                    used[static_cast<std::size_t>(dev)] = 1;
                    found = true;
                }
            }
            if (!found)
                throw InputError(fmt::format("{}: campaign '{}': die {} ({:g} nm) has no spare {}-cell device to "
                                             "sacrifice",
                                             c.file, c.name, die, t, cells));
        }
        std::sort(chosen.begin(), chosen.end(), [](const Chosen& a, const Chosen& b) { return a.device < b.device; });
        for (const Chosen& ch : chosen) {
            for (std::size_t k = 0; k < c.runs.size(); ++k) {
                const CampaignRun& r = c.runs[k];
                if ((r.devices == DeviceSet::sacrificial) != ch.sacrificial) continue;
                if (!r.cells.empty() && std::find(r.cells.begin(), r.cells.end(), ch.cells) == r.cells.end()) continue;
                if (!r.thicknesses_nm.empty() &&
                    std::none_of(r.thicknesses_nm.begin(), r.thicknesses_nm.end(),
                                 [&](double tt) { return std::abs(tt - t) < 0.005; }))
                    continue;
                points += plans[k]->points.size();
                if (points > max_campaign_points)
                    throw InputError(fmt::format("{}: campaign '{}': its jobs would hold more than {} points (job {} "
                                                 "of run '{}' reaches {}); measure in several campaigns",
                                                 c.file, c.name, max_campaign_points, jobs.size() + 1,
                                                 r.recipe.name, points));
                Job j;
                j.device = {c.wafer.id, die, ch.device, c.wafer.die_thickness_nm(die), ch.cells};
                j.name = fmt::format("t{:.2f}nm_c{}_die{:02}_dev{:02}_{}", j.device.thickness_nm, ch.cells, die,
                                     ch.device, r.recipe.name);
                j.run_name = r.recipe.name;
                j.kind = r.recipe.kind;
                j.recipe_text = r.recipe.text;
                j.parameters_json = params[k];
                j.plan = plans[k];
                jobs.push_back(std::move(j));
            }
        }
    }
    return jobs;
}

}  // namespace mtjlab::recipes
