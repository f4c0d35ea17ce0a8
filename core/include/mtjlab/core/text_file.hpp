#pragma once
// Bounded reading of outside text files (recipes, station files, CSV imports, manifests): a file larger than
// the caller's limit, or an endless one (/dev/zero, a FIFO that never ends), is refused with one clear
// InputError instead of exhausting memory.
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab {

/// Reads the whole file `path` as bytes. Throws InputError "<path>: cannot read <what>" when it cannot be
/// opened or read, and "<path>: larger than <max_bytes> bytes (<what> files are at most ...)" when more than
/// `max_bytes` bytes arrive (at most max_bytes + 1 bytes are ever held).
inline std::string read_text_file(const std::filesystem::path& path, std::size_t max_bytes, std::string_view what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(fmt::format("{}: cannot read {} file", path.string(), what));
    std::string out;
    char buf[65536];
    for (;;) {
        const std::size_t want = std::min(sizeof buf, max_bytes + 1 - out.size());
        in.read(buf, static_cast<std::streamsize>(want));
        const auto got = static_cast<std::size_t>(in.gcount());
        out.append(buf, got);
        if (out.size() > max_bytes)
            throw InputError(fmt::format("{}: larger than {} bytes ({} files are at most that; is it the right file?)",
                                         path.string(), max_bytes, what));
        if (got < want) break;
    }
    if (in.bad()) throw InputError(fmt::format("{}: cannot read {} file", path.string(), what));
    return out;
}

/// Limits of the text inputs (bytes).
inline constexpr std::size_t max_recipe_bytes = std::size_t{1} << 20;    ///< recipe and station TOML: 1 MiB
inline constexpr std::size_t max_csv_bytes = std::size_t{256} << 20;     ///< CSV imports: 256 MiB
inline constexpr std::size_t max_manifest_bytes = std::size_t{64} << 20; ///< campaign.json: 64 MiB

}  // namespace mtjlab
