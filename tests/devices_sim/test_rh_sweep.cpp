// An R(H) loop through the virtual magnet and lock-in (SCPI only, as acquisition would do it) shows the
// two resistance plateaus of the simulated 1-cell device and a hysteretic loop.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "mtjlab/physics/device.hpp"

using namespace mtjlab;
using namespace mtjlab::devices_sim;

TEST_CASE("R(H) sweep through the virtual magnet and lock-in shows the P and AP plateaus", "[sim][vlab][rh]") {
    LabOptions o;
    o.device.thickness_nm = 1.6;
    o.device.cells = 1;
    o.seed = 7;
    VirtualLab lab(o);
    auto magnet = lab.handler("magnet");
    auto lockin = lab.handler("lockin");
    auto gauss = lab.handler("gaussmeter");
    REQUIRE_FALSE(magnet("*RST;FUNC:MODE CURR;:VOLT 20;:CURR 0;:OUTP ON").has_value());
    REQUIRE_FALSE(lockin("*RST;SLVL 0.100;FREQ 137;SENS 19;OFLT 7;OFSL 1").has_value());
    const double v_ac = 0.1;
    const double r_ref = 1e6;
    const double k = 0.05;  // T/A, the bench default coil constant

    auto measure = [&](double b) {
        REQUIRE_FALSE(magnet("CURR " + std::to_string(b / k)).has_value());
        const double x = std::stod(*lockin("OUTP? 1"));
        return r_ref * x / (v_ac - x);  // invert the divider
    };
    std::vector<double> fields;
    for (int mt = -30; mt <= 30; ++mt) fields.push_back(mt * 1e-3);
    std::vector<double> up;
    std::vector<double> down;
    (void)measure(-0.05);  // saturate P
    for (double b : fields) up.push_back(measure(b));
    for (auto it = fields.rbegin(); it != fields.rend(); ++it) down.push_back(measure(*it));
    std::reverse(down.begin(), down.end());

    // The field the gaussmeter reads is the one the magnet makes.
    REQUIRE_FALSE(gauss("UNIT 2").has_value());
    CHECK(std::stod(*gauss("RDGFIELD?")) == Approx(-0.030).margin(2e-4));

    const double r_low = up.front();    // P at -30 mT
    const double r_high = up.back();    // AP at +30 mT
    const auto nominal = physics::nominal_device(1.6, 1);
    const double rp = nominal.cells[0].r_p.si();
    const double rap = nominal.cells[0].r_ap().si();
    CHECK(r_low == Approx(rp).epsilon(0.03));
    CHECK(r_high == Approx(rap).epsilon(0.03));
    CHECK(r_high / r_low - 1.0 == Approx(0.33).margin(0.05));  // TMR at 1.6 nm
    // Two plateaus: every point sits on one of them.
    for (double r : up) CHECK(std::min(std::abs(r - r_low), std::abs(r - r_high)) < 0.02 * r_low);
    for (double r : down) CHECK(std::min(std::abs(r - r_low), std::abs(r - r_high)) < 0.02 * r_low);
    // Hysteresis: P->AP happens at a positive field on the way up, AP->P at a lower field on the way down.
    const double mid = 0.5 * (r_low + r_high);
    double h_up = NAN;
    double h_down = NAN;
    for (std::size_t i = 0; i < fields.size(); ++i)
        if (up[i] > mid) {
            h_up = fields[i];
            break;
        }
    for (std::size_t i = fields.size(); i-- > 0;)
        if (down[i] < mid) {
            h_down = fields[i];
            break;
        }
    REQUIRE(std::isfinite(h_up));
    REQUIRE(std::isfinite(h_down));
    CHECK(h_up > 0.0);
    CHECK(h_down < h_up - 0.005);  // a loop of several mT coercivity, not a reversible curve
}
