# ctest registrations of the dashboards' checks (grafana/tests/):
#   dashboard_lint        static checks of grafana/ (no services)
#   dashboard_query_check every dashboard query against the stack's
#                         Prometheus (integration: needs PROMETHEUS_URL and
#                         the running stack that scripts/test starts)
#
# Include this file at the END of the top-level CMakeLists.txt: ctest runs
# tests in registration order, and dashboard_query_check should run last, when
# the other tests have exercised the stack. RUN_SERIAL keeps it alone under
# `ctest -j`, and it DEPENDS on every test registered before it, which orders
# it last there too (DEPENDS orders; it does not require them to pass).

add_test(NAME dashboard_lint
  COMMAND python3 ${PROJECT_SOURCE_DIR}/grafana/tests/dashboard_lint.py
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(dashboard_lint PROPERTIES LABELS unit TIMEOUT 120)

# Every test registered so far, in this directory and all below it.
function(danmu_collect_tests dir out)
  get_property(tests DIRECTORY ${dir} PROPERTY TESTS)
  get_property(subdirs DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(sub IN LISTS subdirs)
    danmu_collect_tests(${sub} sub_tests)
    list(APPEND tests ${sub_tests})
  endforeach()
  set(${out} ${tests} PARENT_SCOPE)
endfunction()
danmu_collect_tests(${PROJECT_SOURCE_DIR} danmu_tests_before_query_check)

add_test(NAME dashboard_query_check
  COMMAND python3 ${PROJECT_SOURCE_DIR}/grafana/tests/dashboard_query_check.py
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(dashboard_query_check PROPERTIES
  LABELS integration
  RUN_SERIAL TRUE
  TIMEOUT 300
  DEPENDS "${danmu_tests_before_query_check}")
