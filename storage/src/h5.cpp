#include "mtjlab/storage/h5.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

namespace mtjlab::storage::h5 {

void silence() {
    static std::once_flag once;
    std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

namespace {
herr_t walk_cb(unsigned n, const H5E_error2_t* err, void* data) {
    auto* out = static_cast<std::string*>(data);
    // Walking upward, n == 0 is the innermost (most specific) error.
    if (n == 0 && err && err->desc) *out = err->desc;
    return 0;
}

std::string one_line(std::string s) {
    for (auto& c : s)
        if (c == '\n' || c == '\r') c = ' ';
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}
}  // namespace

std::string last_hdf5_message() {
    std::string msg;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &msg);
    H5Eclear2(H5E_DEFAULT);
    return one_line(msg);
}

void fail(const Context& ctx, std::string_view detail) {
    std::string msg = ctx.file.empty() ? std::string("HDF5") : ctx.file;
    if (!ctx.object.empty()) msg += ": " + ctx.object;
    msg += ": cannot " + ctx.operation;
    std::string why = detail.empty() ? last_hdf5_message() : std::string(detail);
    if (!why.empty()) msg += ": " + why;
    throw StorageError(msg);
}

void Handle::reset() noexcept {
    if (id_ < 0) return;
    switch (kind_) {
        case Kind::file: H5Fclose(id_); break;
        case Kind::group: H5Gclose(id_); break;
        case Kind::dataset: H5Dclose(id_); break;
        case Kind::dataspace: H5Sclose(id_); break;
        case Kind::datatype: H5Tclose(id_); break;
        case Kind::attribute: H5Aclose(id_); break;
        case Kind::plist: H5Pclose(id_); break;
        case Kind::object: H5Oclose(id_); break;
    }
    H5Eclear2(H5E_DEFAULT);
    id_ = H5I_INVALID_HID;
}

PropList::PropList(hid_t cls, const Context& ctx) : Handle(check(H5Pcreate(cls), ctx), Kind::plist) {}

DataSpace::DataSpace(hid_t id, const Context& ctx) : Handle(check(id, ctx), Kind::dataspace) {}

DataSpace DataSpace::scalar() { return DataSpace(H5Screate(H5S_SCALAR), {"", "", "create scalar dataspace"}); }

DataSpace DataSpace::simple1d(hsize_t size, std::optional<hsize_t> max_size) {
    const hsize_t dims[1] = {size};
    const hsize_t maxd[1] = {max_size ? *max_size : H5S_UNLIMITED};
    return DataSpace(H5Screate_simple(1, dims, maxd), {"", "", "create 1-D dataspace"});
}

std::vector<hsize_t> DataSpace::dims() const {
    const Context ctx{"", "", "query dataspace"};
    const int rank = check(H5Sget_simple_extent_ndims(id()), ctx);
    std::vector<hsize_t> d(static_cast<std::size_t>(rank));
    if (rank > 0) check(H5Sget_simple_extent_dims(id(), d.data(), nullptr), ctx);
    return d;
}

DataType::DataType(hid_t id, const Context& ctx) : Handle(check(id, ctx), Kind::datatype) {}

DataType DataType::vlen_utf8() {
    const Context ctx{"", "", "make string type"};
    DataType t(H5Tcopy(H5T_C_S1), ctx);
    check(H5Tset_size(t.id(), H5T_VARIABLE), ctx);
    check(H5Tset_cset(t.id(), H5T_CSET_UTF8), ctx);
    return t;
}

DataType DataType::fixed_utf8(std::size_t size) {
    const Context ctx{"", "", "make string type"};
    DataType t(H5Tcopy(H5T_C_S1), ctx);
    check(H5Tset_size(t.id(), size), ctx);
    check(H5Tset_strpad(t.id(), H5T_STR_NULLTERM), ctx);
    check(H5Tset_cset(t.id(), H5T_CSET_UTF8), ctx);
    return t;
}

DataType DataType::copy_of(hid_t native) { return DataType(H5Tcopy(native), {"", "", "copy type"}); }

// ---- global heap check (before any variable-length read)
// libhdf5 1.10.8 trusts the object sizes in a global heap collection ("GCOL", where variable-length strings live):
// a corrupt size makes H5HG_read memcpy with a bogus length (SIGSEGV; found by tests/fuzz/fuzz_run_file, input
// tests/fuzz/known/hdf5_h5hg_read_vlen_attribute.h5). mtjlab's own files (every version), results.h5 and h5py
// files all store strings as variable-length, so refusing them is no option: before the first variable-length
// read from a file we walk every global heap collection in it the way libhdf5's loader does and refuse the file
// (StorageError) unless each object lies inside its collection and the objects tile it exactly. A collection
// is found by its signature "GCOL" + version 1; the scan skips the inside of collections it has checked (so a
// string value cannot pose as one). The result is cached per (path, device, inode, size, mtime, ctime). Not
// covered: a corrupt reference (length, heap index) inside an attribute message or a dataset element, which the
// API cannot show us.
namespace {
// The file as stat(2) shows it: a file replaced by another (rename over it: a new inode) or rewritten in place
// (a new ctime, which no tool can set back) is checked again, even with the same size and mtime.
struct HeapCheckKey {
    std::string path;
    std::uint64_t dev = 0, ino = 0, size = 0;
    std::int64_t mtime_ns = 0, ctime_ns = 0;
    bool operator<(const HeapCheckKey& o) const {
        return std::tie(path, dev, ino, size, mtime_ns, ctime_ns) <
               std::tie(o.path, o.dev, o.ino, o.size, o.mtime_ns, o.ctime_ns);
    }
};

std::uint64_t le(const unsigned char* p, int n) {
    std::uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

// Empty when every collection is sound, else why not (one line, with the byte offset).
std::string check_heaps_in(std::ifstream& in, std::uint64_t file_size) {
    constexpr std::uint64_t kHdr = 16;  // signature, version, 3 reserved, 8-byte collection size
    constexpr std::size_t kChunk = 1 << 20;
    std::vector<unsigned char> buf(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk + 3, file_size)));
    std::uint64_t pos = 0;  // file offset of buf[0]
    while (pos < file_size) {
        in.clear();
        in.seekg(static_cast<std::streamoff>(pos));
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), file_size - pos));
        in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(want));
        const std::size_t got = static_cast<std::size_t>(in.gcount());
        if (got < 5) break;
        // Overlap by 4 bytes: a 5-byte signature may straddle chunks (the overlap was 3, which missed one that
        // starts 4 bytes before a chunk's end).
        const std::uint64_t next = pos + got - 4;
        for (std::size_t i = 0; i + 5 <= got; ++i) {
            if (buf[i] != 'G' || std::memcmp(&buf[i], "GCOL\x01", 5) != 0) continue;
            const std::uint64_t off = pos + i;
            const std::string where = "global heap collection at byte " + std::to_string(off);
            unsigned char h[kHdr];
            in.clear();
            in.seekg(static_cast<std::streamoff>(off));
            if (!in.read(reinterpret_cast<char*>(h), kHdr)) return where + ": truncated header";
            // libhdf5 writes the 3 reserved bytes as zero but does not look at them when it loads a collection
            // (it finds one by the address in a string reference), so a collection with other reserved bytes is
            // checked too. "GCOL" 1 can also occur by chance in raw data (a float array); such a match is taken
            // for a collection only if its size does not run past the end of the file: with random size bytes
            // ~2^-38 x the chance match (~2^-40 per byte), so a sound file is not refused by accident. A
            // collection that runs past the end cannot overrun a buffer (libhdf5 fails to read it).
            const bool zero_reserved = h[5] == 0 && h[6] == 0 && h[7] == 0;
            const std::uint64_t size = le(h + 8, 8);
            if (size > file_size - off && !zero_reserved) continue;
            // A size below the header is refused whatever the reserved bytes hold: libhdf5 loads such a
            // collection and its object count underflows (it asked malloc for 2^63 bytes).
            if (size < kHdr || size > file_size - off)
                return where + ": size " + std::to_string(size) + " does not fit the file";
            const std::uint64_t end = off + size;
            std::uint64_t p = off + kHdr;
            while (p < end) {
                if (end - p < kHdr) break;  // too small for an object header: free space (as libhdf5 reads it)
                unsigned char o[kHdr];
                in.clear();
                in.seekg(static_cast<std::streamoff>(p));
                if (!in.read(reinterpret_cast<char*>(o), kHdr)) return where + ": truncated";
                const std::uint64_t idx = le(o, 2);
                const std::uint64_t osize = le(o + 8, 8);
                const std::uint64_t room = end - p;
                // Object 0 is the free space, its size counts its header; others are header + data padded to 8.
                const bool fits = idx == 0 ? osize >= kHdr && osize <= room
                                           : osize <= room - kHdr && kHdr + ((osize + 7) & ~std::uint64_t{7}) <= room;
                if (!fits)
                    return where + ": object " + std::to_string(idx) + " of " + std::to_string(osize) +
                           " bytes overruns the collection";
                p += idx == 0 ? osize : kHdr + ((osize + 7) & ~std::uint64_t{7});
            }
            // Go on with the next byte, not after this collection: libhdf5 loads a collection at whatever
            // address a string reference names, so a signature inside another collection (two overlapping
            // collections) is checked too (fuzz_ann_files, session 7: a sound collection at byte 5331 hid a
            // corrupt one at 8448 that the model's `format` attribute pointed to; SIGSEGV in H5HG_read). A
            // string written by mtjlab holds no NUL, so it cannot hold "GCOL" 1 with zero reserved bytes.
        }
        pos = next;
    }
    return {};
}

