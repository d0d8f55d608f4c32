# cmake --install: the binaries, the man pages, the example config (as
# /etc/vipd/vipd.json only when there is none), the logrotate snippet and
# the systemd unit. /etc paths are absolute (vipd reads /etc/vipd/vipd.json
# whatever the prefix) and honour DESTDIR.
include(GNUInstallDirs)
set(VIPD_DIST ${PROJECT_SOURCE_DIR}/dist)

install(TARGETS vipctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS vipd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${VIPD_DIST}/man/vipd.8 ${VIPD_DIST}/man/vipctl.8
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${VIPD_DIST}/vipd.json DESTINATION /etc/vipd RENAME vipd.json.example)
install(FILES ${VIPD_DIST}/logrotate/vipd DESTINATION /etc/logrotate.d)
install(DIRECTORY DESTINATION /etc/vipd/apps)

# At install time, so that --prefix given to cmake --install is the one the
# unit's ExecStart names; an operator's vipd.json is never overwritten.
install(CODE "
  set(vipd_etc \"\$ENV{DESTDIR}/etc/vipd\")
  if(NOT EXISTS \"\${vipd_etc}/vipd.json\")
    message(STATUS \"Installing: \${vipd_etc}/vipd.json\")
    file(COPY_FILE \"${VIPD_DIST}/vipd.json\" \"\${vipd_etc}/vipd.json\")
  else()
    message(STATUS \"Kept: \${vipd_etc}/vipd.json (the new one is vipd.json.example)\")
  endif()
  set(VIPD_BIN \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}/vipd\")
  set(vipd_unit \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/system/vipd.service\")
  message(STATUS \"Installing: \${vipd_unit}\")
  configure_file(\"${VIPD_DIST}/systemd/vipd.service.in\" \"\${vipd_unit}\" @ONLY)
")

# A Debian package: cpack -G DEB in the build tree. /etc files are dpkg
# conffiles, so an upgrade asks before replacing an edited vipd.json.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vipd)
set(CPACK_PACKAGE_CONTACT "vipd maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "Marathon health checks programming the kernel's IPVS load balancer")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr) # the prefix with CPACK_SET_DESTDIR
set(CPACK_SET_DESTDIR ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ipvsadm, logrotate")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${VIPD_DIST}/debian/conffiles)
include(CPack)
