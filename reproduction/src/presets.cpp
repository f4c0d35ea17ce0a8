// Embedded presets (generated header from recipes/paper_campaign.toml, recipes/station.example.toml and
// presets/smoke_campaign.toml) and the default model cache.
#include <cstdlib>

#include <fmt/format.h>

#include "embedded_presets.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/reproduction/reproduction.hpp"

namespace mtjlab::reproduction {
namespace {

std::vector<double> tmr_range(double from_pct, double to_pct, double step_pct) {
    std::vector<double> v;
    for (int i = 0;; ++i) {
        const double t = from_pct + i * step_pct;
        if (t > to_pct + 1e-9) break;
        v.push_back(t / 100.0);
    }
    return v;
}

const std::vector<Preset>& presets() {
    static const std::vector<Preset> all = [] {
        std::vector<Preset> p;
        Preset paper;
        paper.name = "paper";
        paper.description =
            "the paper's campaign: wedge 1.6-2.6 nm in 0.1 nm steps, 1-3 cells, 10 devices per group; "
            "5 training seeds, 40 epochs; Fig. 5d/e grid TMR 60-260 % (10 % steps) x 1-6 cells";
        paper.recipe_text = k_paper_recipe;
        paper.recipe_source = "recipes/paper_campaign.toml";
        paper.seeds = 5;
        paper.epochs = 40;
        paper.tmr_grid = tmr_range(60, 260, 10);
        paper.cells_grid = {1, 2, 3, 4, 5, 6};
        p.push_back(paper);

        Preset smoke;
        smoke.name = "smoke";
        smoke.description =
            "a quick check: 1.6 and 2.6 nm, 1 and 3 cells, 2 devices per group; 1 seed, 2 epochs; grid TMR "
            "60/160/260 % x 1-3 cells";
        smoke.recipe_text = k_smoke_recipe;
        smoke.recipe_source = "reproduction/presets/smoke_campaign.toml";
        smoke.seeds = 1;
        smoke.epochs = 2;
        smoke.tmr_grid = tmr_range(60, 260, 100);
        smoke.cells_grid = {1, 2, 3};
        p.push_back(smoke);
        return p;
    }();
    return all;
}

}  // namespace

const Preset& preset(std::string_view name) {
    for (const auto& p : presets())
        if (p.name == name) return p;
    std::string names;
    for (const auto& p : presets()) names += (names.empty() ? "" : ", ") + p.name;
    throw InputError(fmt::format("--preset {}: unknown preset (known: {})", name, names));
}

std::vector<std::string> preset_names() {
    std::vector<std::string> n;
    for (const auto& p : presets()) n.push_back(p.name);
    return n;
}

std::string_view example_station_text() { return k_station_example; }

Options options_from(const Preset& p) {
    Options o;
    o.seeds = p.seeds;
    o.epochs = p.epochs;
    o.train_limit = p.train_limit;
    o.tmr_grid = p.tmr_grid;
    o.cells_grid = p.cells_grid;
    return o;
}

std::filesystem::path default_model_cache(const std::filesystem::path& output_dir) {
    auto env = [](const char* k) -> std::string {
        const char* v = std::getenv(k);
        return v ? std::string(v) : std::string();
    };
    if (const auto m = env("MTJLAB_MODEL_CACHE"); !m.empty()) return m;
    if (const auto x = env("XDG_CACHE_HOME"); !x.empty()) return std::filesystem::path(x) / "mtjlab" / "models";
    if (const auto h = env("HOME"); !h.empty()) return std::filesystem::path(h) / ".cache" / "mtjlab" / "models";
    return output_dir / "models";
}

}  // namespace mtjlab::reproduction
