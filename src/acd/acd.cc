#include "acd/acd.h"
