# Our code builds with -Wall -Wextra -Werror. Third-party headers (DPDK, gtest)
# come in as SYSTEM includes so their warnings do not fail the build.
function(hnv_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers)
  # g++ 12 at -O3 reports a false -Wrestrict inside libstdc++'s string code.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-error=restrict)
  endif()
endfunction()
