#include <catch2/catch.hpp>

#include <type_traits>

#include "mtjlab/core/units.hpp"

using namespace mtjlab;
using namespace mtjlab::units;

TEST_CASE("unit types store SI and convert only at the edges", "[unit][core]") {
    constexpr auto b = millitesla(12.5);
    STATIC_REQUIRE(b.si() == 0.0125);
    CHECK(in_mT(b) == Approx(12.5));
    CHECK(in_kOhm(kiloohms(25.2)) == Approx(25.2));
    CHECK(in_ns(nanoseconds(200)) == Approx(200.0));
    CHECK(nanoseconds(200).si() == Approx(2e-7));
    CHECK(in_mA(milliamperes(3.0)) == Approx(3.0));
    CHECK(in_ms(milliseconds(1500)) == Approx(1500.0));
}

TEST_CASE("unit types do not mix dimensions implicitly", "[unit][core]") {
    STATIC_REQUIRE_FALSE(std::is_convertible_v<double, Volt>);
    STATIC_REQUIRE_FALSE(std::is_convertible_v<Volt, Ampere>);
    STATIC_REQUIRE_FALSE(std::is_convertible_v<Volt, double>);
    STATIC_REQUIRE(std::is_constructible_v<Volt, double>);
}

TEST_CASE("Ohm's law is dimensionally typed", "[unit][core]") {
    const Volt v = volts(0.1);
    const Ohm r = kiloohms(1000.0) + kiloohms(25.2);
    const Ampere i = v / r;
    CHECK(i.si() == Approx(0.1 / 1.0252e6));
    CHECK((i * r).si() == Approx(0.1));
    CHECK((v / i).si() == Approx(r.si()));
    CHECK(volts(2.0) / volts(0.5) == Approx(4.0));
    CHECK(volts(1.0) < volts(2.0));
    CHECK(-volts(1.0) == volts(-1.0));
    Volt acc = volts(1.0);
    acc += volts(0.5);
    acc *= 2.0;
    CHECK(acc.si() == Approx(3.0));
}
