// Test helper: appends deterministic rows to a run file and prints one acknowledgement line per durable
// row on stdout, so that a test can kill it at any moment and check what survived.
//
//   storage_crash_writer create|resume FILE ROWS SEED [DELAY_US] [finish|wait] [BATCH_ROWS [BATCH_S]]
//
// Prints "created" once the file exists in SWMR mode, then "ack <row>" after each append returns (batches:
// one line per row of the batch), and "finished" after finish(complete) when "finish" is given.
// BATCH_ROWS / BATCH_S set WriterOptions::batch_rows / batch_interval_s (row journal; 0 rows = no journal).
// Row i, column c holds crash_value(i, c) (see below; the tests compute the same function).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "mtjlab/storage/run_file.hpp"

namespace {
// The same formula is in test_crash.cpp and live_reader.py.
double crash_value(std::size_t i, std::size_t c, bool is_int) {
    if (is_int) return static_cast<double>((i * 7 + c) % 1000) - 500.0;
    return static_cast<double>(i) * 0.5 + static_cast<double>(c) * 1000.0 + 0.125;
}
}  // namespace

int main(int argc, char** argv) {
    using namespace mtjlab::storage;
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s create|resume FILE ROWS SEED [DELAY_US] [finish|wait] [BATCH_ROWS [BATCH_S]]\n",
                     argv[0]);
        return 2;
    }
    const std::string mode = argv[1];
    const std::string path = argv[2];
    const auto rows = static_cast<std::size_t>(std::stoul(argv[3]));
    std::mt19937_64 rng(std::stoull(argv[4]));
    const auto delay_us = argc > 5 ? static_cast<useconds_t>(std::stoul(argv[5])) : 0U;
    const bool finish = argc > 6 && std::string(argv[6]) == "finish";
    try {
        RunInfo info;
        info.run_id = "crash-test";
        info.kind = "rh_loop";
        info.recipe_name = "crash";
        info.recipe_text = "[recipe]\nname = \"crash\"\n";
        info.parameters_json = "{\"rows\": " + std::to_string(rows) + "}";
        info.virtual_run = true;
        info.device = {"W00", 1, 2, 1.5, 4};
        WriterOptions opt;
        opt.chunk_rows = 64;  // small chunks: many chunk allocations, more metadata churn to crash into
        if (argc > 7) opt.batch_rows = static_cast<std::size_t>(std::stoul(argv[7]));
        if (argc > 8) opt.batch_interval_s = std::stod(argv[8]);
        RunWriter w = mode == "resume" ? RunWriter::resume(path, opt) : RunWriter::create(path, info, columns_for("rh_loop"), opt);
        std::printf("created %zu\n", w.size());
        std::fflush(stdout);
        const std::size_t nc = w.columns().size();
        std::vector<double> buf;
        std::uniform_int_distribution<std::size_t> batch_dist(1, 12);
        while (w.size() < rows) {
            // Mostly single rows, sometimes batches.
            const std::size_t first = w.size();
            std::size_t n = rng() % 4 == 0 ? batch_dist(rng) : 1;
            n = std::min(n, rows - first);
            buf.resize(n * nc);
            for (std::size_t r = 0; r < n; ++r)
                for (std::size_t c = 0; c < nc; ++c)
                    buf[r * nc + c] = crash_value(first + r, c, w.columns()[c].type == ColumnType::int32);
            w.append_rows(buf, n);
            for (std::size_t r = 0; r < n; ++r) std::printf("ack %zu\n", first + r);
            std::fflush(stdout);
            if (delay_us > 0) ::usleep(delay_us);
        }
        if (finish) {
            w.finish(RunStatus::complete);
            std::printf("finished\n");
            std::fflush(stdout);
        } else {
            // Stay "running": wait to be killed (the test kills or the harness times out).
            for (;;) ::pause();
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "storage_crash_writer: %s\n", e.what());
        return 1;
    }
    return 0;
}
