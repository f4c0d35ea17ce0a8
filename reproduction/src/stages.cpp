// The analysis and ANN stages of the reproduction, and reproduce() which chains them with the report.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "mtjlab/analysis/io.hpp"
#include "mtjlab/ann/levels.hpp"
#include "mtjlab/ann/model_file.hpp"
#include "mtjlab/ann/network.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/version.hpp"
#include "mtjlab/reproduction/reproduction.hpp"

namespace mtjlab::reproduction {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void say(const ProgressFn& p, const std::string& s) {
    if (p) p(s);
}

void mean_std(const std::vector<double>& v, double& mean, double& sd) {
    mean = 0;
    sd = 0;
    if (v.empty()) return;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
}

/// FNV-1a 64-bit, for the cache key (not security).
std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

/// The stored model was trained with exactly this configuration.
bool model_matches(const ann::ModelInfo& info, ann::DatasetKind dataset, const std::string& train_source,
                   const ann::TrainConfig& c) {
    return info.dataset == dataset && info.train_source == train_source && !info.qat &&
           info.config.hidden == c.hidden && info.config.epochs == c.epochs && info.config.batch == c.batch &&
           info.config.seed == c.seed && info.config.train_limit == c.train_limit &&
           info.config.learning_rate == c.learning_rate;
}

std::string mapping_suffix(std::size_t i, ann::Mapping m) {
    std::string s;
    if (i > 0) {
        s = "_";
        s += ann::to_string(m);
    }
    return s;
}

}  // namespace

const DatasetResult* AnnStage::find(ann::DatasetKind k) const {
    for (const auto& d : datasets)
        if (d.dataset == k) return &d;
    return nullptr;
}

std::string model_cache_name(ann::DatasetKind dataset, const std::string& train_source, const ann::TrainConfig& c) {
    const std::string key = ann::train_identity_json(dataset, train_source, c);
    return fmt::format("{}-h{}-e{}-b{}{}-{:016x}-seed{}.h5", ann::to_string(dataset), c.hidden, c.epochs, c.batch,
                       c.train_limit ? fmt::format("-n{}", c.train_limit) : "", fnv1a(key), c.seed);
}

// ------------------------------------------------------------------------------------------- analysis
AnalysisStage analyse(const fs::path& campaign_dir, const fs::path& out_dir, const Options& options) {
    AnalysisStage s;
    const auto paths = analysis::collect_inputs({campaign_dir}, out_dir);
    if (paths.empty())
        throw InputError(fmt::format("{}: no run files to analyse (was the campaign measured?)", campaign_dir.string()));
    auto runs = analysis::load_runs(paths);
    s.runs_loaded = runs.size();
    s.campaign = analysis::analyze_campaign(std::move(runs));
    for (const auto& r : s.campaign.runs)
        if (r.error.empty()) ++s.runs_analysed;
    if (s.runs_analysed == 0)
        throw InputError(fmt::format("{}: none of the {} run file(s) could be analysed", campaign_dir.string(),
                                     s.runs_loaded));
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw StorageError(fmt::format("{}: cannot create directory: {}", out_dir.string(), ec.message()));
    analysis::write_csv_tables(s.campaign, out_dir);
    analysis::write_results_h5(s.campaign, out_dir / "results.h5");
    analysis::PlotOptions po;
    po.gnuplot = options.gnuplot;
    po.max_device_loops = options.max_device_loops;
    s.plots = analysis::render_plots(s.campaign, out_dir / "figures", po, s.problems);
    analysis::write_report_html(s.campaign, s.plots, s.problems, out_dir / "report.html");
    s.states_csv = out_dir / "conductance_states.csv";
    return s;
}

// ------------------------------------------------------------------------------------------------ ANN
namespace {

struct TrainJob {
    std::size_t dataset_index;
    int seed;
    fs::path file;
};

std::string ann_title(ann::DatasetKind k) { return k == ann::DatasetKind::mnist ? "MNIST digits" : "Fashion-MNIST"; }

}  // namespace

