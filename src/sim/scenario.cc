#include "sim/scenario.h"
