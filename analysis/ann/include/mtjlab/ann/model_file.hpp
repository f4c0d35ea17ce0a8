#pragma once
// Trained models in HDF5 so sweeps never retrain. Layout (format "mtjlab-ann-model", version 1):
//   /model/w1 (784 x H float32), /model/b1 (H), /model/w2 (H x 10), /model/b2 (10)
//   root attributes: format, format_version, mtjlab_version, dataset, train_source, config (JSON text),
//   seed, epochs, batch, hidden, test_accuracy, train_seconds, qat (0/1).
#include <filesystem>
#include <string>

#include "mtjlab/ann/network.hpp"

namespace mtjlab::ann {

struct ModelInfo {
    DatasetKind dataset = DatasetKind::fashion;
    std::string train_source;
    TrainConfig config;     ///< qat level set is not stored; config_json has its description
    std::string config_json;
    double test_accuracy = 0.0;  ///< float (full-precision) test accuracy at the end of training
    double train_seconds = 0.0;
    bool qat = false;
};

struct ModelFile {
    Mlp model;
    ModelInfo info;
};

/// Writes (atomically: temp file then rename). Throws StorageError naming the file.
void save_model(const std::filesystem::path& file, const Mlp& model, const ModelInfo& info);

/// Reads and checks the format and the shapes (784 x H, H, H x 10, 10; finite values). Throws InputError naming
/// the file and what is wrong.
ModelFile load_model(const std::filesystem::path& file);

}  // namespace mtjlab::ann
