#include "data/json_stories.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include "data/utf8.h"
#include "util/error.h"

namespace itera {
namespace {

using json = nlohmann::json;

class StorySax : public nlohmann::json_sax<json> {
public:
    StorySax(std::string file, const std::function<void(std::string&&)>& sink)
        : file_(std::move(file)), sink_(sink) {}

    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool string(string_t& s) override {
        if (depth_ == 2 && in_story_) {
            has_story_ = true;
            in_story_ = false;
            sink_(std::move(s));
            return true;
        }
        return value();
    }
    bool start_object(std::size_t) override {
        if (depth_ == 0) fail("expected a JSON array of story objects, found an object");
        ++depth_;
        if (depth_ == 2) has_story_ = false;
        return true;
    }
    bool end_object() override {
        if (depth_ == 2) {
            if (!has_story_) fail("object #" + std::to_string(index_) + " has no \"story\" string");
            ++index_;
        }
        --depth_;
        return true;
    }
    bool start_array(std::size_t) override {
        if (depth_ == 1)
            fail("element #" + std::to_string(index_) +
                 " is an array, expected an object with \"story\"");
        ++depth_;
        return true;
    }
    bool end_array() override {
        --depth_;
        return true;
    }
    bool key(string_t& k) override {
        in_story_ = depth_ == 2 && k == "story";
        return true;
    }
    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception& e) override {
        fail("malformed JSON near byte " + std::to_string(position) + ": " + e.what());
    }

private:
    bool value() {
        if (depth_ == 2 && in_story_)
            fail("object #" + std::to_string(index_) + ": \"story\" is not a string");
        if (depth_ == 1)
            fail("element #" + std::to_string(index_) + " is not an object with \"story\"");
        if (depth_ == 0) fail("expected a JSON array of story objects");
        in_story_ = false;
        return true;
    }
    [[noreturn]] void fail(const std::string& what) { throw Error(file_ + ": " + what); }

    std::string file_;
    const std::function<void(std::string&&)>& sink_;
    int depth_ = 0;
    bool in_story_ = false, has_story_ = false;
    std::size_t index_ = 0;
};

}  // namespace

void read_json_stories(const std::filesystem::path& file, bool replace_invalid,
                       const std::function<void(std::string&&)>& sink) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(file.string() + ": cannot open for reading");
    StorySax sax(file.string(), sink);
    // nlohmann rejects invalid UTF-8 inside strings (a parse error with its
    // byte position); with `replace_invalid` the text is repaired first.
    if (replace_invalid) {
        std::string text((std::istreambuf_iterator<char>(in)), {});
        text = replace_invalid_utf8(text);
        json::sax_parse(text, &sax);
    } else {
        json::sax_parse(in, &sax);
    }
}

}  // namespace itera
