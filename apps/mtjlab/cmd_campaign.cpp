// mtjlab campaign (--virtual | --station STATION.toml | --measured DIR) -o OUTDIR [--preset paper|smoke]
// [--recipe FILE] [--resume] [--seeds K] [--epochs N] [--model-cache DIR] [--data-dir DIR] [--json]
// The main job (issue 8): measure the paper's campaign (virtual lab or a real bench), analyse it, train or
// reuse the networks, evaluate them on the measured states and the TMR x states grid, and write
// OUTDIR/report.html and OUTDIR/summary.json. Thin: the measuring is the acquisition runner (the library
// behind `mtjlab run`: preflight, engine, Ctrl-C handling, progress) on the virtual lab or the station, the
// rest is mtjlab::reproduction. Progress goes to stderr; stdout gets the report path (or the summary, --json).
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mtjlab/acquisition/cancel.hpp"
#include "mtjlab/acquisition/progress.hpp"
#include "mtjlab/acquisition/runner.hpp"
#include "mtjlab/acquisition/station.hpp"
#include "mtjlab/ann/quantize.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/text_file.hpp"
#include "mtjlab/recipes/recipe.hpp"
#include "mtjlab/recipes/runner.hpp"
#include "mtjlab/reproduction/reproduction.hpp"
#include "prober.hpp"
#include "virtual_bench.hpp"

