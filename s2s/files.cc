// Instance directories (files.h).
#include "s2s/files.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace hnv::s2s {
namespace {

namespace fs = std::filesystem;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool Chown(const std::string& path, Owner owner, std::string* error) {
  if (owner.uid == static_cast<uid_t>(-1) && owner.gid == static_cast<gid_t>(-1)) return true;
  if (lchown(path.c_str(), owner.uid, owner.gid) < 0) {
    *error = Errno("chown " + path);
    return false;
  }
  return true;
}

bool WriteOne(const std::string& path, const RenderedFile& f, Owner owner, std::string* error) {
  const std::string tmp = path + ".tmp";
  unlink(tmp.c_str());
  if (f.symlink) {
    if (symlink(f.text.c_str(), tmp.c_str()) < 0) {
      *error = Errno("symlink " + tmp);
      return false;
    }
  } else {
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, f.mode);
    if (fd < 0) {
      *error = Errno("create " + tmp);
      return false;
    }
    size_t done = 0;
    while (done < f.text.size()) {
      const ssize_t n = write(fd, f.text.data() + done, f.text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        *error = Errno("write " + tmp);
        close(fd);
        unlink(tmp.c_str());
        return false;
      }
      done += static_cast<size_t>(n);
    }
    // The mode is exact whatever the umask.
    fchmod(fd, f.mode);
    if (fsync(fd) < 0 || close(fd) < 0) {
      *error = Errno("write " + tmp);
      unlink(tmp.c_str());
      return false;
    }
  }
  if (!Chown(tmp, owner, error)) {
    unlink(tmp.c_str());
    return false;
  }
  if (rename(tmp.c_str(), path.c_str()) < 0) {
    *error = Errno("rename " + tmp);
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool Same(const std::string& path, const RenderedFile& f) {
  struct stat st {};
  if (lstat(path.c_str(), &st) < 0) return false;
  if (f.symlink) {
    if (!S_ISLNK(st.st_mode)) return false;
    std::error_code ec;
    return fs::read_symlink(path, ec).string() == f.text && !ec;
  }
  return S_ISREG(st.st_mode) && (st.st_mode & 07777) == f.mode && ReadFile(path) == f.text;
}

}  // namespace

bool MakeDirs(const std::string& dir, const std::vector<std::string>& subdirs, Owner owner,
              std::string* error) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    *error = "create " + dir + ": " + ec.message();
    return false;
  }
  if (!Chown(dir, owner, error)) return false;
  for (const std::string& s : subdirs) {
    const std::string path = dir + "/" + s;
    if (mkdir(path.c_str(), 0750) < 0 && errno != EEXIST) {
      *error = Errno("mkdir " + path);
      return false;
    }
    if (!Chown(path, owner, error)) return false;
  }
  return true;
}

bool WriteFiles(const std::string& dir, const std::vector<RenderedFile>& files, Owner owner,
                std::vector<std::string>* changed, std::string* error) {
  std::set<std::string> keys;
  for (const RenderedFile& f : files) {
    const std::string path = dir + "/" + f.name;
    if (f.name.starts_with("private/")) keys.insert(f.name.substr(8));
    if (Same(path, f)) continue;
    if (!WriteOne(path, f, owner, error)) return false;
    if (changed != nullptr) changed->push_back(f.name);
  }
  std::error_code ec;
  if (fs::is_directory(dir + "/private", ec)) {
    for (const fs::directory_entry& e : fs::directory_iterator(dir + "/private", ec)) {
      const std::string name = e.path().filename().string();
      if (keys.count(name) != 0) continue;
      fs::remove(e.path(), ec);
      if (changed != nullptr) changed->push_back("private/" + name);
    }
  }
  return true;
}

bool WriteProcessRecord(const std::string& path, const ProcessId& p, std::string* error) {
  RenderedFile f{"", std::to_string(p.pid) + " " + std::to_string(p.start_time) + "\n", 0644,
                 false};
  return WriteOne(path, f, Owner{}, error);
}

std::optional<ProcessId> ReadProcessRecord(const std::string& path) {
  std::istringstream in(ReadFile(path));
  ProcessId p;
  if (!(in >> p.pid >> p.start_time) || p.pid <= 0) return std::nullopt;
  return p;
}

bool RemoveDir(const std::string& dir, std::string* error) {
  std::error_code ec;
  fs::remove_all(dir, ec);  // does not follow symlinks
  if (ec) {
    *error = "remove " + dir + ": " + ec.message();
    return false;
  }
  return true;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::optional<Owner> LookupUser(const std::string& name) {
  passwd pw{};
  passwd* result = nullptr;
  char buf[4096];
  if (getpwnam_r(name.c_str(), &pw, buf, sizeof(buf), &result) != 0 || result == nullptr)
    return std::nullopt;
  return Owner{pw.pw_uid, pw.pw_gid};
}

}  // namespace hnv::s2s
