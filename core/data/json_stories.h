#pragma once
// Streaming reader of TinyStories JSON shards: a top-level array of objects,
// each with a "story" string. Parsed with a SAX handler, so a shard of 100k
// stories never exists as a DOM in memory.

#include <filesystem>
#include <functional>
#include <string>

namespace itera {

/// Calls `sink` with each story. Throws itera::Error naming the file and the
/// object index for an object without a "story" string, and the byte
/// position for malformed JSON or invalid UTF-8 (unless `replace_invalid`).
void read_json_stories(const std::filesystem::path& file, bool replace_invalid,
                       const std::function<void(std::string&&)>& sink);

}  // namespace itera
