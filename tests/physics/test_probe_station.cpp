#include <catch2/catch.hpp>

#include <cmath>

#include "mtjlab/core/error.hpp"
#include "mtjlab/physics/probe_station.hpp"
#include "mtjlab/physics/wafer.hpp"

using namespace mtjlab;
using namespace mtjlab::physics;

TEST_CASE("probe station: a saturating negative field switches AP to P and back", "[unit][sim]") {
    ProbeStation st(nominal_device(1.9, 1), ReadChain{}, 1);
    const double r_ap = st.junction_resistance().si();
    st.set_field(units::millitesla(-30.0));
    st.advance(units::milliseconds(1.0));
    const double r_p = st.junction_resistance().si();
    CHECK(r_p < r_ap);
    CHECK(r_ap / r_p - 1.0 == Approx(0.40).margin(0.01));
    st.set_field(units::millitesla(+30.0));
    st.advance(units::milliseconds(1.0));
    CHECK(st.junction_resistance().si() == Approx(r_ap));
    CHECK(st.now().si() == Approx(2e-3));
}

TEST_CASE("probe station: a large negative pulse switches AP->P, breakdown is permanent", "[unit][sim]") {
    ProbeStation st(nominal_device(1.6, 1), ReadChain{}, 7);
    st.set_field(units::millitesla(-6.0));
    st.apply_pulse(Pulse{units::volts(-1.0), units::nanoseconds(200), units::nanoseconds(2), units::nanoseconds(2)});
    CHECK(st.cells_parallel() == 1);
    CHECK_FALSE(st.broken());
    CHECK(st.now().si() == Approx(202e-9));
    st.apply_pulse(Pulse{units::volts(-2.5), units::nanoseconds(200), {}, {}});
    CHECK(st.broken());
    CHECK(st.junction_resistance().si() == Approx(500.0));
    st.apply_pulse(Pulse{units::volts(0.1), units::nanoseconds(200), {}, {}});
    CHECK(st.broken());
}

TEST_CASE("probe station: lock-in reading follows the 1 MOhm divider", "[unit][sim]") {
    ReadChain no_cable;
    no_cable.cable_capacitance_F = 0.0;
    ProbeStation st(nominal_device(2.0, 1), no_cable, 3);
    const double r = st.junction_resistance().si();
    const auto s = st.read_lockin(units::volts(0.1), units::hertz(1000), units::milliseconds(100));
    CHECK(s.x.si() == Approx(0.1 * r / (r + 1e6)).epsilon(1e-4));
    CHECK(std::abs(s.y.si()) < 1e-6);
    // The cable capacitance across the junction gives a quadrature signal of omega (R || R_ref) C.
    ProbeStation st2(nominal_device(2.0, 1), ReadChain{}, 3);
    const auto s2 = st2.read_lockin(units::volts(0.1), units::hertz(1000), units::milliseconds(100));
    const double r_par = r * 1e6 / (r + 1e6);
    CHECK(-s2.y.si() / s2.x.si() == Approx(2 * 3.14159265 * 1000 * r_par * 100e-12).epsilon(0.01));
}

TEST_CASE("probe station: bad input is an InputError", "[unit][sim]") {
    ProbeStation st(nominal_device(2.0, 2), ReadChain{}, 3);
    CHECK_THROWS_AS(st.advance(Second(-1.0)), InputError);
    CHECK_THROWS_AS(st.apply_pulse(Pulse{units::volts(NAN), units::nanoseconds(200), {}, {}}), InputError);
    CHECK_THROWS_AS(nominal_device(3.0, 1), InputError);
    CHECK_THROWS_AS(nominal_device(2.0, 0), InputError);
    CHECK_THROWS_AS(nominal_device(2.0, 8), InputError);
}

TEST_CASE("wafer: devices are reproducible by seed and know thickness and cells", "[unit][sim]") {
    WaferSpec spec;
    Wafer a(spec, 42);
    Wafer b(spec, 42);
    Wafer c(spec, 43);
    const auto da = a.device(3, 2);
    const auto db = b.device(3, 2);
    const auto dc = c.device(3, 2);
    CHECK(da.cell_count() == 3);
    CHECK(da.thickness_nm == Approx(1.9).margin(0.03));
    CHECK(da.cells[0].r_p.si() == db.cells[0].r_p.si());
    CHECK(da.cells[0].r_p.si() != dc.cells[0].r_p.si());
    CHECK_THROWS_AS(a.device(11, 0), InputError);
}

TEST_CASE("probe station: pulses shorter than 10 ns run the LLG macrospin", "[unit][sim][llg]") {
    auto d = nominal_device(1.6, 1);
    d.breakdown.v_b = units::volts(100.0);  // look at switching only
    ProbeStation st(d, ReadChain{}, 21);
    const auto p_switch = [&](double volts, Second width) {
        int n = 0;
        for (int t = 0; t < 24; ++t) {
            st.set_states(+1);
            st.apply_pulse(Pulse{units::volts(volts), width, units::nanoseconds(0.2), units::nanoseconds(0.2)});
            n += st.cells_parallel();
        }
        return n / 24.0;
    };
    // 200 ns: V_c = 0.70 V. 2 ns pulses are precessional: the same amplitude does nothing, a few times it
    // always switches, and the probability rises in between.
    CHECK(p_switch(-0.75, units::nanoseconds(200)) > 0.9);
    CHECK(p_switch(-0.75, units::nanoseconds(2)) == 0.0);
    CHECK(p_switch(-4.0, units::nanoseconds(2)) == 1.0);
    CHECK(p_switch(+4.0, units::nanoseconds(2)) == 0.0);  // wrong polarity from AP: stays AP
    st.set_llg_threshold(Second(0.0));                      // rate law only
    CHECK(st.now().si() > 0.0);
}
