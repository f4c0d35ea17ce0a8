// Every driver (mtjlab::drivers) against its virtual instrument over a real loopback socket, the serial
// ones also over their pseudo-terminal; and the faults seen through the drivers: timeout, disconnect,
// garbage, a pushed error and a stuck *OPC? each give the right exception naming instrument and
// command, and nothing hangs.
#include <catch2/catch.hpp>

#include <chrono>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "mtjlab/drivers/gaussmeter/lakeshore_425.hpp"
#include "mtjlab/drivers/lockin/srs_lockin.hpp"
#include "mtjlab/drivers/magnet/keithley_2400.hpp"
#include "mtjlab/drivers/magnet/kepco_bop.hpp"
#include "mtjlab/drivers/pulse_gen/scpi_pulse_generator.hpp"
#include "mtjlab/drivers/registry.hpp"
#include "mtjlab/drivers/transport/in_process.hpp"
#include "mtjlab/drivers/transport/transport.hpp"

using namespace mtjlab;
using namespace std::chrono_literals;
namespace ds = mtjlab::devices_sim;
namespace dr = mtjlab::drivers;

namespace {

const ds::LabEndpoint& endpoint(const std::vector<ds::LabEndpoint>& eps, const std::string& name) {
    for (const auto& e : eps)
        if (e.name == name) return e;
    throw std::runtime_error("no endpoint " + name);
}

std::shared_ptr<dr::ScpiSession> session(const std::string& resource, const std::string& model_key,
                                         const std::string& name, dr::Duration timeout = 2s,
                                         const dr::TransportOptions& topts = {}) {
    auto opts = dr::session_options_for(dr::find_model(model_key), name);
    opts.timeout = timeout;
    return std::make_shared<dr::ScpiSession>(dr::open_transport(resource, topts), opts);
}

std::uint64_t pulses(ds::VirtualLab& lab) {
    std::lock_guard l(lab.bench()->mutex());
    return lab.bench()->pulses_applied_locked();
}

Tesla field(ds::VirtualLab& lab) {
    std::lock_guard l(lab.bench()->mutex());
    return lab.bench()->field_locked();
}

double expected_x(ds::VirtualLab& lab, double v_ac) {
    std::lock_guard l(lab.bench()->mutex());
    const double r = lab.bench()->station_locked().junction_resistance().si();
    return v_ac * r / (r + 1e6);
}

}  // namespace

TEST_CASE("pulse generator drivers fire pulses through their virtual instruments", "[integration][vlab][drivers]") {
    ds::VirtualLab lab{ds::LabOptions{}};
    lab.start();
    const auto eps = lab.endpoints();
    SECTION("Keysight 33522B") {
        dr::Keysight33500B pg(session(endpoint(eps, "pulse_gen").tcp_resource, "keysight_33500b", "pulse_gen"));
        CHECK(pg.identify().find("33522B") != std::string::npos);
        pg.configure({Volt(0.8), Second(200e-9), std::nullopt});
        pg.set_output(true);
        const auto p0 = pulses(lab);
        pg.trigger();
        pg.set_amplitude(Volt(-0.6));
        pg.trigger();
        CHECK(pulses(lab) == p0 + 2);
        CHECK(pg.session().drain_errors().empty());
        CHECK_THROWS_AS(pg.set_width(Second(1e-9)), LimitError);  // checked before any I/O
        pg.safe_state();  // returns once the instrument has executed it (*OPC?)
        CHECK(lab.handler("pulse_gen")("OUTP?") == std::optional<std::string>("0"));
    }
    SECTION("Agilent 81150A") {
        dr::Agilent81150A pg(session(endpoint(eps, "pulse_gen2").tcp_resource, "agilent_81150a", "pulse_gen2"));
        CHECK(pg.identify().find("81150A") != std::string::npos);
        pg.configure({Volt(1.0), Second(200e-9), Ohm(50.0)});
        pg.set_output(true);
        const auto p0 = pulses(lab);
        pg.trigger();
        CHECK(pulses(lab) == p0 + 1);
        CHECK(pg.session().drain_errors().empty());
        CHECK(std::stod(*lab.handler("pulse_gen2")(":PULS:WIDT1?")) == Approx(200e-9));
    }
}

