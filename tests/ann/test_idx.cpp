// IDX reader: good files (gzip and plain) round-trip; corrupt files fail with one line naming file and problem.
#include <catch2/catch.hpp>

#include <fstream>
#include <sys/resource.h>
#include <zlib.h>

#include "mtjlab/ann/dataset.hpp"
#include "mtjlab/ann/idx.hpp"
#include "mtjlab/core/error.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::ann;

namespace {
IdxImages make_images(std::size_t n) {
    IdxImages im;
    im.count = n;
    im.rows = 28;
    im.cols = 28;
    im.pixels.resize(n * 784);
    for (std::size_t i = 0; i < im.pixels.size(); ++i) im.pixels[i] = static_cast<std::uint8_t>((i * 7) % 256);
    return im;
}

void write_raw(const std::filesystem::path& p, const std::string& bytes, bool gz) {
    if (gz) {
        gzFile f = gzopen(p.c_str(), "wb");
        gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
        gzclose(f);
    } else {
        std::ofstream(p, std::ios::binary) << bytes;
    }
}

std::string slurp_gz(const std::filesystem::path& p) {
    gzFile f = gzopen(p.c_str(), "rb");
    std::string out;
    char buf[4096];
    int n = 0;
    while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    gzclose(f);
    return out;
}

// IDX problems are input errors: anything else propagates and fails the test.
std::string error_of(const std::function<void()>& f) { return test::error_of<InputError>(f); }
}  // namespace

TEST_CASE("IDX files round-trip, gzip and plain", "[unit][ann]") {
    test::TempDir dir("idx");
    const auto im = make_images(5);
    const std::vector<std::uint8_t> labels{0, 1, 2, 9, 4};
    for (const std::string ext : {".gz", ""}) {
        write_idx_images(dir / ("img" + ext), im);
        write_idx_labels(dir / ("lab" + ext), labels);
        const auto back = read_idx_images(dir / ("img" + ext));
        CHECK(back.count == 5);
        CHECK(back.rows == 28);
        CHECK(back.cols == 28);
        CHECK(back.pixels == im.pixels);
        CHECK(read_idx_labels(dir / ("lab" + ext)) == labels);
        const Split s = load_split(dir / ("img" + ext), dir / ("lab" + ext));
        CHECK(s.size() == 5);
        CHECK(s.head(2).size() == 2);
        CHECK(s.head(2).pixels.size() == 2 * 784);
    }
}

TEST_CASE("corrupt IDX files are rejected with the file and the problem", "[unit][ann]") {
    test::TempDir dir("idxbad");
    write_idx_images(dir / "good.gz", make_images(3));
    const std::string good = slurp_gz(dir / "good.gz");

    SECTION("truncated pixel data") {
        write_raw(dir / "trunc.gz", good.substr(0, good.size() - 100), true);
        const auto msg = error_of([&] { read_idx_images(dir / "trunc.gz"); });
        CHECK_THAT(msg, Catch::Contains("trunc.gz") && Catch::Contains("truncated"));
    }
    SECTION("truncated header") {
        write_raw(dir / "hdr", good.substr(0, 6), false);
        CHECK_THAT(error_of([&] { read_idx_images(dir / "hdr"); }), Catch::Contains("hdr: truncated header"));
    }
    SECTION("trailing bytes") {
        write_raw(dir / "long.gz", good + "xyz", true);
        CHECK_THAT(error_of([&] { read_idx_images(dir / "long.gz"); }), Catch::Contains("trailing bytes"));
    }
    SECTION("label file given as image file (wrong magic)") {
        write_idx_labels(dir / "labels.gz", {1, 2, 3});
        const auto msg = error_of([&] { read_idx_images(dir / "labels.gz"); });
        CHECK_THAT(msg, Catch::Contains("labels.gz") && Catch::Contains("bad magic number 0x00000801"));
        CHECK_THAT(error_of([&] { read_idx_labels(dir / "good.gz"); }), Catch::Contains("bad magic number"));
    }
    SECTION("label out of range (mislabelled)") {
        write_idx_labels(dir / "lab.gz", {1, 12, 3});
        CHECK_THAT(error_of([&] { read_idx_labels(dir / "lab.gz"); }),
                   Catch::Contains("lab.gz: label 12 of item 1 is outside 0..9"));
    }
    SECTION("label count differs from image count") {
        write_idx_labels(dir / "lab.gz", {1, 2});
        CHECK_THAT(error_of([&] { load_split(dir / "good.gz", dir / "lab.gz"); }),
                   Catch::Contains("2 labels but") && Catch::Contains("has 3 images"));
    }
    SECTION("wrong image size") {
        IdxImages im = make_images(2);
        im.rows = 14;
        im.cols = 56;
        write_idx_images(dir / "odd.gz", im);
        write_idx_labels(dir / "lab.gz", {1, 2});
        CHECK_THAT(error_of([&] { load_split(dir / "odd.gz", dir / "lab.gz"); }), Catch::Contains("14x56"));
    }
    SECTION("not gzip, not IDX") {
        write_raw(dir / "junk.gz", std::string("\x1f\x8b garbage that is not deflate", 30), false);
        const auto msg = error_of([&] { read_idx_images(dir / "junk.gz"); });
        CHECK_THAT(msg, Catch::Contains("junk.gz"));
    }
    SECTION("missing file") {
        CHECK_THAT(error_of([&] { read_idx_images(dir / "nope.gz"); }), Catch::Contains("nope.gz: no such file"));
    }
    SECTION("--data-dir without the files names the directory") {
        DataOptions o;
        o.data_dir = dir.path();
        CHECK_THAT(error_of([&] { load_dataset(DatasetKind::fashion, o); }),
                   Catch::Contains(dir.path().string()) && Catch::Contains("train-images-idx3-ubyte"));
    }
}

TEST_CASE("real datasets load with the documented sizes", "[integration][ann]") {
    const Split fashion_test = load_test_split(DatasetKind::fashion);
    CHECK(fashion_test.size() == 10000);
    if (auto shared = test::shared_data_dir()) {
        const Split mnist_test = load_test_split(DatasetKind::mnist);
        CHECK(mnist_test.size() == 10000);
    } else {
        WARN("shared data dir missing: MNIST test set not checked");
    }
}

TEST_CASE("an IDX header declaring far more data than the file holds is rejected without allocating it",
          "[unit][ann]") {
    // Found by tests/fuzz/fuzz_idx: the reader used to allocate (and zero) the declared payload before reading.
    test::TempDir dir("idxhuge");
    std::string header;
    for (const std::uint32_t v : {0x803u, 256u * 1024u * 1024u, 1u, 1u})  // 256 Mi images of 1x1 pixel
        for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<char>((v >> shift) & 0xffu));
    write_raw(dir / "huge", header + "0123456789", false);
    write_raw(dir / "huge.gz", header + "0123456789", true);
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    CHECK_THAT(error_of([&] { read_idx_images(dir / "huge"); }), Catch::Contains("truncated"));
    CHECK_THAT(error_of([&] { read_idx_images(dir / "huge.gz"); }), Catch::Contains("truncated"));
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    CHECK(after.ru_maxrss - before.ru_maxrss < 128 * 1024);  // KiB: far below the 256 MiB declared
}
