// Run files through the storage module (contract A). Columns are SI in the file.
#include <cmath>
#include <exception>

#include <fmt/format.h>

#include "mtjlab/analysis/io.hpp"
#include "mtjlab/storage/run_file.hpp"

namespace mtjlab::analysis {

Run read_run_file(const std::filesystem::path& path) {
    Run run;
    run.name = path.stem().string();
    run.source = path.string();
    try {
        const auto reader = storage::RunReader::open(path);
        const auto& info = reader.info();
        if (!info.run_id.empty()) run.name = info.run_id;
        run.kind = run_kind_from_string(info.kind);
        run.status = std::string(storage::to_string(reader.status()));
        run.device.wafer = info.device.wafer_id;
        if (info.device.die >= 0) run.device.die = std::to_string(info.device.die);
        if (info.device.device >= 0) run.device.device = std::to_string(info.device.device);
        run.device.thickness_nm = info.device.thickness_nm > 0 ? info.device.thickness_nm : nan;
        run.device.cells = info.device.cells;
        if (run.status != "complete")
            run.load_notes.push_back(fmt::format("{}: run status is '{}'{}", path.string(), run.status,
                                                 info.error_message.empty() ? std::string() : fmt::format(" ({})", info.error_message)));
        auto col = [&](std::string_view name) -> std::vector<double> {
            return reader.has_column(name) ? reader.column(name) : std::vector<double>{};
        };
        auto to_int = [](const std::vector<double>& v) {
            std::vector<int> o(v.size());
            for (std::size_t i = 0; i < v.size(); ++i) o[i] = std::isfinite(v[i]) ? static_cast<int>(std::lround(v[i])) : -1;
            return o;
        };
        auto need = [&](std::initializer_list<std::string_view> names) {
            for (auto n : names)
                if (!reader.has_column(n)) {
                    run.load_error = fmt::format("{}: {} run without column '{}'", path.string(), info.kind, n);
                    return false;
                }
            return true;
        };
        switch (run.kind) {
            case RunKind::rh_loop: {
                if (!need({"resistance_ohm"})) break;
                // The measured field when present (the setpoint may differ near zero / after overshoot).
                const bool meas = reader.has_column("field_measured_T");
                if (!meas && !need({"field_T"})) break;
                run.sweep.x = meas ? col("field_measured_T") : col("field_T");
                if (meas) {
                    // Fall back to the setpoint where the gaussmeter gave nothing.
                    const auto set = col("field_T");
                    std::size_t filled = 0;
                    for (std::size_t i = 0; i < run.sweep.x.size() && i < set.size(); ++i)
                        if (!std::isfinite(run.sweep.x[i]) && std::isfinite(set[i])) {
                            run.sweep.x[i] = set[i];
                            ++filled;
                        }
                    if (filled) run.load_notes.push_back(fmt::format("{} point(s) use the field setpoint", filled));
                }
                run.sweep.r_ohm = col("resistance_ohm");
                run.sweep.branch = to_int(col("branch"));
                run.sweep.direction = to_int(col("direction"));
                break;
            }
            case RunKind::rv_pulse_train:
            case RunKind::field_free_rv:
            case RunKind::breakdown_ramp:
                if (!need({"pulse_amplitude_V", "resistance_ohm"})) break;
                run.sweep.x = col("pulse_amplitude_V");
                run.sweep.r_ohm = col("resistance_ohm");
                run.sweep.branch = to_int(col("branch"));
                run.sweep.direction = to_int(col("direction"));
                run.sweep.assist_T = col("assist_field_T");
                break;
            case RunKind::switching_probability:
                if (!need({"pulse_amplitude_V", "switched"})) break;
                run.trials.amplitude_V = col("pulse_amplitude_V");
                run.trials.switched = to_int(col("switched"));
                break;
            case RunKind::unknown:
                run.load_error = fmt::format("{}: unknown run kind '{}'", path.string(), info.kind);
                break;
        }
        if (run.load_error.empty() && reader.size() == 0)
            run.load_error = fmt::format("{}: run file holds no data points", path.string());
    } catch (const std::exception& e) {
        run.load_error = e.what();
    }
    return run;
}

}  // namespace mtjlab::analysis
