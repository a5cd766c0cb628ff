// hnvctl: the command-line client of hnv-vswitch's and hnv-gateway's control
// socket, and with --store URL of the central policy store
// (store_commands.h). See UsageText() (command.cc) for the commands;
// command.h for how they become requests, output.h for what is printed.
//
// Every failure is one line on stderr starting with "hnvctl: ", exit status 1
// (2 for a malformed command line).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <iostream>
#include <thread>
#include <string>
#include <vector>

#include "config/control.h"
#include "config/hnvctl/command.h"
#include "config/hnvctl/compartment_view.h"
#include "config/hnvctl/vpn_view.h"
#include "config/hnvctl/nat_view.h"
#include "config/hnvctl/output.h"
#include "config/hnvctl/run_command.h"
#include "config/hnvctl/store_commands.h"

namespace {

using hnv::config::Call;
using hnv::config::Request;
using hnv::config::Response;
using nlohmann::json;
namespace ctl = hnv::ctl;

constexpr const char* kDefaultSocket = "/run/hnv/vswitch.sock";

using ctl::Fail;

// One request; on failure prints the error line and returns nullopt.
std::optional<json> Ask(const std::string& socket, const Request& request, int timeout_ms,
                        int* exit_code) {
  std::string error;
  std::optional<Response> response = Call(socket, request, &error, timeout_ms);
  if (!response) {
    if (error.rfind("cannot connect to ", 0) == 0) error += " (is hnv-vswitch running?)";
    *exit_code = Fail(ctl::kExitError, error);
    return std::nullopt;
  }
  if (!response->ok) {
    *exit_code = Fail(ctl::kExitError, response->error);
    return std::nullopt;
  }
  return std::move(response->result);
}

int Run(int argc, char** argv) {
  std::string socket;
  if (const char* env = std::getenv("HNV_SOCKET"); env != nullptr && *env != '\0') socket = env;
  if (socket.empty()) socket = kDefaultSocket;
  bool as_json = false;
  std::optional<int> timeout_ms;
  ctl::StoreArgs store;
  if (const char* env = std::getenv("HNV_STORE"); env != nullptr) store.url = env;
  if (const char* env = std::getenv("HNV_STORE_PASSWORD"); env != nullptr) store.password = env;
  // --store and its companions: OPTION VALUE or OPTION=VALUE.
  const std::pair<const char*, std::string*> store_options[] = {
      {"--store", &store.url},          {"--store-root", &store.root},
      {"--store-ca", &store.ca_file},   {"--store-cert", &store.cert_file},
      {"--store-key", &store.key_file}, {"--store-user", &store.user},
      {"--store-password", &store.password}, {"--host", &store.host}};

  int i = 1;
  for (; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const std::string& name) -> std::optional<std::string> {
      if (a.size() > name.size() && a.compare(0, name.size() + 1, name + "=") == 0) {
        return a.substr(name.size() + 1);
      }
      if (a == name && i + 1 < argc) return std::string(argv[++i]);
      return std::nullopt;
    };
    if (a == "--help" || a == "-h" || a == "help") {
      std::cout << ctl::UsageText();
      return ctl::kExitOk;
    }
    const auto store_option =
        std::find_if(std::begin(store_options), std::end(store_options), [&](const auto& o) {
          return a == o.first || a.rfind(std::string(o.first) + "=", 0) == 0;
        });
    if (store_option != std::end(store_options)) {
      std::optional<std::string> v = value(store_option->first);
      if (!v || v->empty()) return Fail(ctl::kExitUsage, std::string(store_option->first) + " needs a value");
      *store_option->second = *v;
    } else if (a.rfind("--retries", 0) == 0) {
      std::optional<std::string> v = value("--retries");
      if (!v || v->empty() || v->find_first_not_of("0123456789") != std::string::npos ||
          v->size() > 4) {
        return Fail(ctl::kExitUsage, "--retries needs a number");
      }
      store.retries = std::stoi(*v);
    } else if (a == "--json") {
      as_json = true;
    } else if (a.rfind("--socket", 0) == 0) {
      std::optional<std::string> v = value("--socket");
      if (!v || v->empty()) return Fail(ctl::kExitUsage, "--socket needs a path");
      socket = *v;
    } else if (a.rfind("--timeout", 0) == 0) {
      std::optional<std::string> v = value("--timeout");
      if (!v || v->empty() || v->find_first_not_of("0123456789") != std::string::npos ||
          v->size() > 9) {
        return Fail(ctl::kExitUsage, "--timeout needs a number of milliseconds");
      }
      timeout_ms = std::stoi(*v);
    } else if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      return Fail(ctl::kExitUsage, "unknown option " + a + " (try hnvctl --help)");
    } else {
      break;
    }
  }
  const std::vector<std::string> words(argv + i, argv + argc);
  if (!store.url.empty()) return ctl::RunStoreCommand(store, words, as_json, timeout_ms);
  if (!store.host.empty() || !store.ca_file.empty() || !store.cert_file.empty())
    return Fail(ctl::kExitUsage, "--host and --store-* go with --store URL");
  ctl::ParseOutcome parsed = ctl::ParseCommand(words);
  if (!parsed.command) return Fail(parsed.exit_code, parsed.error);
  ctl::Command& cmd = *parsed.command;
  const int timeout = timeout_ms.value_or(cmd.timeout_ms);

  return ctl::RunCommand(
      cmd,
      [&](const Request& r, int ms, int* exit_code) {
        return Ask(socket, r, ms, exit_code);
      },
      as_json, timeout);
}

}  // namespace

int main(int argc, char** argv) {
  // Nothing below should throw; a bug that does still ends in one line.
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    return Fail(ctl::kExitError, std::string("internal error: ") + e.what());
  }
}
