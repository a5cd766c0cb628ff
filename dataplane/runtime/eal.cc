#include "dataplane/runtime/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

namespace hnv {

bool StartEal(int argc, char** argv, int dashdash, std::string* error) {
  std::vector<std::string> args = {argv[0]};
  if (dashdash < argc) {
    for (int i = dashdash + 1; i < argc; ++i) args.push_back(argv[i]);
  } else {
    args.insert(args.end(), {"-l", "0,1", "--in-memory"});
  }
  std::vector<char*> ptrs;
  for (auto& s : args) ptrs.push_back(s.data());
  if (rte_eal_init(static_cast<int>(ptrs.size()), ptrs.data()) < 0) {
    *error = std::string("EAL initialisation failed: ") + rte_strerror(rte_errno);
    return false;
  }
  return true;
}

std::vector<unsigned> EalWorkerLcores() {
  std::vector<unsigned> out;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) out.push_back(lcore);
  return out;
}

}  // namespace hnv
