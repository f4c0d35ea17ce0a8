// mtjlab h5 info FILE [--json]   and   mtjlab recover FILE [--force]
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/storage/run_file.hpp"

namespace mtjlab::cli {

void register_h5_compare(CLI::App& h5);  // h5 compare (cmd_compare.cpp)

namespace {

std::string type_name(storage::ColumnType t) { return t == storage::ColumnType::int32 ? "int32" : "float64"; }
std::string role_name(storage::ColumnRole r) { return r == storage::ColumnRole::swept ? "swept" : "measured"; }

/// One line saying whether a `running` file is live or orphaned.
std::string writer_note(const storage::RunReader& r) {
    if (r.status() != storage::RunStatus::running) return "";
    const auto alive = r.writer_alive();
    if (!alive) return "writer " + r.writer() + " (cannot tell whether it is alive)";
    if (*alive) return "being written by " + r.writer();
    return "writer " + r.writer() + " died; run `mtjlab recover` to close the file";
}

/// " (N of them only in the row journal ...)" for an unfinished run with journal rows, else "".
std::string journal_note(const std::string& file, const storage::RunReader& r) {
    if (r.from_journal_only())
        return " (all from the row journal " + file + ".journal: the HDF5 file cannot be read; `mtjlab recover` rebuilds it)";
    if (r.journal_rows() == 0) return "";
    std::string note = " (" + std::to_string(r.journal_rows()) + " of them only in the row journal " + file + ".journal";
    if (!r.writer_alive().value_or(false)) note += "; `mtjlab recover` writes them into the file";
    return note + ")";
}

nlohmann::json to_json(const std::string& file, const storage::RunReader& r) {
    const auto& i = r.info();
    nlohmann::json cols = nlohmann::json::array();
    for (const auto& c : r.columns()) {
        cols.push_back({{"name", c.spec.name},
                        {"units", c.spec.units},
                        {"description", c.spec.description},
                        {"type", type_name(c.spec.type)},
                        {"role", role_name(c.spec.role)},
                        {"length", c.length}});
    }
    nlohmann::json run = {
        {"run_id", i.run_id},
        {"kind", i.kind},
        {"status", std::string(storage::to_string(i.status))},
        {"error_message", i.error_message},
        {"start_time", i.start_time},
        {"end_time", i.end_time},
        {"rows", r.size()},
        {"journal_rows", r.journal_rows()},
        {"from_journal_only", r.from_journal_only()},
        {"recipe_name", i.recipe_name},
        {"recipe_text", i.recipe_text},
        {"parameters_json", i.parameters_json},
        {"station_toml", i.station_toml},
        {"instruments_json", i.instruments_json},
        {"virtual", i.virtual_run},
        {"device",
         {{"wafer_id", i.device.wafer_id},
          {"die", i.device.die},
          {"device", i.device.device},
          {"thickness_nm", i.device.thickness_nm},
          {"cells", i.device.cells}}},
        {"datasets", cols}};
    if (r.status() == storage::RunStatus::running) {
        run["writer"] = r.writer();
        const auto alive = r.writer_alive();
        run["writer_alive"] = alive ? nlohmann::json(*alive) : nlohmann::json(nullptr);
    }
    return {{"file", file},
            {"format", std::string(storage::format_name)},
            {"format_version", i.file_format_version},
            {"mtjlab_version", i.mtjlab_version},
            {"mtjlab_git_hash", i.mtjlab_git_hash},
            {"open_mode", r.opened_swmr() ? "swmr-read" : "normal"},
            {"runs", nlohmann::json::array({run})}};
}

std::string first_line(const std::string& s, std::size_t max = 100) {
    std::string line = s.substr(0, s.find('\n'));
    if (line.size() > max) line = line.substr(0, max) + "...";
    if (line.size() < s.size()) line += " (" + std::to_string(s.size()) + " bytes)";
    return line;
}

void print_text(const std::string& file, const storage::RunReader& r) {
    const auto& i = r.info();
    std::cout << "file:        " << file << (r.opened_swmr() ? "  (open for writing or writer died; SWMR read)" : "")
              << "\n"
              << "format:      " << storage::format_name << " v" << i.file_format_version << ", written by mtjlab "
              << i.mtjlab_version << " (" << i.mtjlab_git_hash << ")\n"
              << "runs:        1\n"
              << "run:         " << i.run_id << "\n"
              << "kind:        " << i.kind << "\n"
              << "status:      " << storage::to_string(i.status);
    if (!i.error_message.empty()) std::cout << " (" << i.error_message << ")";
    if (const auto note = writer_note(r); !note.empty()) std::cout << " [" << note << "]";
    std::cout << "\n"
              << "start:       " << i.start_time << "\n"
              << "end:         " << (i.end_time.empty() ? "-" : i.end_time) << "\n"
              << "rows:        " << r.size() << journal_note(file, r) << "\n"
              << "recipe:      " << i.recipe_name << "  " << first_line(i.recipe_text) << "\n"
              << "parameters:  " << first_line(i.parameters_json) << "\n"
              << "station:     " << first_line(i.station_toml) << "\n"
              << "instruments: " << first_line(i.instruments_json) << "\n"
              << "virtual:     " << (i.virtual_run ? "yes" : "no") << "\n"
              << "device:      wafer " << (i.device.wafer_id.empty() ? "-" : i.device.wafer_id) << ", die "
              << i.device.die << ", device " << i.device.device << ", free layer " << i.device.thickness_nm
              << " nm, " << i.device.cells << " cells\n"
              << "datasets:\n";
    for (const auto& c : r.columns()) {
        std::cout << "  /data/" << c.spec.name << "  [" << c.length << "] " << type_name(c.spec.type) << "  units "
                  << c.spec.units << (c.spec.role == storage::ColumnRole::swept ? "  (dimension scale)" : "")
                  << "  " << c.spec.description << "\n";
    }
}

}  // namespace

void register_h5(CLI::App& app, const GlobalOptions& /*global*/) {
    auto* h5 = app.add_subcommand("h5", "Inspect HDF5 run files");
    h5->require_subcommand(1);

    auto* info = h5->add_subcommand("info", "Show runs, status, provenance and datasets of a run file");
    auto file = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    info->add_option("FILE", *file, "Run file (.h5)")->required();
    info->add_flag("--json", *json, "Machine-readable JSON on stdout");
    info->callback([file, json] {
        const auto r = storage::RunReader::open(*file);
        if (*json) {
            std::cout << to_json(*file, r).dump(2) << "\n";
        } else {
            print_text(*file, r);
        }
    });

    register_h5_compare(*h5);

    auto* rec = app.add_subcommand("recover", "Close a run file whose writer died, keeping every acknowledged point");
    auto rfile = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    rec->add_option("FILE", *rfile, "Run file (.h5)")->required();
    rec->add_flag("--force", *force, "Recover even if the recorded writer process still seems to be alive");
    rec->callback([rfile, force] {
        const auto res = storage::recover(*rfile, *force);
        if (res.changed) {
            std::cout << *rfile << ": recovered " << res.rows << " rows, status " << storage::to_string(res.status);
            if (res.journal_rows > 0) std::cout << " (" << res.journal_rows << " of them from the row journal)";
            if (res.dropped > 0) std::cout << " (" << res.dropped << " values of unacknowledged partial rows dropped)";
            std::cout << "\n";
        } else {
            std::cout << *rfile << ": nothing to recover (closed file, status " << storage::to_string(res.status)
                      << ", " << res.rows << " rows)\n";
        }
    });
}

}  // namespace mtjlab::cli