AnnStage evaluate_networks(const fs::path& states_csv, const Options& o, const ProgressFn& progress) {
    if (o.seeds < 1) throw InputError(fmt::format("--seeds must be at least 1, got {}", o.seeds));
    if (o.epochs < 1) throw InputError(fmt::format("--epochs must be at least 1, got {}", o.epochs));
    if (o.mappings.empty()) throw InputError("at least one mapping is needed");
    AnnStage st;
    const fs::path dir = o.output_dir / "ann";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!ec) fs::create_directories(o.model_cache, ec);
    if (ec) throw StorageError(fmt::format("{}: cannot create directory: {}", o.model_cache.string(), ec.message()));

    ann::DataOptions dopt;
    if (o.data_dir) dopt.data_dir = *o.data_dir;
    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const unsigned threads = o.threads > 0 ? static_cast<unsigned>(o.threads) : hw;

    // 1. Models: load every dataset's training split only when a model must be trained.
    const auto t_train = std::chrono::steady_clock::now();
    std::vector<ann::Dataset> data(o.datasets.size());
    std::vector<bool> have_train(o.datasets.size(), false);
    std::vector<std::vector<ann::Mlp>> models(o.datasets.size());
    std::vector<TrainJob> todo;
    for (std::size_t d = 0; d < o.datasets.size(); ++d) {
        DatasetResult dr;
        dr.dataset = o.datasets[d];
        // The training source is part of the cache key; it is known from the dataset loader. Loading the
        // training split is cheap next to training (and needed anyway when any seed is missing).
        data[d] = ann::load_dataset(o.datasets[d], dopt);
        have_train[d] = true;
        models[d].resize(static_cast<std::size_t>(o.seeds));
        for (int s = 1; s <= o.seeds; ++s) {
            ann::TrainConfig cfg;
            cfg.epochs = o.epochs;
            cfg.train_limit = o.train_limit;
            cfg.seed = static_cast<std::uint64_t>(s);
            ModelRecord rec;
            rec.dataset = o.datasets[d];
            rec.seed = s;
            rec.train_source = data[d].train_source;
            rec.file = o.model_cache / model_cache_name(o.datasets[d], data[d].train_source, cfg);
            bool reuse = false;
            if (fs::exists(rec.file)) {
                try {
                    auto mf = ann::load_model(rec.file);
                    if (model_matches(mf.info, o.datasets[d], data[d].train_source, cfg)) {
                        models[d][static_cast<std::size_t>(s - 1)] = std::move(mf.model);
                        rec.cached = true;
                        rec.train_seconds = mf.info.train_seconds;
                        reuse = true;
                        say(progress, fmt::format("reusing {}", rec.file.string()));
                    } else {
                        say(progress, fmt::format("{}: stored configuration differs; retraining", rec.file.string()));
                    }
                } catch (const Error& e) {
                    say(progress, fmt::format("{}; retraining", e.what()));
                }
            }
            if (!reuse) todo.push_back({d, s, rec.file});
            dr.models.push_back(rec);
        }
        st.datasets.push_back(std::move(dr));
    }
    if (!todo.empty()) {
        say(progress, fmt::format("training {} network(s) (784x128x10, {} epochs{}) on {} thread(s)", todo.size(),
                                  o.epochs, o.train_limit ? fmt::format(", {} images", o.train_limit) : "",
                                  std::min<std::size_t>(threads, todo.size())));
        std::atomic<std::size_t> next{0};
        std::mutex mu;
        std::exception_ptr error;
        auto worker = [&] {
            for (std::size_t k = next++; k < todo.size(); k = next++) {
                const TrainJob& j = todo[k];
                try {
                    ann::TrainConfig cfg;
                    cfg.epochs = o.epochs;
                    cfg.train_limit = o.train_limit;
                    cfg.seed = static_cast<std::uint64_t>(j.seed);
                    const ann::Dataset& ds = data[j.dataset_index];
                    const auto r = ann::train(ds.train, cfg);
                    ann::ModelInfo info;
                    info.dataset = ds.kind;
                    info.train_source = ds.train_source;
                    info.config = cfg;
                    info.config_json = ann::train_config_json(ds.kind, ds.train_source, cfg, ds.train.size());
                    info.test_accuracy = ann::accuracy(r.model, ann::to_features(ds.test));
                    info.train_seconds = r.train_seconds;
                    ann::save_model(j.file, r.model, info);
                    const std::lock_guard lock(mu);
                    models[j.dataset_index][static_cast<std::size_t>(j.seed - 1)] = r.model;
                    st.datasets[j.dataset_index].models[static_cast<std::size_t>(j.seed - 1)].train_seconds =
                        r.train_seconds;
                    say(progress, fmt::format("trained {} seed {} in {:.1f} s: full-precision test accuracy {:.2f} %",
                                              ann::to_string(ds.kind), j.seed, r.train_seconds,
                                              100 * info.test_accuracy));
                } catch (...) {
                    const std::lock_guard lock(mu);
                    if (!error) error = std::current_exception();
                    next = todo.size();
                }
            }
        };
        const auto n = std::min<std::size_t>(threads, todo.size());
        std::vector<std::thread> pool;
        for (std::size_t t = 1; t < n; ++t) pool.emplace_back(worker);
        worker();
        for (auto& t : pool) t.join();
        if (error) std::rethrow_exception(error);
    }
    st.train_seconds = seconds_since(t_train);
    for (std::size_t d = 0; d < data.size(); ++d)
        if (have_train[d]) data[d].train = {};  // free the training images before evaluating

    // 2. Evaluation on the measured states (5b/c) and the parametric grid (5d/e).
    const auto t_eval = std::chrono::steady_clock::now();
    std::vector<ann::LevelSet> groups;
    if (fs::exists(states_csv)) {
        try {
            groups = ann::read_states_table(states_csv);
        } catch (const Error& e) {
            st.problems.push_back(fmt::format("measured states not usable: {}", e.what()));
        }
    } else {
        st.problems.push_back(fmt::format("{}: no conductance-state table (no group showed cells + 1 levels)",
                                          states_csv.string()));
    }
    const std::array<std::string_view, 2> fig_bc = {"fig5b", "fig5c"}, fig_de = {"fig5d", "fig5e"};
    for (std::size_t d = 0; d < st.datasets.size(); ++d) {
        DatasetResult& dr = st.datasets[d];
        const ann::Features test = ann::to_features(data[d].test);
        dr.test_images = test.labels.size();
        std::vector<double> facc;
        for (std::size_t m = 0; m < models[d].size(); ++m) {
            dr.models[m].test_accuracy = ann::accuracy(models[d][m], test);
            facc.push_back(dr.models[m].test_accuracy);
        }
        mean_std(facc, dr.float_mean, dr.float_std);
        const bool mnist = dr.dataset == ann::DatasetKind::mnist;
        for (std::size_t mi = 0; mi < o.mappings.size(); ++mi) {
            const ann::Mapping m = o.mappings[mi];
            ann::SweepSpec spec;
            spec.quant.mapping = m;
            spec.quant.scale = o.scale;
            spec.threads = static_cast<int>(threads);
            say(progress, fmt::format("{}: evaluating mapping {} (scale {}) on {} measured group(s) and {} grid cell(s) "
                                      "x {} seed(s)",
                                      ann::to_string(dr.dataset), ann::to_string(m), ann::to_string(o.scale),
                                      groups.size(), o.tmr_grid.size() * o.cells_grid.size(), o.seeds));
            std::vector<ann::SweepCell> measured;
            if (!groups.empty()) measured = ann::sweep_levels(models[d], test, groups, spec);
            auto grid = ann::sweep_parametric(models[d], test, o.tmr_grid, o.cells_grid, spec);
            const std::string suffix = mapping_suffix(mi, m);
            const std::string tag = fmt::format("mapping {}, scale {}, {} seed(s), {} epochs",
                                                ann::to_string(m), ann::to_string(o.scale), o.seeds, o.epochs);
            auto plot = [&](const std::string& id, const std::string& title, const std::string& caption,
                            const std::vector<ann::SweepCell>& cells, bool contour) {
                if (cells.empty()) {
                    st.problems.push_back(fmt::format("figure {}: no data", id));
                    return;
                }
                const fs::path svg = dir / (id + ".svg");
                try {
                    if (contour) ann::plot_sweep_contour(svg, cells, title);
                    else ann::plot_sweep_lines(svg, cells, title);
                    st.plots.push_back({id, title, caption, svg});
                } catch (const Error& e) {
                    st.problems.push_back(fmt::format("figure {} not drawn: {}", id, e.what()));
                }
            };
            const std::string bc = std::string(fig_bc[mnist ? 0 : 1]) + suffix;
            const std::string de = std::string(fig_de[mnist ? 0 : 1]) + suffix;
            plot(bc, fmt::format("{} on the measured states ({})", ann_title(dr.dataset), tag),
                 fmt::format("Fig. 5{} analogue: test accuracy of the 784x128x10 network ({}) quantized onto the "
                             "conductance states measured in this campaign, one point per free-layer thickness "
                             "(x = the measured TMR between top and bottom state), one line per number of states "
                             "(1-, 2-, 3-cell devices = 2, 3, 4 states); mean and standard deviation over {} "
                             "training seed(s). Full-precision accuracy {:.2f} %.",
                             mnist ? "b" : "c", tag, o.seeds, 100 * dr.float_mean),
                 measured, false);
            plot(de, fmt::format("{}: accuracy over TMR x states, R_P = 10 kOhm ({})", ann_title(dr.dataset), tag),
                 fmt::format("Fig. 5{} analogue: mean test accuracy ({}) for the parametric level law of n identical "
                             "cells in parallel, R_P = 10 kOhm, R_AP = R_P (1 + TMR), TMR {:.0f}-{:.0f} %, {}-{} "
                             "states, over {} training seed(s).",
                             mnist ? "d" : "e", tag, 100 * o.tmr_grid.front(), 100 * o.tmr_grid.back(),
                             o.cells_grid.front() + 1, o.cells_grid.back() + 1, o.seeds),
                 grid, true);
            plot(de + "_lines", fmt::format("{}: accuracy vs TMR, R_P = 10 kOhm ({})", ann_title(dr.dataset), tag),
                 fmt::format("The Fig. 5{} grid as lines: accuracy against TMR, one line per number of states, with "
                             "the standard deviation over seeds as error bars ({}).",
                             mnist ? "d" : "e", tag),
                 grid, false);
            dr.measured.insert(dr.measured.end(), measured.begin(), measured.end());
            dr.grid.insert(dr.grid.end(), grid.begin(), grid.end());
        }
        const json config = {{"dataset", std::string(ann::to_string(dr.dataset))},
                             {"seeds", o.seeds},
                             {"epochs", o.epochs},
                             {"train_limit", o.train_limit},
                             {"scale", std::string(ann::to_string(o.scale))},
                             {"states_table", states_csv.string()},
                             {"mtjlab_version", std::string(version_string())}};
        std::vector<ann::SweepCell> all = dr.measured;
        all.insert(all.end(), dr.grid.begin(), dr.grid.end());
        ann::write_sweep_csv(dir / fmt::format("{}-sweep.csv", ann::to_string(dr.dataset)), all, config.dump());
        ann::write_sweep_h5(dir / fmt::format("{}-sweep.h5", ann::to_string(dr.dataset)), all, config.dump());
    }
    st.evaluate_seconds = seconds_since(t_eval);
    return st;
}

