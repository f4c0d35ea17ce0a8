// mtjlab ann train | eval | sweep: the ANN evaluator (analysis/ann). Progress goes to stderr, results to stdout.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mtjlab/ann/dataset.hpp"
#include "mtjlab/ann/model_file.hpp"
#include "mtjlab/ann/network.hpp"
#include "mtjlab/ann/sweep.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/version.hpp"

namespace mtjlab::cli {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

double parse_double(const std::string& s, const std::string& what) {
    double v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(v)) {
        throw InputError(fmt::format("{}: '{}' is not a number", what, s));
    }
    return v;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t a = 0;
    while (true) {
        const auto b = s.find(sep, a);
        out.push_back(s.substr(a, b == std::string::npos ? std::string::npos : b - a));
        if (b == std::string::npos) break;
        a = b + 1;
    }
    return out;
}

/// "A:B:STEP" (percent) -> fractions; "X" -> one value.
std::vector<double> parse_tmr_range(const std::string& s) {
    const auto f = split(s, ':');
    std::vector<double> out;
    if (f.size() == 1) {
        out.push_back(parse_double(f[0], "--tmr") / 100.0);
    } else if (f.size() == 3) {
        const double a = parse_double(f[0], "--tmr"), b = parse_double(f[1], "--tmr"), st = parse_double(f[2], "--tmr");
        if (!(st > 0) || b < a) throw InputError(fmt::format("--tmr {}: expected A:B:STEP with A <= B, STEP > 0", s));
        const auto n = static_cast<int>(std::floor((b - a) / st + 1e-9));
        if (n > 10000) throw InputError(fmt::format("--tmr {}: too many values", s));
        for (int i = 0; i <= n; ++i) out.push_back((a + i * st) / 100.0);
    } else {
        throw InputError(fmt::format("--tmr {}: expected X or A:B:STEP (percent)", s));
    }
    for (double t : out) {
        if (!(t > 0)) throw InputError(fmt::format("--tmr {}: TMR must be positive", s));
    }
    return out;
}

/// "A:B" or "N" -> inclusive list.
std::vector<int> parse_cells_range(const std::string& s) {
    const auto f = split(s, ':');
    if (f.size() > 2) throw InputError(fmt::format("--cells {}: expected N or A:B", s));
    const double a = parse_double(f[0], "--cells"), b = f.size() == 2 ? parse_double(f[1], "--cells") : a;
    if (a < 1 || b < a || b > 64 || a != std::floor(a) || b != std::floor(b)) {
        throw InputError(fmt::format("--cells {}: expected integers 1 <= A <= B <= 64", s));
    }
    std::vector<int> out;
    for (int n = static_cast<int>(a); n <= static_cast<int>(b); ++n) out.push_back(n);
    return out;
}

struct QuantOptions {
    std::string mapping = "mirror";
    std::string scale = "max_abs";
    std::string scope = "layer";
    std::string biases = "float";
    double percentile = 99.9;
    double variation = 0.0;
    double rel_sigma = 0.0;
    double read_noise = 0.0;
    double stuck_p = 0.0;
    double stuck_ap = 0.0;
    int instances = 1;
    std::uint64_t seed = 1;

