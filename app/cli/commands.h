#pragma once
// `itera` subcommands. Each takes the arguments after its name and returns the
// process exit code; errors are thrown as itera::Error and printed by main.

#include <string>
#include <vector>

namespace itera::cli {

int model_command(const std::vector<std::string>& args);
int bench_command(const std::vector<std::string>& args);
int data_command(const std::vector<std::string>& args);
int train_command(const std::vector<std::string>& args);
int runs_command(const std::vector<std::string>& args);
int sweep_command(const std::vector<std::string>& args);
int generate_command(const std::vector<std::string>& args);
int score_command(const std::vector<std::string>& args);
int eval_command(const std::vector<std::string>& args);
int compress_command(const std::vector<std::string>& args);
int inspect_command(const std::vector<std::string>& args);
int report_command(const std::vector<std::string>& args);
int prune_command(const std::vector<std::string>& args);
int distill_command(const std::vector<std::string>& args);
int serve_command(const std::vector<std::string>& args);
int serve_bench_command(const std::vector<std::string>& args);
int adapt_command(const std::vector<std::string>& args);

/// Formats 1624320 as "1,624,320".
std::string with_commas(long long n);

}  // namespace itera::cli
