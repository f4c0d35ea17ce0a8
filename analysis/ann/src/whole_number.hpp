#pragma once
// Integers stored as numbers in outside files (state-table columns, model attributes): checked to be whole and in
// range before any cast, since casting NaN or 1e300 to an integer is undefined behaviour (fuzz_ann_files).
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::ann::detail {

/// `v` itself when it is a whole number in 0..max; else InputError
/// "<where>: <what> = <v> is not a whole number in 0..<max>" (where: file and line or row; what: "column cells").
inline double checked_whole(double v, double max, std::string_view where, std::string_view what) {
    if (!(v >= 0.0 && v <= max) || v != std::floor(v))
        throw InputError(fmt::format("{}: {} = {} is not a whole number in 0..{}", where, what, v, max));
    return v;
}

}  // namespace mtjlab::ann::detail
