#include "mtjlab/ann/model_file.hpp"

#include <algorithm>
#include <cmath>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "mtjlab/storage/h5.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/version.hpp"
#include "whole_number.hpp"

namespace mtjlab::ann {
namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "mtjlab-ann-model";
constexpr std::int64_t kFormatVersion = 1;
}  // namespace

namespace {
nlohmann::json identity(DatasetKind dataset, const std::string& train_source, const TrainConfig& c) {
    return {{"dataset", std::string(to_string(dataset))},
            {"train_source", train_source},
            {"hidden", c.hidden},
            {"epochs", c.epochs},
            {"batch", c.batch},
            {"learning_rate", c.learning_rate},
            {"beta1", c.beta1},
            {"beta2", c.beta2},
            {"epsilon", c.epsilon},
            {"train_limit", c.train_limit},
            {"model_format", "mtjlab-ann-model/1"}};
}
}  // namespace

std::string train_identity_json(DatasetKind dataset, const std::string& train_source, const TrainConfig& config) {
    return identity(dataset, train_source, config).dump();
}

std::string train_config_json(DatasetKind dataset, const std::string& train_source, const TrainConfig& config,
                              std::size_t train_set_size) {
    nlohmann::json j = identity(dataset, train_source, config);
    j["seed"] = config.seed;
    j["train_images"] = config.train_limit ? std::min(config.train_limit, train_set_size) : train_set_size;
    j["optimizer"] = "adam";
    j["loss"] = "sparse_categorical_crossentropy";
    j["architecture"] = fmt::format("784x{}x10 sigmoid/softmax", config.hidden);
    return j.dump();
}

void save_model(const fs::path& file, const Mlp& m, const ModelInfo& info) {
    const fs::path tmp = file.string() + fmt::format(".tmp{}", ::getpid());
    {
        std::error_code ec;
        fs::remove(tmp, ec);  // a leftover of a killed writer with our pid
        auto f = storage::h5::File::create(tmp.string());
        const auto h = static_cast<hsize_t>(m.hidden());
        auto g = f.create_group("model");
        auto w1 = g.write_array("w1", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m.w1.data(), {kInputs, h});
        (void)g.write_array("b1", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m.b1.data(), {h});
        auto w2 = g.write_array("w2", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m.w2.data(), {h, kClasses});
        (void)g.write_array("b2", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m.b2.data(), {kClasses});
        w1.set_attribute("description", "dense kernel input->hidden (inputs x outputs)");
        w2.set_attribute("description", "dense kernel hidden->output (inputs x outputs)");
        f.set_attribute("format", kFormat);
        f.set_attribute("format_version", kFormatVersion);
        f.set_attribute("mtjlab_version", std::string(version_string()));
        f.set_attribute("dataset", std::string(to_string(info.dataset)));
        f.set_attribute("train_source", info.train_source);
        f.set_attribute("config", info.config_json);
        f.set_attribute("seed", static_cast<std::int64_t>(info.config.seed));
        f.set_attribute("epochs", static_cast<std::int64_t>(info.config.epochs));
        f.set_attribute("batch", static_cast<std::int64_t>(info.config.batch));
        f.set_attribute("hidden", static_cast<std::int64_t>(m.hidden()));
        f.set_attribute("learning_rate", info.config.learning_rate);
        f.set_attribute("test_accuracy", info.test_accuracy);
        f.set_attribute("train_seconds", info.train_seconds);
        f.set_attribute("qat", static_cast<std::int64_t>(info.qat ? 1 : 0));
        w1.reset();
        w2.reset();
        g.reset();
        f.close();
    }
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw StorageError(fmt::format("{}: cannot write the model file", file.string()));
    }
}

