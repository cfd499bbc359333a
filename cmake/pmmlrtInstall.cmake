# Install rules and package files of pmmlrt: included by the top-level CMakeLists.txt after every target exists.
#
#   cmake --install <build> [--prefix <dir>] lays out
#     include/pmmlrt/*.hpp                      the C++ API          (target pmmlrt::pmmlrt)
#     include/pmmlrt.h                          the C ABI            (target pmmlrt::c, when capi/ is built)
#     lib/libpmmlrt.a | libpmmlrt.so.X.Y        the C++ library (static unless PMMLRT_SHARED)
#     lib/libpmmlrt_c.so.<ABI>                  the C ABI library (always shared)
#     bin/pmmlrt                                the command-line tool (PMMLRT_BUILD_CLI)
#     lib/cmake/pmmlrt/                         pmmlrtConfig.cmake, pmmlrtConfigVersion.cmake, pmmlrtTargets*.cmake
#     lib/pkgconfig/pmmlrt.pc, pmmlrt-c.pc      for pkg-config
#
# Dependencies in the exported interface: xtensor is public (the C++ headers include it); pugixml and fmt are
# private, but a static libpmmlrt.a needs them at link time ($<LINK_ONLY:...>, found by find_dependency in
# pmmlrtConfig.cmake); Eigen is private and header-only, so it is linked as $<BUILD_INTERFACE:...> only and
# never reaches a consumer. The version comes from include/pmmlrt/version.hpp (PROJECT_VERSION).

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(PMMLRT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/pmmlrt" CACHE STRING
    "Where pmmlrtConfig.cmake is installed (relative to the prefix)")
set(PMMLRT_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig" CACHE STRING
    "Where pmmlrt.pc and pmmlrt-c.pc are installed (relative to the prefix)")
mark_as_advanced(PMMLRT_INSTALL_CMAKEDIR PMMLRT_INSTALL_PKGCONFIGDIR)

get_target_property(_pmmlrt_type pmmlrt TYPE)
if(_pmmlrt_type STREQUAL "SHARED_LIBRARY")
  set(PMMLRT_LIBRARY_IS_SHARED ON)
else()
  set(PMMLRT_LIBRARY_IS_SHARED OFF)
endif()

# The C++ ABI is not stable before 1.0: the SONAME carries major.minor (libpmmlrt.so.0.1).
set_target_properties(pmmlrt PROPERTIES
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})

# Installed programs and the C ABI library find a shared libpmmlrt next to them, wherever the prefix is.
if(PMMLRT_LIBRARY_IS_SHARED AND NOT IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" AND NOT APPLE AND NOT WIN32)
  file(RELATIVE_PATH _pmmlrt_bin_to_lib "/${CMAKE_INSTALL_BINDIR}" "/${CMAKE_INSTALL_LIBDIR}")
  if(TARGET pmmlrt_cli)
    set_target_properties(pmmlrt_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${_pmmlrt_bin_to_lib}")
  endif()
  if(TARGET pmmlrt_c)
    set_target_properties(pmmlrt_c PROPERTIES INSTALL_RPATH "$ORIGIN")
  endif()
endif()

# ---- libraries and headers -------------------------------------------------------------------------------
install(TARGETS pmmlrt EXPORT pmmlrtTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/pmmlrt
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")

set(PMMLRT_HAS_C_ABI OFF)
if(TARGET pmmlrt_c)
  set(PMMLRT_HAS_C_ABI ON)
  get_target_property(PMMLRT_C_ABI_VERSION pmmlrt_c SOVERSION)
  # Exported as pmmlrt::c, the same name as the alias in the build tree. capi/ installs the files too; this
  # rule adds the target to the export set (installing the same files twice is harmless).
  set_target_properties(pmmlrt_c PROPERTIES EXPORT_NAME c)
  install(TARGETS pmmlrt_c EXPORT pmmlrtTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()

# ---- CMake package ---------------------------------------------------------------------------------------
install(EXPORT pmmlrtTargets
  NAMESPACE pmmlrt::
  DESTINATION ${PMMLRT_INSTALL_CMAKEDIR})

configure_package_config_file(
  ${CMAKE_CURRENT_LIST_DIR}/pmmlrtConfig.cmake.in
  ${PROJECT_BINARY_DIR}/pmmlrtConfig.cmake
  INSTALL_DESTINATION ${PMMLRT_INSTALL_CMAKEDIR})
# 0.x: a minor release may break the API, so only the same major.minor is compatible; from 1.0 the same major.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(_pmmlrt_compat SameMinorVersion)
else()
  set(_pmmlrt_compat SameMajorVersion)
endif()
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/pmmlrtConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY ${_pmmlrt_compat})
install(FILES
  ${PROJECT_BINARY_DIR}/pmmlrtConfig.cmake
  ${PROJECT_BINARY_DIR}/pmmlrtConfigVersion.cmake
  DESTINATION ${PMMLRT_INSTALL_CMAKEDIR})

# ---- pkg-config ------------------------------------------------------------------------------------------
# Relocatable: the prefix is computed from the .pc file's own place (${pcfiledir}), so that
# `cmake --install --prefix <anywhere>` (as Conan does) gives working files.
if(IS_ABSOLUTE "${PMMLRT_INSTALL_PKGCONFIGDIR}")
  set(PMMLRT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _pmmlrt_pc_up "/${PMMLRT_INSTALL_PKGCONFIGDIR}" "/")
  string(REGEX REPLACE "/$" "" _pmmlrt_pc_up "${_pmmlrt_pc_up}")
  set(PMMLRT_PC_PREFIX "\${pcfiledir}/${_pmmlrt_pc_up}")
endif()
foreach(_dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_dir}}")
    set(PMMLRT_PC_${_dir} "${CMAKE_INSTALL_${_dir}}")
  else()
    set(PMMLRT_PC_${_dir} "\${prefix}/${CMAKE_INSTALL_${_dir}}")
  endif()
endforeach()
# A static libpmmlrt.a needs pugixml and fmt on every link line, so they are plain Requires (then
# `pkg-config --libs pmmlrt` works without --static); a shared libpmmlrt.so carries them itself.
if(PMMLRT_LIBRARY_IS_SHARED)
  set(PMMLRT_PC_REQUIRES "xtensor")
  set(PMMLRT_PC_REQUIRES_PRIVATE "Requires.private: pugixml fmt")
else()
  set(PMMLRT_PC_REQUIRES "xtensor pugixml fmt")
  set(PMMLRT_PC_REQUIRES_PRIVATE "")  # (the whole line)
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/pmmlrt.pc.in ${PROJECT_BINARY_DIR}/pmmlrt.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/pmmlrt.pc DESTINATION ${PMMLRT_INSTALL_PKGCONFIGDIR})
if(PMMLRT_HAS_C_ABI)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/pmmlrt-c.pc.in ${PROJECT_BINARY_DIR}/pmmlrt-c.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pmmlrt-c.pc DESTINATION ${PMMLRT_INSTALL_PKGCONFIGDIR})
endif()

# ---- docs ------------------------------------------------------------------------------------------------
foreach(_doc README.md CHANGELOG.md LICENSE)
  if(EXISTS ${PROJECT_SOURCE_DIR}/${_doc})
    install(FILES ${PROJECT_SOURCE_DIR}/${_doc} DESTINATION ${CMAKE_INSTALL_DOCDIR})
  endif()
endforeach()
