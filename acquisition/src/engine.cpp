#include "mtjlab/acquisition/engine.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/core/log.hpp"
#include "mtjlab/core/text_file.hpp"

namespace mtjlab::acquisition {
namespace fs = std::filesystem;
namespace {

template <class... F>
struct overloaded : F... { using F::operator()...; };
template <class... F>
overloaded(F...) -> overloaded<F...>;

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// Everything one point can contribute to a row.
struct PointValues {
    const Point* point = nullptr;
    Reading main;
    std::optional<Reading> before;
    double time_s = 0;
    int switched = 0;
};

/// The columns the engine can fill, resolved once per run (not a string compare per value per point).
enum class Col {
    field_T, field_measured_T, resistance_ohm, x_V, y_V, branch, direction, time_s, pulse_amplitude_V,
    pulse_width_s, assist_field_T, trial, switched, resistance_before_ohm
};

Col column_id(const std::string& name) {
    static const std::pair<const char*, Col> known[] = {
        {"field_T", Col::field_T}, {"field_measured_T", Col::field_measured_T},
        {"resistance_ohm", Col::resistance_ohm}, {"x_V", Col::x_V}, {"y_V", Col::y_V}, {"branch", Col::branch},
        {"direction", Col::direction}, {"time_s", Col::time_s}, {"pulse_amplitude_V", Col::pulse_amplitude_V},
        {"pulse_width_s", Col::pulse_width_s}, {"assist_field_T", Col::assist_field_T}, {"trial", Col::trial},
        {"switched", Col::switched}, {"resistance_before_ohm", Col::resistance_before_ohm}};
    for (const auto& [n, c] : known)
        if (name == n) return c;
    throw Error("run engine: no value for column '" + name + "'");
}

double column_value(Col col, const PointValues& v) {
    const Point& p = *v.point;
    switch (col) {
        case Col::field_T: return p.swept;
        case Col::field_measured_T: return v.main.field_measured ? v.main.field_measured->si() : nan;
        case Col::resistance_ohm: return v.main.resistance.si();
        case Col::x_V: return v.main.x.si();
        case Col::y_V: return v.main.y.si();
        case Col::branch: return p.branch;
        case Col::direction: return p.direction;
        case Col::time_s: return v.time_s;
        case Col::pulse_amplitude_V: return p.pulse_amplitude.si();
        case Col::pulse_width_s: return p.pulse_width.si();
        case Col::assist_field_T: return p.field.si();
        case Col::trial: return p.trial;
        case Col::switched: return v.switched;
        case Col::resistance_before_ohm: return v.before ? v.before->resistance.si() : nan;
    }
    return nan;
}

/// A job that is not run in this session: finished by an earlier one, or its device broke.
RunOutcome skipped_outcome(const Job& job, const fs::path& file, std::size_t rows, std::string message) {
    RunOutcome o;
    o.name = job.name;
    o.file = file;
    o.status = storage::RunStatus::complete;
    o.skipped = true;
    o.total = job.plan->points.size();
    o.rows = rows;
    o.message = std::move(message);
    return o;
}

bool changed(double r_prev, double r_now, double threshold) {
    if (!std::isfinite(r_prev) || !std::isfinite(r_now) || r_prev <= 0) return std::isfinite(r_prev) != std::isfinite(r_now);
    return std::abs(r_now - r_prev) / r_prev > threshold;
}

std::string run_id_for(const Job& job) {
    std::string t = storage::utc_now_iso8601();  // 2026-11-29T01:02:03.456Z
    std::string compact;
    for (char c : t)
        if (c != '-' && c != ':' && c != '.') compact += c;
    return compact + "-" + job.name;
}

void write_manifest(const fs::path& path, const nlohmann::json& m) {
    const fs::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw StorageError(path.string() + ": cannot write the campaign manifest");
        out << m.dump(2) << '\n';
        out.flush();
        if (!out) throw StorageError(path.string() + ": cannot write the campaign manifest");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw StorageError(path.string() + ": cannot replace the campaign manifest: " + ec.message());
}

/// The breakdown rule: a resistance that is not a number, or has fallen below short_fraction or risen above
/// open_factor times the run's first resistance (the baseline), shows a broken device. One rule for the
/// measurement loop and for rows read back (resume, a run found complete).
bool is_broken(double r, double baseline, const Plan& plan) {
    return plan.breakdown && (!std::isfinite(r) || r < plan.breakdown->short_fraction * baseline ||
                              r > plan.breakdown->open_factor * baseline);
}

/// The first row the breakdown rule calls broken (baseline: the run's first row), if any.
std::optional<std::size_t> first_broken_row(const std::vector<double>& r, const Plan& plan) {
    if (!plan.breakdown || r.empty()) return std::nullopt;
    for (std::size_t i = 0; i < r.size(); ++i)
        if (is_broken(r[i], r.front(), plan)) return i;
    return std::nullopt;
}

nlohmann::json device_json(const DeviceRef& d) {
    return {{"wafer_id", d.wafer_id}, {"die", d.die}, {"device", d.device}, {"thickness_nm", d.thickness_nm},
            {"cells", d.cells}};
}

}  // namespace

RunOutcome run_job(const Job& job, GuardedBench& bench, const fs::path& file, const RunOptions& options) {
    const Plan& plan = *job.plan;
    RunOutcome out;
    out.name = job.name;
    out.file = file;
    out.total = plan.points.size();
    auto log = log::get("acquisition");

    // Earlier rows (resume): the breakdown baseline, the last resistance and time.
    std::optional<storage::RunWriter> writer;
    std::vector<double> prior_r, prior_amp;
    double time_offset = 0;
    // A run file that is a symbolic link (planted in the output directory, or left there by another tool) may
    // name a file anywhere: --resume would append to it. Run files are only ever regular files in -o DIR.
    if (fs::is_symlink(file))
        throw InputError(fmt::format("{}: is a symbolic link; mtjlab reads and writes run files only as regular "
                                     "files inside the output directory",
                                     file.string()));
    if (fs::exists(file)) {
        storage::RunReader reader = storage::RunReader::open(file);
        if (reader.status() == storage::RunStatus::complete) {
            RunOutcome done = skipped_outcome(job, file, reader.size(), "already complete");
            // A finished breakdown ramp whose manifest entry was not written (killed in between): the device
            // is still broken, and the campaign must know before its next job on that device.
            if (plan.breakdown && reader.has_column("resistance_ohm") && reader.has_column("pulse_amplitude_V")) {
                const auto amp = reader.column("pulse_amplitude_V");
                if (auto b = first_broken_row(reader.column("resistance_ohm"), plan); b && *b < amp.size())
                    done.breakdown_amplitude_V = amp[*b];
            }
            return done;
        }
        if (!options.resume)
            throw InputError(fmt::format("{}: run file exists and is unfinished ({}); use --resume to continue it",
                                         file.string(), storage::to_string(reader.status())));
        if (reader.info().recipe_text != job.recipe_text || reader.info().kind != plan.kind)
            throw InputError(fmt::format("{}: was started with another recipe; resuming would mix two protocols "
                                         "(use a new output directory)",
                                         file.string()));
        if (reader.has_column("resistance_ohm")) prior_r = reader.column("resistance_ohm");
        if (reader.has_column("pulse_amplitude_V")) prior_amp = reader.column("pulse_amplitude_V");
        if (reader.has_column("time_s")) {
            auto t = reader.column("time_s");
            if (!t.empty()) time_offset = t.back();
        }
    }

    const bool resuming = fs::exists(file);
    bench.initialize();
    std::string instruments = options.instruments_snapshot ? options.instruments_snapshot()
                                                           : options.provenance.instruments_json;
    if (resuming) {
        writer = storage::RunWriter::resume(file, options.writer);
        log->info("{}: resuming after {} of {} points", file.string(), writer->size(), plan.points.size());
    } else {
        storage::RunInfo info;
        info.run_id = run_id_for(job);
        info.kind = plan.kind;
        info.recipe_name = job.run_name;
        info.recipe_text = job.recipe_text;
        info.parameters_json = job.parameters_json;
        info.station_toml = options.provenance.station_toml;
        info.instruments_json = instruments;
        info.virtual_run = options.provenance.virtual_run;
        info.device = {job.device.wafer_id, job.device.die, job.device.device, job.device.thickness_nm,
                       job.device.cells};
        // Rows reach HDF5 in batches (1024 rows or 1 s by default; the row journal makes each point durable
        // in between): one chunk per batch, no larger than the run.
        storage::WriterOptions wo = options.writer;
        wo.chunk_rows = std::clamp<std::size_t>(plan.points.size(), 1, std::max<std::size_t>(wo.batch_rows, 64));
        writer = storage::RunWriter::create(file, info, storage::columns_for(plan.kind), wo);
    }
    const std::size_t start = writer->size();
    if (start > plan.points.size())
        throw InputError(fmt::format("{}: holds {} rows but the plan has only {} points (different recipe?)",
                                     file.string(), start, plan.points.size()));
    if (options.progress && start > 0) options.progress->advance(start);

    std::vector<Col> cols;
    for (const auto& c : writer->columns()) cols.push_back(column_id(c.name));
    std::vector<double> row(cols.size());

    bool have_baseline = !prior_r.empty();
    double baseline = have_baseline ? prior_r.front() : 0.0;
    double prev_r = prior_r.empty() ? nan : prior_r.back();
    for (std::size_t k = 1; k < prior_r.size() && k < prior_amp.size(); ++k) {
        if (plan.kind != "switching_probability" && changed(prior_r[k - 1], prior_r[k], plan.switch_threshold)) {
            ++out.switches;
            if (!out.first_switch_V) out.first_switch_V = prior_amp[k];
        }
    }
    const Second t0 = bench.now() - Second(time_offset);
    const bool is_rv = plan.kind == "rv_pulse_train" || plan.kind == "field_free_rv";

    auto stop_with = [&](storage::RunStatus status, const std::string& message) {
        const std::string unsafe = bench.make_safe();
        out.status = status;
        out.message = unsafe.empty() ? message : message + "; safe state: " + unsafe;
        out.rows = writer->size();
        out.measured = out.rows - start;
        writer->finish(status, out.message);
    };

    // Killed after the row that showed the breakdown was stored but before the run was finished: the device is
    // broken already, so the resume must not pulse it again.
    if (auto b = first_broken_row(prior_r, plan); b && *b < prior_amp.size() && *b < start) {
        out.breakdown_amplitude_V = prior_amp[*b];
        if (options.progress) options.progress->skip(plan.points.size() - start);
        stop_with(storage::RunStatus::complete,
                  fmt::format("breakdown at {:g} V: R {:.4g} Ohm -> {:.4g} Ohm (in the rows stored before the resume; "
                              "no pulse since)",
                              prior_amp[*b], prior_r.front(), prior_r[*b]));
        return out;
    }

    try {
        for (std::size_t i = start; i < plan.points.size(); ++i) {
            if (options.cancel && options.cancel->level() >= 1) {
                stop_with(storage::RunStatus::aborted,
                          fmt::format("stopped by the user (Ctrl-C) after {} of {} points", i, plan.points.size()));
                return out;
            }
            const Point& point = plan.points[i];
            PointValues v;
            v.point = &point;
            for (const Step& s : point.steps) {
                std::visit(overloaded{[&](const SetField& f) { bench.set_field(f); },
                                      [&](const ApplyPulse& p) { bench.pulse(p); },
                                      [&](const Wait& w) { bench.wait(w.duration); },
                                      [&](const Read& r) {
                                          Reading rd = bench.read(r);
                                          if (r.role == ReadRole::before) v.before = rd;
                                          else v.main = rd;
                                      }},
                           s);
            }
            v.time_s = (bench.now() - t0).si();
            const double r_now = v.main.resistance.si();
            if (v.before) v.switched = changed(v.before->resistance.si(), r_now, plan.switch_threshold) ? 1 : 0;
            for (std::size_t c = 0; c < cols.size(); ++c) row[c] = column_value(cols[c], v);
            writer->append(row);  // durable (row journal) when it returns
            // End of a sweep branch: its rows go to the HDF5 file now, for readers that follow it live.
            if (i + 1 < plan.points.size() && plan.points[i + 1].branch != point.branch) writer->flush();
            if (options.progress) options.progress->advance();
            if (!have_baseline) {
                baseline = r_now;
                have_baseline = true;
            }
            const bool broken = is_broken(r_now, baseline, plan);
            if (is_rv && !broken && i > 0 && changed(prev_r, r_now, plan.switch_threshold)) {
                ++out.switches;
                if (!out.first_switch_V) out.first_switch_V = point.pulse_amplitude.si();
            }
            prev_r = r_now;
            if (broken) {
                out.breakdown_amplitude_V = point.pulse_amplitude.si();
                if (options.progress) options.progress->skip(plan.points.size() - i - 1);
                // Stop at once: no further pulse reaches a broken device.
                std::string note = fmt::format("breakdown at {:g} V: R {:.4g} Ohm -> {:.4g} Ohm",
                                               point.pulse_amplitude.si(), baseline, r_now);
                if (is_rv) {
                    note = fmt::format("device broke at {:g} V (R {:.4g} -> {:.4g} Ohm), run stopped; switched: {}",
                                       point.pulse_amplitude.si(), baseline, r_now,
                                       out.first_switch_V ? fmt::format("yes, first at {:g} V", *out.first_switch_V)
                                                          : std::string("no"));
                }
                stop_with(storage::RunStatus::complete, note);
                return out;
            }
        }
        bench.set_field(SetField{Tesla(0.0), Ampere(0.0)});
    } catch (const AbortNow&) {
        stop_with(storage::RunStatus::aborted,
                  fmt::format("aborted at once (second Ctrl-C) after {} of {} points", writer->size(),
                              plan.points.size()));
        return out;
    } catch (const std::exception& e) {
        stop_with(storage::RunStatus::failed, e.what());
        throw;
    }
    std::string note;
    if (plan.breakdown) note = "no breakdown up to the last amplitude";
    if (is_rv) {
        note = out.first_switch_V ? fmt::format("switched: yes ({} changes, first at {:g} V)", out.switches,
                                                *out.first_switch_V)
                                  : "switched: no";
    }
    out.status = storage::RunStatus::complete;
    out.rows = writer->size();
    out.measured = out.rows - start;
    out.message = note;
    writer->finish(storage::RunStatus::complete, note);
    return out;
}

std::vector<RunOutcome> run_jobs(const std::vector<Job>& jobs, GuardedBench& bench, const RunOptions& options) {
    std::vector<RunOutcome> outcomes;
    std::error_code ec;
    fs::create_directories(options.directory, ec);
    if (ec) throw StorageError(options.directory.string() + ": cannot create the output directory: " + ec.message());

    nlohmann::json manifest;
    std::map<std::string, std::string> previous;  // job name -> status from an earlier session
    if (options.manifest && fs::exists(*options.manifest)) {
        // Bounded: a manifest (or a link to an endless file) is read up to max_manifest_bytes, then refused.
        const std::string text = read_text_file(*options.manifest, max_manifest_bytes, "campaign manifest");
        try {
            manifest = nlohmann::json::parse(text);
        } catch (const std::exception& e) {
            throw InputError(options.manifest->string() + ": unreadable campaign manifest: " + e.what());
        }
        if (!options.resume)
            throw InputError(options.manifest->string() +
                             ": a campaign was already started in this directory; use --resume to continue it");
        if (manifest.value("recipe_text", std::string()) != options.campaign_text)
            throw InputError(options.manifest->string() +
                             ": the campaign recipe changed since this campaign was started; resuming would mix two "
                             "protocols (start a new output directory)");
        if (manifest.value("campaign", std::string()) != options.campaign_name)
            throw InputError(fmt::format("{}: belongs to campaign '{}', not '{}'", options.manifest->string(),
                                         manifest.value("campaign", std::string()), options.campaign_name));
        for (const auto& j : manifest["jobs"]) previous[j.value("name", "")] = j.value("status", "");
    }
    if (options.manifest) {
        manifest["format"] = manifest_format;
        manifest["format_version"] = manifest_version;
        manifest["campaign"] = options.campaign_name;
        if (!manifest.contains("started")) manifest["started"] = storage::utc_now_iso8601();
        manifest["recipe_text"] = options.campaign_text;
        manifest["virtual"] = options.provenance.virtual_run;
        nlohmann::json list = nlohmann::json::array();
        for (const Job& j : jobs) {
            const auto it = previous.find(j.name);
            list.push_back({{"name", j.name},
                            {"file", j.name + ".h5"},
                            {"run", j.run_name},
                            {"kind", j.kind},
                            {"device", device_json(j.device)},
                            {"points", j.plan->points.size()},
                            {"rows", 0},
                            {"status", it != previous.end() ? it->second : "pending"},
                            {"note", ""}});
        }
        // Keep everything earlier sessions recorded (rows, notes, switching, breakdown) for jobs still listed.
        if (manifest.contains("jobs"))
            for (const auto& old : manifest["jobs"])
                for (auto& j : list)
                    if (j["name"] == old.value("name", "")) j = old;
        manifest["jobs"] = list;
        manifest["updated"] = storage::utc_now_iso8601();
        write_manifest(*options.manifest, manifest);
    }

    std::optional<DeviceRef> on_stage;
    std::optional<DeviceRef> broken_device;  // a run broke it: its remaining runs are skipped
    std::string broken_note;
    for (std::size_t k = 0; k < jobs.size(); ++k) {
        const Job& job = jobs[k];
        if (options.cancel && options.cancel->level() >= 1) break;
        const fs::path file = options.directory / (job.name + ".h5");
        if (options.progress) options.progress->job(job.name, k, jobs.size());
        auto record = [&](const RunOutcome& o) {
            if (!options.manifest) return;
            auto& j = manifest["jobs"][k];
            j["status"] = std::string(storage::to_string(o.status));
            j["rows"] = o.rows;
            j["note"] = o.message;
            if (o.breakdown_amplitude_V) j["breakdown_V"] = *o.breakdown_amplitude_V;
            if (o.first_switch_V) j["first_switch_V"] = *o.first_switch_V;
            if (job.kind == "field_free_rv" || job.kind == "rv_pulse_train") j["switched"] = o.first_switch_V.has_value();
            manifest["updated"] = storage::utc_now_iso8601();
            write_manifest(*options.manifest, manifest);
        };
        if (previous.count(job.name) &&
            ((previous[job.name] == "complete" && fs::exists(file)) || previous[job.name] == "skipped")) {
            const RunOutcome o =
                skipped_outcome(job, file, manifest["jobs"][k].value("rows", std::size_t{0}), std::string());
            if (options.progress) options.progress->skip(job.plan->points.size());
            outcomes.push_back(o);
            // A breakdown recorded by an earlier session: the device's remaining jobs are skipped as in that session.
            if (const auto& rec = manifest["jobs"][k]; rec.contains("breakdown_V") && rec["breakdown_V"].is_number()) {
                broken_device = job.device;
                broken_note = fmt::format("device broke at {:g} V in run '{}'", rec["breakdown_V"].get<double>(),
                                          job.run_name);
            }
            continue;
        }
        if (broken_device && broken_device->die == job.device.die && broken_device->device == job.device.device &&
            broken_device->wafer_id == job.device.wafer_id && job.device.die >= 0) {
            const RunOutcome o = skipped_outcome(job, file, 0, "skipped: " + broken_note);
            if (options.progress) options.progress->skip(job.plan->points.size());
            if (options.manifest) {
                auto& j = manifest["jobs"][k];
                j["status"] = "skipped";
                j["note"] = o.message;
                write_manifest(*options.manifest, manifest);
            }
            outcomes.push_back(o);
            continue;
        }
        const bool same_device = on_stage && on_stage->die == job.device.die && on_stage->device == job.device.device &&
                                 on_stage->wafer_id == job.device.wafer_id;
        RunOutcome o;
        try {
            if (!same_device && options.move_to) {
                // The probes lift and land with the field at zero and every output off (a pulse output or the
                // lock-in's sine live through a probe landing is a transient on the junction); the next run
                // initializes the bench again.
                if (const std::string unsafe = bench.make_safe(); !unsafe.empty())
                    throw InstrumentError(fmt::format("not moving the probes to die {} device {}: the bench is not "
                                                      "safe ({})",
                                                      job.device.die, job.device.device, unsafe));
                options.move_to(job.device);
                on_stage = job.device;
            }
            o = run_job(job, bench, file, options);
        } catch (const AbortNow&) {
            // Second Ctrl-C between runs (the probe move, or the bench set-up before a run's first point):
            // nothing of this job was measured; the caller's BenchGuard makes the bench safe.
            break;
        } catch (const std::exception& e) {
            RunOutcome f;
            f.name = job.name;
            f.file = file;
            f.status = storage::RunStatus::failed;
            f.message = e.what();
            record(f);
            // The one line the user sees names the run and its file as well as the instrument and command.
            rethrow_with_context(fmt::format("run '{}' ({})", job.name, file.string()));
        }
        if (o.skipped && options.progress) options.progress->skip(job.plan->points.size());
        record(o);
        if (o.breakdown_amplitude_V) {
            broken_device = job.device;
            broken_note = fmt::format("device broke at {:g} V in run '{}'", *o.breakdown_amplitude_V, job.run_name);
        }
        outcomes.push_back(o);
        if (o.status != storage::RunStatus::complete) break;
    }
    return outcomes;
}

}  // namespace mtjlab::acquisition
