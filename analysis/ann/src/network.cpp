#include "mtjlab/ann/network.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"
#include "rng.hpp"

namespace mtjlab::ann {

template <class T>
void MlpParams<T>::resize(int hidden_units) {
    w1.resize(kInputs, hidden_units);
    b1.resize(hidden_units);
    w2.resize(hidden_units, kClasses);
    b2.resize(kClasses);
}

template <class T>
void MlpParams<T>::set_zero() {
    w1.setZero();
    b1.setZero();
    w2.setZero();
    b2.setZero();
}

template struct MlpParams<float>;
template struct MlpParams<double>;

Mlp init_glorot(int hidden, std::uint64_t seed) {
    if (hidden < 1) throw InputError(fmt::format("hidden layer size must be at least 1, got {}", hidden));
    Mlp p;
    p.resize(hidden);
    p.b1.setZero();
    p.b2.setZero();
    detail::Rng rng(detail::mix_seed(seed, 0x11));
    const double lim1 = std::sqrt(6.0 / (kInputs + hidden));
    const double lim2 = std::sqrt(6.0 / (hidden + kClasses));
    for (Eigen::Index i = 0; i < p.w1.size(); ++i) p.w1.data()[i] = static_cast<float>((2 * rng.uniform() - 1) * lim1);
    for (Eigen::Index i = 0; i < p.w2.size(); ++i) p.w2.data()[i] = static_cast<float>((2 * rng.uniform() - 1) * lim2);
    return p;
}

namespace {

/// In-place logistic function.
template <class Derived>
void sigmoid_inplace(Eigen::MatrixBase<Derived>& z) {
    using T = typename Derived::Scalar;
    z.array() = (T(1) + (-z.array()).exp()).inverse();
}

/// Row-wise softmax in place; returns the summed cross-entropy of the rows against labels and counts the rows
/// whose argmax equals the label.
template <class T>
T softmax_xent(Eigen::Ref<RowMatrix<T>> z, std::span<const std::uint8_t> labels, std::size_t* correct) {
    T loss = 0;
    for (Eigen::Index r = 0; r < z.rows(); ++r) {
        auto row = z.row(r);
        Eigen::Index arg = 0;
        const T mx = row.maxCoeff(&arg);
        row.array() = (row.array() - mx).exp();
        const T sum = row.sum();
        const auto y = static_cast<Eigen::Index>(labels[static_cast<std::size_t>(r)]);
        loss += std::log(sum) - std::log(std::max(row(y), std::numeric_limits<T>::min()));
        row /= sum;
        if (correct && arg == y) ++*correct;
    }
    return loss;
}

}  // namespace

template <class T>
T loss_and_gradients(const MlpParams<T>& p, const RowMatrix<T>& x, std::span<const std::uint8_t> labels,
                     MlpParams<T>* grads) {
    const Eigen::Index b = x.rows();
    RowMatrix<T> a1 = x * p.w1;
    a1.rowwise() += p.b1;
    sigmoid_inplace(a1);
    RowMatrix<T> z2 = a1 * p.w2;
    z2.rowwise() += p.b2;
    const T loss = softmax_xent<T>(z2, labels, nullptr) / static_cast<T>(b);
    if (!grads) return loss;
    RowMatrix<T>& d2 = z2;  // softmax probabilities -> dL/dz2
    for (Eigen::Index r = 0; r < b; ++r) d2(r, labels[static_cast<std::size_t>(r)]) -= T(1);
    d2 /= static_cast<T>(b);
    grads->resize(p.hidden());
    grads->w2.noalias() = a1.transpose() * d2;
    grads->b2 = d2.colwise().sum();
    RowMatrix<T> d1 = d2 * p.w2.transpose();
    d1.array() *= a1.array() * (T(1) - a1.array());
    grads->w1.noalias() = x.transpose() * d1;
    grads->b1 = d1.colwise().sum();
    return loss;
}

template float loss_and_gradients<float>(const MlpParams<float>&, const RowMatrix<float>&,
                                         std::span<const std::uint8_t>, MlpParams<float>*);
template double loss_and_gradients<double>(const MlpParams<double>&, const RowMatrix<double>&,
                                           std::span<const std::uint8_t>, MlpParams<double>*);

namespace {

/// Buffers for one batch size; nothing is allocated inside the training loop.
struct Workspace {
    RowMatrix<float> x, a1, z2, d1;
    std::vector<std::uint8_t> y;
    explicit Workspace(Eigen::Index batch, int hidden)
        : x(batch, kInputs), a1(batch, hidden), z2(batch, kClasses), d1(batch, hidden),
          y(static_cast<std::size_t>(batch)) {}
};

/// Adam state of one parameter array.
struct AdamSlot {
    Eigen::ArrayXf m, v;
    explicit AdamSlot(Eigen::Index n) : m(Eigen::ArrayXf::Zero(n)), v(Eigen::ArrayXf::Zero(n)) {}
    template <class P, class G>
    void step(P& param, const G& grad, float b1, float b2, float lr_t, float eps) {
        Eigen::Map<Eigen::ArrayXf> w(param.data(), param.size());
        Eigen::Map<const Eigen::ArrayXf> g(grad.data(), grad.size());
        m = b1 * m + (1.0f - b1) * g;
        v = b2 * v + (1.0f - b2) * g.square();
        w -= lr_t * m / (v.sqrt() + eps);
    }
};

void check_config(const TrainConfig& c) {
    if (c.epochs < 1) throw InputError(fmt::format("epochs must be at least 1, got {}", c.epochs));
    if (c.batch < 1) throw InputError(fmt::format("batch size must be at least 1, got {}", c.batch));
    if (c.hidden < 1) throw InputError(fmt::format("hidden layer size must be at least 1, got {}", c.hidden));
    if (!(c.learning_rate > 0) || !std::isfinite(c.learning_rate)) {
        throw InputError(fmt::format("learning rate must be positive, got {}", c.learning_rate));
    }
    if (!(c.beta1 >= 0 && c.beta1 < 1) || !(c.beta2 >= 0 && c.beta2 < 1) || !(c.epsilon > 0)) {
        throw InputError("Adam parameters out of range (0 <= beta < 1, epsilon > 0)");
    }
}

}  // namespace

TrainResult train(const Split& train_split, const TrainConfig& config,
                  const std::function<void(const TrainProgress&)>& on_progress) {
    check_config(config);
    const std::size_t n = config.train_limit ? std::min(config.train_limit, train_split.size()) : train_split.size();
    if (n == 0) throw InputError("training split is empty");
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();

    TrainResult result;
    Mlp& p = result.model;
    p = init_glorot(config.hidden, config.seed);
    const int h = config.hidden;
    const auto bsz = static_cast<std::size_t>(config.batch);
    Workspace full(static_cast<Eigen::Index>(std::min(bsz, n)), h);
    std::optional<Workspace> tail;
    if (n > bsz && n % bsz) tail.emplace(static_cast<Eigen::Index>(n % bsz), h);
    Mlp g;
    g.resize(h);
    // The first kernel lives column-major while training: X^T * dZ1 into a column-major gradient is about twice
    // as fast as into a row-major one, and Adam walks weight, gradient and moments in the same order.
    using ColMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
    ColMatrixF w1c = p.w1;
    ColMatrixF g1c(w1c.rows(), w1c.cols());
    AdamSlot sw1(p.w1.size()), sb1(p.b1.size()), sw2(p.w2.size()), sb2(p.b2.size());

    // Quantization-aware training: forward on quantized copies, gradients into the float masters.
    std::vector<double> qat_values, qs1, qs2;
    RowMatrixF qw1, qw2;
    if (config.qat) {
        qat_values = weight_levels(config.qat->quant.mapping, config.qat->levels).values();
        qw1.resize(p.w1.rows(), p.w1.cols());
        qw2.resize(p.w2.rows(), p.w2.cols());
    }

    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    detail::Rng shuffle_rng(detail::mix_seed(config.seed, 0x5f));
    const std::size_t batches = (n + bsz - 1) / bsz;
    const auto b1 = static_cast<float>(config.beta1);
    const auto b2 = static_cast<float>(config.beta2);
    const auto eps = static_cast<float>(config.epsilon);
    std::uint64_t t = 0;
    constexpr float kInv255 = 1.0f / 255.0f;

    for (int epoch = 1; epoch <= config.epochs; ++epoch) {
        for (std::size_t i = n - 1; i > 0; --i) {  // Fisher-Yates with our own generator
            std::swap(order[i], order[shuffle_rng.below(i + 1)]);
        }
        double loss_sum = 0.0;
        std::size_t correct = 0, seen = 0;
        for (std::size_t bi = 0; bi < batches; ++bi) {
            const std::size_t start = bi * bsz;
            const std::size_t count = std::min(bsz, n - start);
            Workspace& ws = (count == static_cast<std::size_t>(full.x.rows())) ? full : *tail;
            for (std::size_t r = 0; r < count; ++r) {
                const std::uint32_t idx = order[start + r];
                const Eigen::Map<const Eigen::Matrix<std::uint8_t, 1, kInputs>> px(
                    train_split.pixels.data() + std::size_t{idx} * kInputs);
                ws.x.row(static_cast<Eigen::Index>(r)) = px.cast<float>() * kInv255;
                ws.y[r] = train_split.labels[idx];
            }
            const RowMatrixF* w2 = &p.w2;
            if (config.qat) {
                p.w1 = w1c;  // the float master, row-major for the quantizer
                // scales follow the master weights; re-chosen every 100 batches (MSE search is not free)
                if (bi % 100 == 0) {
                    qs1 = choose_scales(p.w1, qat_values, config.qat->quant);
                    qs2 = choose_scales(p.w2, qat_values, config.qat->quant);
                }
                quantize_ideal(p.w1, qat_values, qs1, qw1);
                quantize_ideal(p.w2, qat_values, qs2, qw2);
                w2 = &qw2;
                ws.a1.noalias() = ws.x * qw1;
            } else {
                ws.a1.noalias() = ws.x * w1c;
            }
            // forward: fused bias + sigmoid, then logits
            ws.a1.array() = (1.0f + (-(ws.a1.rowwise() + p.b1).array()).exp()).inverse();
            ws.z2.noalias() = ws.a1 * *w2;
            ws.z2.rowwise() += p.b2;
            loss_sum += softmax_xent<float>(ws.z2, ws.y, &correct);
            seen += count;
            // backward
            const float inv_b = 1.0f / static_cast<float>(count);
            for (std::size_t r = 0; r < count; ++r) ws.z2(static_cast<Eigen::Index>(r), ws.y[r]) -= 1.0f;
            ws.z2 *= inv_b;
            g.w2.noalias() = ws.a1.transpose() * ws.z2;
            g.b2.noalias() = ws.z2.colwise().sum();
            ws.d1.noalias() = ws.z2 * w2->transpose();
            ws.d1.array() *= ws.a1.array() * (1.0f - ws.a1.array());
            g1c.noalias() = ws.x.transpose() * ws.d1;
            g.b1.noalias() = ws.d1.colwise().sum();
            // Adam (Keras form: bias correction folded into the step size, epsilon outside the sqrt)
            ++t;
            const double lr_t = config.learning_rate * std::sqrt(1.0 - std::pow(config.beta2, double(t))) /
                                (1.0 - std::pow(config.beta1, double(t)));
            const auto lr = static_cast<float>(lr_t);
            sw1.step(w1c, g1c, b1, b2, lr, eps);
            sb1.step(p.b1, g.b1, b1, b2, lr, eps);
            sw2.step(p.w2, g.w2, b1, b2, lr, eps);
            sb2.step(p.b2, g.b2, b1, b2, lr, eps);

            const bool end = bi + 1 == batches;
            if (on_progress && (end || (bi + 1) % 200 == 0)) {
                TrainProgress pr;
                pr.epoch = epoch;
                pr.epochs = config.epochs;
                pr.batch = bi + 1;
                pr.batches = batches;
                pr.loss = loss_sum / static_cast<double>(seen);
                pr.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
                pr.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
                pr.end_of_epoch = end;
                on_progress(pr);
            }
        }
        TrainProgress pr;
        pr.epoch = epoch;
        pr.epochs = config.epochs;
        pr.batch = pr.batches = batches;
        pr.loss = loss_sum / static_cast<double>(seen);
        pr.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
        pr.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        pr.end_of_epoch = true;
        result.history.push_back(pr);
        if (!std::isfinite(pr.loss)) throw Error(fmt::format("training diverged at epoch {} (loss {})", epoch, pr.loss));
    }
    p.w1 = w1c;
    result.train_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return result;
}

Features to_features(const Split& split) {
    Features f;
    const auto n = static_cast<Eigen::Index>(split.size());
    f.x.resize(n, kInputs);
    const Eigen::Map<const Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> px(
        split.pixels.data(), n, kInputs);
    f.x = px.cast<float>() * (1.0f / 255.0f);
    f.labels = split.labels;
    return f;
}

namespace {
constexpr Eigen::Index kEvalBlock = 500;

std::size_t count_correct(const RowMatrixF& logits, std::span<const std::uint8_t> labels) {
    std::size_t correct = 0;
    for (Eigen::Index r = 0; r < logits.rows(); ++r) {
        Eigen::Index arg = 0;
        logits.row(r).maxCoeff(&arg);
        if (arg == labels[static_cast<std::size_t>(r)]) ++correct;
    }
    return correct;
}
}  // namespace

double accuracy(const Mlp& model, const Features& data) {
    const RowMatrixF none;
    const RowVectorF none_b;
    return accuracy_with_noise(model.w1, model.b1, none, none_b, model.w2, model.b2, none, none_b, data, 0);
}

double accuracy_with_noise(const RowMatrixF& w1, const RowVectorF& b1, const RowMatrixF& v1, const RowVectorF& bv1,
                           const RowMatrixF& w2, const RowVectorF& b2, const RowMatrixF& v2, const RowVectorF& bv2,
                           const Features& data, std::uint64_t noise_seed) {
    const Eigen::Index n = data.x.rows();
    if (n == 0) return 0.0;
    if (w1.rows() != kInputs || w2.cols() != kClasses || w1.cols() != w2.rows()) {
        throw InputError("layer shapes do not form a 784 x H x 10 network");
    }
    RowMatrixF a1(kEvalBlock, w1.cols()), z2(kEvalBlock, kClasses), s1, s2;
    std::size_t correct = 0;
    for (Eigen::Index start = 0; start < n; start += kEvalBlock) {
        const Eigen::Index rows = std::min(kEvalBlock, n - start);
        const auto x = data.x.middleRows(start, rows);
        a1.resize(rows, w1.cols());
        z2.resize(rows, kClasses);
        a1.noalias() = x * w1;
        a1.rowwise() += b1;
        detail::Rng rng(detail::mix_seed(noise_seed, static_cast<std::uint64_t>(start), 0xa1));
        if (v1.size() != 0) {
            s1.noalias() = x.array().square().matrix() * v1;
            if (bv1.size() != 0) s1.rowwise() += bv1;
            for (Eigen::Index i = 0; i < a1.size(); ++i) {
                a1.data()[i] += static_cast<float>(std::sqrt(std::max(0.0f, s1.data()[i])) * rng.normal());
            }
        }
        a1.array() = (1.0f + (-a1.array()).exp()).inverse();
        z2.noalias() = a1 * w2;
        z2.rowwise() += b2;
        if (v2.size() != 0) {
            s2.noalias() = a1.array().square().matrix() * v2;
            if (bv2.size() != 0) s2.rowwise() += bv2;
            for (Eigen::Index i = 0; i < z2.size(); ++i) {
                z2.data()[i] += static_cast<float>(std::sqrt(std::max(0.0f, s2.data()[i])) * rng.normal());
            }
        }
        correct += count_correct(z2, std::span(data.labels).subspan(static_cast<std::size_t>(start),
                                                                    static_cast<std::size_t>(rows)));
    }
    return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace mtjlab::ann
