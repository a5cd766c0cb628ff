#include "config/hnvctl/run_command.h"

#include <chrono>
#include <iostream>
#include <thread>

#include "config/hnvctl/compartment_view.h"
#include "config/hnvctl/output.h"
#include "config/hnvctl/nat_view.h"
#include "config/hnvctl/vpn_view.h"

namespace hnv::ctl {

using config::Request;
using nlohmann::json;

int Fail(int code, const std::string& line) {
  std::cerr << "hnvctl: " << line << "\n";
  return code;
}

int RunCommand(const Command& cmd, const Ask& ask, bool as_json, int timeout) {
  int exit_code = kExitOk;
  if (cmd.view == View::kPolicy) {
    json results = json::object();
    for (config::Kind kind : config::kAllKinds) {
      if (kind == config::Kind::kRoutingDomain || kind == config::Kind::kVirtualSubnet ||
          kind == config::Kind::kPortAcl || kind == config::Kind::kPortExtendedAcl) {
        continue;  // the chapter's five views (ACLs: Get-VMNetworkAdapter(Extended)Acl)
      }
      Request r{"get", json{{"kind", config::KindName(kind)}}};
      std::optional<json> result = ask(r, timeout, &exit_code);
      if (!result) return exit_code;
      results[config::KindName(kind)] = std::move(*result);
    }
    if (as_json) {
      std::cout << results.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
      return kExitOk;
    }
    Rendered out = RenderPolicy(results);
    if (!out.error.empty()) return Fail(kExitError, out.error);
    std::cout << out.text;
    return kExitOk;
  }

  std::optional<json> result = ask(cmd.request, timeout, &exit_code);
  if (!result) return exit_code;
  if (cmd.view == View::kCapture && !cmd.background) {
    // The server captures beside its control loop: ask until it is done.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout);
    while (result->is_object() && result->value("running", false) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      result = ask(Request{"capture-status", json{{"id", (*result)["id"]}}}, 5000, &exit_code);
      if (!result) return exit_code;
    }
  }
  if (cmd.view == View::kObjects && cmd.request.op == "get") {
    result = FilterObjects(*cmd.kind, *result, cmd.filter);
  }
  if (as_json) {
    if (cmd.view != View::kNothing || !result->is_null()) {
      std::cout << result->dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    }
    return kExitOk;
  }
  switch (cmd.view) {
    case View::kObjects: {
      if (cmd.request.op == "get") {
        Rendered out = RenderObjects(*cmd.kind, *result, config::Mode::kPartial);
        if (!out.error.empty()) return Fail(kExitError, out.error);
        std::cout << SelectProperties(out.text, cmd.properties);
      } else {
        // new/set: the object when the server returns it whole; a partial
        // echo would print invented defaults, so it prints nothing.
        Rendered out = RenderObjects(*cmd.kind, *result, config::Mode::kFull);
        if (out.error.empty()) std::cout << out.text;
      }
      break;
    }
    case View::kNothing:
    case View::kPolicy:
      break;
    case View::kCounters:
      std::cout << RenderCounters(*result);
      break;
    case View::kTrace:
      std::cout << RenderTrace(*result);
      break;
    case View::kCapture:
      std::cout << RenderCapture(*result, cmd.request.args);
      break;
    case View::kVersion:
      std::cout << RenderVersion(*result);
      break;
    case View::kApply:
      std::cout << RenderApply(*result);
      break;
    case View::kCompartments:
    case View::kCompartment: {
      Rendered out =
          cmd.view == View::kCompartments
              ? RenderCompartments(*result)
              : RenderCompartment(*result, cmd.request.args.value("name", std::string()));
      if (!out.error.empty()) return Fail(kExitError, out.error);
      std::cout << out.text;
      break;
    }
    case View::kVpn: {
      const Rendered out = RenderVpn(*result);
      if (!out.error.empty()) return Fail(kExitError, out.error);
      std::cout << out.text;
      break;
    }
    case View::kNat:
    case View::kLb: {
      const Rendered out = cmd.view == View::kNat ? RenderNat(*result) : RenderLb(*result);
      if (!out.error.empty()) return Fail(kExitError, out.error);
      std::cout << out.text;
      break;
    }
  }
  std::cout.flush();
  return std::cout ? kExitOk : kExitError;
}

}  // namespace hnv::ctl
