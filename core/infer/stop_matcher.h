#pragma once
// Stop strings over streamed text: text that might be the start of a stop
// string is held back, so a stream never shows part of one, and the text is
// cut right before the first complete match.

#include <string>
#include <utility>
#include <vector>

namespace itera {

class StopMatcher {
public:
    explicit StopMatcher(std::vector<std::string> stops) : stops_(std::move(stops)) {}

    /// Appends `piece`; returns the text now safe to release (up to the match, once matched).
    std::string add(const std::string& piece);

    /// Releases what is held back (at the end of generation).
    std::string flush() { return std::exchange(pending_, {}); }

    bool matched() const { return matched_; }

private:
    std::vector<std::string> stops_;
    std::string pending_;
    bool matched_ = false;
};

}  // namespace itera