void check_global_heaps(hid_t obj, const Context& ctx) {
    const ssize_t n = H5Fget_name(obj, nullptr, 0);
    if (n <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return;  // not a named file (no path to check)
    }
    std::string name(static_cast<std::size_t>(n) + 1, '\0');
    H5Fget_name(obj, name.data(), name.size());
    name.resize(static_cast<std::size_t>(n));
    struct stat st {};
    if (::stat(name.c_str(), &st) != 0) return;  // e.g. an in-memory file image: nothing on disk to check
    const auto ns = [](const timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; };
    const auto size = static_cast<std::uint64_t>(st.st_size);
    HeapCheckKey key{name,        static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                     size,        ns(st.st_mtim),                         ns(st.st_ctim)};
    static std::mutex mu;
    static std::map<HeapCheckKey, std::string> checked;
    std::string why;
    {
        const std::lock_guard<std::mutex> lock(mu);
        if (const auto it = checked.find(key); it != checked.end()) {
            why = it->second;
        } else {
            std::ifstream in(name, std::ios::binary);
            if (!in) return;
            why = check_heaps_in(in, size);
            // Bounded: one entry out for each one in (not a clear when full), so a long-running reader's heap
            // use stays flat per file (libFuzzer's per-input leak check relies on that).
            if (checked.size() >= 256) checked.erase(checked.begin());
            checked.emplace(std::move(key), why);
        }
    }
    if (!why.empty()) fail(ctx, "corrupt file: " + why);
}

