#include "analytics/kpi.h"
