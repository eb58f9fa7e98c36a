#include <cctype>

#include "report/png.h"
#include "report/report.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace itera {

std::string image_prefix_for(const std::filesystem::path& markdown_path) {
    // Safe in a Markdown link without escaping: letters, digits, '.', '_', '-'.
    std::string prefix;
    for (char c : markdown_path.stem().string())
        prefix += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'
                      ? c
                      : '-';
    return prefix.empty() ? "report" : prefix;
}

void write_report(const Report& report, const std::filesystem::path& markdown_path) {
    if (markdown_path.empty()) throw Error("no output file was given for the report");
    const auto dir = markdown_path.parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
        throw Error("cannot write the report: folder " + dir.string() + " does not exist");
    // Charts first: a Markdown file never links to a chart that is not there.
    for (const auto& image : report.images)
        write_file_atomically(dir / image.file_name, encode_png(image.image));
    write_file_atomically(markdown_path, report.markdown);
}

}  // namespace itera
