#include "gateway/compartment/compartment.h"

#include <sys/stat.h>

#include <filesystem>

#include "daemon/log.h"

namespace hnv::gateway {

using nlohmann::json;

namespace {

json Pb(const PacketsBytes& p) { return {{"packets", p.packets}, {"bytes", p.bytes}}; }

}  // namespace

// ---- ServiceContext ----

int ServiceContext::InterfaceOf(int ifindex) const {
  for (size_t i = 0; i < taps_.size(); ++i)
    if (taps_[i]->ifindex() == ifindex) return static_cast<int>(i);
  return -1;
}

std::string ServiceContext::state_dir() const {
  return CompartmentStateDir(env_->state_dir, spec_->name);
}

bool ServiceContext::MakeStateDir(std::string* error) {
  if (env_->state_dir.empty()) {
    *error = "the gateway has no state directory";
    return false;
  }
  const std::string dir = state_dir();
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return true;
  std::filesystem::create_directories(dir, ec);
  if (ec || chmod(dir.c_str(), 0700) != 0) {
    *error = "state directory " + dir + ": " + (ec ? ec.message() : std::string("chmod failed"));
    return false;
  }
  made_state_dir_ = true;
  return true;
}

// ---- Compartment ----

std::unique_ptr<Compartment> Compartment::Create(const CompartmentSpec& spec,
                                                 const CompartmentEnv& env, std::string* error) {
  std::unique_ptr<Compartment> c(new Compartment(spec, env));
  c->slots_.resize(c->env_.services.size());
  for (size_t i = 0; i < c->env_.services.size(); ++i) {
    std::unique_ptr<CompartmentService> s = c->env_.services[i](c->spec_);
    if (!s) continue;
    std::string e;
    if (!c->StartService(i, std::move(s), &e)) {
      *error = "compartment " + spec.name + " (namespace " + spec.netns + "): " + e;
      c->StopAll(StopReason::kStartFailed);
      return nullptr;
    }
  }
  c->Poll();
  return c;
}

bool Compartment::StartService(size_t i, std::unique_ptr<CompartmentService> s,
                               std::string* error) {
  if (!s->Start(ctx_, error)) {
    *error = std::string(s->name()) + ": " + *error;
    return false;
  }
  slots_[i] = Slot{std::move(s), false, {}};
  next_tick_ = {};  // a new service gets its first Poll at once
  return true;
}

void Compartment::StopAll(StopReason why) {
  for (size_t i = slots_.size(); i-- > 0;) {
    if (!slots_[i].service) continue;
    slots_[i].service->Stop(ctx_, why);
    slots_[i].service.reset();
  }
  const bool drop_state =
      why == StopReason::kRemove || (why == StopReason::kStartFailed && ctx_.made_state_dir());
  if (drop_state && !env_.state_dir.empty()) {
    std::error_code ec;
    const std::string dir = ctx_.state_dir();
    if (std::filesystem::remove_all(dir, ec) > 0)
      Log("compartment %s: state %s removed", spec_.name.c_str(), dir.c_str());
  }
}

Compartment::~Compartment() { StopAll(remove_ ? StopReason::kRemove : StopReason::kDetach); }

std::string Compartment::NeedsRecreate(const CompartmentSpec& next) const {
  for (const Slot& s : slots_) {
    if (!s.service) continue;
    std::string why = s.service->NeedsRecreate(ctx_, next);
    if (!why.empty()) return why;
  }
  return {};
}

bool Compartment::Update(const CompartmentSpec& next, std::string* error) {
  std::vector<std::unique_ptr<CompartmentService>> fresh(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) fresh[i] = env_.services[i](next);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].service || !fresh[i]) continue;
    if (!slots_[i].service->Update(ctx_, next, error)) {
      *error = std::string(slots_[i].service->name()) + ": " + *error;
      return false;
    }
  }
  spec_ = next;
  // Services the new spec does not want any more stop, in reverse; new ones start, in order.
  for (size_t i = slots_.size(); i-- > 0;) {
    if (!slots_[i].service || fresh[i]) continue;
    Log("compartment %s: service %s stopped (no longer configured)", spec_.name.c_str(),
        slots_[i].service->name());
    slots_[i].service->Stop(ctx_, StopReason::kRemove);
    slots_[i] = Slot{};
  }
  bool ok = true;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].service || !fresh[i]) continue;
    std::string e;
    if (!StartService(i, std::move(fresh[i]), &e)) {
      *error += (error->empty() ? "" : "\n") + e;
      ok = false;
    } else {
      Log("compartment %s: service %s started", spec_.name.c_str(), slots_[i].service->name());
    }
  }
  Poll();
  return ok;
}

