#pragma once
// The ANN's random variates on mtjlab's generator (core/rng.hpp), bit-identical across standard libraries.
#include <cmath>
#include <cstdint>
#include <numbers>

#include "mtjlab/core/rng.hpp"

namespace mtjlab::ann::detail {

using mtjlab::splitmix64;

/// Mixes several integers into one seed (for per-cell, per-instance streams).
inline std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0) {
    std::uint64_t s = a * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
    std::uint64_t x = splitmix64(s) ^ b;
    x = splitmix64(x) ^ c;
    return splitmix64(x);
}

/// The generator with the ANN's normal variate (its u1 in (0, 1) by redrawing a zero; kept as it is so that
/// seeded trainings keep their weights).
class Rng : public Xoshiro256 {
public:
    explicit Rng(std::uint64_t seed) : Xoshiro256(seed) {}
    /// Standard normal (Box-Muller, both values used).
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        spare_ = r * std::sin(2.0 * std::numbers::pi * u2);
        has_spare_ = true;
        return r * std::cos(2.0 * std::numbers::pi * u2);
    }

private:
    double spare_ = 0.0;
    bool has_spare_ = false;
};

}  // namespace mtjlab::ann::detail