    void add(CLI::App* c, bool allow_all) {
        c->add_option("--mapping", mapping,
                      allow_all ? "Signed-weight mapping: mirror, mirror_zero, differential, offset, or all"
                                : "Signed-weight mapping: mirror, mirror_zero, differential, offset")
            ->capture_default_str();
        c->add_option("--scale", scale, "Scale policy: max_abs, none, mse, percentile")->capture_default_str();
        c->add_option("--scope", scope, "Scale per layer or per output column: layer, column")->capture_default_str();
        c->add_option("--percentile", percentile, "Percentile of |w| for --scale percentile")->capture_default_str();
        c->add_option("--biases", biases, "Biases: float or quantized")->capture_default_str();
        c->add_option("--variation", variation,
                      "Device-to-device variation as a multiple of the level spread (1 = measured), frozen per instance")
            ->capture_default_str();
        c->add_option("--rel-sigma", rel_sigma, "Parametric levels: spread as a fraction of each level")
            ->capture_default_str();
        c->add_option("--read-noise", read_noise, "Relative read noise per device and inference")->capture_default_str();
        c->add_option("--stuck-p", stuck_p, "Fraction of devices stuck in the P (top) state")->capture_default_str();
        c->add_option("--stuck-ap", stuck_ap, "Fraction of devices stuck in the AP (bottom) state")
            ->capture_default_str();
        c->add_option("--instances", instances, "Monte-Carlo device instances")->capture_default_str();
        c->add_option("--device-seed", seed, "Seed of the device instances and read noise")->capture_default_str();
    }
    [[nodiscard]] ann::QuantConfig quant(ann::Mapping m) const {
        ann::QuantConfig q;
        q.mapping = m;
        q.scale = ann::parse_scale_policy(scale);
        q.scope = ann::parse_scale_scope(scope);
        q.percentile = percentile;
        if (biases != "float" && biases != "quantized") {
            throw InputError(fmt::format("--biases {}: expected float or quantized", biases));
        }
        q.quantize_biases = biases == "quantized";
        return q;
    }
    [[nodiscard]] ann::NonIdealities nonideal() const {
        return {variation, read_noise, stuck_p, stuck_ap};
    }
    [[nodiscard]] std::vector<ann::Mapping> mappings() const {
        if (mapping == "all") return ann::all_mappings();
        return {ann::parse_mapping(mapping)};
    }
    [[nodiscard]] json to_json() const {
        return {{"mapping", mapping},       {"scale", scale},         {"scope", scope},
                {"biases", biases},         {"percentile", percentile}, {"variation", variation},
                {"rel_sigma", rel_sigma},   {"read_noise", read_noise}, {"stuck_p", stuck_p},
                {"stuck_ap", stuck_ap},     {"instances", instances},   {"device_seed", seed}};
    }
};

/// A progress bar on stderr: redrawn in place on a terminal, one line per epoch otherwise.
class ProgressBar {
public:
    explicit ProgressBar(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) != 0) {}
    void operator()(const ann::TrainProgress& p) {
        if (quiet_ || (!p.end_of_epoch && !tty_)) return;
        constexpr int kWidth = 30;
        const auto filled = static_cast<int>(kWidth * static_cast<double>(p.batch) / static_cast<double>(p.batches));
        const std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                                std::string(static_cast<std::size_t>(kWidth - filled), '.');
        const std::string line = fmt::format("epoch {:>3}/{} [{}] loss {:.4f} acc {:.2f} %  {:.1f} s", p.epoch,
                                             p.epochs, bar, p.loss, 100 * p.train_accuracy, p.seconds);
        if (tty_) {
            std::cerr << '\r' << line << (p.end_of_epoch ? "\n" : "") << std::flush;
        } else {
            std::cerr << line << '\n';
        }
    }

private:
    bool quiet_, tty_;
};

// ---------------------------------------------------------------- train
struct TrainOptions {
    std::string dataset = "fashion";
    ann::TrainConfig config;
    std::string output;
    std::optional<std::string> data_dir;
    bool json_out = false;
    bool quiet = false;
    bool qat = false;
    double qat_tmr = 100.0;
    int qat_cells = 1;
    QuantOptions quant;
};

