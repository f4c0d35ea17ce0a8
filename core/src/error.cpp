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

namespace {
template <class E>
[[noreturn]] void again(const E& e, std::string_view context) {
    std::string message = e.what();
    message.append("; ").append(context);
    throw E(message);
}
}  // namespace

void rethrow_with_context(std::string_view context) {
    try {
        throw;
    } catch (const TransportError& e) {
        again(e, context);
    } catch (const TimeoutError& e) {
        again(e, context);
    } catch (const ProtocolError& e) {
        again(e, context);
    } catch (const InstrumentError& e) {
        again(e, context);
    } catch (const LimitError& e) {
        again(e, context);
    } catch (const StorageError& e) {
        again(e, context);
    } catch (const InputError& e) {
        again(e, context);
    } catch (const Error& e) {
        again(e, context);
    } catch (const std::exception& e) {
        again(Error(e.what()), context);
    }
}

}  // namespace mtjlab
