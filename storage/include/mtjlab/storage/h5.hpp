#pragma once
// A thin RAII layer over the HDF5 C API (HighFive-style). Every handle owns one hid_t and closes it
// with the matching H5?close; every C call that can fail goes through check(), which turns a negative
// return into mtjlab::StorageError naming the file, the object and the operation, with the innermost
// HDF5 error message. HDF5's own error-stack printing is switched off once per process (silence()).
//
// Public so that other modules (analysis results, conductance-state tables) write HDF5 the same way.
// Not thread-safe: HDF5 1.10 on Debian is built without thread-safety; serialise all HDF5 use.
#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mtjlab/core/error.hpp"

namespace mtjlab::storage::h5 {

/// Switches off HDF5's automatic error-stack printing for the whole process (idempotent, cheap).
void silence();

/// Where a failing call happened: file, object path inside it, operation ("create dataset", ...).
struct Context {
    std::string file;
    std::string object;
    std::string operation;
};

/// Innermost message of HDF5's current error stack ("" if none).
std::string last_hdf5_message();

/// Throws StorageError("<file>: <object>: cannot <operation>: <hdf5 message>") when status < 0.
/// Returns status otherwise, so that it can wrap calls returning hid_t, herr_t, htri_t or hssize_t.
template <typename T>
T check(T status, const Context& ctx);
[[noreturn]] void fail(const Context& ctx, std::string_view detail = {});

/// Owns one HDF5 identifier; closes it with the close function of its kind.
enum class Kind { file, group, dataset, dataspace, datatype, attribute, plist, object };

class Handle {
public:
    Handle() = default;
    Handle(hid_t id, Kind kind) noexcept : id_(id), kind_(kind) {}
    ~Handle() { reset(); }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), kind_(o.kind_) {}
    Handle& operator=(Handle&& o) noexcept {
        if (this != &o) {
            reset();
            id_ = std::exchange(o.id_, H5I_INVALID_HID);
            kind_ = o.kind_;
        }
        return *this;
    }
    [[nodiscard]] hid_t id() const noexcept { return id_; }
    [[nodiscard]] bool valid() const noexcept { return id_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }
    /// Closes now; close errors are swallowed (destructor path). Use File::close() to see them.
    void reset() noexcept;
    [[nodiscard]] hid_t release() noexcept { return std::exchange(id_, H5I_INVALID_HID); }

private:
    hid_t id_ = H5I_INVALID_HID;
    Kind kind_ = Kind::object;
};

/// Property list (file access, file creation, dataset creation, link creation, ...).
class PropList : public Handle {
public:
    PropList() = default;
    explicit PropList(hid_t cls, const Context& ctx);  ///< H5Pcreate(cls)
};

class DataSpace : public Handle {
public:
    DataSpace() = default;
    DataSpace(hid_t id, const Context& ctx);  ///< adopts id after check()
    static DataSpace scalar();
    /// 1-D space of `size`, with maximum `max_size` (nullopt = unlimited).
    static DataSpace simple1d(hsize_t size, std::optional<hsize_t> max_size);
    [[nodiscard]] std::vector<hsize_t> dims() const;
};

class DataType : public Handle {
public:
    DataType() = default;
    DataType(hid_t id, const Context& ctx);
    /// Variable-length UTF-8 string type (h5py reads it as str).
    static DataType vlen_utf8();
    /// Fixed-length, NUL-terminated UTF-8 string of `size` bytes (h5py reads it as bytes).
    static DataType fixed_utf8(std::size_t size);
    /// Copy of a native type (H5T_NATIVE_DOUBLE, ...).
    static DataType copy_of(hid_t native);
};

class Attribute : public Handle {
public:
    Attribute() = default;
    Attribute(hid_t id, Context ctx) : Handle(id, Kind::attribute), ctx_(std::move(ctx)) {}
    [[nodiscard]] std::string read_string() const;  ///< string attribute, fixed or variable length
    [[nodiscard]] double read_double() const;        ///< numeric scalar attribute, converted
    [[nodiscard]] std::int64_t read_int() const;     ///< integer scalar attribute

private:
    Context ctx_;
};