template <typename ReadFn>
std::string read_string_any(hid_t obj, hid_t file_type, const Context& ctx, ReadFn&& read) {
    if (H5Tget_class(file_type) != H5T_STRING) fail(ctx, "not a string");
    const htri_t is_vlen = check(H5Tis_variable_str(file_type), ctx);
    if (is_vlen > 0) check_global_heaps(obj, ctx);
    // Memory types take the file's character set: HDF5 has no ASCII <-> UTF-8 conversion path, and files written
    // by other tools (h5py bytes, C programs using H5T_C_S1) hold ASCII strings.
    const H5T_cset_t cset = H5Tget_cset(file_type);
    if (is_vlen > 0) {
        DataType mem = DataType::vlen_utf8();
        if (cset != H5T_CSET_ERROR) check(H5Tset_cset(mem.id(), cset), ctx);
        char* p = nullptr;
        check(read(mem.id(), static_cast<void*>(&p)), ctx);
        std::string s = p ? std::string(p) : std::string();
        if (p) H5free_memory(p);
        return s;
    }
    const std::size_t size = H5Tget_size(file_type);
    if (size == 0) fail(ctx, "string type of size 0");
    DataType mem = DataType::fixed_utf8(size);
    if (cset != H5T_CSET_ERROR) check(H5Tset_cset(mem.id(), cset), ctx);
    check(H5Tset_strpad(mem.id(), H5T_STR_NULLPAD), ctx);
    std::string buf(size, '\0');
    check(read(mem.id(), static_cast<void*>(buf.data())), ctx);
    buf.resize(std::strlen(buf.c_str()));
    return buf;
}
}  // namespace

