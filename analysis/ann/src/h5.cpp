#include "h5.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::ann::detail::h5 {
namespace {

void silence() {
    static const bool once = [] {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        return true;
    }();
    (void)once;
}

hid_t check(hid_t id, const std::filesystem::path& file, const std::string& what) {
    if (id < 0) throw StorageError(fmt::format("{}: HDF5 failed to {}", file.string(), what));
    return id;
}

void check(herr_t rc, const std::filesystem::path& file, const std::string& what, int /*tag*/) {
    if (rc < 0) throw StorageError(fmt::format("{}: HDF5 failed to {}", file.string(), what));
}

Handle object(hid_t file, const std::string& name, const std::filesystem::path& path) {
    return {check(H5Oopen(file, name.c_str(), H5P_DEFAULT), path, "open " + name), H5Oclose};
}

Handle make_dataset(hid_t file, const std::string& name, hid_t type, const std::vector<hsize_t>& dims,
                    const std::filesystem::path& path) {
    Handle space{check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), path, "make space"),
                 H5Sclose};
    Handle lcpl{check(H5Pcreate(H5P_LINK_CREATE), path, "make property list"), H5Pclose};
    check(H5Pset_create_intermediate_group(lcpl.id(), 1), path, "set property", 0);
    return {check(H5Dcreate2(file, name.c_str(), type, space.id(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT), path,
                  "create dataset " + name),
            H5Dclose};
}

}  // namespace

Handle& Handle::operator=(Handle&& o) noexcept {
    if (this != &o) {
        if (id_ >= 0 && closer_) closer_(id_);
        id_ = o.id_;
        closer_ = o.closer_;
        o.id_ = -1;
    }
    return *this;
}

Handle::~Handle() {
    if (id_ >= 0 && closer_) closer_(id_);
}

File File::create(const std::filesystem::path& path) {
    silence();
    return File({check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), path, "create the file"),
                 H5Fclose},
                path);
}

File File::open_read(const std::filesystem::path& path) {
    silence();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw InputError(fmt::format("{}: no such file", path.string()));
    if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(fmt::format("{}: not an HDF5 file", path.string()));
    return File({check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), path, "open the file"), H5Fclose}, path);
}

bool File::exists(const std::string& object) const {
    // check each path component so a missing parent group is not an error
    std::string partial;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = object.find('/', pos + 1);
        partial = object.substr(0, pos);
        if (partial.empty() || partial == "/") continue;
        if (H5Lexists(id(), partial.c_str(), H5P_DEFAULT) <= 0) return false;
    }
    return true;
}

void File::create_group(const std::string& name) const {
    Handle g{check(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path_,
                   "create group " + name),
             H5Gclose};
}

void File::write_floats(const std::string& name, const float* data, std::size_t rows, std::size_t cols) const {
    std::vector<hsize_t> dims{rows};
    if (cols) dims.push_back(cols);
    Handle ds = make_dataset(id(), name, H5T_IEEE_F32LE, dims, path_);
    check(H5Dwrite(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), path_, "write " + name, 0);
}

void File::write_doubles(const std::string& name, const std::vector<double>& v, const std::string& units) const {
    Handle ds = make_dataset(id(), name, H5T_IEEE_F64LE, {v.size()}, path_);
    if (!v.empty()) {
        check(H5Dwrite(ds.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), path_, "write " + name, 0);
    }
    set_attr(name, "units", units);
}