namespace {
ModelFile read_model(const fs::path& file) {
    const auto f = storage::h5::File::open(file.string(), storage::h5::Access::read_only);
    const auto fmt_attr = f.optional_string_attribute("format");
    if (!fmt_attr || *fmt_attr != kFormat) {
        throw InputError(fmt::format("{}: not an mtjlab ANN model (attribute format != '{}')", file.string(), kFormat));
    }
    auto dataset = [&](const char* name) {
        if (!f.exists(name)) throw InputError(fmt::format("{}: no dataset /{}", file.string(), name));
        return f.open_dataset(name);
    };
    const auto w1 = dataset("model/w1"), b1 = dataset("model/b1"), w2 = dataset("model/w2"), b2 = dataset("model/b2");
    const auto d1 = w1.dims(), db1 = b1.dims(), d2 = w2.dims(), db2 = b2.dims();
    if (d1.size() != 2 || d1[0] != kInputs) {
        throw InputError(fmt::format("{}: /model/w1 has shape {}, expected 784 x H", file.string(),
                                     fmt::join(d1, " x ")));
    }
    const hsize_t h = d1[1];
    // A file can declare any shape (an unwritten chunked dataset costs no bytes): bound H before allocating.
    constexpr hsize_t kMaxHidden = 1 << 16;
    if (h > kMaxHidden) {
        throw InputError(fmt::format("{}: /model/w1 declares {} hidden units, more than {}", file.string(), h,
                                     kMaxHidden));
    }
    if (h < 1 || db1.size() != 1 || db1[0] != h || d2.size() != 2 || d2[0] != h || d2[1] != kClasses ||
        db2.size() != 1 || db2[0] != kClasses) {
        throw InputError(fmt::format("{}: model shape is not 784 x {} x 10 (w1 {}, b1 {}, w2 {}, b2 {})", file.string(),
                                     h, fmt::join(d1, "x"), fmt::join(db1, "x"), fmt::join(d2, "x"),
                                     fmt::join(db2, "x")));
    }
    ModelFile out;
    out.model.resize(static_cast<int>(h));
    auto load = [&](const storage::h5::DataSet& ds, const char* name, float* dst, Eigen::Index n) {
        const auto v = ds.read_floats();
        for (Eigen::Index i = 0; i < n; ++i) {
            if (!std::isfinite(v[static_cast<std::size_t>(i)])) {
                throw InputError(fmt::format("{}: {} holds a non-finite value", file.string(), name));
            }
            dst[i] = v[static_cast<std::size_t>(i)];
        }
    };
    load(w1, "/model/w1", out.model.w1.data(), out.model.w1.size());
    load(b1, "/model/b1", out.model.b1.data(), out.model.b1.size());
    load(w2, "/model/w2", out.model.w2.data(), out.model.w2.size());
    load(b2, "/model/b2", out.model.b2.data(), out.model.b2.size());
    auto str_attr = [&](const char* name) { return f.optional_string_attribute(name); };
    auto num_attr = [&](const char* name) -> std::optional<double> {
        if (!f.has_attribute(name)) return std::nullopt;
        return f.double_attribute(name);
    };
    auto whole_attr = [&](const char* name, double max) {  // checked before the cast (whole_number.hpp)
        return detail::checked_whole(num_attr(name).value_or(0), max, file.string(), fmt::format("attribute {}", name));
    };
    ModelInfo& i = out.info;
    i.dataset = parse_dataset_kind(str_attr("dataset").value_or("fashion"));
    i.train_source = str_attr("train_source").value_or("");
    i.config_json = str_attr("config").value_or("{}");
    i.config.hidden = static_cast<int>(h);
    i.config.seed = static_cast<std::uint64_t>(whole_attr("seed", 0x1p63));
    i.config.epochs = static_cast<int>(whole_attr("epochs", 1e9));
    i.config.batch = static_cast<int>(whole_attr("batch", 1e9));
    i.config.learning_rate = num_attr("learning_rate").value_or(0);
    i.test_accuracy = num_attr("test_accuracy").value_or(0);
    i.train_seconds = num_attr("train_seconds").value_or(0);
    i.qat = num_attr("qat").value_or(0) != 0;
    return out;
}
}  // namespace

ModelFile load_model(const fs::path& file) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) throw InputError(fmt::format("{}: no such model file", file.string()));
    // A crafted file can crash libhdf5 itself: the same reads run in a probe process first (h5.hpp).
    storage::h5::crash_probe(file.string(), [&] { (void)read_model(file); });
    return read_model(file);
}

}  // namespace mtjlab::ann
