#include "sim/simulator.h"

#include <gtest/gtest.h>