TEST_CASE("pulse generator drivers keep the output resting at 0 V through every amplitude change",
          "[integration][vlab][drivers]") {
    // Between pulses the output rests at the low level (NORM) or the high level (INV). With the output on, any
    // other resting level is a DC bias on the device for as long as it lasts. The virtual instrument's levels
    // are read after every message the driver sends (straight from its handler, beside the driver's session).
    ds::VirtualLab lab{ds::LabOptions{}};
    for (const bool keysight : {true, false}) {
        const std::string name = keysight ? "pulse_gen" : "pulse_gen2";
        const std::string volt = keysight ? "VOLT" : ":VOLT1";
        const std::string outp = keysight ? "OUTP" : ":OUTP1";
        INFO(name);
        auto inner = lab.handler(name);
        auto level = [inner](const std::string& query) { return std::stod(inner(query).value()); };
        std::vector<std::string> dc;
        std::unique_ptr<dr::Transport> t = std::make_unique<dr::InProcessTransport>(
            [&, inner](std::string_view msg) {
                auto reply = inner(msg);
                if (inner(outp + "?").value() == "1") {
                    const bool inverted = inner(outp + ":POL?").value() == "INV";
                    const double rest = level(volt + (inverted ? ":HIGH?" : ":LOW?"));
                    if (std::abs(rest) > 1e-9) dc.push_back(fmt::format("{} V after '{}'", rest, msg));
                }
                return reply;
            },
            "SIM::" + name);
        auto sess = std::make_shared<dr::ScpiSession>(
            std::move(t), dr::session_options_for(dr::find_model(keysight ? "keysight_33500b" : "agilent_81150a"), name));
        std::unique_ptr<dr::PulseGenerator> pg;
        if (keysight) pg = std::make_unique<dr::Keysight33500B>(sess);
        else pg = std::make_unique<dr::Agilent81150A>(sess);
        pg->configure({Volt(0.6), Second(200e-9), Ohm(50.0)});
        pg->set_output(true);
        const auto p0 = pulses(lab);
        const std::vector<double> amplitudes{0.9, 0.3, -0.6, -1.0, -0.2, 0.8, 0.5};
        for (double a : amplitudes) {
            pg->set_amplitude(Volt(a));
            // The pulsed level is the amplitude asked for, and the output is on again for the trigger.
            CHECK(level(volt + (a >= 0 ? ":HIGH?" : ":LOW?")) == Approx(a).margin(1e-9));
            CHECK(inner(outp + "?").value() == "1");
            pg->trigger();
        }
        CHECK(pulses(lab) == p0 + amplitudes.size());
        CHECK(pg->session().drain_errors().empty());
        pg->safe_state();
        INFO(fmt::format("{}", fmt::join(dc, "; ")));
        CHECK(dc.empty());
    }
}

TEST_CASE("lock-in drivers read the junction through their virtual instruments", "[integration][vlab][drivers]") {
    ds::VirtualLab lab{ds::LabOptions{}};
    lab.start();
    const auto eps = lab.endpoints();
    SECTION("SR830") {
        dr::SrsSr830 li(session(endpoint(eps, "lockin").tcp_resource, "srs_sr830", "lockin"));
        li.set_reference_amplitude(Volt(0.1));
        li.set_reference_frequency(Hertz(137.0));
        li.set_sensitivity(Volt(5e-3));
        li.set_time_constant(Second(0.1));
        CHECK(li.sensitivity().si() == Approx(5e-3));
        CHECK(li.time_constant().si() == Approx(0.1));
        const auto r = li.read();
        CHECK(r.x.si() == Approx(expected_x(lab, 0.1)).epsilon(0.03));
        CHECK(r.r.si() >= std::abs(r.x.si()) * 0.999);
        li.set_sensitivity(Volt(2e-9));  // six decades too sensitive: the clipped output forces x10 steps
        const auto fs = li.autorange(10);
        CHECK(fs.si() > r.r.si());
        CHECK(fs.si() < 10 * r.r.si());
    }
    SECTION("SR860") {
        dr::SrsSr860 li(session(endpoint(eps, "lockin2").tcp_resource, "srs_sr860", "lockin2"));
        li.set_reference_amplitude(Volt(0.1));
        li.set_reference_frequency(Hertz(1000.0));
        li.set_sensitivity(Volt(5e-3));
        li.set_time_constant(Second(0.03));
        CHECK(li.sensitivity().si() == Approx(5e-3));
        CHECK(li.time_constant().si() == Approx(0.03));
        const auto r = li.read();
        CHECK(r.x.si() == Approx(expected_x(lab, 0.1)).epsilon(0.03));
    }
}

