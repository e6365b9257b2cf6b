# The code that README.md and docs/*.md show, checked (included by tests/CMakeLists.txt):
#   doc.<page>.<line>            a ```cpp block that holds a whole program (a line `int main`) is
#                                built as doc_<page>_<line> and run with an empty TWAT_CACHE_DIR; when
#                                the block is followed by a ```text block (with at most one line of
#                                prose between, such as "Output:"), each non-empty line of that
#                                block must appear, as it is, in the program's output. A block
#                                without `int main` that is followed by its output is run the same
#                                way, as the body of a main() after tests/doc_prelude.hpp (below)
#   compile_fail.doc.<page>.<line>  a block after `<!-- compile-fail: <message> -->` must fail to
#                                compile with <message> in the compiler's output
#   doc.<page>.<line>            a block after `<!-- check: verbatim <path> -->` must be in the
#                                file <path> of the source tree as it is (doc_verbatim.cmake)
#   doc_fragments_<page>         every other block (statements whose output is not shown) is
#                                compiled, not run, as the body of a function (a coroutine
#                                returning twat_cache::task<void> when it awaits) in one file per
#                                page, after tests/doc_prelude.hpp (the library, chrono's literals,
#                                stand-ins for the functions the pages memoize); `#line` points its
#                                errors at the page. A block that cannot compile so (a synopsis,
#                                the continuation of an earlier block) is marked
#                                `<!-- check: excerpt (why) -->` and is not checked.
# A program's block may follow one of these lines:
#   <!-- check: compile-only (why) -->   built, not run (it needs a server, or arguments)
#   <!-- check: output-varies (why) -->  run, its output not compared (it draws at random)
# The line in a name is the line of the block's opening fence.

include_guard(GLOBAL)

