#pragma once
// Shared helpers of the fuzz targets: a byte reader over the fuzz input and a scratch file in a private
// temporary directory (for parsers whose entry point takes a path).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace mtjlab::fuzz {

/// Consumes the fuzz input front to back; returns zeros once it is exhausted.
class Bytes {
public:
    Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    [[nodiscard]] std::size_t remaining() const { return size_ - pos_; }
    std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : std::uint8_t{0}; }
    /// Up to n bytes as a string.
    std::string take(std::size_t n) {
        n = std::min(n, remaining());
        std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
        pos_ += n;
        return s;
    }
    std::string rest() { return take(remaining()); }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

/// A private directory for this fuzz process (removed at exit), holding scratch files. On /dev/shm when it
/// exists: the run-file target fsyncs (recover), which must not hit a disk millions of times.
inline const std::filesystem::path& scratch_dir() {
    static const std::filesystem::path dir = [] {
        std::error_code ec;
        const std::filesystem::path base =
            std::filesystem::is_directory("/dev/shm", ec) ? std::filesystem::path("/dev/shm")
                                                         : std::filesystem::temp_directory_path();
        auto d = base / ("mtjlab-fuzz-" + std::to_string(static_cast<long>(::getpid())));
        std::filesystem::create_directories(d);
        return d;
    }();
    static const bool cleanup = [] {
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        });
        return true;
    }();
    (void)cleanup;
    return dir;
}

/// Writes `bytes` to a new file scratch_dir()/name (the previous one is removed first, so every input is a new
/// inode: a reader cache keyed by file identity, size and mtime never takes one input for the one before, even
/// when they have the same size and are written within one timestamp tick) and returns the path.
inline std::filesystem::path write_scratch(const std::string& name, const std::uint8_t* data, std::size_t size) {
    auto p = scratch_dir() / name;
    std::error_code ec;
    std::filesystem::remove(p, ec);
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    f.close();
    return p;
}

/// ASan defaults of the HDF5 targets (their __asan_default_options; ASAN_OPTIONS from the environment still wins):
/// - quarantine_size_mb=16: the crash probe's fork copies this process's page tables (256 MB by default).
/// - max_allocation_size_mb=2048 (with allocator_may_return_null=1 from scripts/fuzz): libhdf5 allocates what a
///   corrupt length asks for and checks it against the file afterwards (a local heap of 7.3 GB in a 9.9 KB file:
///   malloc, then "addr overflow" and free; the release program's peak RSS on that file is 17 MB). Without the
///   option libFuzzer's -malloc_limit_mb stops on the request itself; with it a request above 2 GB fails as on a
///   smaller machine, and libhdf5's out-of-memory path is what gets fuzzed. Our own code gains no leeway: a
///   failed `new` is still reported (ASan: out of memory), and memory really used is still bounded by -rss_limit_mb.
inline constexpr const char* kHdf5AsanDefaults = "quarantine_size_mb=16:max_allocation_size_mb=2048";

/// The HDF5 readers' crash probe (storage/h5.hpp: each outside HDF5 file is read first in a forked child, and a
/// crash there is the file's error) costs a fork per input (~5x the time of an input in a 450 MB ASan process).
/// The HDF5 targets set it per input: on for files whose superblock is version 0 or 1 - the old format, whose
/// metadata has no checksums and on which libhdf5 1.10 crashes (tests/fuzz/known) - off otherwise, so that a crash
/// in a checksummed file is a finding in process, a stricter test than the product's (which probes every file).
/// The signature search is storage::h5::is_hdf5's, over the input's bytes instead of a file.
inline bool hdf5_old_format(const std::uint8_t* data, std::size_t size) {
    static constexpr std::uint8_t sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    for (std::size_t off = 0; off + 9 <= size; off = off == 0 ? 512 : off * 2) {  // where libhdf5 looks
        if (std::equal(sig, sig + 8, data + off)) return data[off + 8] < 2;
    }
    return false;
}

}  // namespace mtjlab::fuzz
