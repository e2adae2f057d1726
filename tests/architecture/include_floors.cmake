# The floors of DESIGN.md, checked: every `#include "..."` of the project's own sources must point
# at its own floor or one the table below allows. A new edge upward (a scenario runner including
# a report writer, sim including scenarios) fails with the file, the line and the edge.
#
#   cmake -DROOT=<source dir> -P include_floors.cmake      check the tree
#   cmake -DSELF_CHECK=<scratch dir> -P include_floors.cmake
#       plant a tree with allowed edges and one bad edge per kind of mistake and require that
#       exactly the bad ones are reported (so the check itself cannot pass vacuously)
#
# Floors, bottom to top. `config` (models/config: strict YAML reading, input errors, data paths)
# is the plumbing every floor may use; `*/bench` harnesses sit on their folder's floor.
#   config    models/config
#   kernels   kernels, kernels/bench
#   models    models (not config)
#   hardware  hardware
#   sim       sim, sim/bench
#   scenarios scenarios
#   reports   reports (the writers, not cli)
#   cli       reports/cli
#   python    python (beside the CLI: it runs the CLI's command code in-process)
# tests/ may include anything and is not scanned.
cmake_minimum_required(VERSION 3.20)

# floor -> the floors it may include (its own is always allowed).
set(allowed_config "")
set(allowed_kernels "config")
set(allowed_models "config;kernels")
set(allowed_hardware "config;kernels")
set(allowed_sim "config;kernels;models;hardware")
set(allowed_scenarios "config;kernels;models;hardware;sim")
set(allowed_reports "config;kernels;models;hardware;sim;scenarios")
set(allowed_cli "config;kernels;models;hardware;sim;scenarios;reports")
set(allowed_python "config;kernels;models;hardware;sim;scenarios;reports;cli")
set(floors config kernels models hardware sim scenarios reports cli python)

# The floor of a path relative to the root ("" for one outside the project's floors).
function(floor_of path out)
  set(f "")
  if(path MATCHES "^models/config/")
    set(f config)
  elseif(path MATCHES "^reports/cli/")
    set(f cli)
  elseif(path MATCHES "^(kernels|models|hardware|sim|scenarios|reports|python)/")
    set(f ${CMAKE_MATCH_1})
  endif()
  set(${out} "${f}" PARENT_SCOPE)
endfunction()