void run_train(const TrainOptions& o) {
    const ann::DatasetKind kind = ann::parse_dataset_kind(o.dataset);
    ann::DataOptions dopt;
    if (o.data_dir) dopt.data_dir = *o.data_dir;
    const ann::Dataset data = ann::load_dataset(kind, dopt);
    ann::TrainConfig cfg = o.config;
    json qat_json = nullptr;
    if (o.qat) {
        ann::QatConfig q;
        q.levels = ann::parametric_levels(o.qat_tmr / 100.0, o.qat_cells);
        q.quant = o.quant.quant(ann::parse_mapping(o.quant.mapping));
        cfg.qat = q;
        qat_json = {{"tmr_percent", o.qat_tmr}, {"cells", o.qat_cells}, {"mapping", o.quant.mapping},
                    {"scale", o.quant.scale}, {"scope", o.quant.scope}, {"estimator", "straight-through"}};
    }
    const std::size_t images = cfg.train_limit ? std::min(cfg.train_limit, data.train.size()) : data.train.size();
    if (!o.quiet) {
        std::cerr << fmt::format("training 784x{}x10 on {} ({} images), {} epochs, batch {}, seed {}{}\n", cfg.hidden,
                                 data.train_source, images, cfg.epochs, cfg.batch, cfg.seed, o.qat ? ", QAT" : "");
    }
    ProgressBar bar(o.quiet);
    const ann::TrainResult r = ann::train(data.train, cfg, std::ref(bar));
    const ann::Features test = ann::to_features(data.test);
    const double acc = ann::accuracy(r.model, test);

    json config = json::parse(ann::train_config_json(kind, data.train_source, cfg, data.train.size()));
    config["qat"] = qat_json;
    ann::ModelInfo info;
    info.dataset = kind;
    info.train_source = data.train_source;
    info.config = cfg;
    info.config_json = config.dump();
    info.test_accuracy = acc;
    info.train_seconds = r.train_seconds;
    info.qat = o.qat;
    ann::save_model(o.output, r.model, info);

    if (o.json_out) {
        json history = json::array();
        for (const auto& h : r.history) {
            history.push_back({{"epoch", h.epoch}, {"loss", h.loss}, {"train_accuracy", h.train_accuracy}});
        }
        json out = {{"test_accuracy", acc},
                    {"train_seconds", r.train_seconds},
                    {"model", o.output},
                    {"test_images", test.labels.size()},
                    {"config", config},
                    {"history", history},
                    {"mtjlab_version", std::string(version_string())}};
        std::cout << out.dump(2) << '\n';
    } else {
        std::cout << fmt::format("test accuracy {:.2f} % ({} test images), trained in {:.1f} s, model {}\n", 100 * acc,
                                 test.labels.size(), r.train_seconds, o.output);
    }
}

// ---------------------------------------------------------------- eval
struct EvalOptions {
    std::string model;
    std::optional<std::string> states;
    std::optional<double> thickness;
    std::optional<double> tmr;
    std::optional<int> cells;
    std::optional<std::string> data_dir;
    bool json_out = false;
    QuantOptions quant;
};

void run_eval(const EvalOptions& o) {
    if (o.states && o.tmr) throw InputError("give either --states FILE or --tmr X --cells N, not both");
    if (!o.states && !(o.tmr && o.cells)) throw InputError("give --states FILE, or --tmr X (percent) and --cells N");
    ann::LevelSet levels;
    if (o.states) {
        const auto groups = ann::read_states_table(*o.states);
        levels = ann::select_group(groups, *o.states, o.thickness, o.cells);
    } else {
        levels = ann::parametric_levels(*o.tmr / 100.0, *o.cells, o.quant.rel_sigma);
    }
    const ann::ModelFile mf = ann::load_model(o.model);
    ann::DataOptions dopt;
    if (o.data_dir) dopt.data_dir = *o.data_dir;
    const ann::Features test = ann::to_features(ann::load_test_split(mf.info.dataset, dopt));
    const ann::Mapping mapping = ann::parse_mapping(o.quant.mapping);
    const ann::QuantConfig q = o.quant.quant(mapping);
    const ann::NonIdealities ni = o.quant.nonideal();
    const ann::EvalResult r = ann::evaluate_quantized(mf.model, test, levels, q, ni, o.quant.instances, o.quant.seed);
    const double float_acc = ann::accuracy(mf.model, test);
    const auto wl = ann::weight_levels(mapping, levels);
    if (o.json_out) {
        json out = {{"accuracy", r.mean},
                    {"accuracy_std", r.std},
                    {"accuracy_per_instance", r.per_instance},
                    {"float_accuracy", float_acc},
                    {"mapping", std::string(ann::to_string(mapping))},
                    {"scale", std::string(ann::to_string(q.scale))},
                    {"scope", std::string(ann::to_string(q.scope))},
                    {"biases", q.quantize_biases ? "quantized" : "float"},
                    {"levels", levels.g},
                    {"levels_std", levels.g_std},
                    {"states", levels.states()},
                    {"cells", levels.cells},
                    {"tmr_percent", 100 * levels.tmr()},
                    {"level_source", levels.source},
                    {"thickness_nm", levels.thickness_nm},
                    {"weight_levels", wl.values()},
                    {"scales", {{"layer1", r.scales_layer1}, {"layer2", r.scales_layer2}}},
                    {"bias_scales", {r.bias_scale1, r.bias_scale2}},
                    {"nonidealities", o.quant.to_json()},
                    {"model", o.model},
                    {"dataset", std::string(ann::to_string(mf.info.dataset))},
                    {"test_images", test.labels.size()}};
        std::cout << out.dump(2) << '\n';
    } else {
        std::cout << fmt::format("accuracy {:.2f} % (std {:.2f} over {} instance(s)); full precision {:.2f} %\n",
                                 100 * r.mean, 100 * r.std, r.per_instance.size(), 100 * float_acc);
        std::cout << fmt::format("mapping {}, scale {} per {}, biases {}; {} levels (TMR {:.1f} %, {} cells) from {}\n",
                                 ann::to_string(mapping), ann::to_string(q.scale), ann::to_string(q.scope),
                                 q.quantize_biases ? "quantized" : "float", levels.states(), 100 * levels.tmr(),
                                 levels.cells, levels.source);
    }
}

