# cmake -DROOT=<source dir> -P CheckReferences.cmake
# Installed headers, tests, examples and build files cite papers by their reference (authors,
# venue, year), never by a design file outside the repository or by an issue number, which a
# user of the installed library does not have.
if(NOT ROOT)
  message(FATAL_ERROR "CheckReferences.cmake: pass -DROOT=<source dir>")
endif()
set(_files "${ROOT}/CMakeLists.txt")
foreach(_dir include tests examples benchmarks fuzz)
  file(GLOB_RECURSE _more "${ROOT}/${_dir}/*.hpp" "${ROOT}/${_dir}/*.cpp" "${ROOT}/${_dir}/*.py"
       "${ROOT}/${_dir}/*.sh" "${ROOT}/${_dir}/CMakeLists.txt")
  list(APPEND _files ${_more})
endforeach()
set(_bad 0)
foreach(_f IN LISTS _files)
  file(STRINGS "${_f}" _hits REGEX "papers\\.md|[Ii]ssue [0-9]+")
  foreach(_h IN LISTS _hits)
    file(RELATIVE_PATH _rel "${ROOT}" "${_f}")
    message(SEND_ERROR "CheckReferences: ${_rel}: ${_h}")
    math(EXPR _bad "${_bad} + 1")
  endforeach()
endforeach()
if(_bad GREATER 0)
  message(FATAL_ERROR "CheckReferences: ${_bad} line(s) cite papers.md or an issue number")
endif()
message(STATUS "CheckReferences: no line cites papers.md or an issue number")
