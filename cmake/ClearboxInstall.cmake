# `cmake --install` and CPack: the binary, its data files, the man page and bash completion.
# The data directory is found relative to the installed binary (src/core/data_dir.cpp), so the
# tree can be installed under any prefix; CLEARBOX_DATA_DIR overrides it.

install(TARGETS clearbox RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/clearbox)

# Debian policy: man pages are installed gzip-compressed (-n: no name or time, reproducible).
configure_file(${PROJECT_SOURCE_DIR}/docs/man/clearbox.1 ${PROJECT_BINARY_DIR}/clearbox.1 @ONLY)
set(CLEARBOX_MAN_PAGE ${PROJECT_BINARY_DIR}/clearbox.1.gz)
add_custom_command(OUTPUT ${CLEARBOX_MAN_PAGE}
  COMMAND gzip -9n -c ${PROJECT_BINARY_DIR}/clearbox.1 > ${CLEARBOX_MAN_PAGE}
  DEPENDS ${PROJECT_BINARY_DIR}/clearbox.1 VERBATIM)
add_custom_target(clearbox_man_page ALL DEPENDS ${CLEARBOX_MAN_PAGE})
install(FILES ${CLEARBOX_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

install(FILES ${PROJECT_SOURCE_DIR}/scripts/completion/clearbox.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME clearbox)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# `cpack -G DEB` in a build tree (`make package`): a Debian package installing under /usr,
# its Depends computed by dpkg-shlibdeps from the binary's shared libraries.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME clearbox)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "clearbox developers <dev@clearbox.dev>")
set(CPACK_PACKAGE_VENDOR clearbox)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "open verification lab for firmware: unpack, SBOM, CVEs, hardening, compliance")
set(CPACK_PACKAGE_DESCRIPTION
    "clearbox unpacks firmware images recursively, checks the hardening of every binary, lists
components (CycloneDX and SPDX SBOMs), finds secrets and weak configuration, matches known
vulnerabilities, gives verdicts per clause of EN 303 645, the CRA and other standards, and signs
and logs its verdicts in a transparency log.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://clearbox.dev")
set(CPACK_STRIP_FILES ON)
include(CPack)
