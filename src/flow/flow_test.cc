#include <gtest/gtest.h>
TEST(FlowBuild, Links) {}