std::string Attribute::read_string() const {
    Context c = ctx_;
    c.operation = "read string attribute";
    DataType ft(H5Aget_type(id()), c);
    return read_string_any(id(), ft.id(), c, [&](hid_t mem, void* buf) { return H5Aread(id(), mem, buf); });
}

double Attribute::read_double() const {
    Context c = ctx_;
    c.operation = "read numeric attribute";
    DataType ft(H5Aget_type(id()), c);
    const auto cls = H5Tget_class(ft.id());
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) fail(c, "not a number");
    double v = 0;
    check(H5Aread(id(), H5T_NATIVE_DOUBLE, &v), c);
    return v;
}

std::int64_t Attribute::read_int() const {
    Context c = ctx_;
    c.operation = "read integer attribute";
    DataType ft(H5Aget_type(id()), c);
    if (H5Tget_class(ft.id()) != H5T_INTEGER) fail(c, "not an integer");
    std::int64_t v = 0;
    check(H5Aread(id(), H5T_NATIVE_INT64, &v), c);
    return v;
}

// ---- Object
Context Object::ctx(std::string operation, std::string object) const {
    Context c = ctx_;
    if (!object.empty()) c.object = c.object.empty() || c.object == "/" ? "/" + object : c.object + "/" + object;
    c.operation = std::move(operation);
    return c;
}

bool Object::has_attribute(const std::string& name) const {
    return check(H5Aexists(id(), name.c_str()), ctx("look up attribute '" + name + "'")) > 0;
}

Attribute Object::open_attribute(const std::string& name) const {
    const Context c = ctx("open attribute '" + name + "'");
    return Attribute(check(H5Aopen(id(), name.c_str(), H5P_DEFAULT), c), ctx("attribute '" + name + "'"));
}

std::vector<std::string> Object::attribute_names() const {
    const Context c = ctx("list attributes");
    H5O_info_t oinfo;
    check(H5Oget_info2(id(), &oinfo, H5O_INFO_NUM_ATTRS), c);
    std::vector<std::string> names;
    for (hsize_t i = 0; i < oinfo.num_attrs; ++i) {
        const ssize_t n = check(H5Aget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0,
                                                   H5P_DEFAULT),
                                c);
        std::string s(static_cast<std::size_t>(n) + 1, '\0');
        check(H5Aget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, s.data(), s.size(), H5P_DEFAULT), c);
        s.resize(static_cast<std::size_t>(n));
        names.push_back(std::move(s));
    }
    return names;
}

namespace {
void write_attr(Object& o, hid_t loc, const std::string& name, const DataType& type, const void* buf,
                const Context& c) {
    if (check(H5Aexists(loc, name.c_str()), c) > 0) check(H5Adelete(loc, name.c_str()), c);
    DataSpace sp = DataSpace::scalar();
    Handle a(check(H5Acreate2(loc, name.c_str(), type.id(), sp.id(), H5P_DEFAULT, H5P_DEFAULT), c), Kind::attribute);
    check(H5Awrite(a.id(), type.id(), buf), c);
    (void)o;
}
}  // namespace

