// Fuzzes HDF5 run files as `mtjlab h5 info`, `mtjlab analyze` and `mtjlab recover` meet them: the input is
// written to a scratch file and given to storage::RunReader (info, columns, every column's values, refresh),
// to analysis::read_run_file (which never throws), and to storage::recover on a copy. Only mtjlab::Error
// may escape the storage calls. Seeds are real run files (complete, crashed mid-run, empty).
//
// Speed (docs/reliability.md, "Fuzzing"): a file in SWMR state (writer died) with a corrupt metadata block makes
// libhdf5 retry the read 24 times (h5.cpp), sleeping 1 ns, 2 ns, ... 8 ms between attempts: ~17 ms of wall time
// per open, none of it CPU. In this process nanosleep() (which libhdf5 imports) counts the time it is asked to
// sleep and returns at once, so every attempt still runs; an input for which the storage calls ask for more
// than kMaxSleepNs (2 s) in all is reported as a hang (trap), as the fuzzer's -timeout would (the hang found in
// session 2 asked for 2^100 ns). A real file cannot be given to HDF5 as an in-memory image instead: the core
// driver refuses SWMR-read ("must use a SWMR-compatible VFD"), and a file whose writer died opens only so.
#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <filesystem>

#include <hdf5.h>

#include "fuzz_support.hpp"
#include "mtjlab/analysis/io.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/storage/h5.hpp"
#include "mtjlab/storage/run_file.hpp"

namespace {
constexpr std::uint64_t kMaxSleepNs = 2'000'000'000;  // 2 s: far above 3 opens x ~17 ms of SWMR retries
std::atomic<std::uint64_t> slept_ns{0};              // asked for by the present input
}  // namespace

extern "C" int nanosleep(const struct timespec* req, struct timespec* rem) {
    if (req != nullptr && req->tv_sec >= 0 && req->tv_nsec >= 0) {
        const std::uint64_t ns =
            req->tv_sec > 2 ? kMaxSleepNs + 1
                            : static_cast<std::uint64_t>(req->tv_sec) * 1'000'000'000u +
                                  static_cast<std::uint64_t>(req->tv_nsec);
        const std::uint64_t add = std::min(ns, kMaxSleepNs + 1);
        if (slept_ns.fetch_add(add) + add > kMaxSleepNs) {
            std::fprintf(stderr, "fuzz_run_file: the storage calls asked to sleep more than %llu ms for one input "
                                 "(a hang of mtjlab h5 info / analyze / recover)\n",
                         static_cast<unsigned long long>(kMaxSleepNs / 1'000'000));
            __builtin_trap();
        }
    }
    if (rem != nullptr) *rem = timespec{0, 0};
    return 0;
}

// libhdf5 keeps freed objects on per-type free lists, by default at most 64 KiB per list and 1 MiB in all for
// its "regular" (fixed-size) objects. The metadata cache every H5Fopen allocates (~600 KB, zero-filled) is
// larger than that, so each file close gave it back to malloc and each open (4-6 per input) took fresh pages
// from ASan's mmap allocator: zero-fill, page faults, mmap and munmap were ~40 % of the CPU time (perf,
// session 5).
// Raising the regular-list limits to 4 MiB per list / 16 MiB in all keeps it on its list: 1.8x less CPU per
// input once libFuzzer's per-input leak checks are over (19.4 -> 10.9 s CPU for 3,000 runs, 4 seeds,
// -detect_leaks=0). Array and block lists keep libhdf5's defaults. Nothing the storage calls do changes: the
// free lists are libhdf5's own mechanism (on with its defaults in `mtjlab h5 info` too), a block is reused only
// for an object of the same type and size (ASan's bounds checks still apply to it), and mtjlab's allocations do
// not go through them. Price: the first ~1,000 per-input leak checks libFuzzer runs (see docs/reliability.md)
// scan more retained memory, ~80 s more CPU once per run (and ~2.5 s in the 300-run smoke test).
// ASan defaults for HDF5 input (fuzz_support.hpp).
extern "C" const char* __asan_default_options() { return mtjlab::fuzz::kHdf5AsanDefaults; }

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (H5set_free_list_limits(16 << 20, 4 << 20, 4 << 20, 256 << 10, 16 << 20, 1 << 20) < 0) __builtin_trap();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace st = mtjlab::storage;
    slept_ns = 0;
    const auto file = mtjlab::fuzz::write_scratch("run.h5", data, size);
    // Crash probe for old-format files only (fuzz_support.hpp); the reads always also run in process.
    mtjlab::storage::h5::set_crash_probe(mtjlab::fuzz::hdf5_old_format(data, size));
    try {  // h5 info
        auto reader = st::RunReader::open(file);
        (void)reader.info();
        (void)reader.status();
        (void)reader.writer_alive();
        for (const auto& name : reader.column_names()) {
            (void)reader.units(name);
            const auto values = reader.column(name);
            if (values.size() != reader.size()) __builtin_trap();
        }
        reader.refresh();
    } catch (const mtjlab::Error&) {
    }
    const auto run = mtjlab::analysis::read_run_file(file);  // analyze
    (void)run;
    try {  // recover (force: the recorded writer may be any pid on this host)
        const auto res = st::recover(file, true);
        if (res.changed) {
            auto reader = st::RunReader::open(file);
            if (reader.size() != res.rows) __builtin_trap();
        }
    } catch (const mtjlab::Error&) {
    }
    std::error_code ec;
    std::filesystem::remove(file, ec);
    return 0;
}
