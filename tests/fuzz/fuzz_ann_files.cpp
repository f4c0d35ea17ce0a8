// Fuzzes the ANN evaluator's input files as `mtjlab ann eval --model M --states S` and `ann sweep --states S`
// meet them. The first input byte picks the reader, the rest is written to a scratch file it is given:
//   0: a trained model (.h5) -> ann::load_model (format attribute, 784 x H x 10 shapes, finite weights,
//      training attributes);
//   1: a conductance-state table as CSV (.csv) -> ann::read_states_table, then select_group;
//   2: the same table as HDF5 (.h5, group /conductance_states) -> read_states_table, then select_group.
// Only mtjlab::Error may escape (InputError / StorageError naming the file); what the readers return must keep
// their documented promises (shapes; levels ascending, top exactly 1, as many spreads as levels), else trap.
// Seeds: a 784 x 2 x 10 model from `mtjlab ann train --hidden 2`, the analysis golden table, its HDF5 twin.
// The readers' crash probe (a forked child reads each HDF5 file first; a crash there is the file's error) runs for
// old-format HDF5 inputs only (fuzz_support.hpp, hdf5_old_format); the reads always also run in process, where
// the sanitizers see them. ASan defaults for HDF5 input: fuzz_support.hpp, kHdf5AsanDefaults.
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_support.hpp"
#include "mtjlab/ann/levels.hpp"
#include "mtjlab/ann/model_file.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/storage/h5.hpp"

extern "C" const char* __asan_default_options() { return mtjlab::fuzz::kHdf5AsanDefaults; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const int kind = data[0] % 3;
    const char* name = kind == 0 ? "model.h5" : kind == 1 ? "states.csv" : "states.h5";
    const auto file = mtjlab::fuzz::write_scratch(name, data + 1, size - 1);
    mtjlab::storage::h5::set_crash_probe(kind != 1 && mtjlab::fuzz::hdf5_old_format(data + 1, size - 1));
    try {
        if (kind == 0) {
            const auto m = mtjlab::ann::load_model(file);
            const auto h = m.model.w1.cols();
            if (m.model.w1.rows() != 784 || h < 1 || m.model.b1.size() != h || m.model.w2.rows() != h ||
                m.model.w2.cols() != 10 || m.model.b2.size() != 10 || m.info.config.hidden != h)
                __builtin_trap();
        } else {
            const auto groups = mtjlab::ann::read_states_table(file);
            for (const auto& g : groups) {
                if (g.g.size() < 2 || g.g_std.size() != g.g.size() || g.g.back() != 1.0) __builtin_trap();
                for (std::size_t i = 1; i < g.g.size(); ++i)
                    if (!(g.g[i] > g.g[i - 1]) || !(g.g[i - 1] > 0.0)) __builtin_trap();
            }
            (void)mtjlab::ann::select_group(groups, file, std::nullopt, std::nullopt);
        }
    } catch (const mtjlab::Error&) {
    }
    return 0;
}
