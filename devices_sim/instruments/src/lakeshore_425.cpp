// Virtual Lake Shore 425 gaussmeter (user manual chapter 6): RDGFIELD?, UNIT, RANGE, AUTO, RDGMODE, TYPE?,
// ZCLEAR, the 488.2 status commands; serial 57600 baud, 7 data bits, odd parity, 1 stop bit; replies end
// in CR LF. The probe reads the bench field (plus the bench gaussmeter noise). Errors set the standard
// event status register bits (no error queue), as on the real meter.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "models.hpp"
#include "srs_instrument.hpp"

namespace mtjlab::devices_sim::detail {

namespace {

// Full scale of RANGE 1..4 in tesla for the high-sensitivity probe (TYPE? 40): 35 G, 350 G, 3.5 kG, 35 kG.
constexpr double kRangeFullScale[] = {3.5e-3, 35e-3, 350e-3, 3.5};
constexpr double kMu0 = 4e-7 * std::numbers::pi;

class LakeShore425 final : public SrsInstrument {
public:
    LakeShore425(std::string name, std::shared_ptr<VirtualBench> bench)
        : SrsInstrument(std::move(name), std::move(bench)) {
        reset_settings_locked();
        add_status_commands(true, false);
        add_commands();
    }
    [[nodiscard]] std::string model() const override { return "425"; }
    [[nodiscard]] std::string idn() const override { return "LSCI,MODEL425,LSA21G7,1.4"; }
    [[nodiscard]] std::optional<SerialSettings> serial() const override {
        return SerialSettings{57600, 7, 'O', 1, "none"};
    }
    [[nodiscard]] std::string reply_terminator() const override { return "\r\n"; }

protected:
    void reset_settings_locked() override {
        unit_ = 2;  // tesla
        range_ = 2;
        auto_ = true;
        mode_ = 1;
        filter_ = 1;
        band_ = 1;
        zero_ = 0.0;
        max_ = 0.0;
    }

private:
    [[nodiscard]] double in_units(double tesla) const {
        switch (unit_) {
            case 1: return tesla * 1e4;          // gauss
            case 2: return tesla;                // tesla
            case 3: return tesla * 1e4;          // oersted (in air 1 G <-> 1 Oe)
            default: return tesla / kMu0;        // A/m
        }
    }
    static std::string fmt(double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%+.4E", v);
        return buf;
    }
    double measure() {
        double b = bench().read_gaussmeter_locked().si() - zero_;
        if (auto_) {
            range_ = 4;
            for (int r = 1; r <= 4; ++r)
                if (std::abs(b) <= kRangeFullScale[r - 1]) {
                    range_ = r;
                    break;
                }
        }
        const double fs = kRangeFullScale[range_ - 1];
        b = std::clamp(b, -1.05 * fs, 1.05 * fs);  // over range: the reading saturates
        max_ = std::max(max_, std::abs(b));
        return b;
    }

    template <class T>
    void int_setting(const std::string& name, T& field, long min, long max) {
        add(name, [&field, min, max](const ScpiCall& c) {
            c.expect_args(1, 1);
            const double v = parse_number_with_unit(c.args[0], "");
            if (v < static_cast<double>(min) || v > static_cast<double>(max) || v != std::round(v))
                throw ScpiFault(scpi_code::data_out_of_range, c.header);
            field = static_cast<T>(v);
            return std::string();
        }, [&field](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::to_string(static_cast<long>(field));
        });
    }

    void add_commands() {
        add("RDGFIELD", nullptr, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return fmt(in_units(measure()));
        });
        add("RDGMX", nullptr, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return fmt(in_units(max_));
        });
        add("RDGMNMX", nullptr, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return fmt(0.0) + "," + fmt(in_units(max_));
        });
        add("MXCLR", [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            max_ = 0.0;
            return std::string();
        }, nullptr);
        int_setting("UNIT", unit_, 1, 4);
        add("RANGE", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            const double v = parse_number_with_unit(c.args[0], "");
            if (v < 1 || v > 4 || v != std::round(v)) throw ScpiFault(scpi_code::data_out_of_range, c.header);
            range_ = static_cast<int>(v);
            auto_ = false;  // a manual range selection leaves autorange
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::to_string(range_);
        });
        add("AUTO", [this](const ScpiCall& c) {
            c.expect_args(1, 1);
            const double v = parse_number_with_unit(c.args[0], "");
            if (v != 0 && v != 1) throw ScpiFault(scpi_code::data_out_of_range, c.header);
            auto_ = v == 1;
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string(auto_ ? "1" : "0");
        });
        add("RDGMODE", [this](const ScpiCall& c) {
            c.expect_args(3, 3);
            const double m = parse_number_with_unit(c.args[0], "");
            const double f = parse_number_with_unit(c.args[1], "");
            const double b = parse_number_with_unit(c.args[2], "");
            if (m < 1 || m > 2 || f < 1 || f > 3 || b < 1 || b > 2) throw ScpiFault(scpi_code::data_out_of_range, c.header);
            mode_ = static_cast<int>(m);
            filter_ = static_cast<int>(f);
            band_ = static_cast<int>(b);
            return std::string();
        }, [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::to_string(mode_) + "," + std::to_string(filter_) + "," + std::to_string(band_);
        });
        add("TYPE", nullptr, [](const ScpiCall& c) {
            c.expect_args(0, 0);
            return std::string("40");
        });
        // Zero probe: the present reading (without noise) becomes the zero offset.
        add("ZPROBE", [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            zero_ = bench().field_locked().si();
            return std::string();
        }, nullptr);
        add("ZCLEAR", [this](const ScpiCall& c) {
            c.expect_args(0, 0);
            zero_ = 0.0;
            return std::string();
        }, nullptr);
    }

    int unit_ = 2;
    int range_ = 2;
    bool auto_ = true;
    int mode_ = 1;
    int filter_ = 1;
    int band_ = 1;
    double zero_ = 0.0;
    double max_ = 0.0;
};

}  // namespace

std::unique_ptr<VirtualInstrument> make_lakeshore_425(const std::string& name, std::shared_ptr<VirtualBench> bench) {
    return std::make_unique<LakeShore425>(name, std::move(bench));
}

}  // namespace mtjlab::devices_sim::detail
