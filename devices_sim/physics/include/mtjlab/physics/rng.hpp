#pragma once
// A small, fast, portable random generator (xoshiro256** seeded through splitmix64) with its own
// uniform and normal variates, so that seeded runs give the same numbers with every standard library
// (std::normal_distribution is implementation-defined, which would break golden files).
#include <cmath>
#include <cstdint>

namespace mtjlab::physics {

/// splitmix64 step: a good 64-bit mixer, also used to derive independent streams from (seed, ids).
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

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

/// xoshiro256** generator. Not thread-safe; one per simulated object.
class Rng {
public:
    explicit Rng(std::uint64_t seed = 0) noexcept { reseed(seed); }
    void reseed(std::uint64_t seed) noexcept {
        std::uint64_t s = seed;
        for (auto& w : s_) w = splitmix64(s);
        has_spare_ = false;
    }
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
    /// Uniform in [0, 1).
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Uniform in (0, 1]: safe to take the logarithm of.
    double uniform_open0() noexcept { return (static_cast<double>(next() >> 11) + 1.0) * 0x1.0p-53; }
    /// Standard normal variate (Box-Muller, both values used).
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
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4]{};
    double spare_ = 0.0;
    bool has_spare_ = false;
};

}  // namespace mtjlab::physics
