#pragma once
// The paper's network: 784 inputs -> H sigmoid units -> 10 softmax outputs (H = 128 by default), sparse
// categorical cross-entropy, Adam (Keras defaults: lr 1e-3, betas 0.9 / 0.999, epsilon 1e-7), Glorot-uniform
// kernels and zero biases. Float32, row-major batches, kernels stored Keras-style (inputs x outputs).
// Training is single-threaded and bit-reproducible for a given seed (parallelise across seeds instead).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "mtjlab/ann/dataset.hpp"
#include "mtjlab/ann/levels.hpp"
#include "mtjlab/ann/quantize.hpp"

namespace mtjlab::ann {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

/// Weights of the two dense layers.
template <class T>
struct MlpParams {
    RowMatrix<T> w1;  ///< 784 x H
    RowVector<T> b1;  ///< H
    RowMatrix<T> w2;  ///< H x 10
    RowVector<T> b2;  ///< 10
    [[nodiscard]] int hidden() const { return static_cast<int>(w1.cols()); }
    void resize(int hidden_units);
    void set_zero();
};
using Mlp = MlpParams<float>;

/// Glorot-uniform kernels, zero biases, from a seeded generator.
Mlp init_glorot(int hidden, std::uint64_t seed);

/// Mean sparse categorical cross-entropy of a batch (x: B x 784, labels 0..9) and, when grads is given, its
/// gradient with respect to every parameter. Reference implementation used by the gradient check; training
/// uses the same arithmetic in an allocation-free workspace.
template <class T>
T loss_and_gradients(const MlpParams<T>& p, const RowMatrix<T>& x, std::span<const std::uint8_t> labels,
                     MlpParams<T>* grads);

/// Quantization-aware training: forward pass on quantized weights (ideal devices), gradients applied to the
/// float master weights (straight-through estimator).
struct QatConfig {
    LevelSet levels;
    QuantConfig quant;
};

struct TrainConfig {
    int hidden = 128;
    int epochs = 40;
    int batch = 32;
    double learning_rate = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double epsilon = 1e-7;
    std::uint64_t seed = 1;
    std::size_t train_limit = 0;  ///< use only the first N training images (0 = all)
    std::optional<QatConfig> qat;
};

/// Progress while training: called every few hundred batches (end_of_epoch false) and at each epoch's end.
struct TrainProgress {
    int epoch = 0;  ///< 1-based
    int epochs = 0;
    std::size_t batch = 0;
    std::size_t batches = 0;
    double loss = 0.0;            ///< mean loss over the epoch so far
    double train_accuracy = 0.0;  ///< fraction correct over the epoch so far (on the training batches)
    double seconds = 0.0;         ///< since training started
    bool end_of_epoch = false;
};

struct TrainResult {
    Mlp model;
    std::vector<TrainProgress> history;  ///< one entry per epoch
    double train_seconds = 0.0;
};

/// Trains on a split. Throws InputError for bad configuration (epochs < 1, batch < 1, ...).
TrainResult train(const Split& train_split, const TrainConfig& config,
                  const std::function<void(const TrainProgress&)>& on_progress = {});

/// A split converted to float features in [0, 1] (N x 784), ready for repeated evaluation.
struct Features {
    RowMatrix<float> x;
    std::vector<std::uint8_t> labels;
};
Features to_features(const Split& split);

/// Test accuracy (0..1) of float weights.
double accuracy(const Mlp& model, const Features& data);

/// Accuracy of arbitrary layer weights with optional per-weight read-noise variances (empty matrices = none):
/// the noise on each pre-activation is drawn per image from its exact Gaussian law, N(0, sum_i x_i^2 var_ij).
double accuracy_with_noise(const RowMatrixF& w1, const RowVectorF& b1, const RowMatrixF& v1, const RowVectorF& bv1,
                           const RowMatrixF& w2, const RowVectorF& b2, const RowMatrixF& v2, const RowVectorF& bv2,
                           const Features& data, std::uint64_t noise_seed);

}  // namespace mtjlab::ann
