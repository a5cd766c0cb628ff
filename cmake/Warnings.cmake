# Our code builds with -Wall -Wextra -Werror. Third-party headers (DPDK, gtest)
# come in as SYSTEM includes so their warnings do not fail the build.
function(hnv_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers)
endfunction()
