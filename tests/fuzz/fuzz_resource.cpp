// Fuzzes PyVISA resource strings (drivers::parse_resource): anything may be rejected with InputError, nothing
// else may escape, and every accepted string must round-trip through to_string().
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/transport/resource.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const auto parsed = mtjlab::drivers::parse_resource(text);
        const auto canonical = mtjlab::drivers::to_string(parsed);
        const auto again = mtjlab::drivers::parse_resource(canonical);
        if (mtjlab::drivers::to_string(again) != canonical) std::abort();  // canonical form must be stable
    } catch (const mtjlab::InputError&) {
    }
    return 0;
}