void Object::set_attribute(const std::string& name, std::string_view value) {
    const std::string s(value);
    const char* p = s.c_str();
    write_attr(*this, id(), name, DataType::vlen_utf8(), static_cast<const void*>(&p),
               ctx("write attribute '" + name + "'"));
}

void Object::set_attribute(const std::string& name, double value) {
    write_attr(*this, id(), name, DataType::copy_of(H5T_NATIVE_DOUBLE), &value, ctx("write attribute '" + name + "'"));
}

void Object::set_attribute(const std::string& name, std::int64_t value) {
    write_attr(*this, id(), name, DataType::copy_of(H5T_NATIVE_INT64), &value, ctx("write attribute '" + name + "'"));
}

void Object::set_attribute(const std::string& name, bool value) {
    const std::int8_t v = value ? 1 : 0;
    write_attr(*this, id(), name, DataType::copy_of(H5T_NATIVE_INT8), &v, ctx("write attribute '" + name + "'"));
}

std::string Object::string_attribute(const std::string& name) const {
    if (!has_attribute(name)) fail(ctx("read attribute '" + name + "'"), "missing");
    return open_attribute(name).read_string();
}

std::optional<std::string> Object::optional_string_attribute(const std::string& name) const {
    if (!has_attribute(name)) return std::nullopt;
    return open_attribute(name).read_string();
}

double Object::double_attribute(const std::string& name) const {
    if (!has_attribute(name)) fail(ctx("read attribute '" + name + "'"), "missing");
    return open_attribute(name).read_double();
}

std::int64_t Object::int_attribute(const std::string& name) const {
    if (!has_attribute(name)) fail(ctx("read attribute '" + name + "'"), "missing");
    return open_attribute(name).read_int();
}

// ---- Group
bool Group::exists(const std::string& link) const {
    const Context c = ctx("look up '" + link + "'", link);
    // Check each path component so that "a/b" does not fail when "a" is missing.
    std::string partial;
    std::size_t pos = 0;
    while (pos <= link.size()) {
        const std::size_t next = link.find('/', pos);
        partial = link.substr(0, next == std::string::npos ? link.size() : next);
        if (!partial.empty() && check(H5Lexists(id(), partial.c_str(), H5P_DEFAULT), c) <= 0) return false;
        if (next == std::string::npos) break;
        pos = next + 1;
    }
    return check(H5Oexists_by_name(id(), link.c_str(), H5P_DEFAULT), c) > 0;
}

Group Group::create_group(const std::string& name) {
    const Context c = ctx("create group", name);
    PropList gcpl(H5P_GROUP_CREATE, c);
    check(H5Pset_link_creation_order(gcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), c);
    const hid_t g = check(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, gcpl.id(), H5P_DEFAULT), c);
    return Group(g, ctx("", name));
}

Group Group::open_group(const std::string& name) const {
    const Context c = ctx("open group", name);
    return Group(check(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), c), ctx("", name));
}

DataSet Group::open_dataset(const std::string& name) const {
    const Context c = ctx("open dataset", name);
    return DataSet(check(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), c), ctx("", name));
}

namespace {
herr_t collect_links(hid_t, const char* name, const H5L_info_t*, void* data) {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
}
}  // namespace

std::vector<std::string> Group::children() const {
    const Context c = ctx("list group");
    std::vector<std::string> out;
    hsize_t idx = 0;
    if (H5Literate(id(), H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, collect_links, &out) < 0) {
        H5Eclear2(H5E_DEFAULT);
        out.clear();
        idx = 0;
        check(H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, &idx, collect_links, &out), c);
    }
    return out;
}

