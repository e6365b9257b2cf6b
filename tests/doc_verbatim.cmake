# Checks that a block a page of the docs calls verbatim is in its file as it is; run with cmake -P.
#   -DBLOCK=<file>   the block (written by doc_snippets.cmake)
#   -DSOURCE=<file>  the file it is quoted from
cmake_minimum_required(VERSION 3.24)
file(READ "${BLOCK}" _block)
file(READ "${SOURCE}" _source)
string(FIND "${_source}" "${_block}" _at)
if(_at EQUAL -1)
  message(FATAL_ERROR "doc_verbatim: ${SOURCE} does not contain, as it is, the block the docs "
                      "quote from it:\n${_block}")
endif()
