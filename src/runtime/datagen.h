// The data generator lives in core (core/datagen.h); this header keeps older includes working.
#pragma once
#include "core/datagen.h"
