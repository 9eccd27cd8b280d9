# danmu_add_layer(NAME SOURCES... [PUBLIC libs...] [PRIVATE libs...])
# One static library per folder; the whole source root is its include root,
# so the direction of includes is checked by layering_test, not by paths.
function(danmu_add_layer name)
  cmake_parse_arguments(L "" "" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  add_library(${name} ${L_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${L_PUBLIC} PRIVATE ${L_PRIVATE})
endfunction()
