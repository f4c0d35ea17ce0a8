// mtjlab sim device|rh|rv|psw|wafer: the virtual MTJ for modellers. Command-line quantities are in
// mT, nm, V and s; every output names its units. --json or --csv select machine-readable output.
#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/physics/experiments.hpp"
#include "mtjlab/physics/llg.hpp"
#include "mtjlab/physics/probe_station.hpp"
#include "mtjlab/physics/wafer.hpp"

namespace mtjlab::cli {

namespace {

namespace ph = mtjlab::physics;

struct SimOptions {
    double thickness_nm = NAN;
    int cells = 1;
    int die = -1;
    int device = -1;
    int dies = 11;
    int devices = 6;
    std::uint64_t seed = 1;
    bool json = false;
    bool csv = false;
    // rh
    double hmax_mT = 20.0;
    double step_mT = 0.5;
    double dwell_s = 0.5;
    // rv
    double assist_mT = 6.0;
    double vmax_V = 1.0;
    double vstep_V = 0.05;
    double width_s = 200e-9;
    double delay_s = 1.5;
    // psw
    std::string volts;
    int trials = 100;
    std::string model = "fast";
    double field_mT = 0.0;
};

void add_output_flags(CLI::App* c, SimOptions& o) {
    auto* j = c->add_flag("--json", o.json, "JSON output");
    auto* v = c->add_flag("--csv", o.csv, "CSV output");
    j->excludes(v);
    c->add_option("--seed", o.seed, "Random seed (runs are reproducible by seed)")->capture_default_str();
}

void add_device_flags(CLI::App* c, SimOptions& o, bool required) {
    auto* t = c->add_option("--thickness", o.thickness_nm, "Free-layer thickness, nm (1.6 .. 2.6)");
    if (required) t->required();
    c->add_option("--cells", o.cells, "Cells per compound device (1 .. 7)")->capture_default_str();
}

void require_finite(double v, const char* what, const char* range) {
    if (!std::isfinite(v)) throw InputError(fmt::format("{} is not a number (allowed: {})", what, range));
}

ph::CompoundDevice make_device(const SimOptions& o) {
    require_finite(o.thickness_nm, "--thickness", "[1.6, 2.6] nm");
    return ph::nominal_device(o.thickness_nm, o.cells);
}

std::string num(double v) { return fmt::format("{:.6g}", v); }

void run_device(const SimOptions& o, bool from_wafer) {
    ph::CompoundDevice d;
    if (from_wafer) {
        if (o.die < 0 || o.device < 0) throw InputError("--die and --device must be given together (each >= 0)");
        ph::WaferSpec spec;
        spec.dies = o.dies;
        spec.devices_per_die = o.devices;
        const ph::Wafer w(spec, o.seed);
        d = w.device(o.die, o.device);
    } else {
        d = make_device(o);
    }
    const ph::DeviceSummary s = ph::summarize(d);
    nlohmann::json levels = nlohmann::json::array();
    for (const auto& l : s.levels) levels.push_back(l.si());
    nlohmann::json vcc = nlohmann::json::array();
    for (const auto& v : s.v_c_cells) vcc.push_back(v.si());
    if (o.json) {
        nlohmann::json j = {{"thickness_nm", s.thickness_nm},
                            {"cells", s.cells},
                            {"levels_ohm", levels},
                            {"tmr", s.tmr},
                            {"level_steps", s.level_steps},
                            {"vc_V", s.v_c.si()},
                            {"vc_cells_V", vcc},
                            {"vc_assist_6mT_V", s.v_c_assist_6mT.si()},
                            {"hc_mT", s.h_c.si() * 1e3},
                            {"hex_mT", s.h_ex.si() * 1e3},
                            {"vb_V", s.v_b.si()},
                            {"r_channel_ohm", s.r_channel.si()},
                            {"r_source_ohm", d.channel.r_source.si()}};
        if (from_wafer) {
            j["die"] = o.die;
            j["device"] = o.device;
            j["seed"] = o.seed;
        }
        std::cout << j.dump(2) << '\n';
        return;
    }
    if (o.csv) {
        std::cout << "state,R_ohm\n";
        for (std::size_t k = 0; k < s.levels.size(); ++k) std::cout << k << ',' << num(s.levels[k].si()) << '\n';
        return;
    }
    std::cout << fmt::format("device: {} cell(s), free layer {:.3f} nm{}\n", s.cells, s.thickness_nm,
                             from_wafer ? fmt::format(" (wafer seed {}, die {}, device {})", o.seed, o.die, o.device)
                                        : std::string(" (nominal)"));
    std::cout << "levels (kOhm, ascending):";
    for (const auto& l : s.levels) std::cout << fmt::format(" {:.3f}", l.si() * 1e-3);
    std::cout << fmt::format("\nTMR: {:.1f} %\nlevel steps (%):", s.tmr * 100);
    for (double x : s.level_steps) std::cout << fmt::format(" {:.1f}", x * 100);
    std::cout << fmt::format(
        "\nV_c (field-free, 200 ns, 50 %, full switching): {:.3f} V\nV_c with -6 mT assist: {:.3f} V\n"
        "H_c: {:.2f} mT   H_ex: {:.2f} mT\nV_B: {:.2f} V\nchannel: {:.0f} Ohm, source: {:.0f} Ohm\n",
        s.v_c.si(), s.v_c_assist_6mT.si(), s.h_c.si() * 1e3, s.h_ex.si() * 1e3, s.v_b.si(), s.r_channel.si(),
        d.channel.r_source.si());
}

void print_curve(const std::vector<ph::CurvePoint>& pts, const SimOptions& o, const char* xname, double xscale,
                 nlohmann::json extra) {
    if (o.csv) {
        std::cout << xname << ",R_ohm\n";
        for (const auto& p : pts) std::cout << num(p.x * xscale) << ',' << num(p.r.si()) << '\n';
        return;
    }
    nlohmann::json xs = nlohmann::json::array();
    nlohmann::json rs = nlohmann::json::array();
    nlohmann::json br = nlohmann::json::array();
    for (const auto& p : pts) {
        xs.push_back(p.x * xscale);
        rs.push_back(p.r.si());
        br.push_back(p.branch);
    }
    if (o.json) {
        extra[xname] = xs;
        extra["R_ohm"] = rs;
        extra["branch"] = br;
        std::cout << extra.dump(2) << '\n';
        return;
    }
    for (auto it = extra.begin(); it != extra.end(); ++it) std::cout << "# " << it.key() << ": " << it.value() << '\n';
    std::cout << fmt::format("{:>12} {:>14}\n", xname, "R_ohm");
    for (const auto& p : pts) std::cout << fmt::format("{:>12.5g} {:>14.6g}\n", p.x * xscale, p.r.si());
}

void run_rh(const SimOptions& o) {
    require_finite(o.hmax_mT, "--hmax", "(0, inf) mT");
    require_finite(o.step_mT, "--step", "(0, hmax] mT");
    require_finite(o.dwell_s, "--dwell", "[0, inf) s");
    ph::ProbeStation st(make_device(o), ph::ReadChain{}, o.seed);
    const auto pts = ph::rh_loop(st, units::millitesla(o.hmax_mT), units::millitesla(o.step_mT),
                                 units::seconds(o.dwell_s));
    nlohmann::json extra = {{"thickness_nm", o.thickness_nm}, {"cells", o.cells}};
    if (const auto f = ph::loop_fields(pts)) {
        extra["hc_mT"] = f->h_c.si() * 1e3;
        extra["hex_mT"] = f->h_ex.si() * 1e3;
    }
    print_curve(pts, o, "H_mT", 1e3, extra);
}

void run_rv(const SimOptions& o) {
    require_finite(o.assist_mT, "--assist", "[0, inf) mT");
    require_finite(o.vmax_V, "--vmax", "(0, inf) V");
    require_finite(o.vstep_V, "--step", "(0, vmax] V");
    require_finite(o.width_s, "--width", "[0, inf) s");
    require_finite(o.delay_s, "--delay", "[0, inf) s");
    ph::ProbeStation st(make_device(o), ph::ReadChain{}, o.seed);
    ph::RvOptions ro;
    ro.assist = units::millitesla(std::abs(o.assist_mT));
    if (o.assist_mT < 0) throw InputError(fmt::format("--assist {} mT is outside [0, inf) mT (a magnitude)", o.assist_mT));
    ro.v_max = units::volts(o.vmax_V);
    ro.step = units::volts(o.vstep_V);
    ro.width = units::seconds(o.width_s);
    if (o.width_s < 0) throw InputError(fmt::format("--width {} s is outside [0, inf) s", o.width_s));
    ro.edge = ro.width < units::nanoseconds(2.5) ? ro.width : units::nanoseconds(2.5);
    ro.delay = units::seconds(o.delay_s);
    const auto pts = ph::rv_loop(st, ro);
    nlohmann::json extra = {{"thickness_nm", o.thickness_nm}, {"cells", o.cells}, {"assist_mT", o.assist_mT},
                            {"width_s", o.width_s}, {"broken", st.broken()}};
    if (st.breakdown_event()) extra["breakdown_V"] = st.breakdown_event()->amplitude.si();
    print_curve(pts, o, "V_V", 1.0, extra);
}

void run_psw(const SimOptions& o) {
    const auto parts = [&] {
        std::vector<double> v;
        std::stringstream ss(o.volts);
        std::string item;
        while (std::getline(ss, item, ':')) {
            try {
                std::size_t pos = 0;
                v.push_back(std::stod(item, &pos));
                if (pos != item.size()) throw std::invalid_argument(item);
            } catch (const std::exception&) {
                throw InputError(fmt::format("--volts '{}' is not A:B:STEP in volts", o.volts));
            }
        }
        if (v.size() != 3) throw InputError(fmt::format("--volts '{}' is not A:B:STEP in volts", o.volts));
        return v;
    }();
    const auto amps = ph::volt_range(parts[0], parts[1], parts[2], "--volts");
    require_finite(o.width_s, "--width", "[0, inf) s");
    if (o.width_s < 0) throw InputError(fmt::format("--width {} s is outside [0, inf) s", o.width_s));
    if (o.trials < 1 || o.trials > 1000000)
        throw InputError(fmt::format("--trials {} is outside [1, 1000000]", o.trials));
    require_finite(o.field_mT, "--field", "finite mT");
    const auto d = make_device(o);
    nlohmann::json j = {{"thickness_nm", o.thickness_nm}, {"cells", o.cells}, {"width_s", o.width_s},
                        {"field_mT", o.field_mT}, {"trials", o.trials}, {"model", o.model}};
    std::vector<double> volts, p, pa;
    if (o.model == "fast") {
        const auto r = ph::psw_fast(d, amps, units::seconds(o.width_s), units::millitesla(o.field_mT), o.trials, o.seed);
        volts = r.volts;
        p = r.p_switch;
        pa = r.p_analytic;
    } else if (o.model == "llg") {
        if (o.cells != 1) throw InputError(fmt::format("--cells {} with --model llg: allowed 1", o.cells));
        if (o.width_s > 1e-6) throw InputError(fmt::format("--width {} s with --model llg: allowed [0, 1e-6] s", o.width_s));
        const ph::Calibration cal = ph::Calibration::paper();
        const auto lp = ph::LlgParams::from_calibration(cal.at(o.thickness_nm), cal);
        std::vector<Ampere> currents;
        for (const auto v : amps) currents.push_back(d.channel.current(v));
        const auto r = ph::llg_switching(lp, currents, units::seconds(o.width_s), units::millitesla(o.field_mT),
                                         o.trials, o.seed);
        for (std::size_t k = 0; k < amps.size(); ++k) {
            volts.push_back(amps[k].si());
            p.push_back(static_cast<double>(r.switched[k]) / o.trials);
        }
    } else {
        throw InputError(fmt::format("--model '{}' is not one of: fast, llg", o.model));
    }
    if (o.json) {
        j["volts"] = volts;
        j["p_switch"] = p;
        if (!pa.empty()) j["p_analytic"] = pa;
        std::cout << j.dump(2) << '\n';
        return;
    }
    if (o.csv) {
        std::cout << (pa.empty() ? "V_V,p_switch\n" : "V_V,p_switch,p_analytic\n");
        for (std::size_t k = 0; k < volts.size(); ++k) {
            std::cout << num(volts[k]) << ',' << num(p[k]);
            if (!pa.empty()) std::cout << ',' << num(pa[k]);
            std::cout << '\n';
        }
        return;
    }
    std::cout << fmt::format("# {} model, {} trials, width {} s, field {} mT\n", o.model, o.trials, o.width_s,
                             o.field_mT);
    std::cout << fmt::format("{:>10} {:>10}{}\n", "V_V", "p_switch", pa.empty() ? "" : "  p_analytic");
    for (std::size_t k = 0; k < volts.size(); ++k) {
        std::cout << fmt::format("{:>10.4g} {:>10.4f}", volts[k], p[k]);
        if (!pa.empty()) std::cout << fmt::format(" {:>11.4f}", pa[k]);
        std::cout << '\n';
    }
}

void run_wafer(const SimOptions& o) {
    ph::WaferSpec spec;
    spec.dies = o.dies;
    spec.devices_per_die = o.devices;
    const ph::Wafer w(spec, o.seed);
    const char* header = "die,device,thickness_nm,cells,r_min_ohm,r_max_ohm,tmr,vc_V,hc_mT,hex_mT,vb_V,r_channel_ohm";
    nlohmann::json arr = nlohmann::json::array();
    if (o.csv) std::cout << header << '\n';
    if (!o.csv && !o.json)
        std::cout << fmt::format("{:>4} {:>6} {:>6} {:>5} {:>10} {:>10} {:>6} {:>6} {:>6} {:>6} {:>5} {:>6}\n", "die",
                                 "device", "t_nm", "cells", "Rmin_kOhm", "Rmax_kOhm", "TMR_%", "Vc_V", "Hc_mT",
                                 "Hex_mT", "VB_V", "Rch");
    for (int die = 0; die < spec.dies; ++die) {
        for (int k = 0; k < spec.devices_per_die; ++k) {
            const auto d = w.device(die, k);
            const auto s = ph::summarize(d, w.calibration());
            const double rmin = s.levels.front().si();
            const double rmax = s.levels.back().si();
            if (o.json) {
                arr.push_back({{"die", die}, {"device", k}, {"thickness_nm", d.thickness_nm}, {"cells", s.cells},
                               {"r_min_ohm", rmin}, {"r_max_ohm", rmax}, {"tmr", s.tmr}, {"vc_V", s.v_c.si()},
                               {"hc_mT", s.h_c.si() * 1e3}, {"hex_mT", s.h_ex.si() * 1e3}, {"vb_V", s.v_b.si()},
                               {"r_channel_ohm", s.r_channel.si()}});
            } else if (o.csv) {
                std::cout << fmt::format("{},{},{:.4f},{},{},{},{:.5f},{:.4f},{:.4f},{:.4f},{:.4f},{}\n", die, k,
                                         d.thickness_nm, s.cells, num(rmin), num(rmax), s.tmr, s.v_c.si(),
                                         s.h_c.si() * 1e3, s.h_ex.si() * 1e3, s.v_b.si(), num(s.r_channel.si()));
            } else {
                std::cout << fmt::format("{:>4} {:>6} {:>6.3f} {:>5} {:>10.3f} {:>10.3f} {:>6.1f} {:>6.3f} {:>6.2f} "
                                         "{:>6.2f} {:>5.2f} {:>6.0f}\n",
                                         die, k, d.thickness_nm, s.cells, rmin * 1e-3, rmax * 1e-3, s.tmr * 100,
                                         s.v_c.si(), s.h_c.si() * 1e3, s.h_ex.si() * 1e3, s.v_b.si(),
                                         s.r_channel.si());
            }
        }
    }
    if (o.json) {
        nlohmann::json j = {{"seed", o.seed}, {"dies", spec.dies}, {"devices", spec.devices_per_die},
                            {"t_min_nm", spec.t_min_nm}, {"t_max_nm", spec.t_max_nm}, {"population", arr}};
        std::cout << j.dump(2) << '\n';
    }
}

}  // namespace

void register_sim(CLI::App& app, const GlobalOptions& /*global*/) {
    auto opts = std::make_shared<SimOptions>();
    auto* sim = app.add_subcommand("sim", "The virtual MTJ for modellers (device, rh, rv, psw, wafer)");
    sim->require_subcommand(1);

    auto* dev = sim->add_subcommand("device", "Levels, TMR, steps, V_c, H_c, H_ex, V_B of one device");
    add_device_flags(dev, *opts, false);
    dev->add_option("--die", opts->die, "Die on a seeded wafer (with --device)");
    dev->add_option("--device", opts->device, "Device on the die (with --die)");
    dev->add_option("--dies", opts->dies, "Dies along the wedge of that wafer")->capture_default_str();
    dev->add_option("--devices", opts->devices, "Devices per die of that wafer")->capture_default_str();
    add_output_flags(dev, *opts);
    dev->callback([opts, dev] {
        const bool wafer = dev->count("--die") > 0 || dev->count("--device") > 0;
        if (wafer && (dev->count("--thickness") > 0 || dev->count("--cells") > 0))
            throw InputError("give either --thickness/--cells (nominal device) or --die/--device (wafer device)");
        if (!wafer && dev->count("--thickness") == 0)
            throw InputError("--thickness is required (1.6 .. 2.6 nm) unless --die/--device are given");
        run_device(*opts, wafer);
    });

    auto* rh = sim->add_subcommand("rh", "An R(H) loop of a nominal device (columns H_mT,R_ohm)");
    add_device_flags(rh, *opts, true);
    rh->add_option("--hmax", opts->hmax_mT, "Sweep limit, mT")->capture_default_str();
    rh->add_option("--step", opts->step_mT, "Field step, mT")->capture_default_str();
    rh->add_option("--dwell", opts->dwell_s, "Dwell per point, s")->capture_default_str();
    add_output_flags(rh, *opts);
    rh->callback([opts] { run_rh(*opts); });

    auto* rv = sim->add_subcommand("rv", "An R(V) loop with 200 ns pulses and an assist field (columns V_V,R_ohm)");
    add_device_flags(rv, *opts, true);
    rv->add_option("--assist", opts->assist_mT, "Assist field magnitude, mT (-H for V<0, +H for V>0)")
        ->capture_default_str();
    rv->add_option("--vmax", opts->vmax_V, "Largest pulse amplitude, V")->capture_default_str();
    rv->add_option("--step", opts->vstep_V, "Amplitude step, V")->capture_default_str();
    rv->add_option("--width", opts->width_s, "Pulse width, s")->capture_default_str();
    rv->add_option("--delay", opts->delay_s, "Delay between pulses (assist field on), s")->capture_default_str();
    add_output_flags(rv, *opts);
    rv->callback([opts] { run_rv(*opts); });

    auto* psw = sim->add_subcommand("psw", "Switching probability versus pulse amplitude");
    add_device_flags(psw, *opts, true);
    psw->add_option("--volts", opts->volts, "Amplitudes A:B:STEP, V (negative: AP->P)")->required();
    psw->add_option("--width", opts->width_s, "Pulse width, s")->capture_default_str();
    psw->add_option("--trials", opts->trials, "Trials per amplitude")->capture_default_str();
    psw->add_option("--model", opts->model, "fast (rate equation) or llg (stochastic macrospin)")
        ->capture_default_str();
    psw->add_option("--field", opts->field_mT, "Field along the easy axis, mT")->capture_default_str();
    add_output_flags(psw, *opts);
    psw->callback([opts] { run_psw(*opts); });

    auto* wafer = sim->add_subcommand("wafer", "The device population of a seeded wafer as a table");
    wafer->add_option("--dies", opts->dies, "Dies along the 1.6-2.6 nm wedge")->capture_default_str();
    wafer->add_option("--devices", opts->devices, "Devices per die (cells cycle 1, 2, 3)")->capture_default_str();
    add_output_flags(wafer, *opts);
    wafer->callback([opts] { run_wafer(*opts); });
}

}  // namespace mtjlab::cli
