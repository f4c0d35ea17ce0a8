// rh_loop: R(H) major or minor loop. Each point: set the field (ramped), settle, read the junction.
#include <cmath>

#include <fmt/format.h>

#include "common.hpp"

namespace mtjlab::recipes::detail {

RhLoop parse_rh_loop(TomlTable& t) {
    RhLoop p;
    p.loop = t.string_or("loop", "minor");
    if (p.loop != "minor" && p.loop != "major") t.fail("loop", "must be \"minor\" or \"major\"");
    const double def = p.loop == "minor" ? 20.0 : 300.0;
    std::vector<double> mT;
    if (t.has("fields_mT")) {
        for (const char* k : {"start_mT", "stop_mT", "step_mT", "return_sweep", "cycles"})
            if (t.has(k)) t.fail(k, "give either fields_mT or start_mT/stop_mT/step_mT, not both");
        mT = t.numbers("fields_mT");
        if (mT.empty()) t.fail("fields_mT", "is empty");
        if (mT.size() > max_run_points)
            t.fail("fields_mT", fmt::format("has {} fields; a run has at most {} points", mT.size(), max_run_points));
    } else {
        const double start = t.number_or("start_mT", def);
        const double stop = t.number_or("stop_mT", -def);
        const double step = t.number_or("step_mT", p.loop == "minor" ? 0.5 : 5.0);
        if (step <= 0) t.fail("step_mT", "must be positive");
        if (start == stop) t.fail("stop_mT", "must differ from start_mT");
        const double span = std::abs(stop - start) / step;
        if (span > 100000) t.fail("step_mT", "gives more than 100000 fields per sweep");
        const bool ret = t.boolean_or("return_sweep", true);
        const long long cycles = t.integer_or("cycles", 1);
        if (cycles < 1 || cycles > 1000) t.fail("cycles", "must be between 1 and 1000");
        const double sgn = stop > start ? 1.0 : -1.0;
        const auto n = static_cast<long long>(std::floor(span + 1e-9));
        std::vector<double> leg;
        for (long long i = 0; i <= n; ++i) leg.push_back(start + sgn * static_cast<double>(i) * step);
        if (std::abs(stop - leg.back()) > 1e-9 * std::max(1.0, std::abs(stop))) leg.push_back(stop);
        // Points of all cycles, counted before they are made: the first cycle has the whole leg, the others
        // start where the previous one ended; a return sweep adds the leg back without its turning point.
        const auto len = static_cast<unsigned long long>(leg.size());
        const unsigned long long total =
            len + static_cast<unsigned long long>(cycles - 1) * (len - 1) +
            (ret ? static_cast<unsigned long long>(cycles) * (len - 1) : 0ULL);
        if (total > max_run_points)
            t.fail("cycles", fmt::format("{} cycles of {} fields give {} points; a run has at most {} points", cycles,
                                         len, total, max_run_points));
        for (long long c = 0; c < cycles; ++c) {
            for (std::size_t i = (c == 0 ? 0 : 1); i < leg.size(); ++i) mT.push_back(leg[i]);
            if (ret)
                for (auto it = leg.rbegin() + 1; it != leg.rend(); ++it) mT.push_back(*it);
        }
    }
    for (double v : mT) p.fields.push_back(units::millitesla(v));
    p.settle = parse_duration(t, "settle", Second(0.05));
    p.read = parse_read(t);
    return p;
}

acquisition::Plan expand_rh_loop(const RhLoop& p, const acquisition::BenchCalibration& cal) {
    acquisition::Plan plan;
    plan.kind = "rh_loop";
    std::vector<double> v;
    for (Tesla f : p.fields) v.push_back(f.si());
    const auto bd = branches(v, false);
    for (std::size_t i = 0; i < p.fields.size(); ++i) {
        acquisition::Point pt;
        pt.steps = {set_field(p.fields[i], cal), acquisition::Wait{p.settle}, make_read(p.read, cal)};
        pt.swept = p.fields[i].si();
        pt.field = p.fields[i];
        pt.branch = bd[i].first;
        pt.direction = bd[i].second;
        plan.points.push_back(std::move(pt));
    }
    return plan;
}

nlohmann::json to_json(const RhLoop& p) {
    nlohmann::json j;
    j["loop"] = p.loop;
    std::vector<double> f;
    for (Tesla x : p.fields) f.push_back(x.si());
    j["fields_T"] = f;
    j["settle_s"] = p.settle.si();
    j["read"] = to_json(p.read);
    return j;
}

}  // namespace mtjlab::recipes::detail