// ------------------------------------------------------------------------------------------- reproduce
Result reproduce(const fs::path& campaign_dir, const Options& options, const Provenance& prov,
                 const ProgressFn& progress, std::vector<StageTiming> timings) {
    Result r;
    auto t0 = std::chrono::steady_clock::now();
    say(progress, fmt::format("analysing {} -> {}", campaign_dir.string(), (options.output_dir / "analysis").string()));
    r.analysis = analyse(campaign_dir, options.output_dir / "analysis", options);
    timings.push_back({"analysis", seconds_since(t0),
                       fmt::format("{} of {} run(s) analysed, {} group(s), {} figure(s)", r.analysis.runs_analysed,
                                   r.analysis.runs_loaded, r.analysis.campaign.groups.size(), r.analysis.plots.size())});
    say(progress, timings.back().detail);

    r.ann = evaluate_networks(r.analysis.states_csv, options, progress);
    std::size_t trained = 0, cached = 0;
    for (const auto& d : r.ann.datasets)
        for (const auto& m : d.models) (m.cached ? cached : trained)++;
    timings.push_back({"training", r.ann.train_seconds,
                       fmt::format("{} network(s) trained, {} reused from {}", trained, cached,
                                   options.model_cache.string())});
    std::size_t cells = 0;
    for (const auto& d : r.ann.datasets) cells += d.measured.size() + d.grid.size();
    timings.push_back({"evaluation", r.ann.evaluate_seconds,
                       fmt::format("{} accuracy cell(s) x {} seed(s)", cells, options.seeds)});

    t0 = std::chrono::steady_clock::now();
    r.comparison = compare(r.analysis, r.ann, options);
    r.tension = tensions(r.analysis, r.ann, r.comparison);
    r.report = options.output_dir / "report.html";
    r.summary = options.output_dir / "summary.json";
    r.timings = timings;
    r.timings.push_back({"report", 0.0, "comparison, report.html, summary.json"});
    write_report(r, options, prov, r.report);
    r.timings.back().seconds = seconds_since(t0);
    // The report is rewritten with its own timing; cheap next to everything else.
    write_report(r, options, prov, r.report);
    const json summary = summary_json(r, options, prov);
    const fs::path tmp = r.summary.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
        out << summary.dump(2) << '\n';
        out.close();
        if (!out) throw StorageError(fmt::format("{}: cannot write", tmp.string()));
    }
    std::error_code ec;
    fs::rename(tmp, r.summary, ec);
    if (ec) throw StorageError(fmt::format("{}: cannot rename into place: {}", r.summary.string(), ec.message()));
    return r;
}

}  // namespace mtjlab::reproduction
