# DPDK through pkg-config, exposed as the imported target hnv::dpdk with its
# include directories marked SYSTEM: DPDK's headers raise -Wvolatile under C++20.
find_package(PkgConfig REQUIRED)
pkg_check_modules(DPDK REQUIRED IMPORTED_TARGET libdpdk)
add_library(hnv_dpdk INTERFACE)
target_link_libraries(hnv_dpdk INTERFACE ${DPDK_LINK_LIBRARIES} ${DPDK_LDFLAGS_OTHER})
target_include_directories(hnv_dpdk SYSTEM INTERFACE ${DPDK_INCLUDE_DIRS})
# pkg-config's cflags carry "-include rte_config.h" and -march; keep those, drop -I (above).
set(_dpdk_opts ${DPDK_CFLAGS_OTHER})
target_compile_options(hnv_dpdk INTERFACE ${_dpdk_opts})
add_library(hnv::dpdk ALIAS hnv_dpdk)
