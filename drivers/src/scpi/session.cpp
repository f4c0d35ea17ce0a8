#include "mtjlab/drivers/scpi/session.hpp"

#include <cctype>
#include <charconv>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "mtjlab/core/error.hpp"
#include "mtjlab/core/log.hpp"

namespace mtjlab::drivers {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

// Shows a reply in an error message: at most 40 characters, control bytes escaped.
std::string shown(std::string_view reply) {
    std::string out;
    for (char c : reply.substr(0, 40)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7F) out += fmt::format("\\x{:02X}", u);
        else out += c;
    }
    if (reply.size() > 40) out += "...";
    return out;
}

}  // namespace

double parse_double(std::string_view reply) {
    auto s = trim(reply);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    double v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
        throw ProtocolError(fmt::format("reply '{}' is not a number", shown(reply)));
    return v;
}

long long parse_int(std::string_view reply) {
    auto s = trim(reply);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    long long v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
        throw ProtocolError(fmt::format("reply '{}' is not an integer", shown(reply)));
    return v;
}

bool parse_bool(std::string_view reply) {
    const auto s = trim(reply);
    if (s == "1" || s == "+1" || s == "ON" || s == "on") return true;
    if (s == "0" || s == "+0" || s == "OFF" || s == "off") return false;
    throw ProtocolError(fmt::format("reply '{}' is not a boolean (0/1/ON/OFF)", shown(reply)));
}

std::vector<double> parse_doubles(std::string_view reply) {
    std::vector<double> out;
    std::size_t start = 0;
    for (;;) {
        const auto pos = reply.find(',', start);
        const auto item = reply.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start);
        try {
            out.push_back(parse_double(item));
        } catch (const ProtocolError&) {
            throw ProtocolError(fmt::format("reply '{}' is not a list of numbers (item {} is '{}')", shown(reply),
                                            out.size() + 1, shown(item)));
        }
        if (pos == std::string_view::npos) return out;
        start = pos + 1;
    }
}

ScpiError parse_scpi_error(std::string_view reply) {
    const auto s = trim(reply);
    const auto comma = s.find(',');
    if (comma == std::string_view::npos)
        throw ProtocolError(fmt::format("error-queue reply '{}' is not <code>,\"<text>\"", shown(reply)));
    ScpiError e;
    try {
        e.code = static_cast<int>(parse_int(s.substr(0, comma)));
    } catch (const ProtocolError&) {
        throw ProtocolError(fmt::format("error-queue reply '{}' does not start with a number", shown(reply)));
    }
    auto text = trim(s.substr(comma + 1));
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
    e.message = std::string(text);
    return e;
}

std::string scpi_number(double value) {
    // 12 significant digits: beyond any instrument's resolution, and 200 ns prints as 2e-07, not
    // 2.0000000000000002e-07.
    return fmt::format("{:.12g}", value);
}

ScpiSession::ScpiSession(std::unique_ptr<Transport> transport, SessionOptions options)
    : transport_(std::move(transport)), options_(std::move(options)), log_(log::get(options_.name)) {
    if (!transport_) throw InputError(options_.name + ": session without a transport");
    if (options_.termination.read.empty()) throw InputError(options_.name + ": empty read termination");
}

ScpiSession::~ScpiSession() = default;

std::string ScpiSession::resource() const { return transport_->resource(); }

void ScpiSession::rethrow_with_context(std::string_view command, bool is_query) const {
    mtjlab::rethrow_with_context(fmt::format("{} '{}' to {}", is_query ? "asking" : "writing", command, options_.name));
}

void ScpiSession::write_locked(std::string_view command) {
    if (stale_input_) {
        try {
            resync_locked();
        } catch (const Error&) {
            rethrow_with_context(command, false);
        }
    }
    if (log_->should_log(spdlog::level::trace)) log_->trace("-> {}", command);
    std::string message;
    message.reserve(command.size() + options_.termination.write.size());
    message.append(command).append(options_.termination.write);
    try {
        transport_->write(message, options_.timeout);
    } catch (const Error&) {
        stale_input_ = true;
        rethrow_with_context(command, false);
    }
}

std::string ScpiSession::read_locked(std::string_view command) {
    try {
        for (int empty = 0;; ++empty) {
            std::string reply = transport_->read_line(options_.timeout, options_.max_reply, options_.termination.read);
            // CR LF: the LF after a CR-terminated reply reads as an empty line; skip it.
            if (reply.empty() && empty < 2 && options_.termination.read.size() > 1) continue;
            if (log_->should_log(spdlog::level::trace)) log_->trace("<- {}", shown(reply));
            return reply;
        }
    } catch (const Error&) {
        stale_input_ = true;
        rethrow_with_context(command, true);
    }
}

std::string ScpiSession::query_locked(std::string_view command) {
    write_locked(command);
    return read_locked(command);
}

void ScpiSession::write(std::string_view command) {
    std::lock_guard lock(mutex_);
    write_locked(command);
}

