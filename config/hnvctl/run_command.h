// Runs one parsed hnvctl command (command.h) through an `Ask` that answers
// its requests, and prints the result (output.h): the same views whether
// the answers come from a daemon's control socket or from the policy store
// (store_commands.h).
//
// Thread: the caller's; prints to stdout, errors to stderr.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "config/control.h"
#include "config/hnvctl/command.h"

namespace hnv::ctl {

// Answers one request: the result, or nullopt after printing the error
// (Fail) with *exit_code set.
using Ask = std::function<std::optional<nlohmann::json>(const config::Request& request,
                                                        int timeout_ms, int* exit_code)>;

// Prints "hnvctl: <line>" on stderr and returns `code`.
int Fail(int code, const std::string& line);

int RunCommand(const Command& cmd, const Ask& ask, bool as_json, int timeout_ms);

}  // namespace hnv::ctl
