#include "mtjlab/ann/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "mtjlab/core/error.hpp"

namespace mtjlab::ann {
namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;
constexpr std::uint32_t kLabelsMagic = 0x00000801;

struct GzCloser {
    void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

/// Reads a whole IDX file; gzread reads plain files transparently.
class IdxSource {
public:
    explicit IdxSource(const std::filesystem::path& file) : file_(file) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec)) {
            throw InputError(fmt::format("{}: no such file", file.string()));
        }
        gz_.reset(gzopen(file.c_str(), "rb"));
        if (!gz_) throw InputError(fmt::format("{}: cannot open for reading", file.string()));
        gzbuffer(gz_.get(), 1u << 17);
    }

    /// Reads up to n bytes; returns how many were read. Throws on a corrupt gzip stream.
    std::size_t read(std::uint8_t* dst, std::size_t n) {
        std::size_t done = 0;
        while (done < n) {
            const auto chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
            const int got = gzread(gz_.get(), dst + done, chunk);
            if (got < 0) {
                int errnum = 0;
                const char* msg = gzerror(gz_.get(), &errnum);
                throw InputError(fmt::format("{}: corrupt gzip stream ({})", file_.string(), msg ? msg : "?"));
            }
            if (got == 0) break;
            done += static_cast<std::size_t>(got);
        }
        return done;
    }

    std::uint32_t read_u32(const char* what) {
        std::array<std::uint8_t, 4> b{};
        if (read(b.data(), 4) != 4) {
            throw InputError(fmt::format("{}: truncated header (no {})", file_.string(), what));
        }
        return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
    }

    void read_payload(std::vector<std::uint8_t>& out, std::size_t n, const char* what) {
        // Grow with the bytes actually there: a 16-byte header may declare 2 GiB, which must not be allocated
        // (and zero-filled) before the file turns out to be truncated (found by tests/fuzz/fuzz_idx). Steps
        // start at 64 KiB and double up to 16 MiB, so a short file costs a short read, not a 16 MiB zero-fill.
        constexpr std::size_t max_step = std::size_t{1} << 24;
        std::size_t step = std::size_t{1} << 16;
        out.clear();
        std::size_t got = 0;
        while (got < n) {
            const std::size_t want = std::min(step, n - got);
            out.resize(got + want);
            const std::size_t r = read(out.data() + got, want);
            got += r;
            if (r < want) break;
            step = std::min(step * 2, max_step);
        }
        out.resize(got);
        if (got != n) {
            throw InputError(fmt::format("{}: truncated: expected {} bytes of {}, found {}", file_.string(), n,
                                         what, got));
        }
        std::uint8_t extra = 0;
        if (read(&extra, 1) != 0) {
            throw InputError(fmt::format("{}: {} trailing bytes after the {} declared by the header",
                                         file_.string(), "unexpected", what));
        }
    }

    void check_magic(std::uint32_t expected, const char* kind) {
        const std::uint32_t magic = read_u32("magic number");
        if (magic != expected) {
            throw InputError(fmt::format("{}: bad magic number 0x{:08x} (an IDX {} file has 0x{:08x})",
                                         file_.string(), magic, kind, expected));
        }
    }

private:
    std::filesystem::path file_;
    GzFile gz_;
};

bool ends_with_gz(const std::filesystem::path& p) { return p.extension() == ".gz"; }

class IdxSink {
public:
    explicit IdxSink(const std::filesystem::path& file) : file_(file) {
        gz_.reset(gzopen(file.c_str(), ends_with_gz(file) ? "wb6" : "wbT"));
        if (!gz_) throw InputError(fmt::format("{}: cannot open for writing", file.string()));
    }
    void write(const void* data, std::size_t n) {
        if (n == 0) return;
        if (gzwrite(gz_.get(), data, static_cast<unsigned>(n)) != static_cast<int>(n)) {
            throw InputError(fmt::format("{}: write failed", file_.string()));
        }
    }
    void write_u32(std::uint32_t v) {
        const std::array<std::uint8_t, 4> b{static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                                            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
        write(b.data(), 4);
    }
    void close() {
        if (gzclose(gz_.release()) != Z_OK) throw InputError(fmt::format("{}: close failed", file_.string()));
    }

private:
    std::filesystem::path file_;
    GzFile gz_;
};

}  // namespace

IdxImages read_idx_images(const std::filesystem::path& file) {
    IdxSource src(file);
    src.check_magic(kImagesMagic, "image (idx3-ubyte)");
    IdxImages out;
    out.count = src.read_u32("image count");
    out.rows = src.read_u32("row count");
    out.cols = src.read_u32("column count");
    if (out.count == 0 || out.rows == 0 || out.cols == 0) {
        throw InputError(fmt::format("{}: empty image set ({} images of {}x{})", file.string(), out.count, out.rows,
                                     out.cols));
    }
    if (out.rows > 4096 || out.cols > 4096 || out.count > (std::size_t{1} << 31) / (out.rows * out.cols)) {
        throw InputError(fmt::format("{}: implausible header ({} images of {}x{})", file.string(), out.count,
                                     out.rows, out.cols));
    }
    src.read_payload(out.pixels, out.count * out.rows * out.cols, "pixel data");
    return out;
}

std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& file, int num_classes) {
    IdxSource src(file);
    src.check_magic(kLabelsMagic, "label (idx1-ubyte)");
    const std::size_t count = src.read_u32("label count");
    if (count == 0) throw InputError(fmt::format("{}: empty label set", file.string()));
    if (count > (std::size_t{1} << 31)) {
        throw InputError(fmt::format("{}: implausible label count {}", file.string(), count));
    }
    std::vector<std::uint8_t> labels;
    src.read_payload(labels, count, "labels");
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (labels[i] >= num_classes) {
            throw InputError(fmt::format("{}: label {} of item {} is outside 0..{}", file.string(), int{labels[i]},
                                         i, num_classes - 1));
        }
    }
    return labels;
}

void write_idx_images(const std::filesystem::path& file, const IdxImages& images) {
    if (images.pixels.size() != images.count * images.rows * images.cols) {
        throw InputError(fmt::format("{}: pixel buffer does not match {} images of {}x{}", file.string(),
                                     images.count, images.rows, images.cols));
    }
    IdxSink sink(file);
    sink.write_u32(kImagesMagic);
    sink.write_u32(static_cast<std::uint32_t>(images.count));
    sink.write_u32(static_cast<std::uint32_t>(images.rows));
    sink.write_u32(static_cast<std::uint32_t>(images.cols));
    sink.write(images.pixels.data(), images.pixels.size());
    sink.close();
}

void write_idx_labels(const std::filesystem::path& file, const std::vector<std::uint8_t>& labels) {
    IdxSink sink(file);
    sink.write_u32(kLabelsMagic);
    sink.write_u32(static_cast<std::uint32_t>(labels.size()));
    sink.write(labels.data(), labels.size());
    sink.close();
}

}  // namespace mtjlab::ann
