// A recipe from file/text to run files: expand with the station calibration, preflight, run_session.
#include "mtjlab/recipes/runner.hpp"

#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "mtjlab/acquisition/bench_config.hpp"
#include "mtjlab/core/error.hpp"

namespace mtjlab::recipes {

using namespace acquisition;

PreparedRecipe prepare(const Recipe& recipe, const Station& station, const DeviceRef& device) {
    const BenchLimits limits = limits_of(station);
    const BenchCalibration cal = calibration_of(station);
    PreparedRecipe p;
    if (const Campaign* c = std::get_if<Campaign>(&recipe)) {
        p.source = c->file;
        p.campaign = *c;
        p.jobs = expand(*c, cal);
    } else {
        const RunRecipe& r = std::get<RunRecipe>(recipe);
        p.source = r.file;
        p.jobs.push_back(make_job(r, cal));
        p.jobs.back().name = safe_file_stem(p.jobs.back().name);
        p.jobs.back().device = device;
    }
    // The jobs of one campaign run share a plan: check each plan once.
    std::map<const Plan*, PreflightReport> checked;
    for (const Job& j : p.jobs) {
        auto it = checked.find(j.plan.get());
        if (it == checked.end()) it = checked.emplace(j.plan.get(), check_plan(*j.plan, limits, cal)).first;
        PreflightReport rep = it->second;
        p.total_points += rep.points;
        p.estimated_duration += rep.estimated_duration;
        if (!rep.ok()) ++p.refused;
        if (!p.reports.count(j.run_name) || !rep.ok()) p.reports[j.run_name] = std::move(rep);
    }
    return p;
}

std::string dry_run_report(const PreparedRecipe& p, const Station& station) {
    const BenchLimits limits = limits_of(station);
    std::string out = fmt::format("recipe {} ({}), station {}\n", p.source,
                                  p.campaign ? "campaign '" + p.campaign->name + "'"
                                             : (p.jobs.empty() ? std::string("empty") : p.jobs.front().kind),
                                  station.source);
    for (const auto& [name, rep] : p.reports) out += format_report(rep, limits);
    if (p.campaign) {
        std::set<std::pair<int, int>> devices;
        for (const Job& j : p.jobs) devices.insert({j.device.die, j.device.device});
        out += fmt::format("campaign: {} runs on {} devices, {} points, estimated {} on a real bench\n", p.jobs.size(),
                           devices.size(), p.total_points, format_duration(p.estimated_duration));
    }
    out += p.refused ? fmt::format("dry run: REFUSED ({} of {} runs exceed the limits)\n", p.refused, p.jobs.size())
                     : std::string("dry run: OK (nothing was sent to any instrument)\n");
    return out;
}

RunSummary run(const PreparedRecipe& p, const Station& station, SessionOptions options) {
    if (p.refused) {
        const BenchLimits limits = limits_of(station);
        const BenchCalibration cal = calibration_of(station);
        for (const Job& j : p.jobs) (void)preflight(*j.plan, limits, cal);  // LimitError names the step
    }
    if (p.campaign) {
        options.campaign_name = p.campaign->name;
        options.campaign_text = p.campaign->text;
    } else {
        options.campaign_name.clear();
        options.campaign_text.clear();
    }
    return run_session(p.jobs, station, options);
}

RunSummary run_file(const std::filesystem::path& recipe_file, const Station& station, const SessionOptions& options,
                    const DeviceRef& device) {
    return run(prepare(load(recipe_file), station, device), station, options);
}

RunSummary run_text(std::string_view recipe_text, const std::string& source, const Station& station,
                    const SessionOptions& options, const DeviceRef& device) {
    return run(prepare(parse(recipe_text, source), station, device), station, options);
}

}  // namespace mtjlab::recipes
