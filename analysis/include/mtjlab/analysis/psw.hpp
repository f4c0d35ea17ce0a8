#pragma once
// Switching probability versus pulse amplitude: binomial maximum-likelihood fit of a probit (error
// function) model P(V) = Phi((V - V50)/w) by Fisher scoring. Uncertainties of V50 and w come from the
// inverse Fisher information (delta method). Complete separation (no amplitude with 0 < P < 1 between the
// never- and always-switching ones) leaves w undetermined: V50 is then the middle of the gap with half the
// gap as its uncertainty and w is empty with that reason.
#include <string>
#include <vector>

#include "mtjlab/analysis/data.hpp"
#include "mtjlab/analysis/extracted.hpp"

namespace mtjlab::analysis {

struct PswPoint {
    double amplitude_V = 0;
    int trials = 0;
    int switched = 0;
};

struct PswResult {
    std::vector<PswPoint> table;  ///< per amplitude, ascending
    Extracted v50_V;              ///< amplitude of 50 % switching
    Extracted width_V;            ///< probit width w (> 0); 10-90 % width is 2.563 w
    int polarity = 0;             ///< +1 P rises with V, -1 falls with V, 0 unknown
    double log_likelihood = 0;
    int iterations = 0;
    std::string error;
};

PswResult fit_switching_probability(const Trials& trials);

}  // namespace mtjlab::analysis
