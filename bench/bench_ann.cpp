// ANN evaluator benchmarks, side by side in one run:
//   BM_TrainFashion40     one 40-epoch training run on Fashion-MNIST (60k, batch 32)      target < 20 s
//   BM_TrainNaiveLoops    the same arithmetic in plain loops (no Eigen), timed on a subset and
//                         extrapolated to 40 epochs x 60k: the "naive baseline"
//   BM_TrainPyTorch       the same protocol in PyTorch, only when `python3 -c "import torch"` works
//   BM_Grid5de            Fig. 5d/e grid: 21 TMR x 6 state counts x 5 seeds from saved models   target < 30 s
// Models for the grid are trained once (40 epochs, seeds 1-5) and cached in <build>/bench/bench-cache/
// (or $MTJLAB_BENCH_CACHE).
// MTJLAB_BENCH_EPOCHS overrides the 40 epochs (for a quick look). The summary with ratios is printed at the end.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mtjlab/ann/dataset.hpp"
#include "mtjlab/ann/model_file.hpp"
#include "mtjlab/ann/network.hpp"
#include "mtjlab/ann/sweep.hpp"

using namespace mtjlab::ann;
namespace fs = std::filesystem;

namespace {

struct Summary {
    double eigen_s = NAN, eigen_acc = NAN, naive_s = NAN, torch_s = NAN, grid_s = NAN;
} summary;

int epochs() {
    if (const char* e = std::getenv("MTJLAB_BENCH_EPOCHS"); e && *e) return std::max(1, std::atoi(e));
    return 40;
}

const Dataset& fashion() {
    static const Dataset d = load_dataset(DatasetKind::fashion);
    return d;
}

void BM_TrainFashion40(benchmark::State& state) {
    const Dataset& d = fashion();
    TrainConfig c;
    c.epochs = epochs();
    for (auto _ : state) {
        const auto r = train(d.train, c);
        state.SetIterationTime(r.train_seconds);
        summary.eigen_s = r.train_seconds;
        summary.eigen_acc = accuracy(r.model, to_features(d.test));
    }
    state.counters["epochs"] = c.epochs;
    state.counters["test_accuracy"] = summary.eigen_acc;
}

/// Plain-loop forward/backward/Adam for one batch: the same arithmetic as train(), no BLAS-style kernels.
double naive_seconds_per_sample(const Split& s, std::size_t samples) {
    const int h = 128;
    const Mlp init = init_glorot(h, 1);
    std::vector<float> w1(init.w1.data(), init.w1.data() + init.w1.size()), b1(h, 0.0f);
    std::vector<float> w2(init.w2.data(), init.w2.data() + init.w2.size()), b2(10, 0.0f);
    std::vector<float> gw1(w1.size()), gb1(h), gw2(w2.size()), gb2(10), m(w1.size() + w2.size() + h + 10, 0.0f),
        v(m.size(), 0.0f);
    const int bsz = 32;
    std::vector<float> x(bsz * 784), a1(bsz * h), p(bsz * 10), d1(bsz * h);
    const auto t0 = std::chrono::steady_clock::now();
    int t = 0;
    for (std::size_t start = 0; start + bsz <= samples; start += bsz) {
        for (int r = 0; r < bsz; ++r) {
            for (int i = 0; i < 784; ++i) x[r * 784 + i] = s.pixels[(start + r) * 784 + i] / 255.0f;
        }
        for (int r = 0; r < bsz; ++r) {
            for (int j = 0; j < h; ++j) {
                float z = b1[j];
                for (int i = 0; i < 784; ++i) z += x[r * 784 + i] * w1[i * h + j];
                a1[r * h + j] = 1.0f / (1.0f + std::exp(-z));
            }
            float mx = -1e30f;
            for (int k = 0; k < 10; ++k) {
                float z = b2[k];
                for (int j = 0; j < h; ++j) z += a1[r * h + j] * w2[j * 10 + k];
                p[r * 10 + k] = z;
                mx = std::max(mx, z);
            }
            float sum = 0;
            for (int k = 0; k < 10; ++k) sum += p[r * 10 + k] = std::exp(p[r * 10 + k] - mx);
            for (int k = 0; k < 10; ++k) p[r * 10 + k] = (p[r * 10 + k] / sum - (k == s.labels[start + r])) / bsz;
        }
        std::fill(gw1.begin(), gw1.end(), 0.0f);
        std::fill(gw2.begin(), gw2.end(), 0.0f);
        std::fill(gb1.begin(), gb1.end(), 0.0f);
        std::fill(gb2.begin(), gb2.end(), 0.0f);
        for (int r = 0; r < bsz; ++r) {
            for (int j = 0; j < h; ++j) {
                float d = 0;
                for (int k = 0; k < 10; ++k) {
                    gw2[j * 10 + k] += a1[r * h + j] * p[r * 10 + k];
                    d += p[r * 10 + k] * w2[j * 10 + k];
                }
                d1[r * h + j] = d * a1[r * h + j] * (1 - a1[r * h + j]);
                gb1[j] += d1[r * h + j];
            }
            for (int k = 0; k < 10; ++k) gb2[k] += p[r * 10 + k];
            for (int i = 0; i < 784; ++i) {
                for (int j = 0; j < h; ++j) gw1[i * h + j] += x[r * 784 + i] * d1[r * h + j];
            }
        }
        ++t;
        const float lr = static_cast<float>(1e-3 * std::sqrt(1 - std::pow(0.999, t)) / (1 - std::pow(0.9, t)));
        std::size_t o = 0;
        for (const auto& pr : {std::pair{&w1, &gw1}, std::pair{&w2, &gw2}, std::pair{&b1, &gb1}, std::pair{&b2, &gb2}}) {
            for (std::size_t i = 0; i < pr.first->size(); ++i, ++o) {
                const float g = (*pr.second)[i];
                m[o] = 0.9f * m[o] + 0.1f * g;
                v[o] = 0.999f * v[o] + 0.001f * g * g;
                (*pr.first)[i] -= lr * m[o] / (std::sqrt(v[o]) + 1e-7f);
            }
        }
    }
    benchmark::DoNotOptimize(w1.data());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return secs / static_cast<double>(samples / bsz * bsz);
}

void BM_TrainNaiveLoops(benchmark::State& state) {
    const Dataset& d = fashion();
    for (auto _ : state) {
        const double per_sample = naive_seconds_per_sample(d.train, 3200);
        const double extrapolated = per_sample * 60000.0 * epochs();
        state.SetIterationTime(extrapolated);
        summary.naive_s = extrapolated;
    }
    state.counters["extrapolated_s"] = summary.naive_s;
}

void BM_TrainPyTorch(benchmark::State& state) {
    // The first interpreter that has torch: $MTJLAB_PYTHON, python3 on PATH, then Debian's /usr/bin/python3
    // (python3-torch installs there; a pyenv/venv python3 on PATH usually does not see it).
    std::string python;
    std::vector<std::string> candidates = {"python3", "/usr/bin/python3"};
    if (const char* e = std::getenv("MTJLAB_PYTHON"); e && *e) candidates.insert(candidates.begin(), e);
    for (const std::string& c : candidates) {
        if (std::system(("'" + c + "' -c 'import torch' >/dev/null 2>&1").c_str()) == 0) {
            python = c;
            break;
        }
    }
    if (python.empty()) {
        state.SkipWithError("PyTorch is not installed (no python3 with 'import torch'; apt-get install python3-torch)");
        for (auto _ : state) {
        }
        return;
    }
    const fs::path script = fs::temp_directory_path() / "mtjlab_bench_torch.py";
    std::ofstream(script) << R"PY(
import gzip, struct, sys, time, numpy as np, torch
torch.set_num_threads(2); torch.manual_seed(1)
def idx(p, off):
    with gzip.open(p, 'rb') as f: return np.frombuffer(f.read(), np.uint8, offset=off)
d = '/usr/share/datasets/fashion-mnist/'
x = torch.tensor(idx(d + 'train-images-idx3-ubyte.gz', 16).reshape(-1, 784) / 255.0, dtype=torch.float32)
y = torch.tensor(idx(d + 'train-labels-idx1-ubyte.gz', 8).astype(np.int64))
m = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.Sigmoid(), torch.nn.Linear(128, 10))
opt = torch.optim.Adam(m.parameters(), lr=1e-3, eps=1e-7); lossf = torch.nn.CrossEntropyLoss()
t0 = time.time()
for epoch in range(int(sys.argv[1])):
    perm = torch.randperm(x.shape[0])
    for i in range(0, x.shape[0], 32):
        idb = perm[i:i + 32]; opt.zero_grad(); l = lossf(m(x[idb]), y[idb]); l.backward(); opt.step()
print(time.time() - t0)
)PY";
    for (auto _ : state) {
        const std::string cmd = "'" + python + "' '" + script.string() + "' " + std::to_string(epochs());
        FILE* p = ::popen(cmd.c_str(), "r");
        double secs = NAN;
        if (p && std::fscanf(p, "%lf", &secs) != 1) secs = NAN;
        if (p) ::pclose(p);
        state.SetIterationTime(std::isfinite(secs) ? secs : 0.0);
        summary.torch_s = secs;
    }
}

