# The Ansible tree's test: ansible-lint, syntax checks, a real two-room
# converge on this machine (throwaway prefix, ports from
# ANSIBLE_TEST_PORT_BASE, default 23000), idempotence, a planned failover there
# and back, degradation, teardown. Included from the top-level CMakeLists.txt.
add_test(NAME ansible_test COMMAND bash ${PROJECT_SOURCE_DIR}/ansible/tests/ansible_test.sh
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
# The binaries deployed are the ones of this build tree (copied once when the
# test starts). The test stops itself and tears down after 900 s
# (ANSIBLE_TEST_DEADLINE), before this TIMEOUT would kill it without teardown.
set_tests_properties(ansible_test PROPERTIES LABELS integration TIMEOUT 1020
                     ENVIRONMENT "DANMU_BUILD_DIR=${CMAKE_BINARY_DIR}")
