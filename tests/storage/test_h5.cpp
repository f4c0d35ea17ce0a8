// The RAII layer over the HDF5 C API: handles, attributes, datasets, error context.
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "mtjlab/core/error.hpp"
#include "mtjlab/storage/h5.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::storage;

TEST_CASE("h5 attributes round trip with their types", "[unit]") {
    test::TempDir dir("h5");
    const auto path = (dir / "a.h5").string();
    {
        auto f = h5::File::create(path);
        f.set_attribute("s", "héllo\nworld");
        f.set_attribute("d", 2.5e-9);
        f.set_attribute("i", std::int64_t{-42});
        f.set_attribute("b", true);
        f.set_attribute("s", "overwritten");  // rewriting replaces, even with another type
        f.close();
    }
    auto f = h5::File::open(path, h5::Access::read_only);
    CHECK(f.string_attribute("s") == "overwritten");
    CHECK(f.double_attribute("d") == 2.5e-9);
    CHECK(f.int_attribute("i") == -42);
    CHECK(f.int_attribute("b") == 1);
    CHECK(f.double_attribute("i") == -42.0);
    CHECK_FALSE(f.optional_string_attribute("missing").has_value());
    const auto names = f.attribute_names();
    CHECK(names.size() == 4);
    CHECK_THROWS_AS(f.int_attribute("d"), StorageError);        // float is not an integer
    CHECK_THROWS_AS(f.string_attribute("d"), StorageError);     // nor a string
    CHECK_THROWS_AS(f.string_attribute("nothere"), StorageError);
}

TEST_CASE("h5 extendible datasets grow and read back exactly", "[unit]") {
    test::TempDir dir("h5");
    const auto path = (dir / "d.h5").string();
    auto f = h5::File::create(path);
    auto g = f.create_group("g");
    const double nan = std::numeric_limits<double>::quiet_NaN();
    auto d = g.create_extendible_1d("x", h5::DataType::copy_of(H5T_IEEE_F64LE), 4, &nan);
    CHECK(d.length() == 0);
    std::vector<double> v = {1, 2, 3, 4, 5, 6, 7};
    d.set_length(3);
    d.write_1d(0, 3, H5T_NATIVE_DOUBLE, v.data());
    d.set_length(7);
    d.write_1d(3, 4, H5T_NATIVE_DOUBLE, v.data() + 3);
    d.set_length(9);  // two elements never written: the fill value shows
    auto back = d.read_doubles();
    REQUIRE(back.size() == 9);
    for (std::size_t i = 0; i < 7; ++i) CHECK(back[i] == v[i]);
    CHECK(std::isnan(back[7]));
    auto iv = g.create_extendible_1d("n", h5::DataType::copy_of(H5T_STD_I32LE), 8);
    const std::int32_t ints[3] = {-1, 0, 7};
    iv.set_length(3);
    iv.write_1d(0, 3, H5T_NATIVE_INT32, ints);
    CHECK(iv.read_doubles() == std::vector<double>{-1, 0, 7});
    CHECK(f.exists("g/x"));
    CHECK_FALSE(f.exists("g/y"));
    CHECK_FALSE(f.exists("nope/x"));
    CHECK(g.children() == std::vector<std::string>{"x", "n"});  // creation order
}

TEST_CASE("h5 fixed strings truncate without splitting UTF-8", "[unit]") {
    test::TempDir dir("h5");
    auto f = h5::File::create((dir / "s.h5").string());
    auto d = f.create_scalar("s", h5::DataType::fixed_utf8(6));
    d.write_fixed_string("ab");
    CHECK(d.read_string() == "ab");
    d.write_fixed_string("abcdé");  // é is 2 bytes: 6 bytes > 5 usable, cut before é
    CHECK(d.read_string() == "abcd");
    d.write_fixed_string("");
    CHECK(d.read_string().empty());
}

TEST_CASE("h5 failures become StorageError naming file, object and operation", "[unit]") {
    test::TempDir dir("h5");
    const auto path = (dir / "e.h5").string();
    auto f = h5::File::create(path);
    try {
        (void)f.open_group("no_such_group");
        FAIL("expected StorageError");
    } catch (const StorageError& e) {
        const std::string msg = e.what();
        CHECK(msg.find(path) != std::string::npos);
        CHECK(msg.find("no_such_group") != std::string::npos);
        CHECK(msg.find("open group") != std::string::npos);
        CHECK(msg.find('\n') == std::string::npos);
    }
    f.close();
    // Refuses to overwrite.
    CHECK_THROWS_WITH(h5::File::create(path), Catch::Contains("refusing to overwrite"));
    CHECK_THROWS_WITH(h5::File::open((dir / "missing.h5").string(), h5::Access::read_only),
                      Catch::Contains("no such file"));
    // HDF5 errors on garbage: a file with random bytes.
    const auto junk = (dir / "junk.h5").string();
    std::ofstream(junk) << "this is not hdf5 at all, just text";
    CHECK_FALSE(h5::is_hdf5(junk));
    CHECK(h5::is_hdf5(path));
    CHECK_THROWS_AS(h5::File::open(junk, h5::Access::read_only), StorageError);
    // check() passes through non-negative values and throws on negative ones.
    CHECK(h5::check(5, {"f", "o", "op"}) == 5);
    CHECK_THROWS_WITH(h5::check(-1, {"f", "o", "do it"}), Catch::Contains("f: o: cannot do it"));
}