void BM_Grid5de(benchmark::State& state) {
    const char* env = std::getenv("MTJLAB_BENCH_CACHE");
    const fs::path cache = env && *env ? fs::path(env) : fs::read_symlink("/proc/self/exe").parent_path() / "bench-cache";
    fs::create_directories(cache);
    std::vector<fs::path> files;
    for (int s = 1; s <= 5; ++s) files.push_back(cache / ("fashion-e" + std::to_string(epochs()) + "-seed" +
                                                          std::to_string(s) + ".h5"));
    {  // train the missing models once, two at a time (not timed)
        std::vector<std::thread> pool;
        for (int s = 0; s < 5; ++s) {
            if (fs::exists(files[static_cast<std::size_t>(s)])) continue;
            pool.emplace_back([&, s] {
                TrainConfig c;
                c.epochs = epochs();
                c.seed = static_cast<std::uint64_t>(s + 1);
                const auto r = train(fashion().train, c);
                ModelInfo info;
                info.config = c;
                info.train_seconds = r.train_seconds;
                save_model(files[static_cast<std::size_t>(s)], r.model, info);
            });
            if (pool.size() == 2) {
                for (auto& t : pool) t.join();
                pool.clear();
            }
        }
        for (auto& t : pool) t.join();
    }
    std::vector<double> tmrs;
    for (int t = 60; t <= 260; t += 10) tmrs.push_back(t / 100.0);
    const std::vector<int> cells{1, 2, 3, 4, 5, 6};
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<Mlp> models;
        for (const auto& f : files) models.push_back(load_model(f).model);
        const Features test = to_features(load_test_split(DatasetKind::fashion));
        SweepSpec spec;
        spec.quant.scale = ScalePolicy::mse;
        const auto grid = sweep_parametric(models, test, tmrs, cells, spec);
        benchmark::DoNotOptimize(grid.data());
        summary.grid_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        state.SetIterationTime(summary.grid_s);
        state.counters["cells"] = static_cast<double>(grid.size());
    }
}

}  // namespace

BENCHMARK(BM_TrainFashion40)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);
BENCHMARK(BM_TrainNaiveLoops)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);
BENCHMARK(BM_TrainPyTorch)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);
BENCHMARK(BM_Grid5de)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    std::printf("\nANN summary (%d epochs; shared 2-core machine, timings are noisy):\n", epochs());
    std::printf("  Eigen training      %8.1f s  (target < 20 s), test accuracy %.4f\n", summary.eigen_s,
                summary.eigen_acc);
    std::printf("  naive loops (extrap.) %6.1f s  -> Eigen is %.1fx faster\n", summary.naive_s,
                summary.naive_s / summary.eigen_s);
    if (std::isfinite(summary.torch_s)) {
        std::printf("  PyTorch             %8.1f s  -> Eigen is %.1fx faster (target >= 20x)\n", summary.torch_s,
                    summary.torch_s / summary.eigen_s);
    } else {
        std::printf("  PyTorch             not installed, not measured\n");
    }
    std::printf("  Fig. 5d/e grid      %8.1f s  (21 TMR x 6 states x 5 seeds; target < 30 s)\n", summary.grid_s);
    return 0;
}