void ScpiSession::write_checked(std::string_view command) {
    std::lock_guard lock(mutex_);
    write_locked(command);
    if (options_.error_query.empty()) return;
    const auto errors = drain_locked();
    if (errors.empty()) return;
    std::string list;
    for (const auto& e : errors) {
        if (!list.empty()) list += "; ";
        list += fmt::format("{},\"{}\"", e.code, e.message);
    }
    throw InstrumentError(fmt::format("instrument error {}; writing '{}' to {}", list, command, options_.name));
}

std::string ScpiSession::query(std::string_view command) {
    std::lock_guard lock(mutex_);
    return query_locked(command);
}

template <class F>
auto ScpiSession::parse_or_throw(F&& f, std::string_view command) {
    std::lock_guard lock(mutex_);  // held until the reply is judged: no other transaction between
    const std::string reply = query_locked(command);
    try {
        return f(reply);
    } catch (const ProtocolError& e) {
        // A reply of the wrong form may be the late answer to an earlier query: out of step from here on.
        stale_input_ = true;
        throw ProtocolError(fmt::format("{}; asking '{}' to {}", e.what(), command, options_.name));
    }
}

double ScpiSession::query_double(std::string_view command) { return parse_or_throw(parse_double, command); }
long long ScpiSession::query_int(std::string_view command) { return parse_or_throw(parse_int, command); }
bool ScpiSession::query_bool(std::string_view command) { return parse_or_throw(parse_bool, command); }
std::vector<double> ScpiSession::query_doubles(std::string_view command) {
    return parse_or_throw(parse_doubles, command);
}

std::string ScpiSession::query_block(std::string_view command) {
    std::lock_guard lock(mutex_);
    write_locked(command);
    try {
        // A reply terminated by CR LF leaves its LF behind when CR ends the read: skip such bytes.
        std::string head = transport_->read_exact(1, options_.timeout);
        for (int skipped = 0; (head[0] == '\n' || head[0] == '\r') && skipped < 4; ++skipped)
            head = transport_->read_exact(1, options_.timeout);
        head += transport_->read_exact(1, options_.timeout);
        if (head[0] != '#' || !std::isdigit(static_cast<unsigned char>(head[1])))
            throw ProtocolError(fmt::format("reply starts '{}', not an IEEE 488.2 block '#<n>'", shown(head)));
        const int ndigits = head[1] - '0';
        std::string data;
        if (ndigits == 0) {
            // Indefinite length: the data runs to the final newline.
            data = transport_->read_line(options_.timeout, options_.max_block, "\n");
        } else {
            const auto digits = transport_->read_exact(static_cast<std::size_t>(ndigits), options_.timeout);
            std::size_t len = 0;
            const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
            if (ec != std::errc() || p != digits.data() + digits.size())
                throw ProtocolError(fmt::format("block length '{}' is not a number", shown(digits)));
            if (len > options_.max_block)
                throw ProtocolError(fmt::format("block of {} bytes exceeds the limit of {}", len, options_.max_block));
            data = transport_->read_exact(len, options_.timeout);
            (void)transport_->read_line(options_.timeout, 0, options_.termination.read);  // the terminator
        }
        if (log_->should_log(spdlog::level::trace)) log_->trace("<- block of {} bytes", data.size());
        return data;
    } catch (const Error&) {
        stale_input_ = true;
        rethrow_with_context(command, true);
    }
}

std::string ScpiSession::identify() {
    std::lock_guard lock(mutex_);
    std::string idn = query_locked("*IDN?");
    // The marker that resynchronises a serial line: its reply is known and unlike any measured value.
    if (!trim(idn).empty()) marker_reply_ = std::string(trim(idn));
    return idn;
}

void ScpiSession::sync(Duration timeout) {
    std::lock_guard lock(mutex_);
    sync_locked(timeout);
}

void ScpiSession::sync_locked(Duration timeout) {
    write_locked("*OPC?");
    const auto saved = options_.timeout;
    options_.timeout = timeout;
    std::string reply;
    try {
        reply = read_locked("*OPC?");
    } catch (...) {
        options_.timeout = saved;
        throw;
    }
    options_.timeout = saved;
    if (trim(reply) != "1" && trim(reply) != "+1") {
        stale_input_ = true;  // out of step with the instrument: drop whatever else is on its way
        throw ProtocolError(fmt::format("reply '{}' to *OPC? is not 1; asking '*OPC?' to {}", shown(reply), options_.name));
    }
}

void ScpiSession::write_confirmed(std::initializer_list<std::string_view> commands, std::string_view confirm,
                                  const std::function<bool(std::string_view)>& accept, unsigned attempts) {
    // Only "*OPC?" confirms by itself; any other query (a read-back) says nothing unless its reply is checked.
    if (!accept && confirm != "*OPC?")
        throw InputError(fmt::format("{}: write_confirmed with the query '{}' needs a check of its reply", options_.name,
                                     confirm));
    std::lock_guard lock(mutex_);
    for (unsigned attempt = 1;; ++attempt) {
        try {
            for (const auto command : commands) write_locked(command);
            if (!accept) {
                sync_locked(options_.timeout);
                return;
            }
            const std::string reply = query_locked(confirm);
            if (accept(trim(reply))) return;
            stale_input_ = true;
            throw ProtocolError(fmt::format("reply '{}' does not confirm the safe setting; asking '{}' to {}",
                                            shown(reply), confirm, options_.name));
        } catch (const Error& e) {
            // Timeouts, dropped links and garbled replies are worth another attempt; nothing else is.
            const bool link = dynamic_cast<const TimeoutError*>(&e) || dynamic_cast<const TransportError*>(&e) ||
                              dynamic_cast<const ProtocolError*>(&e);
            if (!link || attempt >= attempts) throw;
            log_->warn("{}; sending again ({} of {})", e.what(), attempt + 1, attempts);
        }
        stale_input_ = true;  // the next attempt's first write resynchronises (and may fail: another attempt)
    }
}

