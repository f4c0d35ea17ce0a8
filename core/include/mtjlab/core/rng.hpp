#pragma once
// The random bit generator of mtjlab: xoshiro256** (Blackman & Vigna) seeded through splitmix64. Our own
// generator and variates, so a seeded run gives the same numbers with every standard library
// (std::normal_distribution and friends are implementation-defined, which would break golden files).
// The physics and the ANN build their variates on it (physics::Rng, ann::detail::Rng).
#include <cstdint>

namespace mtjlab {

/// splitmix64 step: a good 64-bit mixer; seeds xoshiro and derives independent streams from (seed, ids).
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/// xoshiro256**: 256 bits of state, period 2^256 - 1. Not thread-safe; one per simulated object or worker.
class Xoshiro256 {
public:
    explicit Xoshiro256(std::uint64_t seed = 0) noexcept { seed_state(seed); }
    std::uint64_t next() noexcept {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    /// Uniform in [0, 1) with 53 random bits.
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Uniform in (0, 1]: safe to take the logarithm of.
    double uniform_open0() noexcept { return (static_cast<double>(next() >> 11) + 1.0) * 0x1.0p-53; }
    /// Uniform integer in [0, n) (n > 0), unbiased by rejection.
    std::uint64_t below(std::uint64_t n) noexcept {
        const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
        std::uint64_t r = next();
        while (r >= limit) r = next();
        return r % n;
    }

protected:
    void seed_state(std::uint64_t seed) noexcept {
        std::uint64_t s = seed;
        for (auto& w : s_) w = splitmix64(s);
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4]{};
};

}  // namespace mtjlab
