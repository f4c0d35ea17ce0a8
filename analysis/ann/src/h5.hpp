#pragma once
// A thin RAII layer over the HDF5 C API for this module: every call checked, HDF5's own error printing off,
// failures thrown as StorageError naming the file and object.
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mtjlab::ann::detail::h5 {

class Handle {
public:
    Handle() = default;
    Handle(hid_t id, herr_t (*closer)(hid_t)) : id_(id), closer_(closer) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = -1; }
    Handle& operator=(Handle&& o) noexcept;
    ~Handle();
    [[nodiscard]] hid_t id() const { return id_; }

private:
    hid_t id_ = -1;
    herr_t (*closer_)(hid_t) = nullptr;
};

/// An open file with its path for messages.
class File {
public:
    static File create(const std::filesystem::path& path);     ///< truncates
    static File open_read(const std::filesystem::path& path);  ///< StorageError if not HDF5 / missing
    [[nodiscard]] hid_t id() const { return h_.id(); }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] bool exists(const std::string& object) const;

    void create_group(const std::string& name) const;
    /// Row-major 2-D (or 1-D when cols == 0) float32 dataset.
    void write_floats(const std::string& name, const float* data, std::size_t rows, std::size_t cols) const;
    void write_doubles(const std::string& name, const std::vector<double>& v, const std::string& units) const;
    void write_ints(const std::string& name, const std::vector<std::int64_t>& v, const std::string& units) const;
    void write_strings(const std::string& name, const std::vector<std::string>& v) const;
    void set_attr(const std::string& object, const std::string& name, const std::string& value) const;
    void set_attr(const std::string& object, const std::string& name, double value) const;
    void set_attr(const std::string& object, const std::string& name, std::int64_t value) const;

    /// Dimensions of a dataset (throws when missing).
    [[nodiscard]] std::vector<hsize_t> dims(const std::string& name) const;
    [[nodiscard]] std::vector<float> read_floats(const std::string& name) const;
    [[nodiscard]] std::vector<double> read_doubles(const std::string& name) const;
    [[nodiscard]] std::optional<std::string> attr_string(const std::string& object, const std::string& name) const;
    [[nodiscard]] std::optional<double> attr_double(const std::string& object, const std::string& name) const;

private:
    File(Handle h, std::filesystem::path p) : h_(std::move(h)), path_(std::move(p)) {}
    Handle h_;
    std::filesystem::path path_;
};

}  // namespace mtjlab::ann::detail::h5
