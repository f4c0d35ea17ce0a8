#include "mtjlab/ann/model_file.hpp"

#include <cmath>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "h5.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/version.hpp"

namespace mtjlab::ann {
namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "mtjlab-ann-model";
constexpr std::int64_t kFormatVersion = 1;
}  // namespace

void save_model(const fs::path& file, const Mlp& m, const ModelInfo& info) {
    const fs::path tmp = file.string() + fmt::format(".tmp{}", ::getpid());
    {
        const auto f = detail::h5::File::create(tmp);
        const auto h = static_cast<std::size_t>(m.hidden());
        f.write_floats("/model/w1", m.w1.data(), kInputs, h);
        f.write_floats("/model/b1", m.b1.data(), h, 0);
        f.write_floats("/model/w2", m.w2.data(), h, kClasses);
        f.write_floats("/model/b2", m.b2.data(), kClasses, 0);
        f.set_attr("/model/w1", "description", "dense kernel input->hidden (inputs x outputs)");
        f.set_attr("/model/w2", "description", "dense kernel hidden->output (inputs x outputs)");
        f.set_attr("/", "format", kFormat);
        f.set_attr("/", "format_version", kFormatVersion);
        f.set_attr("/", "mtjlab_version", std::string(version_string()));
        f.set_attr("/", "dataset", std::string(to_string(info.dataset)));
        f.set_attr("/", "train_source", info.train_source);
        f.set_attr("/", "config", info.config_json);
        f.set_attr("/", "seed", static_cast<std::int64_t>(info.config.seed));
        f.set_attr("/", "epochs", static_cast<std::int64_t>(info.config.epochs));
        f.set_attr("/", "batch", static_cast<std::int64_t>(info.config.batch));
        f.set_attr("/", "hidden", static_cast<std::int64_t>(m.hidden()));
        f.set_attr("/", "learning_rate", info.config.learning_rate);
        f.set_attr("/", "test_accuracy", info.test_accuracy);
        f.set_attr("/", "train_seconds", info.train_seconds);
        f.set_attr("/", "qat", static_cast<std::int64_t>(info.qat ? 1 : 0));
    }
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw StorageError(fmt::format("{}: cannot write the model file", file.string()));
    }
}

ModelFile load_model(const fs::path& file) {
    const auto f = detail::h5::File::open_read(file);
    const auto fmt_attr = f.attr_string("/", "format");
    if (!fmt_attr || *fmt_attr != kFormat) {
        throw InputError(fmt::format("{}: not an mtjlab ANN model (attribute format != '{}')", file.string(), kFormat));
    }
    const auto d1 = f.dims("/model/w1"), db1 = f.dims("/model/b1"), d2 = f.dims("/model/w2"),
               db2 = f.dims("/model/b2");
    if (d1.size() != 2 || d1[0] != kInputs) {
        throw InputError(fmt::format("{}: /model/w1 has shape {}, expected 784 x H", file.string(),
                                     fmt::join(d1, " x ")));
    }
    const hsize_t h = d1[1];
    if (h < 1 || db1.size() != 1 || db1[0] != h || d2.size() != 2 || d2[0] != h || d2[1] != kClasses ||
        db2.size() != 1 || db2[0] != kClasses) {
        throw InputError(fmt::format("{}: model shape is not 784 x {} x 10 (w1 {}, b1 {}, w2 {}, b2 {})", file.string(),
                                     h, fmt::join(d1, "x"), fmt::join(db1, "x"), fmt::join(d2, "x"),
                                     fmt::join(db2, "x")));
    }
    ModelFile out;
    out.model.resize(static_cast<int>(h));
    auto load = [&](const char* name, float* dst, Eigen::Index n) {
        const auto v = f.read_floats(name);
        for (Eigen::Index i = 0; i < n; ++i) {
            if (!std::isfinite(v[static_cast<std::size_t>(i)])) {
                throw InputError(fmt::format("{}: {} holds a non-finite value", file.string(), name));
            }
            dst[i] = v[static_cast<std::size_t>(i)];
        }
    };
    load("/model/w1", out.model.w1.data(), out.model.w1.size());
    load("/model/b1", out.model.b1.data(), out.model.b1.size());
    load("/model/w2", out.model.w2.data(), out.model.w2.size());
    load("/model/b2", out.model.b2.data(), out.model.b2.size());
    ModelInfo& i = out.info;
    i.dataset = parse_dataset_kind(f.attr_string("/", "dataset").value_or("fashion"));
    i.train_source = f.attr_string("/", "train_source").value_or("");
    i.config_json = f.attr_string("/", "config").value_or("{}");
    i.config.hidden = static_cast<int>(h);
    i.config.seed = static_cast<std::uint64_t>(f.attr_double("/", "seed").value_or(0));
    i.config.epochs = static_cast<int>(f.attr_double("/", "epochs").value_or(0));
    i.config.batch = static_cast<int>(f.attr_double("/", "batch").value_or(0));
    i.config.learning_rate = f.attr_double("/", "learning_rate").value_or(0);
    i.test_accuracy = f.attr_double("/", "test_accuracy").value_or(0);
    i.train_seconds = f.attr_double("/", "train_seconds").value_or(0);
    i.qat = f.attr_double("/", "qat").value_or(0) != 0;
    return out;
}

}  // namespace mtjlab::ann