# Writes `content` to `path` only when it differs, so a re-configure rebuilds only what changed.
function(_twat_cache_write_if_changed path content)
  if(EXISTS "${path}")
    file(READ "${path}" _old)
    if(_old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${content}")
endfunction()

# Escapes the characters that CMake's regular expressions give a meaning to.
function(_twat_cache_regex_escape out text)
  string(REGEX REPLACE "([][.*+?^$()|\\\\])" "\\\\\\1" _escaped "${text}")
  set(${out} "${_escaped}" PARENT_SCOPE)
endfunction()

# What every target built from the docs' code shares: the library, the prelude, the flags, the PCH.
function(_twat_cache_doc_target target)
  twat_cache_add_dev_target(${target})
  target_include_directories(${target} PRIVATE "${CMAKE_CURRENT_FUNCTION_LIST_DIR}")
  target_link_libraries(${target} PRIVATE Threads::Threads twat_cache_doc_flags)
  if(TWAT_CACHE_TEST_PCH)
    target_precompile_headers(${target} REUSE_FROM twat_cache_doc_pch)
  endif()
endfunction()

function(twat_cache_add_doc_snippets)
  set(_work "${CMAKE_CURRENT_BINARY_DIR}/doc_snippets")
  file(MAKE_DIRECTORY "${_work}")
  file(GLOB _pages CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/docs/*.md")
  list(PREPEND _pages "${PROJECT_SOURCE_DIR}/README.md")
  # Built unoptimised, with <twat_cache/cache.hpp> parsed once for all (it is what each includes):
  # they show what the code does, and the tests measure nothing.
  add_library(twat_cache_doc_flags INTERFACE)
  target_compile_options(twat_cache_doc_flags INTERFACE
                         $<$<NOT:$<CXX_COMPILER_ID:MSVC>>:-O0;-g0>)
  if(TWAT_CACHE_TEST_PCH)
    _twat_cache_write_if_changed("${_work}/pch.cpp" "// The docs' programs' precompiled header.\n")
    add_library(twat_cache_doc_pch OBJECT "${_work}/pch.cpp")
    twat_cache_add_dev_target(twat_cache_doc_pch)
    target_link_libraries(twat_cache_doc_pch PRIVATE Threads::Threads twat_cache_doc_flags)
    target_precompile_headers(twat_cache_doc_pch PRIVATE <twat_cache/cache.hpp>)
  endif()
  set(_fence_open "\n```cpp\n")
  string(LENGTH "${_fence_open}" _fence_open_length)
  foreach(_page IN LISTS _pages)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_page}")
    set(_fragments "")  # the page's fragments, as function definitions
    get_filename_component(_page_name "${_page}" NAME_WE)
    string(REPLACE "-" "_" _page_id "${_page_name}")
    # The text is only ever handled as one quoted string (FIND, SUBSTRING, REGEX MATCH), never as a
    # list, so its ';' and brackets survive.
    file(READ "${_page}" _text)
    set(_line 1)
    while(TRUE)
      string(FIND "${_text}" "${_fence_open}" _open)
      if(_open EQUAL -1)
        break()
      endif()
      string(SUBSTRING "${_text}" 0 ${_open} _before)
      string(REGEX MATCHALL "\n" _newlines "${_before}")
      list(LENGTH _newlines _count)
      math(EXPR _line "${_line} + ${_count} + 1")  # the fence's own line
      # The line above the fence: a marker, or prose.
      string(REGEX MATCH "<!-- ([a-z-]+): ([^\n]*) -->$" _marker "${_before}")
      set(_kind "${CMAKE_MATCH_1}")
      set(_argument "${CMAKE_MATCH_2}")
      if(NOT _marker)
        set(_kind "")
      endif()

      math(EXPR _start "${_open} + ${_fence_open_length}")
      string(SUBSTRING "${_text}" ${_start} -1 _text)
      string(FIND "${_text}" "\n```" _close)
      if(_close EQUAL -1)
        message(FATAL_ERROR "${_page}:${_line}: a ```cpp block that is not closed")
      endif()
      math(EXPR _close_end "${_close} + 1")
      string(SUBSTRING "${_text}" 0 ${_close_end} _code)
      string(SUBSTRING "${_text}" ${_close_end} -1 _text)  # from the closing fence on
      string(REGEX MATCHALL "\n" _newlines "${_code}")
      list(LENGTH _newlines _count)
      set(_fence_line ${_line})
      math(EXPR _line "${_line} + 1 + ${_count}")  # the closing fence's line

      set(_name ${_page_id}_${_fence_line})
      set(_source "${_work}/${_name}.cpp")
      if(_kind STREQUAL "compile-fail")
        if(NOT TWAT_CACHE_TEST_COMPILE_FAIL)
          continue()
        endif()
        _twat_cache_write_if_changed("${_source}" "${_code}")
        _twat_cache_regex_escape(_expected "${_argument}")
        twat_cache_add_compile_fail(doc.${_page_name}.${_fence_line} "${_source}" "${_expected}"
                                    "")
        continue()
      endif()
      if(_kind STREQUAL "check" AND _argument MATCHES "^verbatim (.+)$")
        set(_quoted "${PROJECT_SOURCE_DIR}/${CMAKE_MATCH_1}")
        _twat_cache_write_if_changed("${_work}/${_name}.verbatim" "${_code}")
        add_test(NAME doc.${_page_name}.${_fence_line}
                 COMMAND "${CMAKE_COMMAND}" "-DBLOCK=${_work}/${_name}.verbatim"
                         "-DSOURCE=${_quoted}" -P "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/doc_verbatim.cmake")
        set_tests_properties(doc.${_page_name}.${_fence_line} PROPERTIES LABELS doc TIMEOUT 60)
        continue()
      endif()
      # The output shown after the block, when it is to be compared.
      set(_output "")
      string(REGEX MATCH "^```\n\n+([^\n]*:\n\n+)?```text\n" _shown "${_text}")
      if(_shown AND NOT (_kind STREQUAL "check" AND _argument MATCHES "^output-varies"))
        string(LENGTH "${_shown}" _shown_length)
        string(SUBSTRING "${_text}" ${_shown_length} -1 _output)
        string(FIND "${_output}" "\n```" _output_end)
        string(SUBSTRING "${_output}" 0 ${_output_end} _output)
      endif()
      if(NOT _code MATCHES "(^|\n)int main")
        math(EXPR _code_line "${_fence_line} + 1")
        if(_output STREQUAL "")
          if(NOT (_kind STREQUAL "check" AND _argument MATCHES "^excerpt"))
            set(_function "void fragment_${_fence_line}()")
            if(_code MATCHES "co_await|co_return")
              set(_function "twat_cache::task<void> fragment_${_fence_line}()")
            endif()
            string(APPEND _fragments
                   "[[maybe_unused]] static ${_function} {\n#line ${_code_line} \"${_page}\"\n"
                   "${_code}}\n\n")
          endif()
          continue()
        endif()
        # Statements whose output is shown: run in a main() of their own.
        set(_code "#include \"doc_prelude.hpp\"\n\nint main() {\n#line ${_code_line} \"${_page}\"\n${_code}}\n")
      endif()
      _twat_cache_write_if_changed("${_source}" "${_code}")
      set(_target doc_${_name})
      add_executable(${_target} "${_source}")
      _twat_cache_doc_target(${_target})
      set_target_properties(${_target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY "${_work}")
      if(_kind STREQUAL "check" AND _argument MATCHES "^compile-only")
        continue()
      endif()
      set(_expect_file "")
      if(NOT _output STREQUAL "")
        set(_expect_file "${_work}/${_name}.expect")
        _twat_cache_write_if_changed("${_expect_file}" "${_output}\n")
      endif()
      set(_cache_dir "${_work}/cache/${_name}")
      add_test(NAME doc.${_page_name}.${_fence_line}
               COMMAND "${CMAKE_COMMAND}"
                       "-DCOMMAND=$<TARGET_FILE:${_target}>"
                       "-DEXPECT_LINES_FILE=${_expect_file}"
                       "-DCLEAN_DIR=${_cache_dir}"
                       -P "${PROJECT_SOURCE_DIR}/cmake/run_and_check.cmake")
      set_tests_properties(doc.${_page_name}.${_fence_line} PROPERTIES
        ENVIRONMENT "TWAT_CACHE_DIR=${_cache_dir}"
        LABELS doc
        TIMEOUT 120)
    endwhile()
    if(NOT _fragments STREQUAL "")
      set(_source "${_work}/${_page_id}_fragments.cpp")
      _twat_cache_write_if_changed("${_source}"
        "// The code fragments of ${_page_name}.md (tests/doc_snippets.cmake), compiled, not run.\n#include \"doc_prelude.hpp\"\n\n${_fragments}")
      set(_target doc_fragments_${_page_id})
      add_library(${_target} OBJECT "${_source}")
      _twat_cache_doc_target(${_target})
      # A fragment shows a call or an option, not a whole program: what it makes may go unused.
      target_compile_options(${_target} PRIVATE
        $<$<NOT:$<CXX_COMPILER_ID:MSVC>>:-Wno-unused-variable;-Wno-unused-but-set-variable>)
    endif()
  endforeach()
endfunction()
