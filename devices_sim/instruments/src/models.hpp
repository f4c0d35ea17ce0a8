#pragma once
// Factories of the virtual models (one source file per family).
#include <memory>
#include <string>

#include "mtjlab/devices_sim/virtual_instrument.hpp"

namespace mtjlab::devices_sim::detail {

std::unique_ptr<VirtualInstrument> make_keysight_33500b(const std::string& model, const std::string& name,
                                                        std::shared_ptr<VirtualBench> bench);
std::unique_ptr<VirtualInstrument> make_agilent_81150a(const std::string& name, std::shared_ptr<VirtualBench> bench);
std::unique_ptr<VirtualInstrument> make_srs_sr830(const std::string& name, std::shared_ptr<VirtualBench> bench);
std::unique_ptr<VirtualInstrument> make_srs_sr860(const std::string& name, std::shared_ptr<VirtualBench> bench);
std::unique_ptr<VirtualInstrument> make_kepco_bop(const std::string& model, const std::string& name,
                                                  std::shared_ptr<VirtualBench> bench);
std::unique_ptr<VirtualInstrument> make_keithley_2400(const std::string& name, std::shared_ptr<VirtualBench> bench);
std::unique_ptr<VirtualInstrument> make_lakeshore_425(const std::string& name, std::shared_ptr<VirtualBench> bench);

bool is_keysight_33500b_model(const std::string& model);
bool is_kepco_bop_model(const std::string& model);

}  // namespace mtjlab::devices_sim::detail
