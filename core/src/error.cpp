#include "mtjlab/core/error.hpp"

namespace mtjlab {

int exit_code_for(const std::exception& e) noexcept {
    if (dynamic_cast<const InputError*>(&e) || dynamic_cast<const LimitError*>(&e) ||
        dynamic_cast<const StorageError*>(&e)) {
        return exit_code::bad_input;
    }
    if (dynamic_cast<const TransportError*>(&e) || dynamic_cast<const TimeoutError*>(&e) ||
        dynamic_cast<const ProtocolError*>(&e) || dynamic_cast<const InstrumentError*>(&e)) {
        return exit_code::instrument;
    }
    return exit_code::failure;
}

}  // namespace mtjlab
