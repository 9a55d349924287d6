# Runs `parley validate FILE` in DIR and checks the outcome (cmake -P script, used by CTest).
#   PARLEY: path of the parley binary; DIR: working directory; FILE: the file to validate.
#   A file whose first line is "# expect: <line>" must fail (exit 1) with <line> as the first
#   line on stderr; any other file must pass (exit 0) with "FILE: ok (" on stdout.
execute_process(COMMAND "${PARLEY}" validate "${FILE}" WORKING_DIRECTORY "${DIR}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
# file(READ), not file(STRINGS): the latter turns the ';' of messages into list separators.
file(READ "${DIR}/${FILE}" text)
string(REGEX REPLACE "\n.*" "" first_line "${text}")
if(first_line MATCHES "^# expect: (.*)$")
  set(expected "${CMAKE_MATCH_1}")
  string(REGEX REPLACE "\n.*" "" actual "${err}")
  if(NOT rc EQUAL 1)
    message(FATAL_ERROR "${FILE}: expected exit 1, got ${rc}\nstdout: ${out}\nstderr: ${err}")
  endif()
  if(NOT actual STREQUAL expected)
    message(FATAL_ERROR "${FILE}: first error differs\nexpected: ${expected}\nactual:   ${actual}")
  endif()
else()
  if(NOT rc EQUAL 0 OR NOT out MATCHES "^${FILE}: ok \\(")
    message(FATAL_ERROR "${FILE}: expected ok, got exit ${rc}\nstdout: ${out}\nstderr: ${err}")
  endif()
endif()