TEST_CASE("magnet and gaussmeter drivers close the field loop through the virtual lab", "[integration][vlab][drivers]") {
    ds::VirtualLab lab{ds::LabOptions{}};
    lab.start();
    const auto eps = lab.endpoints();
    dr::LakeShore425 gm(session(endpoint(eps, "gaussmeter").tcp_resource, "lakeshore_425", "gaussmeter"));
    gm.set_units_tesla();
    SECTION("Kepco BOP over TCP") {
        dr::KepcoBop bop(session(endpoint(eps, "magnet").tcp_resource, "kepco_bop", "magnet"));
        bop.identify_model();
        CHECK(bop.limits().max_current.si() == Approx(10.0));
        bop.configure_current_mode();
        bop.set_compliance(Volt(20.0));
        bop.set_output(true);
        bop.ramp_to(Ampere(0.4), 10.0, Ampere(0.05), [](Second) {});
        CHECK(bop.measure_current().si() == Approx(0.4));
        CHECK(field(lab).si() == Approx(0.02));
        CHECK(gm.read_field().si() == Approx(0.02).margin(1e-4));
        bop.safe_state();
        CHECK(field(lab).si() == Approx(0.0).margin(1e-12));
    }
    SECTION("Keithley 2400 over TCP") {
        dr::Keithley2400 k(session(endpoint(eps, "magnet2").tcp_resource, "keithley_2400", "magnet2"));
        k.configure_current_mode();
        k.set_compliance(Volt(10.0));
        k.set_output(true);
        k.set_current(Ampere(-0.3));
        CHECK(k.measure_current().si() == Approx(-0.3));
        CHECK(gm.read_field().si() == Approx(-0.015).margin(1e-4));
        CHECK(k.session().drain_errors().empty());
        k.safe_state();
    }
    SECTION("Kepco BOP and Lake Shore 425 over their pseudo-terminals") {
        dr::TransportOptions bop_serial;
        bop_serial.serial.baud = 9600;
        dr::KepcoBop bop(session(endpoint(eps, "magnet").pty_resource, "kepco_bop", "magnet", 2s, bop_serial));
        bop.identify_model();
        bop.configure_current_mode();
        bop.set_compliance(Volt(20.0));
        bop.set_output(true);
        bop.set_current(Ampere(0.2));
        dr::TransportOptions ls_serial;
        ls_serial.serial.baud = 57600;
        ls_serial.serial.data_bits = 7;
        ls_serial.serial.parity = dr::SerialSettings::Parity::odd;
        dr::LakeShore425 gm_pty(session(endpoint(eps, "gaussmeter").pty_resource, "lakeshore_425", "gaussmeter",
                                        2s, ls_serial));
        gm_pty.set_units_tesla();
        CHECK(gm_pty.read_field().si() == Approx(0.01).margin(1e-4));
        CHECK(gm_pty.identify().rfind("LSCI,MODEL425,", 0) == 0);
        bop.safe_state();
    }
}