// ---------------------------------------------------------------- sweep
struct SweepOptions {
    std::string dataset = "fashion";
    int seeds = 5;
    std::string tmr = "60:260:10";
    std::string cells = "1:6";
    std::optional<std::string> states;
    std::string output;
    std::optional<std::string> data_dir;
    ann::TrainConfig config;
    int jobs = 0;
    bool json_out = false;
    bool no_plots = false;
    bool quiet = false;
    QuantOptions quant;
};

/// Trains (or reuses) one model per seed under dir/models, in parallel across seeds.
std::vector<ann::Mlp> models_for(const SweepOptions& o, ann::DatasetKind kind, const fs::path& dir, int jobs) {
    fs::create_directories(dir);
    std::vector<fs::path> files;
    for (int s = 1; s <= o.seeds; ++s) {
        files.push_back(dir / fmt::format("{}-h{}-e{}-b{}{}-seed{}.h5", ann::to_string(kind), o.config.hidden,
                                          o.config.epochs, o.config.batch,
                                          o.config.train_limit ? fmt::format("-n{}", o.config.train_limit) : "", s));
    }
    std::vector<ann::Mlp> models(files.size());
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (fs::exists(files[i])) {
            models[i] = ann::load_model(files[i]).model;
            if (!o.quiet) std::cerr << fmt::format("reusing {}\n", files[i].string());
        } else {
            todo.push_back(i);
        }
    }
    if (todo.empty()) return models;
    ann::DataOptions dopt;
    if (o.data_dir) dopt.data_dir = *o.data_dir;
    const ann::Dataset data = ann::load_dataset(kind, dopt);
    const ann::Features test = ann::to_features(data.test);
    std::atomic<std::size_t> next{0};
    std::mutex mu;
    std::exception_ptr error;
    auto worker = [&] {
        for (std::size_t k = next++; k < todo.size(); k = next++) {
            const std::size_t i = todo[k];
            try {
                ann::TrainConfig cfg = o.config;
                cfg.seed = static_cast<std::uint64_t>(i + 1);
                const auto r = ann::train(data.train, cfg);
                ann::ModelInfo info;
                info.dataset = kind;
                info.train_source = data.train_source;
                info.config = cfg;
                info.config_json = ann::train_config_json(kind, data.train_source, cfg, data.train.size());
                info.test_accuracy = ann::accuracy(r.model, test);
                info.train_seconds = r.train_seconds;
                ann::save_model(files[i], r.model, info);
                const std::lock_guard lock(mu);
                models[i] = r.model;
                if (!o.quiet) {
                    std::cerr << fmt::format("trained seed {} in {:.1f} s: test accuracy {:.2f} % -> {}\n", i + 1,
                                             r.train_seconds, 100 * info.test_accuracy, files[i].string());
                }
            } catch (...) {
                const std::lock_guard lock(mu);
                if (!error) error = std::current_exception();
                next = todo.size();
            }
        }
    };
    const auto n = static_cast<unsigned>(std::max(1, std::min<int>(jobs, static_cast<int>(todo.size()))));
    if (!o.quiet) std::cerr << fmt::format("training {} model(s) on {} thread(s)\n", todo.size(), n);
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
    return models;
}