DataSet Group::create_extendible_1d(const std::string& name, const DataType& type, hsize_t chunk, const void* fill) {
    const Context c = ctx("create dataset", name);
    DataSpace sp = DataSpace::simple1d(0, std::nullopt);
    PropList dcpl(H5P_DATASET_CREATE, c);
    const hsize_t ch[1] = {chunk};
    check(H5Pset_chunk(dcpl.id(), 1, ch), c);
    if (fill) check(H5Pset_fill_value(dcpl.id(), type.id(), fill), c);
    const hid_t d = check(H5Dcreate2(id(), name.c_str(), type.id(), sp.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT), c);
    return DataSet(d, ctx("", name));
}

DataSet Group::create_scalar(const std::string& name, const DataType& type) {
    const Context c = ctx("create dataset", name);
    DataSpace sp = DataSpace::scalar();
    const hid_t d = check(H5Dcreate2(id(), name.c_str(), type.id(), sp.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), c);
    return DataSet(d, ctx("", name));
}

DataSet Group::write_vector(const std::string& name, const std::vector<double>& values) {
    const Context c = ctx("create dataset", name);
    DataSpace sp = DataSpace::simple1d(values.size(), values.size());
    const hid_t d = check(
        H5Dcreate2(id(), name.c_str(), H5T_IEEE_F64LE, sp.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), c);
    DataSet ds(d, ctx("", name));
    if (!values.empty())
        check(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), ctx("write", name));
    return ds;
}

DataSet Group::write_array(const std::string& name, hid_t file_type, hid_t mem_type, const void* data,
                           const std::vector<hsize_t>& dims) {
    const Context c = ctx("create dataset", name);
    DataSpace sp(dims.empty() ? H5Screate(H5S_SCALAR)
                              : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                 c);
    const hid_t d = check(H5Dcreate2(id(), name.c_str(), file_type, sp.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), c);
    DataSet ds(d, ctx("", name));
    hsize_t n = 1;
    for (const hsize_t k : dims) n *= k;
    if (n > 0) {
        if (data == nullptr) fail(ctx("write", name), "no data");
        check(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), ctx("write", name));
    }
    return ds;
}

DataSet Group::write_strings(const std::string& name, const std::vector<std::string>& values) {
    const Context c = ctx("create string dataset", name);
    const DataType type = DataType::vlen_utf8();
    DataSpace sp = DataSpace::simple1d(values.size(), values.size());
    const hid_t d = check(H5Dcreate2(id(), name.c_str(), type.id(), sp.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), c);
    DataSet ds(d, ctx("", name));
    std::vector<const char*> ptrs;
    ptrs.reserve(values.size());
    for (const std::string& v : values) ptrs.push_back(v.c_str());
    if (!ptrs.empty()) check(H5Dwrite(d, type.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), ctx("write", name));
    return ds;
}

// ---- DataSet
DataSpace DataSet::space() const { return DataSpace(H5Dget_space(id()), ctx("get dataspace")); }
DataType DataSet::type() const { return DataType(H5Dget_type(id()), ctx("get datatype")); }
H5T_class_t DataSet::type_class() const {
    DataType t = type();
    return H5Tget_class(t.id());
}

hsize_t DataSet::length() const {
    const auto d = space().dims();
    if (d.size() != 1) fail(ctx("read length"), "not a 1-D dataset");
    return d[0];
}

void DataSet::set_length(hsize_t n) {
    const hsize_t dims[1] = {n};
    check(H5Dset_extent(id(), dims), ctx("extend to " + std::to_string(n)));
}

void DataSet::write_1d(hsize_t offset, hsize_t count, hid_t mem_type, const void* data) {
    if (count == 0) return;
    const Context c = ctx("write elements [" + std::to_string(offset) + ", " + std::to_string(offset + count) + ")");
    DataSpace fs = space();
    const hsize_t start[1] = {offset};
    const hsize_t cnt[1] = {count};
    check(H5Sselect_hyperslab(fs.id(), H5S_SELECT_SET, start, nullptr, cnt, nullptr), c);
    DataSpace ms = DataSpace::simple1d(count, count);
    check(H5Dwrite(id(), mem_type, ms.id(), fs.id(), H5P_DEFAULT, data), c);
}

