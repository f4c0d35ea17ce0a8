#pragma once
// The physics' random variates on mtjlab's generator (core/rng.hpp: xoshiro256** seeded through splitmix64),
// and the derivation of per-object streams from (seed, ids).
#include <cmath>
#include <cstdint>

#include "mtjlab/core/rng.hpp"

namespace mtjlab::physics {

using mtjlab::splitmix64;

/// Mixes a seed with up to three identifiers into one stream seed (order matters).
constexpr std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t a = 0, std::uint64_t b = 0,
                                 std::uint64_t c = 0) noexcept {
    std::uint64_t s = seed;
    std::uint64_t h = splitmix64(s);
    s = h ^ (a + 0x632BE59BD9B4E019ULL);
    h = splitmix64(s);
    s = h ^ (b + 0x8CB92BA72F3D8DD7ULL);
    h = splitmix64(s);
    s = h ^ (c + 0xD6E8FEB86659FD93ULL);
    return splitmix64(s);
}

/// The generator with the physics' variates. Not thread-safe; one per simulated object.
class Rng : public Xoshiro256 {
public:
    explicit Rng(std::uint64_t seed = 0) noexcept : Xoshiro256(seed) {}
    void reseed(std::uint64_t seed) noexcept {
        seed_state(seed);
        has_spare_ = false;
    }
    /// Standard normal variate (Box-Muller, both values used; u1 in (0, 1]).
    double normal() noexcept {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        const double u1 = uniform_open0();
        const double u2 = uniform();
        const double r = std::sqrt(-2.0 * std::log(u1));
        const double phi = 2.0 * 3.14159265358979323846 * u2;
        spare_ = r * std::sin(phi);
        has_spare_ = true;
        return r * std::cos(phi);
    }
    /// True with probability p.
    bool bernoulli(double p) noexcept { return uniform() < p; }

private:
    double spare_ = 0.0;
    bool has_spare_ = false;
};

}  // namespace mtjlab::physics