void run_sweep(const SweepOptions& o) {
    if (o.seeds < 1) throw InputError(fmt::format("--seeds must be at least 1, got {}", o.seeds));
    const ann::DatasetKind kind = ann::parse_dataset_kind(o.dataset);
    const auto tmrs = parse_tmr_range(o.tmr);
    const auto cells = parse_cells_range(o.cells);
    const auto mappings = o.quant.mappings();
    std::optional<std::vector<ann::LevelSet>> groups;
    if (o.states) groups = ann::read_states_table(*o.states);  // validate before hours of training
    (void)o.quant.quant(mappings.front());

    const fs::path dir = o.output;
    fs::create_directories(dir);
    const int jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const auto models = models_for(o, kind, dir / "models", jobs);
    ann::DataOptions dopt;
    if (o.data_dir) dopt.data_dir = *o.data_dir;
    const ann::Features test = ann::to_features(ann::load_test_split(kind, dopt));

    json config = {{"dataset", o.dataset},
                   {"seeds", o.seeds},
                   {"tmr_percent", o.tmr},
                   {"cells", o.cells},
                   {"states_table", o.states ? json(*o.states) : json(nullptr)},
                   {"train", json::parse(ann::train_config_json(kind, "", o.config, 0))},
                   {"quantization", o.quant.to_json()},
                   {"r_p_ohm", 10e3},
                   {"mtjlab_version", std::string(version_string())}};
    std::vector<ann::SweepCell> all;
    json summary = json::array();
    for (const ann::Mapping m : mappings) {
        ann::SweepSpec spec;
        spec.quant = o.quant.quant(m);
        spec.nonideal = o.quant.nonideal();
        spec.instances = o.quant.instances;
        spec.seed = o.quant.seed;
        spec.threads = jobs;
        spec.rel_sigma = o.quant.rel_sigma;
        const std::string name(ann::to_string(m));
        auto grid = ann::sweep_parametric(models, test, tmrs, cells, spec);
        if (!o.no_plots) {
            const std::string title = fmt::format("{}: accuracy vs TMR, R_P = 10 kOhm, mapping {}, scale {}, {} seeds",
                                                  o.dataset, name, spec.quant.scale == ann::ScalePolicy::mse ? "mse" :
                                                  std::string(ann::to_string(spec.quant.scale)), o.seeds);
            ann::plot_sweep_lines(dir / fmt::format("fig5de-{}-lines.svg", name), grid, title);
            ann::plot_sweep_contour(dir / fmt::format("fig5de-{}-contour.svg", name), grid, title);
        }
        all.insert(all.end(), grid.begin(), grid.end());
        if (groups) {
            auto measured = ann::sweep_levels(models, test, *groups, spec);
            if (!o.no_plots) {
                ann::plot_sweep_lines(dir / fmt::format("fig5bc-{}-lines.svg", name), measured,
                                      fmt::format("{}: measured states ({}), mapping {}, {} seeds", o.dataset,
                                                  *o.states, name, o.seeds));
            }
            all.insert(all.end(), measured.begin(), measured.end());
        }
    }
    for (const auto& c : all) {
        summary.push_back({{"source", c.source}, {"mapping", c.mapping}, {"thickness_nm", c.thickness_nm},
                           {"tmr_percent", 100 * c.tmr}, {"cells", c.cells}, {"states", c.states},
                           {"accuracy_mean", c.mean}, {"accuracy_std", c.std}, {"per_seed", c.per_model}});
    }
    ann::write_sweep_csv(dir / "sweep.csv", all, config.dump());
    ann::write_sweep_h5(dir / "sweep.h5", all, config.dump());
    if (o.json_out) {
        std::cout << json{{"output", o.output}, {"config", config}, {"cells", summary}}.dump(2) << '\n';
    } else {
        std::cout << fmt::format("{} grid cells x {} seeds -> {}/sweep.csv, sweep.h5{}\n", all.size(), o.seeds,
                                 o.output, o.no_plots ? "" : ", *.svg");
    }
}

void add_train_options(CLI::App* c, ann::TrainConfig& t) {
    c->add_option("--epochs", t.epochs, "Training epochs")->capture_default_str();
    c->add_option("--batch", t.batch, "Batch size")->capture_default_str();
    c->add_option("--lr", t.learning_rate, "Adam learning rate")->capture_default_str();
    c->add_option("--hidden", t.hidden, "Hidden units")->capture_default_str();
    c->add_option("--train-limit", t.train_limit, "Use only the first N training images (0 = all)")
        ->capture_default_str();
}

}  // namespace

