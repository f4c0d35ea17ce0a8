#pragma once
// IDX files (the MNIST container format): big-endian magic 0x0000TTDD (TT = 0x08 unsigned byte, DD = number of
// dimensions), DD big-endian uint32 sizes, then the data. Files may be gzip-compressed (read directly with zlib)
// or plain. Every problem raises mtjlab::InputError with one line naming the file and what is wrong.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

namespace mtjlab::ann {

/// An IDX image file: count images of rows x cols unsigned bytes, row-major, image after image.
struct IdxImages {
    std::size_t count = 0;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<std::uint8_t> pixels;  ///< count * rows * cols bytes
};

/// Reads an idx3-ubyte image file (magic 0x00000803). Checks the magic number, non-zero dimensions, that the
/// payload is exactly count*rows*cols bytes (neither truncated nor followed by trailing bytes).
/// Throws InputError.
IdxImages read_idx_images(const std::filesystem::path& file);

/// Reads an idx1-ubyte label file (magic 0x00000801); every label must be below num_classes. Throws InputError.
std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& file, int num_classes = 10);

/// Writes an idx3-ubyte file, gzip-compressed when the name ends in ".gz" (used by tests and converters).
void write_idx_images(const std::filesystem::path& file, const IdxImages& images);
/// Writes an idx1-ubyte file, gzip-compressed when the name ends in ".gz".
void write_idx_labels(const std::filesystem::path& file, const std::vector<std::uint8_t>& labels);

}  // namespace mtjlab::ann