namespace mtjlab::cli {
namespace {
namespace fs = std::filesystem;
namespace rp = mtjlab::reproduction;
using json = nlohmann::json;

struct CampaignArgs {
    bool virtual_lab = false;
    std::optional<std::string> station;
    std::optional<std::string> measured;
    std::string preset = "paper";
    std::optional<std::string> recipe;
    std::string out;
    bool resume = false;
    std::optional<int> seeds, epochs;
    std::optional<std::size_t> train_limit;
    std::optional<std::string> model_cache;
    std::optional<std::string> data_dir;
    std::string mappings = "mirror,differential";
    std::string scale = "mse";
    int jobs = 0;
    std::uint64_t seed = 1, wafer_seed = 7;
    std::string prober_command;
    bool json_out = false;
    std::vector<std::string> argv;
};

std::string utc_now() {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

void write_text(const fs::path& p, std::string_view text) {
    std::ofstream out(p, std::ios::trunc | std::ios::binary);
    out << text;
    out.close();
    if (!out) throw StorageError(fmt::format("{}: cannot write", p.string()));
}

std::string shell_quote(const std::string& s) {
    std::string o = "'";
    for (char c : s) o += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return o + "'";
}

struct Measured {
    acquisition::RunSummary summary;
    std::string campaign_name;
};

/// Measures the campaign recipe into `dir` with the acquisition runner: on the virtual lab (the station's
/// instruments served on loopback sockets, virtual clock and prober) or on the station's real instruments.
/// Run summary lines go to stderr (stdout is for the result).
Measured measure(const std::string& recipe_text, const std::string& recipe_name, const fs::path& station_file,
                 const fs::path& dir, const CampaignArgs& a) {
    const acquisition::Station station = acquisition::load_station(station_file);
    const recipes::Recipe recipe = recipes::parse(recipe_text, recipe_name);
    const recipes::PreparedRecipe prepared = recipes::prepare(recipe, station);
    if (!prepared.is_campaign())
        throw InputError(fmt::format("{}: not a campaign recipe (kind = \"campaign\")", recipe_name));
    if (!prepared.ok()) (void)recipes::run(prepared, station, {});  // throws LimitError naming the step
    acquisition::CancelToken cancel;
    acquisition::SignalCancellation signals(cancel);
    acquisition::Progress progress(std::cerr, isatty(STDERR_FILENO) != 0, prepared.total_points);
    acquisition::SessionOptions so;
    so.output_dir = dir;
    so.resume = a.resume && fs::exists(dir / "campaign.json");
    so.cancel = &cancel;
    so.progress = &progress;
    std::optional<VirtualBench> vb;
    if (a.virtual_lab) {
        VirtualBenchOptions vo;
        vo.seed = a.seed;
        vo.wafer_seed = a.wafer_seed;
        vb.emplace(start_virtual_bench(station, vo, &prepared.campaign->wafer));
        vb->attach(so);
    } else {
        so.move_to = real_prober(a.prober_command);
    }
    Measured m;
    m.summary = recipes::run(prepared, vb ? vb->station : station, so);
    m.campaign_name = prepared.campaign->name;
    progress.finish("");
    if (!m.summary.unsafe.empty()) std::cerr << "mtjlab: WARNING: bench may not be safe: " << m.summary.unsafe << '\n';
    return m;
}

/// A measurement that stopped: carries the exit code of `mtjlab run` (2, 3, 130, ...).
class MeasurementStopped : public Error {
public:
    MeasurementStopped(const std::string& what, int code) : Error(what), code_(code) {}
    [[nodiscard]] int code() const { return code_; }

private:
    int code_;
};

std::vector<ann::Mapping> parse_mappings(const std::string& s) {
    std::vector<ann::Mapping> out;
    std::size_t a = 0;
    while (a <= s.size()) {
        const auto b = s.find(',', a);
        const std::string name = s.substr(a, b == std::string::npos ? std::string::npos : b - a);
        if (name == "all") {
            for (auto m : ann::all_mappings()) out.push_back(m);
        } else if (!name.empty()) {
            out.push_back(ann::parse_mapping(name));
        }
        if (b == std::string::npos) break;
        a = b + 1;
    }
    if (out.empty()) throw InputError(fmt::format("--mapping '{}': no mapping given", s));
    return out;
}

int run_campaign(const CampaignArgs& a) {
    const auto t_start = std::chrono::steady_clock::now();
    const int sources = (a.virtual_lab ? 1 : 0) + (a.measured ? 1 : 0) + (a.station && !a.virtual_lab ? 1 : 0);
    if (sources != 1)
        throw InputError("campaign: give exactly one of --virtual (the virtual lab), --station STATION.toml (a real "
                         "bench) or --measured DIR (an already measured campaign directory)");
    if (!a.prober_command.empty() && (a.virtual_lab || a.measured))
        throw InputError("campaign: --prober-command is for a real bench (--station without --virtual)");
    const rp::Preset& preset = rp::preset(a.preset);
    rp::Options o = rp::options_from(preset);
    o.output_dir = a.out;
    if (a.seeds) o.seeds = *a.seeds;
    if (a.epochs) o.epochs = *a.epochs;
    if (a.train_limit) o.train_limit = *a.train_limit;
    if (o.seeds < 1 || o.seeds > 100) throw InputError(fmt::format("--seeds {}: expected 1..100", o.seeds));
    if (o.epochs < 1 || o.epochs > 1000) throw InputError(fmt::format("--epochs {}: expected 1..1000", o.epochs));
    o.mappings = parse_mappings(a.mappings);
    o.scale = ann::parse_scale_policy(a.scale);
    o.threads = a.jobs;
    if (a.data_dir) o.data_dir = *a.data_dir;
    o.model_cache = a.model_cache ? fs::path(*a.model_cache) : rp::default_model_cache(o.output_dir);

    std::error_code ec;
    fs::create_directories(o.output_dir, ec);
    if (ec) throw StorageError(fmt::format("{}: cannot create output directory: {}", a.out, ec.message()));

    rp::Provenance prov;
    prov.started_utc = utc_now();
    for (const auto& s : a.argv) prov.command_line += (prov.command_line.empty() ? "" : " ") + shell_quote(s);
    prov.preset = a.preset;
    prov.virtual_lab = a.virtual_lab;
    auto progress = [](const std::string& s) { std::cerr << "mtjlab campaign: " << s << '\n'; };

    std::vector<rp::StageTiming> timings;
    fs::path campaign_dir;
    if (a.measured) {
        campaign_dir = *a.measured;
        if (!fs::is_directory(campaign_dir))
            throw InputError(fmt::format("--measured {}: not a directory", campaign_dir.string()));
        prov.station = "(measured earlier)";
        prov.recipe_source = fs::exists(campaign_dir / "campaign.json")
                                 ? (campaign_dir / "campaign.json").string() + " (recipe_text inside)"
                                 : "(unknown)";
        try {
            const json manifest = json::parse(
                read_text_file(campaign_dir / "campaign.json", max_manifest_bytes, "campaign manifest"));
            prov.virtual_lab = manifest.value("virtual", false);
            prov.measurement = {{"manifest", (campaign_dir / "campaign.json").string()},
                                {"campaign", manifest.value("campaign", "")},
                                {"started", manifest.value("started", "")},
                                {"updated", manifest.value("updated", "")}};
        } catch (const std::exception&) {
            prov.measurement = {{"manifest", nullptr}};
        }
    } else {
        // The recipe and station are written next to the data, so the run is reproducible from OUTDIR alone.
        const std::string recipe_text =
            a.recipe ? read_text_file(*a.recipe, max_recipe_bytes, "recipe") : preset.recipe_text;
        prov.recipe_source = a.recipe ? *a.recipe : preset.recipe_source + " (embedded, preset " + preset.name + ")";
        const fs::path recipe_file = o.output_dir / "campaign-recipe.toml";
        write_text(recipe_file, recipe_text);
        fs::path station_file;
        if (a.station) {
            station_file = *a.station;
            if (!fs::exists(station_file)) throw InputError(fmt::format("--station {}: no such file", *a.station));
        } else {
            station_file = o.output_dir / "station.toml";
            write_text(station_file, rp::example_station_text());
        }
        prov.station = a.virtual_lab ? fmt::format("virtual lab with the instruments of {}{}", station_file.string(),
                                                   a.station ? "" : " (recipes/station.example.toml, embedded)")
                                     : station_file.string();
        prov.lab_seed = a.seed;
        prov.wafer_seed = a.wafer_seed;
        campaign_dir = o.output_dir / "campaign";
        if (fs::exists(campaign_dir / "campaign.json") && !a.resume)
            throw InputError(fmt::format("{} already holds a campaign: add --resume to continue it (finished runs "
                                         "are kept), or choose another -o",
                                         campaign_dir.string()));
        progress(fmt::format("measuring the campaign ({}) -> {}", prov.recipe_source, campaign_dir.string()));
        const auto t0 = std::chrono::steady_clock::now();
        const Measured meas = measure(recipe_text, recipe_file.string(), station_file, campaign_dir, a);
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (meas.summary.aborted || meas.summary.cancelled) {
            throw MeasurementStopped(
                fmt::format("campaign: measurement stopped by the user; bench safe; the data so far are in {}; "
                            "continue with the same command and --resume",
                            campaign_dir.string()),
                exit_code::interrupted);
        }
        std::string detail = fmt::format("{} runs in {:.1f} s", meas.summary.jobs, meas.summary.wall_time_s);
        try {
            const json manifest = json::parse(
                read_text_file(campaign_dir / "campaign.json", max_manifest_bytes, "campaign manifest"));
            std::size_t complete = 0, skipped = 0, failed = 0, points = 0;
            for (const auto& j : manifest.value("jobs", json::array())) {
                const auto st = j.value("status", "");
                complete += st == "complete";
                skipped += st == "skipped";
                failed += st == "failed" || st == "aborted";
                points += j.value("rows", std::size_t{0});
            }
            detail = fmt::format("{} run(s) complete, {} skipped (device broke earlier), {} failed; {} points",
                                 complete, skipped, failed, points);
            prov.measurement = {{"manifest", (campaign_dir / "campaign.json").string()},
                                {"jobs_complete", complete},
                                {"jobs_skipped", skipped},
                                {"jobs_failed", failed},
                                {"points", points},
                                {"seconds_this_session", secs}};
        } catch (const std::exception& e) {
            detail = fmt::format("manifest unreadable: {}", e.what());
        }
        timings.push_back({"measurement", secs, detail});
    }

    const rp::Result r = rp::reproduce(campaign_dir, o, prov, progress, timings);
    std::size_t met = 0, missed = 0, na = 0;
    for (const auto& c : r.comparison) (c.met ? (*c.met ? met : missed) : na)++;
    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    if (a.json_out) {
        std::cout << rp::summary_json(r, o, prov).dump(2) << '\n';
    } else {
        std::cout << fmt::format("campaign finished in {:.0f} s: {} of the paper's numbers met, {} not met, {} not "
                                 "comparable\nreport:  {}\nsummary: {}\n",
                                 total, met, missed, na, fs::absolute(r.report).string(),
                                 fs::absolute(r.summary).string());
    }
    return 0;
}

}  // namespace

void register_campaign(CLI::App& app, const GlobalOptions& /*global*/) {
    auto a = std::make_shared<CampaignArgs>();
    auto* c = app.add_subcommand(
        "campaign",
        "The main job: measure the paper's campaign (virtual lab or bench), analyse it, evaluate the networks on the "
        "measured states and the TMR x states grid; writes OUTDIR/report.html and OUTDIR/summary.json");
    c->add_flag("--virtual", a->virtual_lab,
                "Measure on the virtual lab (real drivers over loopback sockets); the station's instruments are "
                "those of --station or of the embedded recipes/station.example.toml");
    c->add_option("--station", a->station, "Station file (a real bench unless --virtual)");
    c->add_option("--prober-command", a->prober_command, k_prober_command_help);
    c->add_option("--measured", a->measured, "Skip measuring: analyse this already measured campaign directory");
    c->add_option("--preset", a->preset, "Campaign and ANN settings: paper or smoke")->capture_default_str();
    c->add_option("--recipe", a->recipe, "Use this campaign recipe instead of the preset's");
    c->add_option("-o,--output", a->out, "Output directory (campaign/, analysis/, ann/, report.html, summary.json)")
        ->required();
    c->add_flag("--resume", a->resume, "Continue the campaign already in OUTDIR/campaign (finished runs are kept)");
    c->add_option("--seeds", a->seeds, "Training seeds per dataset (default: the preset's, 5 for paper)");
    c->add_option("--epochs", a->epochs, "Training epochs (default: the preset's, 40 for paper)");
    c->add_option("--train-limit", a->train_limit, "Train on the first N images only (0 = all)");
    c->add_option("--model-cache", a->model_cache,
                  "Trained models, reused when dataset, seed, epochs and configuration match (default "
                  "$MTJLAB_MODEL_CACHE, $XDG_CACHE_HOME/mtjlab/models or ~/.cache/mtjlab/models)");
    c->add_option("--data-dir", a->data_dir, "Directory with the dataset IDX files (see mtjlab ann --help)");
    c->add_option("--mapping", a->mappings,
                  "Weight mappings, comma separated (first = primary): mirror, mirror_zero, differential, offset, all")
        ->capture_default_str();
    c->add_option("--scale", a->scale, "Weight scale policy: mse, max_abs, percentile, none")->capture_default_str();
    c->add_option("--jobs", a->jobs, "Threads for training and evaluation (0 = all cores)")->capture_default_str();
    c->add_option("--seed", a->seed, "Virtual lab seed")->capture_default_str();
    c->add_option("--wafer-seed", a->wafer_seed, "Virtual wafer seed")->capture_default_str();
    c->add_flag("--json", a->json_out, "Print summary.json on stdout instead of the report path");
    c->callback([a] {
        // The exact command line, for the provenance.
        a->argv.clear();
        std::ifstream in("/proc/self/cmdline", std::ios::binary);
        for (std::string arg; std::getline(in, arg, '\0');) a->argv.push_back(arg);
        try {
            run_campaign(*a);
        } catch (const MeasurementStopped& e) {
            std::cout.flush();
            std::cerr << "mtjlab: error: " << e.what() << '\n';
            std::exit(e.code());
        }
    });
}

}  // namespace mtjlab::cli