void Compartment::PollService(Slot& slot) {
  std::string error;
  const bool ok = slot.service->Poll(ctx_, &error);
  if (!ok && (!slot.failed || error != slot.error))
    Log("compartment %s: service %s failed: %s", spec_.name.c_str(), slot.service->name(),
        error.c_str());
  else if (ok && slot.failed)
    Log("compartment %s: service %s running again", spec_.name.c_str(), slot.service->name());
  slot.failed = !ok;
  slot.error = ok ? std::string() : error;
}

void Compartment::Poll() {
  pollfds_.clear();
  pollfd_end_.assign(slots_.size(), 0);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].service) {
      fds_.clear();
      slots_[i].service->PollFds(&fds_);
      for (int fd : fds_) pollfds_.push_back({fd, POLLIN, 0});
    }
    pollfd_end_[i] = pollfds_.size();
  }
  if (!pollfds_.empty()) poll(pollfds_.data(), pollfds_.size(), 0);
  const auto now = std::chrono::steady_clock::now();
  const bool tick = now >= next_tick_;
  if (tick) next_tick_ = now + std::chrono::milliseconds(kServiceTickMs);
  size_t begin = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    bool ready = tick;
    for (size_t k = begin; k < pollfd_end_[i] && !ready; ++k) ready = pollfds_[k].revents != 0;
    begin = pollfd_end_[i];
    if (ready && slots_[i].service) PollService(slots_[i]);
  }
}

const CompartmentService* Compartment::service(std::string_view name) const {
  for (const Slot& s : slots_)
    if (s.service && name == s.service->name()) return s.service.get();
  return nullptr;
}

json Compartment::Inspect(std::string_view name) const {
  for (const Slot& s : slots_)
    if (s.service && name == s.service->name()) return s.service->Inspect(ctx_);
  return nullptr;
}

std::string Compartment::service_state(std::string_view name) const {
  for (const Slot& s : slots_)
    if (s.service && name == s.service->name()) return s.failed ? "failed: " + s.error : "running";
  return {};
}

json Compartment::Status(const std::string& vm_port_label,
                         const std::vector<std::string>& port_names) const {
  json o = {{"name", spec_.name},
            {"id", spec_.id},
            {"namespace", spec_.netns},
            {"rdid", spec_.rdid.ToString()},
            {"vsid", spec_.vsid},
            {"file", spec_.file},
            {"gateway_ca", spec_.vm_address.ToString()}};
  const StatusLabels labels{vm_port_label, port_names};
  json services = json::array();
  for (const Slot& s : slots_) {
    if (!s.service) continue;
    s.service->AddCompartmentStatus(ctx_, labels, &o);
    const ServiceStatus st = s.service->Status(ctx_);
    json one = {{"name", s.service->name()},
                {"state", s.failed ? "failed" : "running"},
                {"summary", st.summary},
                {"detail", st.detail}};
    if (s.failed) one["error"] = s.error;
    services.push_back(std::move(one));
  }
  o["services"] = std::move(services);

  if (env_.fastpath == nullptr) return o;
  const CompartmentCounters c = env_.fastpath->Counters(spec_.id);
  json punted = json::object(), dropped = json::object();
  for (size_t i = 0; i < kPuntCount; ++i) punted[PuntName(static_cast<Punt>(i))] = c.punt[i];
  for (size_t i = 0; i < kGwDropCount; ++i) dropped[GwDropName(static_cast<GwDrop>(i))] = c.drop[i];
  PacketsBytes injected{c.inject_vm.packets + c.inject_external.packets,
                        c.inject_vm.bytes + c.inject_external.bytes};
  o["counters"] = {{"rx_vm", Pb(c.rx_vm)},
                   {"rx_external", Pb(c.rx_external)},
                   {"to_external", Pb(c.fwd_external)},
                   {"to_vm", Pb(c.fwd_vm)},
                   {"injected", Pb(injected)},
                   {"injected_vm", Pb(c.inject_vm)},
                   {"injected_external", Pb(c.inject_external)},
                   {"punted_total", Pb(c.punted)},
                   {"punted", punted},
                   {"dropped", dropped}};
  return o;
}

}  // namespace hnv::gateway
