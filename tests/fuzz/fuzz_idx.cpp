// Fuzzes IDX files (ann::read_idx_images / read_idx_labels), plain and gzip-compressed (the first input
// byte picks the reader and whether the rest is written under a ".gz" name): only InputError may escape.
#include <cstdint>

#include "fuzz_support.hpp"
#include "mtjlab/ann/idx.hpp"
#include "mtjlab/core/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const std::uint8_t mode = data[0];
    const bool gz = (mode & 1) != 0;
    const auto file = mtjlab::fuzz::write_scratch(gz ? "input.idx.gz" : "input.idx", data + 1, size - 1);
    try {
        if (mode & 2) {
            const auto labels = mtjlab::ann::read_idx_labels(file, 1 + (mode >> 2) % 16);
            (void)labels;
        } else {
            const auto images = mtjlab::ann::read_idx_images(file);
            if (images.pixels.size() != images.count * images.rows * images.cols) __builtin_trap();
        }
    } catch (const mtjlab::InputError&) {
    }
    return 0;
}
