// The services' instance directories: rendered files written atomically,
// the record of a daemon's process identity, removal of the whole directory.
//
// Thread: any; blocking file I/O.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "s2s/process.h"
#include "s2s/render.h"

namespace hnv::s2s {

// Owner for written files and directories; -1 keeps root's.
struct Owner {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
};

// Creates `dir` (and its parents, 0755) and `subdirs` in it, owned by `owner`.
bool MakeDirs(const std::string& dir, const std::vector<std::string>& subdirs, Owner owner,
              std::string* error);

// Writes each file whose content (or symlink target) differs from what is
// on disk, through a temporary file renamed over it, with its mode and
// `owner`; the names of the files it changed go to *changed (optional).
// Files of the directory that `files` no longer names are left alone except
// under private/ (stale key links are removed).
bool WriteFiles(const std::string& dir, const std::vector<RenderedFile>& files, Owner owner,
                std::vector<std::string>* changed, std::string* error);

// "pid start_time" in `path`.
bool WriteProcessRecord(const std::string& path, const ProcessId& p, std::string* error);
std::optional<ProcessId> ReadProcessRecord(const std::string& path);

// rm -rf, without following symlinks out of `dir`.
bool RemoveDir(const std::string& dir, std::string* error);

// The file's content, or "" when it cannot be read.
std::string ReadFile(const std::string& path);

// The user and group `name` (e.g. "frr"), or nullopt.
std::optional<Owner> LookupUser(const std::string& name);

}  // namespace hnv::s2s
