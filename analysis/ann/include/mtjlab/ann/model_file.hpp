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

/// The training setup as JSON text: dataset, training source and every hyper-parameter that changes the trained
/// weights except the seed. Two trainings with equal identities and equal seeds give the same model, so this is
/// what model caches key on (its text must stay stable: a changed key retrains every cached model).
std::string train_identity_json(DatasetKind dataset, const std::string& train_source, const TrainConfig& config);

/// What a model file stores as its `config`: the identity above plus the seed, the number of training images
/// used (`train_set_size` cut to `config.train_limit`), optimiser, loss and architecture (one description for
/// `mtjlab ann train/sweep` and the campaign).
std::string train_config_json(DatasetKind dataset, const std::string& train_source, const TrainConfig& config,
                              std::size_t train_set_size);

/// Writes (atomically: temp file then rename). Throws StorageError naming the file.
void save_model(const std::filesystem::path& file, const Mlp& model, const ModelInfo& info);

/// Reads and checks the format and the shapes (784 x H, H, H x 10, 10; finite values). Throws InputError naming
/// the file and what is wrong.
ModelFile load_model(const std::filesystem::path& file);

}  // namespace mtjlab::ann