/// Common part of groups, datasets and files: a location that carries attributes.
class Object : public Handle {
public:
    Object() = default;
    Object(hid_t id, Kind kind, Context ctx) : Handle(id, kind), ctx_(std::move(ctx)) {}
    [[nodiscard]] const Context& context() const { return ctx_; }
    /// The file name used in error messages (after the file was renamed while open).
    void set_context_file(std::string file) { ctx_.file = std::move(file); }

    [[nodiscard]] bool has_attribute(const std::string& name) const;
    [[nodiscard]] Attribute open_attribute(const std::string& name) const;
    [[nodiscard]] std::vector<std::string> attribute_names() const;
    /// Create (or overwrite) scalar attributes. Strings are variable-length UTF-8.
    void set_attribute(const std::string& name, std::string_view value);
    void set_attribute(const std::string& name, const char* value) { set_attribute(name, std::string_view(value)); }
    void set_attribute(const std::string& name, double value);
    void set_attribute(const std::string& name, std::int64_t value);
    void set_attribute(const std::string& name, int value) { set_attribute(name, std::int64_t{value}); }
    void set_attribute(const std::string& name, bool value);  ///< stored as int8 0/1
    /// Convenience readers; throw StorageError when missing or of the wrong class.
    [[nodiscard]] std::string string_attribute(const std::string& name) const;
    [[nodiscard]] std::optional<std::string> optional_string_attribute(const std::string& name) const;
    [[nodiscard]] double double_attribute(const std::string& name) const;
    [[nodiscard]] std::int64_t int_attribute(const std::string& name) const;

protected:
    Context ctx_;
    [[nodiscard]] Context ctx(std::string operation, std::string object = {}) const;
};

class DataSet;

class Group : public Object {
public:
    Group() = default;
    Group(hid_t id, Context ctx) : Object(id, Kind::group, std::move(ctx)) {}
    Group(hid_t id, Kind kind, Context ctx) : Object(id, kind, std::move(ctx)) {}

    [[nodiscard]] bool exists(const std::string& link) const;  ///< link exists and resolves
    [[nodiscard]] Group create_group(const std::string& name);
    [[nodiscard]] Group open_group(const std::string& name) const;
    [[nodiscard]] DataSet open_dataset(const std::string& name) const;
    /// Names of the links in this group, in creation order when tracked, else by name.
    [[nodiscard]] std::vector<std::string> children() const;
    /// Chunked, extendible 1-D dataset of `type`, initially empty; `fill` is the fill value bytes
    /// (nullptr = library default), `chunk` elements per chunk.
    [[nodiscard]] DataSet create_extendible_1d(const std::string& name, const DataType& type, hsize_t chunk,
                                               const void* fill = nullptr);
    /// Scalar dataset of `type` (rewritable in SWMR mode, unlike attributes).
    [[nodiscard]] DataSet create_scalar(const std::string& name, const DataType& type);
    /// Contiguous 1-D dataset with these values (results, tables).
    [[nodiscard]] DataSet write_vector(const std::string& name, const std::vector<double>& values);
    /// Contiguous N-D dataset (row-major `dims`, product = element count of `data`) stored as `file_type`
    /// from memory of `mem_type` (e.g. H5T_IEEE_F32LE from H5T_NATIVE_FLOAT for network weights).
    [[nodiscard]] DataSet write_array(const std::string& name, hid_t file_type, hid_t mem_type, const void* data,
                                      const std::vector<hsize_t>& dims);
    /// 1-D dataset of variable-length UTF-8 strings (h5py reads it as str).
    [[nodiscard]] DataSet write_strings(const std::string& name, const std::vector<std::string>& values);
};

class DataSet : public Object {
public:
    DataSet() = default;
    DataSet(hid_t id, Context ctx) : Object(id, Kind::dataset, std::move(ctx)) {}

