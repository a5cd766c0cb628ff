// hnvctl: the command-line client of hnv-vswitch's control socket. See
// UsageText() (command.cc) for the commands; command.h for how they become
// requests, output.h for what is printed.
//
// Every failure is one line on stderr starting with "hnvctl: ", exit status 1
// (2 for a malformed command line).
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "config/control.h"
#include "config/hnvctl/command.h"
#include "config/hnvctl/compartment_view.h"
#include "config/hnvctl/vpn_view.h"
#include "config/hnvctl/output.h"

namespace {

using hnv::config::Call;
using hnv::config::Request;
using hnv::config::Response;
using nlohmann::json;
namespace ctl = hnv::ctl;

constexpr const char* kDefaultSocket = "/run/hnv/vswitch.sock";

int Fail(int code, const std::string& line) {
  std::cerr << "hnvctl: " << line << "\n";
  return code;
}

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
    if (a == "--json") {
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
  ctl::ParseOutcome parsed = ctl::ParseCommand(words);
  if (!parsed.command) return Fail(parsed.exit_code, parsed.error);
  ctl::Command& cmd = *parsed.command;
  const int timeout = timeout_ms.value_or(cmd.timeout_ms);
  int exit_code = ctl::kExitOk;

  if (cmd.view == ctl::View::kPolicy) {
    json results = json::object();
    for (hnv::config::Kind kind : hnv::config::kAllKinds) {
      if (kind == hnv::config::Kind::kRoutingDomain || kind == hnv::config::Kind::kVirtualSubnet) {
        continue;  // the chapter's five views
      }
      Request r{"get", json{{"kind", hnv::config::KindName(kind)}}};
      std::optional<json> result = Ask(socket, r, timeout, &exit_code);
      if (!result) return exit_code;
      results[hnv::config::KindName(kind)] = std::move(*result);
    }
    if (as_json) {
      std::cout << results.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
      return ctl::kExitOk;
    }
    ctl::Rendered out = ctl::RenderPolicy(results);
    if (!out.error.empty()) return Fail(ctl::kExitError, out.error);
    std::cout << out.text;
    return ctl::kExitOk;
  }

  std::optional<json> result = Ask(socket, cmd.request, timeout, &exit_code);
  if (!result) return exit_code;
  if (cmd.view == ctl::View::kObjects && cmd.request.op == "get") {
    result = ctl::FilterObjects(*cmd.kind, *result, cmd.filter);
  }
  if (as_json) {
    if (cmd.view != ctl::View::kNothing || !result->is_null()) {
      std::cout << result->dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    }
    return ctl::kExitOk;
  }
  switch (cmd.view) {
    case ctl::View::kObjects: {
      if (cmd.request.op == "get") {
        ctl::Rendered out = ctl::RenderObjects(*cmd.kind, *result, hnv::config::Mode::kPartial);
        if (!out.error.empty()) return Fail(ctl::kExitError, out.error);
        std::cout << ctl::SelectProperties(out.text, cmd.properties);
      } else {
        // new/set: the object when the server returns it whole; a partial
        // echo would print invented defaults, so it prints nothing.
        ctl::Rendered out = ctl::RenderObjects(*cmd.kind, *result, hnv::config::Mode::kFull);
        if (out.error.empty()) std::cout << out.text;
      }
      break;
    }
    case ctl::View::kNothing:
    case ctl::View::kPolicy:
      break;
    case ctl::View::kCounters:
      std::cout << ctl::RenderCounters(*result);
      break;
    case ctl::View::kTrace:
      std::cout << ctl::RenderTrace(*result);
      break;
    case ctl::View::kCapture:
      std::cout << ctl::RenderCapture(*result, cmd.request.args);
      break;
    case ctl::View::kVersion:
      std::cout << ctl::RenderVersion(*result);
      break;
    case ctl::View::kApply:
      std::cout << ctl::RenderApply(*result);
      break;
    case ctl::View::kCompartments:
    case ctl::View::kCompartment: {
      ctl::Rendered out =
          cmd.view == ctl::View::kCompartments
              ? ctl::RenderCompartments(*result)
              : ctl::RenderCompartment(*result, cmd.request.args.value("name", std::string()));
      if (!out.error.empty()) return Fail(ctl::kExitError, out.error);
      std::cout << out.text;
      break;
    }
    case ctl::View::kVpn: {
      const ctl::Rendered out = ctl::RenderVpn(*result);
      if (!out.error.empty()) return Fail(ctl::kExitError, out.error);
      std::cout << out.text;
      break;
    }
  }
  std::cout.flush();
  return std::cout ? ctl::kExitOk : ctl::kExitError;
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