void ScpiSession::resync_locked() {
    // Out of step (a reply lost, spoilt, overlong or unsolicited): the reply that failed, or its tail, may still
    // be on its way, and read as the answer to the next query it would confirm the wrong thing. TCP and USBTMC
    // drop it at the link; a serial line cannot.
    if (transport_->abandon_exchange()) {
        stale_input_ = false;
        return;
    }
    if (marker_reply_.empty()) {
        // Not identified yet, so no marker: discard what arrives until the line has been quiet for one reply
        // timeout (a reply later than that can still reach the next query).
        log_->warn("out of step with the instrument: waiting {} ms for late replies",
                   std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count());
        try {
            for (int lines = 0; lines < 64; ++lines)
                (void)transport_->read_line(options_.timeout, options_.max_reply, "\n");
        } catch (const Error&) {
        }
        transport_->discard_input();  // a line cut by the quiet deadline is not the start of the next reply
        stale_input_ = false;
        return;
    }
    // A marker: the instrument answers in order, so every late reply comes before the marker's answer. Lines are
    // read and dropped up to that answer, at most max_resync_lines of them (an instrument that keeps sending - a
    // streaming mode, a wrong baud rate - must not keep the session here).
    constexpr int max_resync_lines = 256;
    const auto wait = options_.timeout * 4;
    log_->warn("out of step with the instrument: sending *IDN? and dropping replies up to its answer");
    std::string message = "*IDN?";
    message += options_.termination.write;
    transport_->write(message, options_.timeout);
    for (int lines = 0;; ++lines) {
        if (lines >= max_resync_lines) {
            marker_unanswered_ = true;
            throw ProtocolError(fmt::format("out of step: {} replies and none the answer to the marker query '*IDN?' "
                                            "(is the instrument streaming, or the line's settings wrong?)",
                                            max_resync_lines));
        }
        std::string line;
        try {
            line = transport_->read_line(wait, options_.max_reply, options_.termination.read);
        } catch (const ProtocolError&) {
            continue;  // an overlong late reply: dropped by read_line
        } catch (const TimeoutError&) {
            marker_unanswered_ = true;  // its answer may still come: see below
            throw TimeoutError(fmt::format(
                "out of step: no reply to the marker query '*IDN?' within {} ms",
                std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()));
        }
        if (trim(line) == marker_reply_) break;
        if (!trim(line).empty()) log_->warn("dropped a late reply '{}'", shown(line));
    }
    if (marker_unanswered_) {
        // An earlier marker was not answered in time. If it is answered at all it is before this one, so the line
        // just read may be its answer and this marker's answer may follow at once: drop lines until the line has
        // been quiet for one reply timeout. (A marker the instrument never answered costs only this wait.)
        try {
            for (int lines = 0; lines < max_resync_lines; ++lines)
                (void)transport_->read_line(options_.timeout, options_.max_reply, options_.termination.read);
        } catch (const Error&) {
        }
        transport_->discard_input();
        marker_unanswered_ = false;
    }
    stale_input_ = false;
}

std::vector<ScpiError> ScpiSession::drain_locked() {
    std::vector<ScpiError> errors;
    if (options_.error_query.empty()) return errors;
    for (unsigned i = 0; i < options_.max_error_drain; ++i) {
        const auto reply = query_locked(options_.error_query);
        ScpiError e;
        try {
            e = parse_scpi_error(reply);
        } catch (const ProtocolError& ex) {
            stale_input_ = true;  // perhaps a late reply to an earlier query: out of step from here on
            throw ProtocolError(fmt::format("{}; asking '{}' to {}", ex.what(), options_.error_query, options_.name));
        }
        if (e.code == 0) return errors;
        errors.push_back(std::move(e));
    }
    errors.push_back({0, fmt::format("(error queue still not empty after {} reads)", options_.max_error_drain)});
    return errors;
}

std::vector<ScpiError> ScpiSession::drain_errors() {
    std::lock_guard lock(mutex_);
    return drain_locked();
}

void ScpiSession::check_errors(std::string_view after_command) {
    const auto errors = drain_errors();
    if (errors.empty()) return;
    std::string list;
    for (const auto& e : errors) {
        if (!list.empty()) list += "; ";
        list += fmt::format("{},\"{}\"", e.code, e.message);
    }
    throw InstrumentError(fmt::format("instrument error {} after '{}' to {}", list, after_command, options_.name));
}

}  // namespace mtjlab::drivers
