// Run-file write throughput: points per second appended with the crash-safe policy (row journal + HDF5
// batches, the default; and without the journal: SWMR + H5Fflush after every append), versus the same
// points written to a plain binary file (fwrite + fflush, and + fsync) in the same run, and the fixed cost
// of creating and finishing a run file. Prints a summary with the ratios after the Google Benchmark table.
//
//   bench_storage [--benchmark_filter=...]
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "mtjlab/storage/h5.hpp"
#include "mtjlab/storage/run_file.hpp"

namespace {
namespace fs = std::filesystem;
using namespace mtjlab::storage;

/// Points per second of the last (longest) run of each benchmark, for the summary.
std::map<std::string, double>& rates() {
    static std::map<std::string, double> r;
    return r;
}

fs::path scratch(const std::string& name) {
    static const fs::path dir = [] {
        const fs::path d = fs::temp_directory_path() / ("mtjlab-bench-" + std::to_string(::getpid()));
        fs::create_directories(d);
        return d;
    }();
    static int counter = 0;
    const fs::path p = dir / (name + "-" + std::to_string(counter++));
    fs::remove(p);
    return p;
}

std::vector<double> row(std::size_t i) {
    const double x = static_cast<double>(i);
    return {x * 1e-4, x * 1e-4 + 1e-7, 1000 + x, 1e-3, 1e-5, 0, 1, x * 0.01};  // rh_loop: 8 columns
}

RunInfo bench_info() {
    RunInfo i;
    i.run_id = "bench";
    i.kind = "rh_loop";
    i.virtual_run = true;
    return i;
}

void record(benchmark::State& state, const std::string& key, std::chrono::steady_clock::duration elapsed,
            std::size_t points) {
    // Wall-clock rate: flushing waits on the kernel, so CPU time would flatter both sides.
    const double s = std::chrono::duration<double>(elapsed).count();
    const double rate = s > 0 ? static_cast<double>(points) / s : 0.0;
    rates()[key] = rate;
    state.counters["points_per_s"] = rate;
}

void BM_RunWriter_append(benchmark::State& state, Durability durability, std::size_t batch_rows,
                         const std::string& key) {
    const auto path = scratch("run.h5");
    WriterOptions opt;
    opt.durability = durability;
    opt.batch_rows = batch_rows;
    auto w = RunWriter::create(path, bench_info(), columns_for("rh_loop"), opt);
    std::size_t i = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) w.append(row(i++));
    record(state, key, std::chrono::steady_clock::now() - t0, i);
    w.finish(RunStatus::complete);
    fs::remove(path);
}

/// Create an empty run file (provenance, datasets, dimension scales, SWMR, journal) and finish it.
void BM_RunWriter_create_finish(benchmark::State& state) {
    for (auto _ : state) {
        const auto path = scratch("cf.h5");
        auto w = RunWriter::create(path, bench_info(), columns_for("rh_loop"));
        w.finish(RunStatus::complete);
        state.PauseTiming();
        fs::remove(path);
        state.ResumeTiming();
    }
}

void BM_RunWriter_append_batch(benchmark::State& state) {
    const auto path = scratch("batch.h5");
    auto w = RunWriter::create(path, bench_info(), columns_for("rh_loop"));
    const auto n = static_cast<std::size_t>(state.range(0));
    std::vector<double> buf;
    std::size_t i = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) {
        buf.clear();
        for (std::size_t k = 0; k < n; ++k) {
            const auto r = row(i + k);
            buf.insert(buf.end(), r.begin(), r.end());
        }
        w.append_rows(buf, n);
        i += n;
    }
    record(state, "hdf5 batch " + std::to_string(n), std::chrono::steady_clock::now() - t0, i);
    w.finish(RunStatus::complete);
    fs::remove(path);
}

/// The alternative flush policy, measured for the design decision: H5Dflush on every column dataset
/// instead of one H5Fflush.
void BM_SWMR_dataset_flush(benchmark::State& state) {
    const auto path = scratch("dflush.h5");
    auto f = h5::File::create(path.string());
    std::vector<h5::DataSet> ds;
    for (int c = 0; c < 8; ++c)
        ds.push_back(f.create_extendible_1d("c" + std::to_string(c), h5::DataType::copy_of(H5T_IEEE_F64LE), 1024));
    f.start_swmr_write();
    std::size_t i = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) {
        const auto r = row(i);
        for (std::size_t c = 0; c < ds.size(); ++c) {
            ds[c].set_length(i + 1);
            ds[c].write_1d(i, 1, H5T_NATIVE_DOUBLE, &r[c]);
            ds[c].flush();
        }
        ++i;
    }
    record(state, "hdf5 H5Dflush per dataset", std::chrono::steady_clock::now() - t0, i);
    ds.clear();
    f.close();
    fs::remove(path);
}

void BM_PlainFile(benchmark::State& state, bool do_fsync, const std::string& key) {
    const auto path = scratch("plain.bin");
    std::FILE* fp = std::fopen(path.c_str(), "wb");
    if (!fp) {
        state.SkipWithError("cannot open scratch file");
        return;
    }
    std::size_t i = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) {
        const auto r = row(i++);
        std::fwrite(r.data(), sizeof(double), r.size(), fp);
        std::fflush(fp);
        if (do_fsync) ::fsync(::fileno(fp));
    }
    record(state, key, std::chrono::steady_clock::now() - t0, i);
    std::fclose(fp);
    fs::remove(path);
}

}  // namespace

BENCHMARK_CAPTURE(BM_RunWriter_append, journal_crash_safe, Durability::process_crash, 1024,
                  std::string("journal+hdf5 crash-safe"))
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_RunWriter_append, hdf5_flush_every_append, Durability::process_crash, 0,
                  std::string("hdf5 flush per append"))
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_RunWriter_append, journal_power_loss, Durability::power_loss, 1024,
                  std::string("journal+hdf5 + fsync"))
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_RunWriter_append, hdf5_fsync_every_append, Durability::power_loss, 0,
                  std::string("hdf5 fsync per append"))
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RunWriter_create_finish)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RunWriter_append_batch)->Arg(100)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SWMR_dataset_flush)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PlainFile, fwrite_fflush, false, std::string("plain fwrite+fflush"))
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_PlainFile, fwrite_fflush_fsync, true, std::string("plain fwrite+fflush+fsync"))
    ->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    auto& r = rates();
    std::printf("\nrun-file append throughput (8 columns per point, one durable append per point):\n");
    for (const auto& [name, rate] : r) std::printf("  %-28s %12.0f points/s\n", name.c_str(), rate);
    auto ratio = [&](const char* a, const char* b) {
        if (r.count(a) && r.count(b) && r[b] > 0)
            std::printf("  ratio %s / %s = %.1fx\n", a, b, r[a] / r[b]);
    };
    ratio("journal+hdf5 crash-safe", "hdf5 flush per append");
    ratio("plain fwrite+fflush", "journal+hdf5 crash-safe");
    ratio("plain fwrite+fflush", "hdf5 flush per append");
    ratio("plain fwrite+fflush+fsync", "hdf5 fsync per append");
    ratio("hdf5 flush per append", "hdf5 H5Dflush per dataset");
    std::error_code ec;
    fs::remove_all(fs::temp_directory_path() / ("mtjlab-bench-" + std::to_string(::getpid())), ec);
    return 0;
}
