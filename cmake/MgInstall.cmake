# SPDX-License-Identifier: GPL-3.0-or-later
# Installing files that the system reads from fixed places (udev rules, the
# configuration in /etc). A system install (prefix /usr, as a distribution
# package) puts them where the system reads them; any other prefix keeps them
# inside the prefix, so `cmake --install build --prefix P` writes nothing
# outside P. The choice is made when installing, with the prefix in force then
# (the one given to --prefix, if any); DESTDIR applies as usual.
#
#   mg_install_system_files(FILES f... SYSTEM_DIR /abs/dir PREFIX_DIR rel/dir [PROGRAMS])
function(mg_install_system_files)
  cmake_parse_arguments(A "PROGRAMS" "SYSTEM_DIR;PREFIX_DIR" "FILES" ${ARGN})
  set(files "")
  foreach(f ${A_FILES})
    get_filename_component(f "${f}" ABSOLUTE)
    string(APPEND files " \"${f}\"")
  endforeach()
  set(type FILE)
  set(perms "")
  if(A_PROGRAMS)
    set(type PROGRAM)
  endif()
  install(CODE "
    if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\" OR CMAKE_INSTALL_PREFIX STREQUAL \"/usr/\")
      set(_mg_dir \"${A_SYSTEM_DIR}\")
    else()
      set(_mg_dir \"\${CMAKE_INSTALL_PREFIX}/${A_PREFIX_DIR}\")
    endif()
    file(INSTALL DESTINATION \"\${_mg_dir}\" TYPE ${type} FILES ${files})
  ")
endfunction()

# The pkg-config file, written when installing so that its prefix is the one
# installed to (pkg-config then finds headers and library there).
function(mg_install_pkgconfig template)
  get_filename_component(template "${template}" ABSOLUTE)
  set(out "${CMAKE_BINARY_DIR}/magassay.pc.install")
  install(CODE "
    set(MG_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    set(MG_PC_LIBDIR \"\\\${prefix}/${CMAKE_INSTALL_LIBDIR}\")
    set(MG_PC_INCLUDEDIR \"\\\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}\")
    set(PROJECT_DESCRIPTION \"${PROJECT_DESCRIPTION}\")
    set(PROJECT_VERSION \"${PROJECT_VERSION}\")
    configure_file(\"${template}\" \"${out}/magassay.pc\" @ONLY)
    file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig\" TYPE FILE
         FILES \"${out}/magassay.pc\")
  ")
endfunction()
