#include "mtjlab/ann/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <cmath>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "mtjlab/storage/h5.hpp"
#include "mtjlab/core/error.hpp"
#include "rng.hpp"

namespace mtjlab::ann {

namespace {
void mean_std(const std::vector<double>& v, double& mean, double& sd) {
    mean = 0;
    for (double x : v) mean += x;
    mean /= static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    sd = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
}
}  // namespace

EvalResult evaluate_quantized(const Mlp& model, const Features& test, const LevelSet& levels,
                              const QuantConfig& quant, const NonIdealities& ni, int instances, std::uint64_t seed) {
    if (instances < 1) throw InputError(fmt::format("instances must be at least 1, got {}", instances));
    EvalResult r;
    for (int k = 0; k < instances; ++k) {
        const std::uint64_t s = detail::mix_seed(seed, static_cast<std::uint64_t>(k), 0x1);
        const QuantizedLayer l1 = quantize_layer(model.w1, model.b1, levels, quant, ni, detail::mix_seed(s, 1));
        const QuantizedLayer l2 = quantize_layer(model.w2, model.b2, levels, quant, ni, detail::mix_seed(s, 2));
        r.per_instance.push_back(accuracy_with_noise(l1.w, l1.b, l1.w_noise_var, l1.b_noise_var, l2.w, l2.b,
                                                     l2.w_noise_var, l2.b_noise_var, test, detail::mix_seed(s, 3)));
        if (k == 0) {
            r.scales_layer1 = l1.scales;
            r.scales_layer2 = l2.scales;
            r.bias_scale1 = l1.bias_scale;
            r.bias_scale2 = l2.bias_scale;
        }
    }
    mean_std(r.per_instance, r.mean, r.std);
    return r;
}

namespace {

std::vector<SweepCell> run_cells(const std::vector<Mlp>& models, const Features& test,
                                 const std::vector<LevelSet>& sets, const SweepSpec& spec) {
    if (models.empty()) throw InputError("a sweep needs at least one trained model");
    std::vector<double> float_acc(models.size());
    for (std::size_t m = 0; m < models.size(); ++m) float_acc[m] = accuracy(models[m], test);
    double float_mean = 0, float_sd = 0;
    mean_std(float_acc, float_mean, float_sd);

    const std::size_t jobs = sets.size() * models.size();
    std::vector<EvalResult> results(jobs);
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    auto worker = [&] {
        for (std::size_t j = next++; j < jobs; j = next++) {
            const std::size_t cell = j / models.size(), m = j % models.size();
            try {
                // the device stream depends on the cell's content and the model index, not on scheduling
                const std::uint64_t seed = detail::mix_seed(spec.seed, m, cell);
                results[j] = evaluate_quantized(models[m], test, sets[cell], spec.quant, spec.nonideal,
                                                spec.instances, seed);
            } catch (...) {
                const std::lock_guard lock(error_mutex);
                if (!error) error = std::current_exception();
                next = jobs;
            }
        }
    };
    unsigned nthreads = spec.threads > 0 ? static_cast<unsigned>(spec.threads) : std::thread::hardware_concurrency();
    nthreads = std::max(1u, std::min<unsigned>(nthreads, static_cast<unsigned>(jobs)));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < nthreads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);

    std::vector<SweepCell> out;
    for (std::size_t c = 0; c < sets.size(); ++c) {
        SweepCell cell;
        const LevelSet& l = sets[c];
        cell.source = l.source;
        cell.mapping = std::string(to_string(spec.quant.mapping));
        cell.scale = std::string(to_string(spec.quant.scale));
        cell.scope = std::string(to_string(spec.quant.scope));
        cell.thickness_nm = l.thickness_nm;
        cell.tmr = l.tmr();
        cell.cells = l.cells;
        cell.states = l.states();
        cell.float_mean = float_mean;
        std::vector<double> all;
        for (std::size_t m = 0; m < models.size(); ++m) {
            const EvalResult& r = results[c * models.size() + m];
            cell.per_model.push_back(r.mean);
            all.insert(all.end(), r.per_instance.begin(), r.per_instance.end());
        }
        mean_std(all, cell.mean, cell.std);
        if (l.r_ohm.size() == l.g.size() && l.r_ohm.back() > 0) {
            cell.r_p_ohm = l.r_ohm.back();
            cell.r_ap_ohm = l.r_ohm.front();
        }
        out.push_back(std::move(cell));
    }
    return out;
}

}  // namespace

