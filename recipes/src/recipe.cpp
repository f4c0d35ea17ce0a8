// Recipe files: kind dispatch, loading, expansion of single-run recipes.
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/text_file.hpp"

namespace mtjlab::recipes {
namespace detail {

RunRecipe parse_run_body(TomlTable& t, std::string kind) {
    RunRecipe r;
    r.kind = std::move(kind);
    r.file = t.file();
    r.name = t.string_or("name", r.kind);
    r.description = t.string_or("description", "");
    if (r.kind == "rh_loop") {
        r.params = parse_rh_loop(t);
    } else if (r.kind == "rv_pulse_train") {
        r.params = parse_rv_pulse_train(t);
    } else if (r.kind == "field_free_rv") {
        r.params = parse_field_free_rv(t);
    } else if (r.kind == "switching_probability") {
        r.params = parse_switching_probability(t);
    } else if (r.kind == "breakdown_ramp") {
        r.params = parse_breakdown_ramp(t);
    } else {
        t.fail("kind", fmt::format("unknown recipe kind '{}' (known: rh_loop, rv_pulse_train, field_free_rv, "
                                   "switching_probability, breakdown_ramp, campaign)",
                                   r.kind));
    }
    return r;
}

}  // namespace detail

std::string RunRecipe::parameters_json() const {
    nlohmann::json j = std::visit([](const auto& p) { return detail::to_json(p); }, params);
    j["kind"] = kind;
    j["name"] = name;
    return j.dump();
}

Recipe parse(std::string_view text, const std::string& file) {
    const toml::table root = detail::parse_toml(text, file);
    detail::TomlTable t(root, file);
    const std::string kind = t.string("kind");
    if (kind == "campaign") {
        Campaign c = detail::parse_campaign(t);
        c.file = file;
        c.text = std::string(text);
        t.finish();
        return c;
    }
    RunRecipe r = detail::parse_run_body(t, kind);
    r.text = std::string(text);
    t.finish();
    return r;
}

Recipe load(const std::filesystem::path& path) {
    return parse(read_text_file(path, max_recipe_bytes, "recipe"), path.string());
}

acquisition::Plan expand(const RunRecipe& recipe, const acquisition::BenchCalibration& cal) {
    acquisition::Plan plan = std::visit(
        [&](const auto& p) -> acquisition::Plan {
            using T = std::decay_t<decltype(p)>;
            if constexpr (std::is_same_v<T, RhLoop>) return detail::expand_rh_loop(p, cal);
            else if constexpr (std::is_same_v<T, RvPulseTrain>) return detail::expand_rv_pulse_train(p, cal);
            else if constexpr (std::is_same_v<T, SwitchingProbability>)
                return detail::expand_switching_probability(p, cal);
            else return detail::expand_breakdown_ramp(p, cal);
        },
        recipe.params);
    plan.kind = recipe.kind;  // field_free_rv shares the R(V) expansion
    plan.recipe_name = recipe.name;
    return plan;
}

Job make_job(const RunRecipe& recipe, const acquisition::BenchCalibration& cal) {
    Job j;
    j.name = recipe.name;
    j.run_name = recipe.name;
    j.kind = recipe.kind;
    j.recipe_text = recipe.text;
    j.parameters_json = recipe.parameters_json();
    j.plan = std::make_shared<const acquisition::Plan>(expand(recipe, cal));
    return j;
}

}  // namespace mtjlab::recipes