TEST_CASE("faults through the drivers give the right exception and never hang", "[integration][vlab][drivers][fault]") {
    ds::VirtualLab lab{ds::LabOptions{}};
    lab.start();
    const auto eps = lab.endpoints();
    auto& vpg = lab.instrument("pulse_gen");
    dr::Keysight33500B pg(session(endpoint(eps, "pulse_gen").tcp_resource, "keysight_33500b", "pulse_gen", 500ms));
    pg.configure({Volt(0.5), Second(200e-9), std::nullopt});

    auto message_of = [](const std::function<void()>& f) {
        try {
            f();
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string();
    };

    SECTION("timeout") {
        ds::FaultPlan f;
        f.reply_delay = Second(2.0);
        vpg.set_faults(f);
        const auto t0 = std::chrono::steady_clock::now();
        CHECK_THROWS_AS(pg.identify(), TimeoutError);
        CHECK(std::chrono::steady_clock::now() - t0 < 1900ms);
        vpg.clear_faults();
        const auto msg = message_of([&] { vpg.set_faults(f); (void)pg.identify(); });
        CHECK(msg.find("pulse_gen") != std::string::npos);
        CHECK(msg.find("*IDN?") != std::string::npos);
        vpg.clear_faults();
    }
    SECTION("disconnect, then the next transaction reconnects") {
        ds::FaultPlan f;
        f.drop_connection = 1;
        vpg.set_faults(f);
        CHECK_THROWS_AS(pg.identify(), TransportError);
        CHECK(pg.identify().find("33522B") != std::string::npos);
    }
    SECTION("garbage reply") {
        dr::SrsSr830 li(session(endpoint(eps, "lockin").tcp_resource, "srs_sr830", "lockin", 500ms));
        ds::FaultPlan f;
        f.garbage_replies = 1;
        lab.instrument("lockin").set_faults(f);
        const auto msg = message_of([&] { (void)li.read(); });
        CHECK(msg.find("lockin") != std::string::npos);
        CHECK_THROWS_AS([&] {
            lab.instrument("lockin").set_faults(f);
            (void)li.read();
        }(), ProtocolError);
        lab.instrument("lockin").clear_faults();
        CHECK(li.read().x.si() > 0.0);
    }
    SECTION("an error pushed onto the queue") {
        vpg.push_error(-222, "injected");
        const auto msg = message_of([&] { pg.set_output(true); });
        CHECK(msg.find("-222") != std::string::npos);
        CHECK(msg.find("pulse_gen") != std::string::npos);
        vpg.push_error(-222, "injected");
        CHECK_THROWS_AS(pg.set_output(true), InstrumentError);
    }
    SECTION("the safe state is confirmed, and sent again when the link drops or a reply is lost or spoilt") {
        auto output = [&] { return lab.handler("pulse_gen")("OUTP?"); };
        const std::optional<std::string> off("0"), on("1");
        pg.set_output(true);
        ds::FaultPlan f;
        f.drop_connection = 1;  // "OUTP OFF" is lost with the link: unconfirmed, it would leave the output live
        vpg.set_faults(f);
        pg.safe_state();
        CHECK(output() == off);
        pg.set_output(true);
        f = {};
        f.garbage_replies = 1;  // the confirmation is spoilt: sent again, and the session is back in step
        vpg.set_faults(f);
        pg.safe_state();
        CHECK(output() == off);
        pg.set_output(true);
        CHECK(output() == on);
        f = {};
        // Never confirmed (every message of the three attempts, OUTP OFF and OUTP?, counts): the failure
        // propagates after the third; the output is off all the same.
        f.garbage_replies = 6;
        vpg.set_faults(f);
        CHECK_THROWS_AS(pg.safe_state(), ProtocolError);
        vpg.clear_faults();
        CHECK(output() == off);
        pg.trigger();  // and the session works again
    }
    SECTION("stuck *OPC?") {
        pg.set_output(true);
        ds::FaultPlan f;
        f.stuck_opc = true;
        vpg.set_faults(f);
        const auto t0 = std::chrono::steady_clock::now();
        CHECK_THROWS_AS(pg.trigger(), TimeoutError);
        CHECK(std::chrono::steady_clock::now() - t0 < 5s);
        vpg.clear_faults();
        pg.trigger();
    }
}