void DataSet::read_1d(hsize_t offset, hsize_t count, hid_t mem_type, void* data) const {
    if (count == 0) return;
    const Context c = ctx("read elements [" + std::to_string(offset) + ", " + std::to_string(offset + count) + ")");
    DataSpace fs = space();
    const hsize_t start[1] = {offset};
    const hsize_t cnt[1] = {count};
    check(H5Sselect_hyperslab(fs.id(), H5S_SELECT_SET, start, nullptr, cnt, nullptr), c);
    DataSpace ms = DataSpace::simple1d(count, count);
    check(H5Dread(id(), mem_type, ms.id(), fs.id(), H5P_DEFAULT, data), c);
}

std::vector<double> DataSet::read_doubles() const {
    const auto cls = type_class();
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) fail(ctx("read"), "not numeric");
    std::vector<double> v(length());
    read_1d(0, v.size(), H5T_NATIVE_DOUBLE, v.data());
    return v;
}

std::vector<float> DataSet::read_floats() const {
    const auto cls = type_class();
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) fail(ctx("read"), "not numeric");
    hsize_t n = 1;
    for (const hsize_t k : dims()) n *= k;
    std::vector<float> v(static_cast<std::size_t>(n));
    if (n > 0) check(H5Dread(id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), ctx("read"));
    return v;
}

std::string DataSet::read_string() const {
    const Context c = ctx("read string");
    DataType ft = type();
    return read_string_any(id(), ft.id(), c,
                           [&](hid_t mem, void* buf) { return H5Dread(id(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); });
}

void DataSet::write_fixed_string(std::string_view value) {
    const Context c = ctx("write string");
    DataType ft = type();
    if (H5Tget_class(ft.id()) != H5T_STRING || check(H5Tis_variable_str(ft.id()), c) > 0)
        fail(c, "not a fixed-length string dataset");
    const std::size_t size = H5Tget_size(ft.id());
    std::size_t n = std::min(value.size(), size - 1);
    // Do not cut a UTF-8 sequence in half.
    while (n > 0 && n < value.size() && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
    std::string buf(size, '\0');
    if (n > 0) std::memcpy(buf.data(), value.data(), n);
    check(H5Dwrite(id(), ft.id(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), c);
}

void DataSet::flush() { check(H5Dflush(id()), ctx("flush")); }
void DataSet::refresh() { check(H5Drefresh(id()), ctx("refresh")); }

// ---- File
File File::create(const std::string& path) {
    silence();
    const Context c{path, "", "create file"};
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) fail(c, "file exists (refusing to overwrite)");
    PropList fcpl(H5P_FILE_CREATE, c);
    check(H5Pset_link_creation_order(fcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), c);
    PropList fapl(H5P_FILE_ACCESS, c);
    check(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), c);
    const hid_t f = check(H5Fcreate(path.c_str(), H5F_ACC_EXCL, fcpl.id(), fapl.id()), c);
    return File(f, Context{path, "/", ""});
}

File File::open(const std::string& path, Access access) {
    silence();
    const Context c{path, "", "open file"};
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) fail(c, "no such file");
    if (!std::filesystem::is_regular_file(path, ec)) fail(c, "not a regular file");
    if (::access(path.c_str(), R_OK) != 0) fail(c, std::strerror(errno));
    if (!is_hdf5(path)) throw StorageError(path + ": not an HDF5 file");
    PropList fapl(H5P_FILE_ACCESS, c);
    unsigned flags = H5F_ACC_RDONLY;
    switch (access) {
        case Access::read_only: flags = H5F_ACC_RDONLY; break;
        case Access::read_swmr: flags = H5F_ACC_RDONLY | H5F_ACC_SWMR_READ; break;
        case Access::read_write: flags = H5F_ACC_RDWR; break;
        case Access::read_write_swmr: flags = H5F_ACC_RDWR | H5F_ACC_SWMR_WRITE; break;
    }
    if (access == Access::read_write || access == Access::read_write_swmr)
        check(H5Pset_libver_bounds(fapl.id(), H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), c);
    // A SWMR reader retries a metadata block whose checksum fails (a torn read of a block the writer is
    // rewriting), sleeping 1, 2, 4, ... ns between attempts. HDF5's default of 100 attempts makes a corrupt
    // block a hang of years (found by tests/fuzz/fuzz_run_file); 24 attempts wait at most ~17 ms in total.
    if (access == Access::read_swmr) check(H5Pset_metadata_read_attempts(fapl.id(), 24), c);
    const hid_t f = check(H5Fopen(path.c_str(), flags, fapl.id()), c);
    return File(f, Context{path, "/", ""});
}

