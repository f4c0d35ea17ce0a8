#pragma once
// Loading runs for analysis: mtjlab run files (through mtjlab::storage::RunReader, contract A) and CSV
// files from other setups. Loading never throws for a bad file: the returned Run carries load_error.
//
// CSV format (docs/analysis.md): optional comment lines `# key=value` (thickness_nm, cells, kind, wafer,
// die, device, assist_mT) before one header line, then comma-separated rows. Recognised columns:
//   H_mT,R_ohm          R(H) loop (kind rh_loop)
//   V_V,R_ohm           R(V) loop (kind rv_pulse_train, or field_free_rv / breakdown_ramp from `# kind=`)
//   V_V,switched        switching-probability trials
// optional: branch, direction, thickness_nm, cells, assist_mT, H_T, V (aliases are not guessed beyond these).
#include <filesystem>
#include <string>
#include <vector>

#include "mtjlab/analysis/data.hpp"

namespace mtjlab::analysis {

/// Reads one CSV file; never throws (problems go to Run::load_error).
Run read_csv(const std::filesystem::path& path);
/// Parses CSV text (for tests and pipes); `name` becomes Run::name and source.
Run parse_csv(const std::string& text, const std::string& name);

/// Reads one run file with the storage module; never throws.
Run read_run_file(const std::filesystem::path& path);

/// True when the file starts with the HDF5 signature.
bool is_hdf5_file(const std::filesystem::path& path);

/// Expands inputs: files as given, directories scanned recursively for *.h5, *.hdf5 and *.csv (sorted,
/// skipping anything under `exclude`, e.g. the output directory, and analysis outputs by name).
/// Missing paths are returned too (they load with an error).
std::vector<std::filesystem::path> collect_inputs(const std::vector<std::filesystem::path>& inputs,
                                                  const std::filesystem::path& exclude = {});

/// Loads each path (HDF5 by signature, otherwise CSV). Names are made unique.
std::vector<Run> load_runs(const std::vector<std::filesystem::path>& paths);

}  // namespace mtjlab::analysis
