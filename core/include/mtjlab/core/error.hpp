#pragma once
// The one exception tree of mtjlab. Every failure that crosses a module boundary is one of these;
// messages are one line and name the file, line, instrument or command they are about.
#include <stdexcept>
#include <string>
#include <string_view>

namespace mtjlab {

/// Root of all mtjlab errors.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
/// The link to an instrument failed (connect, read, write, disconnect).
class TransportError : public Error { public: using Error::Error; };
/// An instrument or link did not answer within its deadline.
class TimeoutError : public Error { public: using Error::Error; };
/// A reply did not parse (garbage, wrong block header, wrong type).
class ProtocolError : public Error { public: using Error::Error; };
/// The instrument reported an error (SYST:ERR? or status byte).
class InstrumentError : public Error { public: using Error::Error; };
/// A requested value lies outside a model or safety limit; raised before any I/O.
class LimitError : public Error { public: using Error::Error; };
/// An HDF5 (or other file store) operation failed.
class StorageError : public Error { public: using Error::Error; };
/// Bad user input: malformed recipe, CSV, IDX, flag value out of range.
class InputError : public Error { public: using Error::Error; };

/// Process exit codes used by the CLI for each error family (documented in README).
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;       ///< unexpected internal failure
inline constexpr int bad_input = 2;     ///< InputError, LimitError, StorageError, usage errors
inline constexpr int instrument = 3;    ///< Transport/Timeout/Protocol/Instrument errors
inline constexpr int interrupted = 130; ///< stopped by SIGINT after a clean shutdown
}  // namespace exit_code

/// Maps an exception to the CLI exit code of its family.
int exit_code_for(const std::exception& e) noexcept;

/// Rethrows the exception being handled (call it inside a catch block only) as the same mtjlab error type
/// with "; <context>" appended to its message, so the exit code and every handler keyed on the type still
/// apply: "no reply within the deadline; asking 'FREQ?' to lockin; run 'rv_d3' (out/rv_d3.h5)". Any other
/// std::exception becomes an Error with its message; anything else is rethrown unchanged.
[[noreturn]] void rethrow_with_context(std::string_view context);

}  // namespace mtjlab
