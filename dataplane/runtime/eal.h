// EAL start-up shared by the daemons (hnv-vswitch, hnv-gateway).
//
// A daemon's command line is "<its options> [-- <EAL arguments>]": StartEal
// takes everything after the "--" at argv[dashdash] (when dashdash < argc),
// or the daemons' default "-l 0,1 --in-memory" (hugepages). The first EAL
// lcore is the control thread; EalWorkerLcores() are the others, one
// dataplane worker each.
//
// Thread: the main thread, once, before anything else uses DPDK.
#pragma once

#include <string>
#include <vector>

namespace hnv {

bool StartEal(int argc, char** argv, int dashdash, std::string* error);
std::vector<unsigned> EalWorkerLcores();

}  // namespace hnv
