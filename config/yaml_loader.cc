#include "config/yaml_loader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include "dataplane/runtime/vnet_args.h"

namespace hnv::config::yaml {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kHostKeys[] = {"name", "control_socket", "settings"};
constexpr std::string_view kPortKeys[] = {"name", "device"};

// The whole file, or nullopt with the reason in *error.
std::optional<std::string> ReadWholeFile(const std::string& path, std::string* error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = std::strerror(errno);
    return std::nullopt;
  }
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = std::strerror(errno);
      ::close(fd);
      return std::nullopt;
    }
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

}  // namespace

std::string FileIdentity(const std::string& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(fs::path(path), ec);
  return ec ? fs::path(path).lexically_normal().string() : canonical.string();
}

bool FileLoader::IsLoaded(const std::string& name) const {
  return loaded_.count(FileIdentity(name)) != 0;
}

std::string FileLoader::Where(int from_file, int file, int line) const {
  return file == from_file ? "line " + std::to_string(line)
                           : config_.files[file] + ":" + std::to_string(line);
}

void FileLoader::LoadFile(const std::string& name, const IncludeSite* site, FileRole role,
                          FileRole tree) {
  auto report = [&](std::string message) {
    if (site != nullptr)
      errors_.Add(site->file, site->file_name, site->line, site->path, std::move(message));
    else
      errors_.Add(static_cast<int>(config_.files.size()), name, 0, "", std::move(message));
  };
  const std::string id = FileIdentity(name);
  if (auto on_stack = std::find(stack_.begin(), stack_.end(), id); on_stack != stack_.end()) {
    std::string chain;
    for (size_t i = static_cast<size_t>(on_stack - stack_.begin()); i < stack_.size(); ++i)
      chain += stack_names_[i] + " -> ";
    report("include cycle: " + chain + name);
    return;
  }
  // Included twice without a cycle (a diamond): its content is in already.
  if (loaded_.count(id) != 0) return;
  std::string why;
  const std::optional<std::string> text = ReadWholeFile(name, &why);
  if (!text) {
    report("cannot read " + name + ": " + why);
    return;
  }
  loaded_.insert(id);
  const int index = static_cast<int>(config_.files.size());
  config_.files.push_back(name);
  const FileInfo info{index, role, tree};
  Reader r(index, name, &errors_);

  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(*text);
  } catch (const YAML::Exception& e) {
    r.Error(e.mark.line + 1, "",
            e.msg + " (YAML syntax error at column " + std::to_string(e.mark.column + 1) + ")");
    return;
  }
  if (docs.size() > 1) {
    r.Error(LineOf(docs[1]), "",
            "a second YAML document starts here; a config file is one mapping of sections");
  }
  if (docs.empty() || docs[0].IsNull()) {  // an empty file
    if (role == FileRole::kMain)
      r.Error(0, "host", "missing required key \"host\" (the file is empty)");
    else if (extension_ != nullptr && role == FileRole::kOwn)
      extension_->EmptyFile(r, info);
    return;
  }
  const Value root{docs[0], "", LineOf(docs[0])};
  if (!root.node.IsMap()) {
    r.Error(
        root.line, "",
        "expected a mapping of sections (include, host, ports, ...), got " + Describe(root.node));
    return;
  }
  std::optional<Map> m = r.AsMap(root, root_keys_);
  ReadSections(r, *m, info);

  // Includes last: a file's own content comes before that of its includes,
  // so Policy order is the order of HostConfig::files.
  const std::optional<Value> include = m->Get("include");
  if (!include) return;
  std::vector<Value> entries;
  if (include->node.IsScalar())
    entries.push_back(*include);
  else
    entries = r.AsList(*include);
  stack_.push_back(id);
  stack_names_.push_back(name);
  for (const Value& entry : entries) {
    const std::optional<std::string> target = r.Text(entry, "a file name");
    if (!target) continue;
    if (target->empty()) {
      r.Error(entry.line, entry.path, "an include names a file");
      continue;
    }
    fs::path p(*target);
    if (p.is_relative()) p = fs::path(name).parent_path() / p;
    const IncludeSite here{index, name, entry.line, entry.path};
    LoadFile(p.lexically_normal().string(), &here, FileRole::kInclude, tree);
  }
  stack_.pop_back();
  stack_names_.pop_back();
}

