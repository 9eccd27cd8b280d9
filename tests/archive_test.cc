// Archive and replay against the real stack (being written).
#include <gtest/gtest.h>
