// Fuzzes recipe TOML (recipes::parse) and the expansion of what parses into plans/jobs with a nominal bench
// calibration: only InputError/LimitError may come out of bad recipes.
#include <cstdint>
#include <string_view>
#include <variant>

#include "mtjlab/core/error.hpp"
#include "mtjlab/recipes/recipe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto recipe = mtjlab::recipes::parse(text, "fuzz.toml");
        const mtjlab::acquisition::BenchCalibration cal{};
        if (const auto* run = std::get_if<mtjlab::recipes::RunRecipe>(&recipe)) {
            (void)mtjlab::recipes::make_job(*run, cal);
        } else {
            const auto jobs = mtjlab::recipes::expand(std::get<mtjlab::recipes::Campaign>(recipe), cal);
            (void)jobs.size();
        }
    } catch (const mtjlab::InputError&) {
    } catch (const mtjlab::LimitError&) {
    }
    return 0;
}
