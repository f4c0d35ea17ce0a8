// Fuzzes station TOML (acquisition::parse_station): malformed or invalid files end in InputError, nothing
// else may escape (no crash, leak, hang or other exception type).
#include <cstdint>
#include <string_view>

#include "mtjlab/acquisition/station.hpp"
#include "mtjlab/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto station = mtjlab::acquisition::parse_station(text, "fuzz.toml");
        (void)station.max_coil_current_for_field();
    } catch (const mtjlab::InputError&) {
    }
    return 0;
}
