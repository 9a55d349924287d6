#include "wfm/erlang.h"
