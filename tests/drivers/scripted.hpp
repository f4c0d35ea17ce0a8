#pragma once
// A fake transport for scripted dialogues: a list of expected messages and the reply to each. Any
// message that is not the next expected one fails the test (ScriptMismatch is not an mtjlab::Error,
// so no driver code can swallow it).
#include <deque>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/scpi/session.hpp"
#include "mtjlab/drivers/transport/transport.hpp"

namespace mtjlab::test {

struct ScriptMismatch : std::logic_error {
    using std::logic_error::logic_error;
};

struct Step {
    std::string write;                 ///< expected message without termination
    std::optional<std::string> reply;  ///< reply without termination (terminated with "\n")
};

class ScriptedTransport final : public drivers::Transport {
public:
    explicit ScriptedTransport(std::deque<Step> script, std::string termination = "\n")
        : script_(std::move(script)), term_(std::move(termination)) {}
    void write(std::string_view data, drivers::Duration) override {
        pending_.append(data);
        std::size_t pos;
        while ((pos = pending_.find(term_)) != std::string::npos) {
            const std::string msg = pending_.substr(0, pos);
            pending_.erase(0, pos + term_.size());
            ++writes_;
            if (script_.empty()) throw ScriptMismatch("unexpected message after the end of the script: '" + msg + "'");
            if (script_.front().write != msg)
                throw ScriptMismatch("expected '" + script_.front().write + "' but the driver sent '" + msg + "'");
            if (script_.front().reply) replies_ += *script_.front().reply + "\n";
            script_.pop_front();
        }
    }
    void close() override {}
    [[nodiscard]] std::string resource() const override { return "SCRIPT::test"; }
    [[nodiscard]] std::size_t remaining() const { return script_.size(); }
    [[nodiscard]] std::size_t writes() const { return writes_; }

protected:
    void read_some(std::string& out, std::size_t max, drivers::Clock::time_point) override {
        if (replies_.empty()) throw TimeoutError("scripted transport: no reply scripted");
        const auto n = std::min(max, replies_.size());
        out.append(replies_, 0, n);
        replies_.erase(0, n);
    }

    void drain_pending() override { replies_.clear(); }

private:
    std::deque<Step> script_;
    std::string term_;
    std::string pending_;
    std::string replies_;
    std::size_t writes_ = 0;
};

/// A session over a scripted transport; `t` points at the transport for remaining()/writes().
struct Scripted {
    std::shared_ptr<drivers::ScpiSession> session;
    ScriptedTransport* t = nullptr;
};

inline Scripted scripted(std::deque<Step> script, drivers::SessionOptions options = {}) {
    auto tr = std::make_unique<ScriptedTransport>(std::move(script), options.termination.write);
    auto* raw = tr.get();
    return {std::make_shared<drivers::ScpiSession>(std::move(tr), std::move(options)), raw};
}

}  // namespace mtjlab::test
