// Fuzzes HDF5 run files as `mtjlab h5 info`, `mtjlab analyze` and `mtjlab recover` meet them: the input is
// written to a scratch file and given to storage::RunReader (info, columns, every column's values, refresh),
// to analysis::read_run_file (which never throws), and to storage::recover on a copy. Only mtjlab::Error
// may escape the storage calls. Seeds are real run files (complete, crashed mid-run, empty).
#include <cstdint>
#include <filesystem>

#include "fuzz_support.hpp"
#include "mtjlab/analysis/io.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/storage/run_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace st = mtjlab::storage;
    const auto file = mtjlab::fuzz::write_scratch("run.h5", data, size);
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
