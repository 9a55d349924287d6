#include "config/config.h"

#include <gtest/gtest.h>