# Appends "file:line: <from floor> -> <to floor> (#include "x")" for each edge the table does not
# list, under `root`, to the variable named by `out`; sets `${out}_edges` to the count checked.
function(check_tree root out)
  set(bad "")
  set(edges 0)
  file(GLOB_RECURSE sources RELATIVE ${root}
    ${root}/kernels/*.h ${root}/kernels/*.cpp ${root}/models/*.h ${root}/models/*.cpp
    ${root}/hardware/*.h ${root}/hardware/*.cpp ${root}/sim/*.h ${root}/sim/*.cpp
    ${root}/scenarios/*.h ${root}/scenarios/*.cpp ${root}/reports/*.h ${root}/reports/*.cpp
    ${root}/python/*.h ${root}/python/*.cpp)
  foreach(src IN LISTS sources)
    floor_of(${src} from)
    # Whole include lines only (a C++ line may hold ';', which CMake lists split on).
    file(READ ${root}/${src} text)
    set(text "\n${text}")
    string(REGEX MATCHALL "\n[ \t]*#[ \t]*include[ \t]*\"[^\"\n]+\"" includes "${text}")
    foreach(inc IN LISTS includes)
      string(REGEX MATCH "\"([^\"]+)\"" unused "${inc}")
      set(target ${CMAKE_MATCH_1})
      floor_of(${target} to)
      set(problem "")
      if(to STREQUAL "")
        # Not a project header by its path: a bare name would dodge the table, so it is an error
        # too unless it sits beside the including file.
        get_filename_component(dir ${src} DIRECTORY)
        if(NOT EXISTS ${root}/${dir}/${target})
          set(problem "unknown include \"${target}\"")
        endif()
      else()
        math(EXPR edges "${edges} + 1")
        if(NOT to STREQUAL from AND NOT to IN_LIST allowed_${from})
          set(problem "${from} -> ${to} (#include \"${target}\")")
        endif()
      endif()
      if(problem)
        # The line number: newlines before the include (the text starts with one we added).
        string(FIND "${text}" "${inc}" at)
        string(SUBSTRING "${text}" 0 ${at} before)
        string(REGEX MATCHALL "\n" newlines "${before}")
        list(LENGTH newlines line)
        math(EXPR line "${line} + 1")
        list(APPEND bad "${src}:${line}: ${problem}")
      endif()
    endforeach()
  endforeach()
  set(${out} "${bad}" PARENT_SCOPE)
  set(${out}_edges ${edges} PARENT_SCOPE)
endfunction()

if(DEFINED SELF_CHECK)
  set(t ${SELF_CHECK}/include_floors_tree)
  file(REMOVE_RECURSE ${t})
  # Allowed: same floor, downward, plumbing from the bottom, the CLI and the module on top.
  file(WRITE ${t}/kernels/a.h "#include \"models/config/input_error.h\"\n")
  file(WRITE ${t}/sim/a.cpp "#include \"sim/a.h\"\n#include \"hardware/b.h\"\n#include \"kernels/a.h\"\n")
  file(WRITE ${t}/reports/cli/main.cpp "#include \"reports/a.h\"\n#include \"scenarios/run.h\"\n")
  file(WRITE ${t}/python/module.cpp "#include \"reports/cli/commands.h\"\n")
  # Bad, one of each kind: a scenario runner including a writer, sim reaching up to scenarios,
  # hardware including models (siblings), a writer including the CLI, the plumbing including a
  # floor above it, and a bare name that is not beside its file.
  file(WRITE ${t}/scenarios/long_context.h "// x\n#include \"scenarios/scenario.h\"\n#include \"reports/report.h\"\n")
  file(WRITE ${t}/sim/b.cpp "  #  include \"scenarios/run.h\"\n")
  file(WRITE ${t}/hardware/c.cpp "#include \"models/model_spec.h\"\n")
  file(WRITE ${t}/reports/d.cpp "#include \"reports/cli/values.h\"\n")
  file(WRITE ${t}/models/config/e.cpp "#include \"models/model_spec.h\"\n")
  file(WRITE ${t}/sim/f.cpp "#include \"nowhere.h\"\n")
  check_tree(${t} bad)
  set(expected
    "hardware/c.cpp:1: hardware -> models (#include \"models/model_spec.h\")"
    "models/config/e.cpp:1: config -> models (#include \"models/model_spec.h\")"
    "reports/d.cpp:1: reports -> cli (#include \"reports/cli/values.h\")"
    "scenarios/long_context.h:3: scenarios -> reports (#include \"reports/report.h\")"
    "sim/b.cpp:1: sim -> scenarios (#include \"scenarios/run.h\")"
    "sim/f.cpp:1: unknown include \"nowhere.h\"")
  list(SORT bad)
  file(REMOVE_RECURSE ${t})
  if(NOT bad STREQUAL expected)
    string(REPLACE ";" "\n  " got "${bad}")
    string(REPLACE ";" "\n  " want "${expected}")
    message(FATAL_ERROR "include-floor self-check: reported\n  ${got}\nexpected\n  ${want}")
  endif()
  message(STATUS "include-floor self-check: the planted bad edges, and only they, are reported")
  return()
endif()

if(NOT DEFINED ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source dir> -P include_floors.cmake")
endif()
check_tree(${ROOT} bad)
if(bad_edges LESS 100)
  # The project has hundreds of edges: finding few means the scan is looking in the wrong place.
  message(FATAL_ERROR "include floors: only ${bad_edges} project includes found under ${ROOT}")
endif()
if(bad)
  list(LENGTH bad count)
  string(REPLACE ";" "\n  " lines "${bad}")
  message(FATAL_ERROR "include floors: ${count} edge(s) the table in "
    "tests/architecture/include_floors.cmake does not allow (DESIGN.md, 'Dependencies point one "
    "way'):\n  ${lines}")
endif()
message(STATUS "include floors: ${bad_edges} project includes, all allowed")