    [[nodiscard]] DataSpace space() const;
    [[nodiscard]] DataType type() const;
    [[nodiscard]] H5T_class_t type_class() const;
    /// Current length of a 1-D dataset (after refresh() for SWMR readers).
    [[nodiscard]] hsize_t length() const;
    /// Grows (or shrinks) a 1-D extendible dataset to `n` elements.
    void set_length(hsize_t n);
    /// Writes `count` elements of `mem_type` from `data` at [offset, offset+count) of a 1-D dataset.
    void write_1d(hsize_t offset, hsize_t count, hid_t mem_type, const void* data);
    /// Reads [offset, offset+count) converted to mem_type.
    void read_1d(hsize_t offset, hsize_t count, hid_t mem_type, void* data) const;
    /// Whole 1-D dataset as doubles (numeric classes are converted by HDF5).
    [[nodiscard]] std::vector<double> read_doubles() const;
    /// Whole numeric dataset of any rank, row-major, converted to float.
    [[nodiscard]] std::vector<float> read_floats() const;
    /// Dimensions of the dataset (empty for a scalar).
    [[nodiscard]] std::vector<hsize_t> dims() const { return space().dims(); }
    /// Scalar string dataset (fixed or variable length) read/write.
    [[nodiscard]] std::string read_string() const;
    void write_fixed_string(std::string_view value);  ///< truncated to the type size - 1 (UTF-8 safe)
    /// SWMR: H5Dflush (writer) / H5Drefresh (reader).
    void flush();
    void refresh();

private:
    friend class Group;
};

/// How a file is opened.
enum class Access {
    read_only,       ///< H5F_ACC_RDONLY
    read_swmr,       ///< H5F_ACC_RDONLY | H5F_ACC_SWMR_READ (file being written, or writer died)
    read_write,      ///< H5F_ACC_RDWR
    read_write_swmr  ///< H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE
};

class File : public Group {
public:
    File() = default;
    /// Creates a new file; fails (StorageError) if it exists. Uses the latest file format (needed for
    /// SWMR) and tracks link/attribute creation order.
    static File create(const std::string& path);
    static File open(const std::string& path, Access access);
    [[nodiscard]] const std::string& path() const { return ctx_.file; }

    void start_swmr_write();  ///< H5Fstart_swmr_write; objects/attributes can no longer be created
    void flush();             ///< H5Fflush(H5F_SCOPE_LOCAL): everything reaches the OS
    void fsync();             ///< fsync() of the underlying descriptor (sec2 driver): reaches the disk
    void close();             ///< H5Fclose with error checking

private:
    File(hid_t id, Context ctx) : Group(id, Kind::file, std::move(ctx)) {}
};

/// True if `path` starts with the HDF5 signature (at offset 0, 512, 1024, ...), without HDF5 errors.
bool is_hdf5(const std::string& path);

/// Crash probe for HDF5 files from outside (run files given to h5 info / analyze / recover, ANN models, state
/// tables). libhdf5 1.10 trusts the checksum-less metadata of old-format files, and a crafted one can make it
/// crash (a SIGSEGV in its metadata cache; tests/fuzz/known). `read` runs first in a forked child process, which
/// does the same reads as the caller and then ends (_exit, nothing flushed or written). If a signal ends the child
/// (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT: inherited handlers are reset in it), this throws one StorageError
///   "<file>: corrupt HDF5 file: the HDF5 library crashed reading it (<signal>, in a probe process); nothing was
///    read from it"
/// and this process never touches the file. Otherwise it returns, whatever `read` returned or threw in the child:
/// the caller then reads the file itself and gets the same result or the same error (in a sanitizer build, a
/// memory error the child's sanitizer reported, exit status 1, is then reported again in this process). SIGINT,
/// SIGTERM, SIGHUP or SIGKILL of the child is "reading it was stopped" (StorageError). A child still reading after
/// 120 s is stopped and the read left to the caller (a slow disk is not a corrupt file). fork() failing (no
/// processes left) also leaves the read to the caller.
/// Call it only while no other thread uses HDF5 (the module's rule anyway), with a `read` that does not log (a
/// logger's mutex may be held by another thread at the fork).
void crash_probe(const std::string& file, const std::function<void()>& read);

/// Turns crash_probe on (default) or off for this process. The HDF5 fuzz targets set it per input (on for
/// old-format files only, tests/fuzz/fuzz_support.hpp); they always also read in process, under the sanitizers.
void set_crash_probe(bool on);

// ---- template definition
template <typename T>
T check(T status, const Context& ctx) {
    if (status < 0) fail(ctx);
    return status;
}

}  // namespace mtjlab::storage::h5
