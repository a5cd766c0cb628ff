# Layers that point one way, checked by the compiler. Includes are rooted at
# the repository ("dataplane/policy/model.h"), so every target could include
# every header. hnv_layer(<target> <path>...) gives a target an include root
# that holds only the listed folders (or files) of the repository, as
# symbolic links under build/layers/<target>/, in place of the repository
# root: an include of anything else fails to compile ("config/policy/
# validate.h: No such file or directory") instead of slipping in. Programs
# and tests keep the repository root.
#
#   hnv_layer(hnv_policy dataplane)               # the dataplane sees only itself
#   hnv_layer(hnv_config dataplane/packet dataplane/policy config)
function(hnv_layer target)
  set(root ${CMAKE_BINARY_DIR}/layers/${target})
  file(REMOVE_RECURSE ${root})  # removes the links, never what they point to
  foreach(path IN LISTS ARGN)
    if(NOT EXISTS ${CMAKE_SOURCE_DIR}/${path})
      message(FATAL_ERROR "hnv_layer(${target}): ${path} is not in the repository")
    endif()
    get_filename_component(parent ${root}/${path} DIRECTORY)
    file(MAKE_DIRECTORY ${parent})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${path} ${root}/${path} SYMBOLIC)
  endforeach()
  set_property(TARGET ${target} PROPERTY INCLUDE_DIRECTORIES ${root})
endfunction()
