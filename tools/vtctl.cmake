# vtctl — the internal tool (call, publish, subscribe, stats). Included by the root after the
# bus library target vbus (which links vschemas, czmq and libzmq) exists.
add_executable (vtctl ${PROJECT_SOURCE_DIR}/tools/vtctl.c)
target_link_libraries (vtctl PRIVATE vbus vschemas)