std::vector<SweepCell> sweep_parametric(const std::vector<Mlp>& models, const Features& test,
                                        const std::vector<double>& tmrs, const std::vector<int>& cells,
                                        const SweepSpec& spec) {
    std::vector<LevelSet> sets;
    for (int n : cells) {
        for (double t : tmrs) sets.push_back(parametric_levels(t, n, spec.rel_sigma));
    }
    auto out = run_cells(models, test, sets, spec);
    for (auto& c : out) {
        c.r_p_ohm = spec.r_p_ohm;
        c.r_ap_ohm = spec.r_p_ohm * (1.0 + c.tmr);
    }
    return out;
}

std::vector<SweepCell> sweep_levels(const std::vector<Mlp>& models, const Features& test,
                                    const std::vector<LevelSet>& groups, const SweepSpec& spec) {
    return run_cells(models, test, groups, spec);
}

void write_sweep_csv(const std::filesystem::path& file, const std::vector<SweepCell>& cells,
                     const std::string& config_json) {
    std::ofstream out(file);
    if (!out) throw StorageError(fmt::format("{}: cannot open for writing", file.string()));
    out << "# mtjlab ann sweep; configuration: " << config_json << '\n';
    out << "source,mapping,scale,scope,thickness_nm,tmr_percent,cells,states,r_p_ohm,r_ap_ohm,accuracy_mean,"
           "accuracy_std,float_accuracy,models,per_model\n";
    for (const auto& c : cells) {
        std::string per;
        for (double a : c.per_model) per += fmt::format("{}{:.4f}", per.empty() ? "" : ";", a);
        out << fmt::format("{},{},{},{},{},{:.4f},{},{},{},{},{:.6f},{:.6f},{:.6f},{},{}\n", c.source, c.mapping,
                           c.scale, c.scope, c.thickness_nm, 100.0 * c.tmr, c.cells, c.states, c.r_p_ohm, c.r_ap_ohm,
                           c.mean, c.std, c.float_mean, c.per_model.size(), per);
    }
    if (!out) throw StorageError(fmt::format("{}: write failed", file.string()));
}

void write_sweep_h5(const std::filesystem::path& file, const std::vector<SweepCell>& cells,
                    const std::string& config_json) {
    std::error_code ec;
    std::filesystem::remove(file, ec);  // the sweep file is rewritten as a whole
    auto f = storage::h5::File::create(file.string());
    auto g = f.create_group("sweep");
    auto write = [&](const char* name, const std::vector<double>& v, const char* units) {
        g.write_vector(name, v).set_attribute("units", units);
    };
    auto col = [&](auto getter) {
        std::vector<double> v;
        for (const auto& c : cells) v.push_back(static_cast<double>(getter(c)));
        return v;
    };
    write("thickness_nm", col([](const SweepCell& c) { return c.thickness_nm; }), "nm");
    write("tmr", col([](const SweepCell& c) { return c.tmr; }), "1");
    write("cells", col([](const SweepCell& c) { return c.cells; }), "1");
    write("states", col([](const SweepCell& c) { return c.states; }), "1");
    write("r_p_ohm", col([](const SweepCell& c) { return c.r_p_ohm; }), "Ohm");
    write("r_ap_ohm", col([](const SweepCell& c) { return c.r_ap_ohm; }), "Ohm");
    write("accuracy_mean", col([](const SweepCell& c) { return c.mean; }), "1");
    write("accuracy_std", col([](const SweepCell& c) { return c.std; }), "1");
    write("float_accuracy", col([](const SweepCell& c) { return c.float_mean; }), "1");
    std::vector<std::string> mapping, source;
    for (const auto& c : cells) {
        mapping.push_back(c.mapping);
        source.push_back(c.source);
    }
    (void)g.write_strings("mapping", mapping);
    (void)g.write_strings("source", source);
    g.set_attribute("configuration", config_json);
    g.set_attribute("description", "test accuracy (fraction) after post-training quantization per level set");
    g.reset();
    f.close();
}

}  // namespace mtjlab::ann
