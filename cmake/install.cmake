# cmake --install: the v4sim binary, the catalogues under share/v4sim (models/, hardware/ with the
# measured kernel tables in hardware/perf/, scenarios/), the headers under include/v4sim, and a
# CMake package: find_package(v4sim) gives v4sim::kernels, ::models, ::hardware, ::sim,
# ::scenarios and ::reports (static libraries).
include(CMakePackageConfigHelpers)

install(TARGETS v4sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

foreach(part models scenarios hardware/accelerators hardware/systems)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${part}/ DESTINATION ${V4SIM_INSTALL_DATADIR}/${part}
    FILES_MATCHING PATTERN "*.yaml" PATTERN "*.md" PATTERN "*.json")
endforeach()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/hardware/perf/ DESTINATION ${V4SIM_INSTALL_DATADIR}/hardware/perf
  FILES_MATCHING PATTERN "*.yaml" PATTERN "*.csv" PATTERN "*.md")
# Hugging Face configs shipped with their sources (models/hf/<name>/config.json + SOURCE.md) are
# covered by the models/ rule above.

foreach(part kernels models hardware sim scenarios reports)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${part}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/v4sim/${part}
    FILES_MATCHING PATTERN "*.h" PATTERN "*_internal.h" EXCLUDE PATTERN "bench" EXCLUDE
    PATTERN "cli" EXCLUDE)
endforeach()

set(v4sim_exported v4sim_warnings v4sim_kernels v4sim_config v4sim_models v4sim_hardware v4sim_sim
  v4sim_scenarios v4sim_reports)
foreach(t kernels config models hardware sim scenarios reports)
  set_target_properties(v4sim_${t} PROPERTIES EXPORT_NAME ${t})
endforeach()
set_target_properties(v4sim_warnings PROPERTIES EXPORT_NAME warnings)
install(TARGETS ${v4sim_exported} EXPORT v4simTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/v4sim)
set(V4SIM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/v4sim)
install(EXPORT v4simTargets NAMESPACE v4sim:: DESTINATION ${V4SIM_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/v4simConfig.cmake.in
  ${PROJECT_BINARY_DIR}/v4simConfig.cmake INSTALL_DESTINATION ${V4SIM_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/v4simConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/v4simConfig.cmake ${PROJECT_BINARY_DIR}/v4simConfigVersion.cmake
  DESTINATION ${V4SIM_CMAKE_DIR})
