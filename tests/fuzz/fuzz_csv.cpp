// Fuzzes CSV import (analysis::parse_csv), which promises never to throw: problems go to Run::load_error.
#include <cstdint>
#include <string>

#include "mtjlab/analysis/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto run = mtjlab::analysis::parse_csv(text, "fuzz.csv");
    (void)run;
    return 0;
}
