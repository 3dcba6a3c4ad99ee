# Installation: libraries (exported as UN::<name>), headers (including the
# TableGen-generated ones), tools, the mlir-opt plugin and a CMake package
# (find_package(UN)) for downstream projects.

include(CMakePackageConfigHelpers)

# Every library target defined under `dir`, recursively, so that libraries
# added later are installed and exported without touching this file.
function(un_collect_libraries dir out)
  set(result)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target ${targets})
    get_target_property(type ${target} TYPE)
    if(type MATCHES "^(STATIC|SHARED)_LIBRARY$")
      list(APPEND result ${target})
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdir ${subdirs})
    un_collect_libraries(${subdir} sub)
    list(APPEND result ${sub})
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

un_collect_libraries(${PROJECT_SOURCE_DIR}/lib UN_LIBRARIES)

install(TARGETS ${UN_LIBRARIES}
  EXPORT UNTargets
  ARCHIVE DESTINATION lib
  LIBRARY DESTINATION lib
  INCLUDES DESTINATION include)
# Installed tools find libMLIR.so / libLLVM.so where LLVM keeps them.
set_target_properties(un-opt un-translate un-lsp-server UNPlugin PROPERTIES
  INSTALL_RPATH "\$ORIGIN/../lib;${LLVM_LIBRARY_DIR}")
install(TARGETS un-opt un-translate un-lsp-server RUNTIME DESTINATION bin)
install(TARGETS UNPlugin LIBRARY DESTINATION lib)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/un DESTINATION include
  FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/un DESTINATION include
  FILES_MATCHING PATTERN "*.inc")

set(UN_INSTALL_CMAKE_DIR lib/cmake/un)
install(EXPORT UNTargets NAMESPACE UN:: DESTINATION ${UN_INSTALL_CMAKE_DIR})
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/UNConfig.cmake.in
  ${PROJECT_BINARY_DIR}/UNConfig.cmake
  INSTALL_DESTINATION ${UN_INSTALL_CMAKE_DIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/UNConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/UNConfig.cmake
  ${PROJECT_BINARY_DIR}/UNConfigVersion.cmake
  DESTINATION ${UN_INSTALL_CMAKE_DIR})

# `pip install .` (scikit-build-core, pyproject.toml) builds and installs
# only the component un_wheel: the un_mlir package with its native module,
# the tools in un_mlir/bin (found by un_mlir.tools.un_tool) and the plugin
# in un_mlir/lib. A plain `cmake --install` does not see these rules.
if(SKBUILD)
  install(TARGETS un-opt un-translate un-lsp-server RUNTIME DESTINATION un_mlir/bin
    COMPONENT un_wheel)
  install(TARGETS UNPlugin LIBRARY DESTINATION un_mlir/lib COMPONENT un_wheel)
  if(UN_ENABLE_PYTHON)
    install(TARGETS _native LIBRARY DESTINATION un_mlir COMPONENT un_wheel)
  endif()
endif()
