# ctest registration of the alert rules' checks:
#   rules_test   promtool check + unit tests of monitoring/rules (the tests
#                are monitoring/rules_test/*.yml), and their conventions
#                (needs promtool, no services)
add_test(NAME rules_test
  COMMAND bash ${PROJECT_SOURCE_DIR}/monitoring/rules_test.sh
  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(rules_test PROPERTIES LABELS unit TIMEOUT 300)