void register_ann(CLI::App& app, const GlobalOptions& /*global*/) {
    auto* ann_cmd = app.add_subcommand("ann", "ANN evaluator: train the 784x128x10 network, quantize onto MTJ states");
    ann_cmd->require_subcommand(1);

    auto to = std::make_shared<TrainOptions>();
    auto* train = ann_cmd->add_subcommand("train", "Train at full precision (Adam) and save the model as HDF5");
    train->add_option("--dataset", to->dataset, "mnist or fashion")->capture_default_str();
    add_train_options(train, to->config);
    train->add_option("--seed", to->config.seed, "Training seed")->capture_default_str();
    train->add_option("-o,--output", to->output, "Model file (.h5)")->required();
    train->add_option("--data-dir", to->data_dir, "Directory with the dataset's IDX files (own full MNIST etc.)");
    train->add_flag("--qat", to->qat, "Quantization-aware training (straight-through estimator) on parametric levels");
    train->add_option("--qat-tmr", to->qat_tmr, "QAT: TMR in percent")->capture_default_str();
    train->add_option("--qat-cells", to->qat_cells, "QAT: cells per device")->capture_default_str();
    train->add_option("--mapping", to->quant.mapping, "QAT: mapping")->capture_default_str();
    train->add_option("--scale", to->quant.scale, "QAT: scale policy")->capture_default_str();
    train->add_option("--scope", to->quant.scope, "QAT: layer or column")->capture_default_str();
    train->add_flag("--json", to->json_out, "Print the result as JSON");
    train->add_flag("-q,--quiet", to->quiet, "No progress bar");
    train->callback([to] { run_train(*to); });

    auto eo = std::make_shared<EvalOptions>();
    auto* eval = ann_cmd->add_subcommand("eval", "Quantize a trained model onto conductance states and test it");
    eval->add_option("--model", eo->model, "Model file from `ann train`")->required();
    eval->add_option("--states", eo->states, "Conductance-state table (.csv or .h5)");
    eval->add_option("--thickness", eo->thickness, "Table group: free-layer thickness (nm)");
    eval->add_option("--tmr", eo->tmr, "Parametric levels: TMR in percent");
    eval->add_option("--cells", eo->cells, "Cells per device (parametric levels, or table group)");
    eval->add_option("--data-dir", eo->data_dir, "Directory with the test IDX files");
    eo->quant.add(eval, false);
    eval->add_flag("--json", eo->json_out, "Print the result as JSON");
    eval->callback([eo] { run_eval(*eo); });

    auto so = std::make_shared<SweepOptions>();
    so->config.epochs = 40;
    auto* sweep = ann_cmd->add_subcommand("sweep", "Accuracy over TMR x states (Fig. 5d/e) and measured groups (5b/c)");
    sweep->add_option("--dataset", so->dataset, "mnist or fashion")->capture_default_str();
    sweep->add_option("--seeds", so->seeds, "Training seeds (models) per grid cell")->capture_default_str();
    sweep->add_option("--tmr", so->tmr, "TMR grid in percent, A:B:STEP")->capture_default_str();
    sweep->add_option("--cells", so->cells, "Cells per device, A:B (states = cells + 1)")->capture_default_str();
    sweep->add_option("--states", so->states, "Also sweep every group of this conductance-state table");
    sweep->add_option("-o,--output", so->output, "Output directory (models/ inside is reused)")->required();
    sweep->add_option("--data-dir", so->data_dir, "Directory with the dataset's IDX files");
    add_train_options(sweep, so->config);
    sweep->add_option("--jobs", so->jobs, "Threads (0 = all cores)")->capture_default_str();
    so->quant.add(sweep, true);
    sweep->add_flag("--no-plots", so->no_plots, "Skip the gnuplot figures");
    sweep->add_flag("--json", so->json_out, "Print the grid as JSON");
    sweep->add_flag("-q,--quiet", so->quiet, "No progress messages");
    sweep->callback([so] { run_sweep(*so); });
}

}  // namespace mtjlab::cli
