# Runs one libFuzzer target as a CTest test (cmake -P; see tests/CMakeLists.txt):
#   -DFUZZER=<executable> -DWORK=<directory> -DSEEDS=<directory> -DSECONDS=<n>
# The fuzzer first runs every input of the checked-in seed corpus SEEDS (inputs that reached deep
# states in hours of fuzzing, and the inputs of faults fixed since), then mutates from there until
# SECONDS have passed since it started. A corpus replay is never cut short, however long it takes.
# New inputs go to WORK/corpus, emptied first, so every run starts from the same corpus and seed.
file(REMOVE_RECURSE "${WORK}/corpus")
file(MAKE_DIRECTORY "${WORK}/corpus")
set(corpora "${WORK}/corpus")
if(IS_DIRECTORY "${SEEDS}")
  list(APPEND corpora "${SEEDS}")
endif()
execute_process(COMMAND "${FUZZER}" -seed=1 "-max_total_time=${SECONDS}" "-artifact_prefix=${WORK}/"
                        ${corpora}
                WORKING_DIRECTORY "${WORK}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${result}); the input it failed on is in ${WORK}/")
endif()