TEST_CASE("h5 handles close on destruction and move cleanly", "[unit]") {
    test::TempDir dir("h5");
    const auto path = (dir / "m.h5").string();
    hid_t raw = H5I_INVALID_HID;
    {
        auto f = h5::File::create(path);
        auto g = f.create_group("g");
        raw = g.id();
        CHECK(H5Iis_valid(raw) > 0);
        h5::Group moved = std::move(g);
        CHECK_FALSE(g.valid());  // NOLINT(bugprone-use-after-move): moved-from state is defined
        CHECK(moved.id() == raw);
    }
    CHECK(H5Iis_valid(raw) <= 0);
    // The file was closed: it can be opened for writing again.
    auto f = h5::File::open(path, h5::Access::read_write);
    CHECK(f.exists("g"));
}

TEST_CASE("data that happens to hold the bytes of a global heap signature does not make a sound file unreadable",
          "[unit]") {
    // The global heap check before variable-length reads (h5.cpp) looks for "GCOL" 1 in the file. Raw data may
    // hold those bytes; followed by non-zero "reserved" bytes and a size that fits nothing, they are not a heap.
    test::TempDir dir("h5");
    const auto path = (dir / "gcol-in-data.h5").string();
    {
        auto f = h5::File::create(path);
        const unsigned char pattern[8] = {'G', 'C', 'O', 'L', 1, 'x', 'y', 'z'};
        std::vector<double> values(4, 1e300);  // the "size" after the pattern: fits no file
        std::memcpy(&values[1], pattern, sizeof pattern);
        (void)f.write_vector("data", values);
        f.set_attribute("note", "a variable-length string read after the check");
        f.close();
    }
    std::ifstream raw(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(raw)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.find(std::string("GCOL\x01xyz", 8)) != std::string::npos);  // the pattern is in the file
    auto f = h5::File::open(path, h5::Access::read_only);
    CHECK(f.string_attribute("note") == "a variable-length string read after the check");
}

TEST_CASE("a file replaced by a corrupt one of the same size and mtime is checked again, not taken from the cache",
          "[unit]") {
    // The global heap check is cached per file (h5.cpp). A sound file read once, then replaced by a file of the
    // same size whose heap object declares 2^58 bytes, with the old mtime set back (as `cp -p`, rsync or a fast
    // rewrite within one timestamp tick leave it), must be refused: a cache keyed by (path, size, mtime) served
    // "sound" and libhdf5 copied 2^58 bytes (SIGSEGV). The fuzzer rewrites one scratch path thousands of times per
    // second, where same-size inputs within one tick are common.
    test::TempDir dir("h5");
    const auto path = (dir / "replaced.h5").string();
    {
        auto f = h5::File::create(path);
        f.set_attribute("note", "a variable-length string in the global heap");
        f.close();
    }
    std::string bytes;
    {
        std::ifstream raw(path, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(raw), std::istreambuf_iterator<char>());
    }
    const auto at = bytes.find(std::string("GCOL\x01\0\0\0", 8));
    REQUIRE(at != std::string::npos);
    {
        auto f = h5::File::open(path, h5::Access::read_only);
        CHECK(f.string_attribute("note") == "a variable-length string in the global heap");  // checked: sound
    }
    // The collection's first object (16-byte collection header, then index 2 bytes, refcount 2, reserved 4, size 8).
    std::string bad = bytes;
    REQUIRE(bad.size() >= at + 32);
    // Its index is not 0 (0 is the free space).
    REQUIRE((static_cast<unsigned char>(bad[at + 16]) | static_cast<unsigned char>(bad[at + 17])) != 0);
    const std::uint64_t huge = std::uint64_t{1} << 58;
    for (std::size_t i = 0; i < 8; ++i) bad[at + 24 + i] = static_cast<char>((huge >> (8 * i)) & 0xff);
    const auto mtime = std::filesystem::last_write_time(path);
    const auto tmp = dir / "replacement.h5";
    {
        std::ofstream out(tmp, std::ios::binary);
        out.write(bad.data(), static_cast<std::streamsize>(bad.size()));
    }
    std::filesystem::last_write_time(tmp, mtime);
    std::filesystem::rename(tmp, path);
    REQUIRE(std::filesystem::file_size(path) == bytes.size());
    REQUIRE(std::filesystem::last_write_time(path) == mtime);
    auto f = h5::File::open(path, h5::Access::read_only);
    try {
        (void)f.string_attribute("note");
        FAIL("the corrupt replacement was read");
    } catch (const StorageError& e) {
        CHECK(std::string(e.what()).find("global heap collection at byte " + std::to_string(at)) != std::string::npos);
    }
}

TEST_CASE("the crash probe turns a read that crashes into one error naming the file, and leaves others alone",
          "[unit]") {
    test::TempDir dir("h5probe");
    const std::string file = (dir / "outside.h5").string();
    // A read that crashes (as libhdf5 does on some crafted files): this process lives on and gets one error.
    CHECK_THAT(test::error_of([&] { h5::crash_probe(file, [] { std::raise(SIGSEGV); }); }),
               Catch::Contains("outside.h5: corrupt HDF5 file: the HDF5 library crashed reading it") &&
                   Catch::Contains("in a probe process"));
    // A read that ends, or throws, is left to the caller, which repeats it in process.
    CHECK_NOTHROW(h5::crash_probe(file, [] {}));
    CHECK_NOTHROW(h5::crash_probe(file, [&] { throw StorageError(file + ": not an HDF5 file"); }));
    // The read ran in the child (its side effects are there), not in this process.
    int calls = 0;
    const auto marker = dir / "child_was_here";
    h5::crash_probe(file, [&] {
        ++calls;
        std::ofstream(marker) << "x";
    });
    CHECK(calls == 0);
    CHECK(std::filesystem::exists(marker));
    // Off (the fuzz targets): the read does not run at all here.
    std::filesystem::remove(marker);
    h5::set_crash_probe(false);
    h5::crash_probe(file, [&] { std::ofstream(marker) << "x"; });
    h5::set_crash_probe(true);
    CHECK_FALSE(std::filesystem::exists(marker));
}
