// Switching-probability fits against seeded binomial data from a known probit curve.
#include <cmath>
#include <random>

#include <catch2/catch.hpp>

#include "mtjlab/analysis/psw.hpp"

using namespace mtjlab::analysis;

namespace {
Trials make_trials(double v50, double w, double v0, double v1, int steps, int per, std::mt19937_64& rng) {
    Trials t;
    std::uniform_real_distribution<double> u(0, 1);
    for (int k = 0; k <= steps; ++k) {
        const double v = v0 + (v1 - v0) * k / steps;
        const double p = 0.5 * std::erfc(-((v - v50) / w) / std::sqrt(2.0));
        for (int i = 0; i < per; ++i) {
            t.amplitude_V.push_back(v);
            t.switched.push_back(u(rng) < p ? 1 : 0);
        }
    }
    return t;
}
}  // namespace

TEST_CASE("P_sw: probit fit recovers V50 and width; pulls are consistent with the Fisher errors", "[unit]") {
    std::mt19937_64 rng(2024);
    const double v50 = 1.05, w = 0.08;
    double sum_pull2_v = 0, sum_pull2_w = 0;
    const int reps = 200;
    for (int r = 0; r < reps; ++r) {
        const auto res = fit_switching_probability(make_trials(v50, w, 0.8, 1.3, 20, 50, rng));
        REQUIRE(res.v50_V.ok());
        REQUIRE(res.width_V.ok());
        REQUIRE(res.v50_V.error);
        sum_pull2_v += std::pow((*res.v50_V - v50) / *res.v50_V.error, 2);
        sum_pull2_w += std::pow((*res.width_V - w) / *res.width_V.error, 2);
        CHECK(res.polarity == 1);
    }
    // RMS pull near 1 means the quoted uncertainties are honest.
    CHECK(std::sqrt(sum_pull2_v / reps) == Approx(1.0).margin(0.2));
    CHECK(std::sqrt(sum_pull2_w / reps) == Approx(1.0).margin(0.25));
}

TEST_CASE("P_sw: negative polarity (AP->P with negative pulses)", "[unit]") {
    std::mt19937_64 rng(5);
    Trials t = make_trials(1.2, 0.1, 0.9, 1.5, 12, 40, rng);
    for (double& v : t.amplitude_V) v = -v;
    const auto res = fit_switching_probability(t);
    REQUIRE(res.v50_V.ok());
    CHECK(res.polarity == -1);
    CHECK(*res.v50_V == Approx(-1.2).margin(4 * *res.v50_V.error));
    CHECK(*res.width_V == Approx(0.1).margin(4 * *res.width_V.error));
}

TEST_CASE("P_sw: separation, never/always switching and bad input give reasons", "[unit]") {
    Trials sep;
    for (int k = 0; k < 6; ++k)
        for (int i = 0; i < 10; ++i) {
            sep.amplitude_V.push_back(0.1 * k);
            sep.switched.push_back(k >= 3 ? 1 : 0);
        }
    auto r = fit_switching_probability(sep);
    REQUIRE(r.v50_V.ok());
    CHECK(*r.v50_V == Approx(0.25));
    CHECK(*r.v50_V.error == Approx(0.05));
    CHECK_FALSE(r.width_V.ok());
    CHECK(r.width_V.reason.find("separation") != std::string::npos);

    Trials never = sep;
    std::fill(never.switched.begin(), never.switched.end(), 0);
    r = fit_switching_probability(never);
    CHECK_FALSE(r.v50_V.ok());
    CHECK(r.v50_V.reason.find("never switched") != std::string::npos);

    Trials one;
    one.amplitude_V = {1, 1, 1};
    one.switched = {0, 1, 0};
    CHECK_FALSE(fit_switching_probability(one).v50_V.ok());
    Trials bad;
    bad.amplitude_V = {1, 2};
    bad.switched = {0};
    CHECK_FALSE(fit_switching_probability(bad).error.empty());
}