void File::write_ints(const std::string& name, const std::vector<std::int64_t>& v, const std::string& units) const {
    Handle ds = make_dataset(id(), name, H5T_STD_I64LE, {v.size()}, path_);
    if (!v.empty()) {
        check(H5Dwrite(ds.id(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), path_, "write " + name, 0);
    }
    set_attr(name, "units", units);
}

void File::write_strings(const std::string& name, const std::vector<std::string>& v) const {
    Handle type{check(H5Tcopy(H5T_C_S1), path_, "copy type"), H5Tclose};
    check(H5Tset_size(type.id(), H5T_VARIABLE), path_, "set string type", 0);
    check(H5Tset_cset(type.id(), H5T_CSET_UTF8), path_, "set string charset", 0);
    Handle ds = make_dataset(id(), name, type.id(), {v.size()}, path_);
    std::vector<const char*> ptrs;
    for (const auto& s : v) ptrs.push_back(s.c_str());
    if (!ptrs.empty()) {
        check(H5Dwrite(ds.id(), type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), path_, "write " + name, 0);
    }
}

void File::set_attr(const std::string& obj, const std::string& name, const std::string& value) const {
    Handle o = object(id(), obj, path_);
    Handle type{check(H5Tcopy(H5T_C_S1), path_, "copy type"), H5Tclose};
    check(H5Tset_size(type.id(), value.empty() ? 1 : value.size()), path_, "set string size", 0);
    check(H5Tset_cset(type.id(), H5T_CSET_UTF8), path_, "set string charset", 0);
    Handle space{check(H5Screate(H5S_SCALAR), path_, "make space"), H5Sclose};
    if (H5Aexists(o.id(), name.c_str()) > 0) H5Adelete(o.id(), name.c_str());
    Handle a{check(H5Acreate2(o.id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT), path_,
                   "create attribute " + name),
             H5Aclose};
    const std::string padded = value.empty() ? std::string(1, '\0') : value;
    check(H5Awrite(a.id(), type.id(), padded.data()), path_, "write attribute " + name, 0);
}

void File::set_attr(const std::string& obj, const std::string& name, double value) const {
    Handle o = object(id(), obj, path_);
    Handle space{check(H5Screate(H5S_SCALAR), path_, "make space"), H5Sclose};
    if (H5Aexists(o.id(), name.c_str()) > 0) H5Adelete(o.id(), name.c_str());
    Handle a{check(H5Acreate2(o.id(), name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT), path_,
                   "create attribute " + name),
             H5Aclose};
    check(H5Awrite(a.id(), H5T_NATIVE_DOUBLE, &value), path_, "write attribute " + name, 0);
}

void File::set_attr(const std::string& obj, const std::string& name, std::int64_t value) const {
    Handle o = object(id(), obj, path_);
    Handle space{check(H5Screate(H5S_SCALAR), path_, "make space"), H5Sclose};
    if (H5Aexists(o.id(), name.c_str()) > 0) H5Adelete(o.id(), name.c_str());
    Handle a{check(H5Acreate2(o.id(), name.c_str(), H5T_STD_I64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT), path_,
                   "create attribute " + name),
             H5Aclose};
    check(H5Awrite(a.id(), H5T_NATIVE_INT64, &value), path_, "write attribute " + name, 0);
}

std::vector<hsize_t> File::dims(const std::string& name) const {
    if (!exists(name)) throw InputError(fmt::format("{}: no dataset {}", path_.string(), name));
    Handle ds{check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), path_, "open " + name), H5Dclose};
    Handle space{check(H5Dget_space(ds.id()), path_, "get space of " + name), H5Sclose};
    const int rank = H5Sget_simple_extent_ndims(space.id());
    if (rank < 0) throw StorageError(fmt::format("{}: cannot read the shape of {}", path_.string(), name));
    std::vector<hsize_t> d(static_cast<std::size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space.id(), d.data(), nullptr);
    return d;
}

namespace {
template <class T>
std::vector<T> read_all(const File& f, const std::string& name, hid_t mem_type) {
    const auto d = f.dims(name);
    std::size_t n = 1;
    for (auto x : d) n *= x;
    std::vector<T> out(n);
    Handle ds{check(H5Dopen2(f.id(), name.c_str(), H5P_DEFAULT), f.path(), "open " + name), H5Dclose};
    if (n) check(H5Dread(ds.id(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), f.path(), "read " + name, 0);
    return out;
}
}  // namespace

std::vector<float> File::read_floats(const std::string& name) const {
    return read_all<float>(*this, name, H5T_NATIVE_FLOAT);
}
std::vector<double> File::read_doubles(const std::string& name) const {
    return read_all<double>(*this, name, H5T_NATIVE_DOUBLE);
}

std::optional<std::string> File::attr_string(const std::string& obj, const std::string& name) const {
    Handle o = object(id(), obj, path_);
    if (H5Aexists(o.id(), name.c_str()) <= 0) return std::nullopt;
    Handle a{check(H5Aopen(o.id(), name.c_str(), H5P_DEFAULT), path_, "open attribute " + name), H5Aclose};
    Handle ftype{check(H5Aget_type(a.id()), path_, "get attribute type"), H5Tclose};
    if (H5Tget_class(ftype.id()) != H5T_STRING) return std::nullopt;
    if (H5Tis_variable_str(ftype.id()) > 0) {
        Handle mtype{check(H5Tcopy(H5T_C_S1), path_, "copy type"), H5Tclose};
        H5Tset_size(mtype.id(), H5T_VARIABLE);
        char* s = nullptr;
        check(H5Aread(a.id(), mtype.id(), &s), path_, "read attribute " + name, 0);
        std::string out = s ? s : "";
        H5free_memory(s);
        return out;
    }
    const std::size_t size = H5Tget_size(ftype.id());
    std::string buf(size, '\0');
    check(H5Aread(a.id(), ftype.id(), buf.data()), path_, "read attribute " + name, 0);
    buf.erase(std::find(buf.begin(), buf.end(), '\0'), buf.end());
    return buf;
}

std::optional<double> File::attr_double(const std::string& obj, const std::string& name) const {
    Handle o = object(id(), obj, path_);
    if (H5Aexists(o.id(), name.c_str()) <= 0) return std::nullopt;
    Handle a{check(H5Aopen(o.id(), name.c_str(), H5P_DEFAULT), path_, "open attribute " + name), H5Aclose};
    double v = 0;
    check(H5Aread(a.id(), H5T_NATIVE_DOUBLE, &v), path_, "read attribute " + name, 0);
    return v;
}

}  // namespace mtjlab::ann::detail::h5