void File::start_swmr_write() { check(H5Fstart_swmr_write(id()), ctx("start SWMR write mode")); }

void File::flush() { check(H5Fflush(id(), H5F_SCOPE_LOCAL), ctx("flush")); }

void File::fsync() {
    const Context c = ctx("fsync");
    void* handle = nullptr;
    check(H5Fget_vfd_handle(id(), H5P_DEFAULT, &handle), c);
    if (!handle) fail(c, "no file descriptor");
    const int fd = *static_cast<int*>(handle);
    if (::fsync(fd) != 0) fail(c, std::strerror(errno));
}

void File::close() {
    if (!valid()) return;
    const hid_t f = release();
    check(H5Fclose(f), ctx("close"));
}

bool is_hdf5(const std::string& path) {
    static constexpr std::array<unsigned char, 8> sig = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::uint64_t>(in.tellg());
    for (std::uint64_t off = 0; off + sig.size() <= size; off = off == 0 ? 512 : off * 2) {
        in.seekg(static_cast<std::streamoff>(off));
        std::array<char, 8> buf{};
        if (!in.read(buf.data(), buf.size())) return false;
        if (std::memcmp(buf.data(), sig.data(), sig.size()) == 0) return true;
    }
    return false;
}

// ---- crash probe
namespace {
std::atomic<bool> g_crash_probe{true};
constexpr unsigned kProbeSeconds = 120;
}  // namespace

void set_crash_probe(bool on) { g_crash_probe = on; }

void crash_probe(const std::string& file, const std::function<void()>& read) {
    if (!g_crash_probe.load()) return;
    silence();  // before the fork: the child's HDF5 calls print nothing either
    const pid_t pid = ::fork();
    if (pid < 0) return;  // no process to spare: the caller reads as it always did
    if (pid == 0) {
        // The child: the same reads, then _exit (no atexit handlers, no stdio flush, no HDF5 close-down: the
        // parent's buffered output and open files are left as they are).
        // A crash is just the child's death: no handler inherited from the parent (a test framework's, a
        // sanitizer's SEGV report) runs in it.
        for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM}) std::signal(sig, SIG_DFL);
        ::alarm(kProbeSeconds);
        try {
            read();
        } catch (...) {  // the caller's own read reports it
        }
        ::_exit(0);
    }
    int status = 0;
    pid_t r = 0;
    do {
        r = ::waitpid(pid, &status, 0);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return;
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        if (sig == SIGALRM) return;  // slow, not crashed: the caller reads (and may wait as long again)
        if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGKILL)
            throw StorageError(file + ": reading it was stopped (" + ::strsignal(sig) + ", in a probe process)");
        throw StorageError(file + ": corrupt HDF5 file: the HDF5 library crashed reading it (" + ::strsignal(sig) +
                           ", in a probe process); nothing was read from it");
    }
    // Ended with a non-zero status: not a crash of the HDF5 library but a sanitizer's report (ASan, UBSan) in a
    // sanitizer build. The caller's own read then reports the same error in this process, loudly.
}

}  // namespace mtjlab::storage::h5