void FileLoader::ReadSections(Reader& r, const Map& root, const FileInfo& file) {
  if (const std::optional<Value> host = root.Get("host")) {
    if (file.role == FileRole::kMain)
      ReadHost(r, *host);
    else
      r.Error(host->line, host->path,
              "only the " + main_file_ + " (" + config_.files.front() + ") has a host section" +
                  (file.role == FileRole::kInclude ? "; an included file holds policy" : ""));
  } else if (file.role == FileRole::kMain) {
    root.Need("host");
  }
  auto section = [&](std::string_view key) -> std::optional<Value> {
    std::optional<Value> v = root.Get(key);
    if (v && extension_ != nullptr && !extension_->Allow(r, *v, key, file)) return std::nullopt;
    return v;
  };
  if (const std::optional<Value> v = section("ports")) ReadPorts(r, *v);
  if (const std::optional<Value> v = section("provider_addresses"))
    ReadProviderAddresses(r, *v, &builder_);
  if (const std::optional<Value> v = section("provider_routes"))
    ReadProviderRoutes(r, *v, &builder_);
  if (const std::optional<Value> v = section("vm_network_adapters"))
    ReadVmNetworkAdapters(r, *v, &builder_);
  if (const std::optional<Value> v = section("routing_domains"))
    ReadRoutingDomains(r, *v, &builder_);
  if (const std::optional<Value> v = section("lookup_records")) ReadLookupRecords(r, *v, &builder_);
  if (extension_ != nullptr) extension_->ReadSections(r, root, file);
}

void FileLoader::ReadHost(Reader& r, const Value& v) {
  std::optional<Map> m = r.AsMap(v, kHostKeys);
  if (!m) return;
  builder_.origins.settings = ElementOrigin{r.file_index(), m->path() + ".settings", m->line(), {}};
  if (const std::optional<Value> name = m->Need("name"))
    if (std::optional<std::string> text = r.Name(*name)) config_.host_name = *text;
  if (const std::optional<Value> socket = m->Get("control_socket")) {
    if (std::optional<std::string> text = r.Text(*socket, "a socket path")) {
      if (text->empty()) r.Error(socket->line, socket->path, "an empty path is not a socket path");
      config_.control_socket = *text;
    }
  }
  if (config_.control_socket.empty())
    config_.control_socket = "/run/hnv/" + config_.host_name + ".sock";
  if (const std::optional<Value> settings = m->Get("settings"))
    ReadSettings(r, *settings, &builder_);
}

void FileLoader::ReadPorts(Reader& r, const Value& v) {
  for (const Value& item : r.AsList(v)) {
    std::optional<Map> m = r.AsMap(item, kPortKeys);
    if (!m) continue;
    PortSpec port;
    port.index = static_cast<uint16_t>(config_.ports.size());
    PortOrigin origin{r.file_index(), FieldOrigin{m->path() + ".name", m->line()}};
    if (const std::optional<Value> name = m->Need("name")) {
      origin.name = FieldOrigin{name->path, name->line};
      if (std::optional<std::string> text = r.Name(*name)) {
        port.name = *text;
        for (size_t i = 0; i < config_.ports.size(); ++i) {
          if (config_.ports[i].name != port.name) continue;
          const PortOrigin& first = port_origins_[i];
          r.Error(name->line, name->path,
                  port.name + " is already the name of " +
                      first.name.path.substr(0, first.name.path.rfind('.')) + " (" +
                      Where(r.file_index(), first.file, first.name.line) + ")");
          break;
        }
      }
    }
    if (const std::optional<Value> device = m->Need("device")) {
      if (std::optional<std::string> text = r.Text(*device, "a DPDK device string")) {
        port.device = *text;
        if (text->empty()) r.Error(device->line, device->path, "a port needs a DPDK device");
        // A VnetPort's arguments are checked here, with the file and line.
        std::string vnet_error;
        if (VnetArgs vnet; VnetArgs::Names(*text) && !vnet.Parse(*text, &vnet_error))
          r.Error(device->line, device->path, vnet_error);
        for (size_t i = 0; i < config_.ports.size(); ++i) {
          if (text->empty() || config_.ports[i].device != *text) continue;
          r.Error(device->line, device->path,
                  *text + " is already the device of port " + config_.ports[i].name + " (" +
                      Where(r.file_index(), port_origins_[i].file, port_origins_[i].name.line) +
                      ")");
          break;
        }
      }
    }
    config_.ports.push_back(std::move(port));
    port_origins_.push_back(std::move(origin));
  }
}

}  // namespace hnv::config::yaml
