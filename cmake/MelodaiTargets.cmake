# MelodAI — helpers that give every target of ours the same flags.
#   melodai_library(NAME <n> DEPS <public deps> PRIVATE_DEPS <private deps>)
#     builds melodai_<n> from every *.cc in the current folder except *_test.cc.
#   melodai_tests(NAME <n> LABEL <unit|integration|sim> DEPS <deps>)
#     builds melodai_<n>_test from every *_test.cc in the current folder.

set(MELODAI_SOURCE_ROOT "${PROJECT_SOURCE_DIR}/src")

function(melodai_apply_flags target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
  if(MELODAI_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(MELODAI_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${MELODAI_SANITIZE} -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=${MELODAI_SANITIZE})
  endif()
endfunction()

function(melodai_library)
  cmake_parse_arguments(ARG "" "NAME" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cc"
       "${CMAKE_CURRENT_SOURCE_DIR}/internal/*.cc")
  list(FILTER sources EXCLUDE REGEX "_test\\.cc$")
  if(NOT sources)
    message(STATUS "melodai_${ARG_NAME}: no sources yet, library skipped")
    return()
  endif()
  add_library(melodai_${ARG_NAME} STATIC ${sources})
  target_include_directories(melodai_${ARG_NAME} PUBLIC "${MELODAI_SOURCE_ROOT}")
  target_link_libraries(melodai_${ARG_NAME} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  melodai_apply_flags(melodai_${ARG_NAME})
endfunction()

function(melodai_tests)
  if(NOT MELODAI_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "NAME;LABEL" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc"
       "${CMAKE_CURRENT_SOURCE_DIR}/internal/*_test.cc")
  if(NOT sources)
    return()
  endif()
  set(target melodai_${ARG_NAME}_test)
  add_executable(${target} ${sources})
  target_link_libraries(${target} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  melodai_apply_flags(${target})
  gtest_discover_tests(${target} PROPERTIES LABELS ${ARG_LABEL} DISCOVERY_TIMEOUT 60)
endfunction()
